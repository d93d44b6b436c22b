"""Training K masked MLPs at once: SGD or Adam on stacked tensors, per-member data order,
per-member stopping and per-member metrics.

Member k trains exactly as ``noprune.training.fit`` would train it alone with ``seed=seeds[k]``:
the same optimizer arithmetic (torch's SGD and Adam), the same learning-rate schedule and, for
minibatches, the same sequence of permutations from its own generator. Full-batch training uses
the rows in order (the mean loss does not depend on the order, up to rounding).
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch.nn import functional as F

from noprune.config import TrainConfig
from noprune.data import Dataset
from noprune.ensemble.stacked import StackedMLP
from noprune.training import Convergence, lr_factor

StepRule = Callable[[int, torch.Tensor, torch.Tensor, "torch.Tensor | None"], None]

MEMORISED = math.log(2) / 10
"""A training point counts as memorised when its loss is <= ln(2)/10 (docs/SCIENCE.md E1)."""


@dataclass
class EnsembleData:
    """Training (and test) data of K members. A leading dimension of 1 is shared by all.

    ``x``: [K or 1, n, ...] float; ``y``: [K or 1, n] int64 classes or [K or 1, n, out] float.
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor | None = None
    y_test: torch.Tensor | None = None

    @classmethod
    def from_datasets(cls, datasets: Sequence[Dataset]) -> EnsembleData:
        """Stack K data sets of equal sizes (one per member)."""
        return cls(
            torch.stack([d.x_train for d in datasets]),
            torch.stack([d.y_train for d in datasets]),
            torch.stack([d.x_test for d in datasets]),
            torch.stack([d.y_test for d in datasets]),
        )

    @classmethod
    def shared(cls, data: Dataset) -> EnsembleData:
        """One data set seen by every member."""
        return cls(data.x_train[None], data.y_train[None], data.x_test[None], data.y_test[None])

    def to(self, device: torch.device | str) -> EnsembleData:
        def move(t: torch.Tensor | None) -> torch.Tensor | None:
            return None if t is None else t.to(device)

        return EnsembleData(move(self.x_train), move(self.y_train), move(self.x_test), move(self.y_test))

    @property
    def n_train(self) -> int:
        return self.x_train.shape[1]

    def take(self, members: torch.Tensor) -> EnsembleData:
        """The data of the given members (shared data stays shared)."""

        def pick(t: torch.Tensor | None) -> torch.Tensor | None:
            return t if t is None or t.shape[0] == 1 else t[members.to(t.device)]

        return EnsembleData(pick(self.x_train), pick(self.y_train), pick(self.x_test), pick(self.y_test))


CHECK_EVERY = 10
"""Fewest steps between two checks of :func:`memorisation_stop`."""


@dataclass(frozen=True)
class StopRule:
    """Per-member stopping, checked every ``check_every`` steps: a member stops changing once
    every training point is memorised (loss <= ``memorised_loss``), or once its mean training
    loss is <= ``train_loss``."""

    memorised_loss: float | None = None
    train_loss: float | None = None
    check_every: int = CHECK_EVERY


def memorisation_stop(config: TrainConfig, n: int) -> StopRule:
    """Stop a member once every one of its ``n`` training points is memorised, checked every
    ``max(CHECK_EVERY, steps per epoch)`` steps: every 10 steps of full-batch training, at the
    end of every epoch of minibatch training. A check is a forward pass over the whole training
    set; every 10 minibatch steps it cost more than the training (E2 on 5,000 FashionMNIST
    points, batch 64: 70% of the time)."""
    return StopRule(memorised_loss=MEMORISED, check_every=max(CHECK_EVERY, config.steps_per_epoch(n)))


@dataclass
class EnsembleResult:
    """Per-member metrics, each a tensor of shape [K]."""

    train_loss: torch.Tensor
    train_accuracy: torch.Tensor
    memorised: torch.Tensor
    test_loss: torch.Tensor | None
    test_accuracy: torch.Tensor | None
    steps: torch.Tensor
    diverged: torch.Tensor
    seconds: float


def per_example_loss(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """[K, B] losses: cross-entropy for class indices, squared error (mean over outputs) else."""
    if target.is_floating_point():
        return (output - target.reshape(output.shape)).pow(2).mean(dim=2)
    k, b, c = output.shape
    return F.cross_entropy(output.reshape(k * b, c), target.reshape(k * b), reduction="none").reshape(k, b)


def per_example_correct(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    if target.is_floating_point():
        return (torch.sign(output) == torch.sign(target.reshape(output.shape))).all(dim=2)
    return output.argmax(dim=2) == target


def gather(t: torch.Tensor, idx: torch.Tensor | None, k: int) -> torch.Tensor:
    """Rows ``idx`` [K, B] of each member's data (all rows in order when idx is None)."""
    if idx is None:
        return t.expand(k, *t.shape[1:]) if t.shape[0] == 1 else t
    if t.shape[0] == 1:
        return t[0][idx]
    return t[torch.arange(k, device=t.device)[:, None], idx]


def forward_with_cache(model: StackedMLP, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Outputs [K, B, out] and each layer's input (the ReLU outputs), for :func:`backward`."""
    inputs: list[torch.Tensor] = []
    return model.forward(x, inputs), inputs


def loss_and_output_gradient(output: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-member mean loss [K] and its gradient with respect to the outputs [K, B, out]."""
    _, b, c = output.shape
    if target.is_floating_point():
        diff = output - target.reshape(output.shape)
        return diff.pow(2).mean(dim=(1, 2)), diff.mul_(2.0 / (b * c))
    logp = torch.log_softmax(output, dim=2)
    losses = -logp.gather(2, target.unsqueeze(2)).squeeze(2).mean(dim=1)
    grad = logp.exp_()
    grad.scatter_add_(2, target.unsqueeze(2), torch.full_like(grad[..., :1], -1.0))
    return losses, grad.div_(b)


def backward(
    model: StackedMLP, inputs: list[torch.Tensor], grad: torch.Tensor, apply: StepRule | None = None
) -> list[torch.Tensor]:
    """Gradients of the summed member losses (weights, then biases), by hand: for layer l,
    dW = dz^T h, db = sum_B dz, dz_prev = (dz W) * [h > 0]. With ``apply``, each layer's update
    is applied as soon as its gradient is known (after dz_prev has used the old weights), and
    fused into the matmul where the rule allows; nothing is returned then."""
    grads_w: list[torch.Tensor] = [None] * len(model.weights)  # type: ignore[list-item]
    grads_b: list[torch.Tensor | None] = [None] * len(model.weights)
    for i in range(len(model.weights) - 1, -1, -1):
        h, w, b = inputs[i], model.weights[i], model.biases[i]
        grad_b = grad.sum(dim=1) if b is not None else None
        previous = torch.ops.aten.threshold_backward(torch.bmm(grad, w), h, 0.0) if i > 0 else None
        if apply is None:
            grads_w[i] = torch.bmm(grad.transpose(1, 2), h)
            grads_b[i] = grad_b
        else:
            apply(i, grad, h, grad_b)
        if previous is not None:
            grad = previous
    return [] if apply is not None else [*grads_w, *(g for g in grads_b if g is not None)]


class StackedOptimizer:
    """torch.optim.SGD and torch.optim.Adam, elementwise on stacked tensors (foreach kernels).
    Every member is updated; the trainer restores the ones that have stopped."""

    def __init__(self, params: list[torch.Tensor], config: TrainConfig) -> None:
        self.params = params
        self.config = config
        self.state = [torch.zeros_like(p) for p in params]
        self.state2 = [torch.zeros_like(p) for p in params] if config.optimizer == "adam" else []
        self.t = 0

    def fusable(self) -> bool:
        """SGD updates can be fused into the gradient matmul (no gradient tensor at all)."""
        return self.config.optimizer == "sgd"

    def fused_rule(self, model: StackedMLP, lr: float) -> StepRule:
        """Per-layer SGD update fused into dW = dz^T h: W -= lr (mu buf + dW + wd W)."""
        c = self.config
        self.t += 1
        first = self.t == 1
        n = len(model.weights)

        def apply(i: int, grad: torch.Tensor, h: torch.Tensor, grad_b: torch.Tensor | None) -> None:
            w, b = model.weights[i], model.biases[i]
            if c.momentum:
                buf = self.state[i]
                buf.baddbmm_(grad.transpose(1, 2), h, beta=0.0 if first else c.momentum)
                if c.weight_decay:
                    buf.add_(w, alpha=c.weight_decay)
                w.add_(buf, alpha=-lr)
            elif c.weight_decay:
                w.mul_(1 - lr * c.weight_decay).baddbmm_(grad.transpose(1, 2), h, alpha=-lr)
            else:
                w.baddbmm_(grad.transpose(1, 2), h, alpha=-lr)
            if b is not None and grad_b is not None:
                j = n + sum(bb is not None for bb in model.biases[:i])
                if c.weight_decay:
                    grad_b = grad_b.add(b, alpha=c.weight_decay)
                if c.momentum:
                    bbuf = self.state[j]
                    bbuf.copy_(grad_b) if first else bbuf.mul_(c.momentum).add_(grad_b)
                    b.add_(bbuf, alpha=-lr)
                else:
                    b.add_(grad_b, alpha=-lr)

        return apply

    @torch.no_grad()
    def step(self, grads: list[torch.Tensor], lr: float) -> None:
        c = self.config
        self.t += 1
        if c.weight_decay:
            torch._foreach_add_(grads, self.params, alpha=c.weight_decay)
        if c.optimizer == "adam":
            beta1, beta2, eps = 0.9, 0.999, 1e-8
            torch._foreach_lerp_(self.state, grads, 1 - beta1)
            torch._foreach_mul_(self.state2, beta2)
            torch._foreach_addcmul_(self.state2, grads, grads, 1 - beta2)
            bias1, bias2 = 1 - beta1**self.t, 1 - beta2**self.t
            denom = torch._foreach_sqrt(self.state2)
            torch._foreach_div_(denom, math.sqrt(bias2))
            torch._foreach_add_(denom, eps)
            torch._foreach_addcdiv_(self.params, self.state, denom, -lr / bias1)
        elif c.momentum:
            if self.t == 1:
                torch._foreach_copy_(self.state, grads)
            else:
                torch._foreach_mul_(self.state, c.momentum)
                torch._foreach_add_(self.state, grads)
            torch._foreach_add_(self.params, self.state, alpha=-lr)
        else:
            torch._foreach_add_(self.params, grads, alpha=-lr)


class Frozen:
    """Members that stopped changing: their slices of every parameter, put back after each step.

    Costs nothing until a member stops, and then only the stopped members' slices, so the
    others keep the fused update path."""

    def __init__(self, params: list[torch.Tensor]) -> None:
        self.params = params
        self.members: torch.Tensor | None = None
        self.values: list[torch.Tensor] = []

    def hold(self, members: torch.Tensor) -> None:
        """Freeze the members where ``members`` is True at their current values."""
        index = members.nonzero().squeeze(1)
        if self.members is not None and torch.equal(index, self.members):
            return
        self.members = index
        self.values = [p[index].clone() for p in self.params]

    def restore(self) -> None:
        if self.members is not None:
            for p, v in zip(self.params, self.values, strict=True):
                p[self.members] = v


@dataclass
class FitLog:
    """What a fit did: steps each member trained [K], which members diverged [K], wall time."""

    steps: torch.Tensor
    diverged: torch.Tensor
    seconds: float


def train_ensemble(
    model: StackedMLP,
    data: EnsembleData,
    masks: Sequence[torch.Tensor] | None,
    config: TrainConfig,
    *,
    seeds: Sequence[int],
    steps: int | None = None,
    stop: StopRule | None = None,
    memorised_loss: float = MEMORISED,
) -> EnsembleResult:
    """:func:`fit_ensemble`, then per-member train and test metrics."""
    log = fit_ensemble(model, data, masks, config, seeds=seeds, steps=steps, stop=stop)
    return measure(model, data, log, memorised_loss)


@torch.no_grad()
def fit_ensemble(
    model: StackedMLP,
    data: EnsembleData,
    masks: Sequence[torch.Tensor] | None,
    config: TrainConfig,
    *,
    seeds: Sequence[int],
    steps: int | None = None,
    start: int = 0,
    length: int | None = None,
    stop: StopRule | None = None,
    perturb: Callable[[list[torch.Tensor]], None] | None = None,
    on_epoch: Callable[[StackedMLP], None] | None = None,
) -> FitLog:
    """Train the K members of ``model`` in place, masked weights held at exactly zero.

    ``masks``: per-layer [K, out, in] bool (None: dense), or weights and biases interleaved.
    ``seeds[k]`` orders member k's minibatches. Runs ``steps`` (default
    ``config.total_steps(n)``) from step ``start`` of a run of ``length`` (default ``start +
    steps``) steps (data order and learning-rate schedule resumed there, as
    ``noprune.training.fit``), unless members
    stop: by ``stop``, and with ``config.converge`` by :class:`noprune.training.Convergence` at
    every epoch's end. A member whose loss becomes NaN
    or infinite is marked diverged and stops changing.
    ``perturb`` changes the gradients in place before each optimizer step (e.g. gradient noise;
    it turns off the fused SGD update); ``on_epoch`` sees the model after every epoch's last step.

    Members are independent, so on the CPU they train in the blocks of :func:`member_blocks`,
    one block after another (each block runs all its steps); with ``perturb`` or ``on_epoch``,
    which see every member at once, and on a GPU, all K train together.
    """
    if config.augment:
        raise ValueError("the ensemble trainer is for MLPs on vectors; augmentation is not supported")
    if config.gradient_noise:
        raise ValueError("train.gradient_noise is implemented by the noise_correlation experiment only")
    k = model.size
    if len(seeds) != k:
        raise ValueError(f"need one seed per member: {k} members, {len(seeds)} seeds")
    whole = perturb is not None or on_epoch is not None  # they see every member at once
    bounds = [(0, k)] if whole else member_blocks(model, data, config)
    if len(bounds) == 1:
        return fit_block(
            model,
            data,
            masks,
            config,
            seeds=seeds,
            steps=steps,
            start=start,
            length=length,
            stop=stop,
            perturb=perturb,
            on_epoch=on_epoch,
        )
    began = time.perf_counter()
    logs = [
        fit_block(
            model.block(first, last),
            data.take(torch.arange(first, last)),
            None if masks is None else [m[first:last] for m in masks],
            config,
            seeds=seeds[first:last],
            steps=steps,
            start=start,
            length=length,
            stop=stop,
        )
        for first, last in bounds
    ]
    return FitLog(
        torch.cat([log.steps for log in logs]),
        torch.cat([log.diverged for log in logs]),
        time.perf_counter() - began,
    )


BLOCK_BYTES = 16 * 2**20
"""Working set of one block of members on the CPU (weights, optimizer state, one batch's
activations and their gradients): a block that fits in the last-level cache stays there through
its steps. Measured with ``noprune bench`` on 2 cores of an AMD EPYC (32 MiB L3): the E1 shape
(case a, K = 250) ran 1.28x faster in two blocks of 125 than all at once, the digits shape (case c,
K = 64) 1.4x faster in four blocks of 16; blocks of 4 lose again to per-call overhead."""


def member_blocks(model: StackedMLP, data: EnsembleData, config: TrainConfig) -> list[tuple[int, int]]:
    """(first, last) member ranges of the blocks: one block on a GPU; on the CPU as many
    members per block as fit in :data:`BLOCK_BYTES`, in blocks of nearly equal sizes and never
    of a single member (a lone matrix may take another matmul kernel than a batch)."""
    k = model.size
    if model.device.type != "cpu" or k < 4:
        return [(0, k)]
    batch = config.batch_rows(data.n_train)
    weights = sum(p[0].numel() for p in model.parameters())
    state = weights * {"adam": 2, "sgd": 1 if config.momentum else 0}[config.optimizer]
    features = model.weights[0].shape[2] + sum(w.shape[1] for w in model.weights)
    per_member = model.weights[0].element_size() * (weights + state + 2 * batch * features)
    count = min(math.ceil(k * per_member / BLOCK_BYTES), k // 2)
    edges = [round(i * k / count) for i in range(count + 1)]
    return list(itertools.pairwise(edges))


@torch.no_grad()
def fit_block(
    model: StackedMLP,
    data: EnsembleData,
    masks: Sequence[torch.Tensor] | None,
    config: TrainConfig,
    *,
    seeds: Sequence[int],
    steps: int | None = None,
    start: int = 0,
    length: int | None = None,
    stop: StopRule | None = None,
    perturb: Callable[[list[torch.Tensor]], None] | None = None,
    on_epoch: Callable[[StackedMLP], None] | None = None,
) -> FitLog:
    """:func:`fit_ensemble` on all the members of ``model`` at once."""
    k, n, device = model.size, data.n_train, model.device
    keep = None if masks is None else [m.to(device=device, dtype=model.weights[0].dtype) for m in masks]
    masked = None if masks is None else model.masked_tensors(len(masks))
    x, y = data.x_train.to(device), data.y_train.to(device)
    per_epoch = config.steps_per_epoch(n)
    total = config.total_steps(n) if steps is None else steps
    batch = config.batch_rows(n)
    minibatch = batch < n
    generators = [torch.Generator().manual_seed(int(s)) for s in seeds] if minibatch else []
    params = model.parameters()
    if keep is not None:
        torch._foreach_mul_(masked, keep)
    optimizer = StackedOptimizer(params, config)
    active = torch.ones(k, dtype=torch.bool, device=device)
    diverged = torch.zeros(k, dtype=torch.bool, device=device)
    steps_run = torch.zeros(k, dtype=torch.long, device=device)
    frozen = Frozen(params)
    convergence = Convergence(k, device) if config.converge else None
    began = time.perf_counter()
    order = None
    for step in range(start + total):
        within = step % per_epoch
        if minibatch and within == 0:
            order = torch.stack([torch.randperm(n, generator=g) for g in generators]).to(device)
        if step < start:
            continue
        idx = order[:, within * batch : (within + 1) * batch] if minibatch else None
        # Gradients by hand (no autograd graph); no need to mask them: pruned weights are zeroed
        # after every step, and entries are independent, so what a pruned entry's optimizer
        # state holds never reaches a kept weight.
        output, inputs = forward_with_cache(model, gather(x, idx, k))
        losses, grad = loss_and_output_gradient(output, gather(y, idx, k))
        finite = torch.isfinite(losses)
        if not bool(finite.all()):  # keep the weights from before the step that diverged
            diverged |= ~finite
            active &= finite
            frozen.hold(~active)
        lr = config.lr * lr_factor(config, step, length or start + total, per_epoch)
        if optimizer.fusable() and perturb is None:
            backward(model, inputs, grad, optimizer.fused_rule(model, lr))
        else:
            grads = backward(model, inputs, grad)
            if perturb is not None:
                perturb(grads)
            optimizer.step(grads, lr)
        frozen.restore()
        if keep is not None:
            torch._foreach_mul_(masked, keep)
        steps_run += active.long()
        if on_epoch is not None and within == per_epoch - 1:
            on_epoch(model)
        check = stop is not None and (step + 1) % stop.check_every == 0
        converging = convergence is not None and within == per_epoch - 1
        if check or converging:  # one pass over the training set serves both rules
            losses, right = full_pass(model, x, y)
            if check:
                active &= ~reached(losses, stop)
            if converging:
                active &= ~convergence.update(losses.mean(dim=1), right.sum(dim=1))
            if not bool(active.any()):
                break
            frozen.hold(~active)
    return FitLog(steps_run, diverged, time.perf_counter() - began)


@torch.no_grad()
def full_pass(model: StackedMLP, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-example losses and correctness [K, n] of every member on all its points (x, y)."""
    out, target = model(gather(x, None, model.size)), gather(y, None, model.size)
    return per_example_loss(out, target), per_example_correct(out, target)


def reached(losses: torch.Tensor, stop: StopRule) -> torch.Tensor:
    """[K] bool: members that met the stopping rule, from their per-example training losses [K, n]."""
    done = torch.zeros(losses.shape[0], dtype=torch.bool, device=losses.device)
    if stop.memorised_loss is not None:
        done |= (losses <= stop.memorised_loss).all(dim=1)
    if stop.train_loss is not None:
        done |= losses.mean(dim=1) <= stop.train_loss
    return done


@torch.no_grad()
def measure(
    model: StackedMLP, data: EnsembleData, log: FitLog, memorised_loss: float = MEMORISED
) -> EnsembleResult:
    """Per-member train and test metrics on full data, in one batched pass each."""
    k = model.size
    losses, right = full_pass(model, data.x_train.to(model.device), data.y_train.to(model.device))
    result = EnsembleResult(
        train_loss=losses.mean(dim=1),
        train_accuracy=right.float().mean(dim=1),
        memorised=(losses <= memorised_loss).float().mean(dim=1),
        test_loss=None,
        test_accuracy=None,
        steps=log.steps,
        diverged=log.diverged,
        seconds=log.seconds,
    )
    if data.x_test is not None and data.y_test is not None and data.x_test.shape[1] == 0:
        # No test points: zeros, as noprune.training.evaluate reports for an empty set.
        result.test_loss = result.test_accuracy = torch.zeros(k, device=model.device)
    elif data.x_test is not None and data.y_test is not None:
        test_losses, test_right = full_pass(model, data.x_test.to(model.device), data.y_test.to(model.device))
        result.test_loss = test_losses.mean(dim=1)
        result.test_accuracy = test_right.float().mean(dim=1)
    return result
