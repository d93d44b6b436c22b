"""The ``noise_correlation`` experiment (docs/SCIENCE.md E3, paper Figs. 2-3): how much of the label
noise a network fits, epoch by epoch, through the rounds of iterative magnitude pruning.

Data: ``teacher`` (y = teacher(x) + z, z ~ N(0, noise_variance) drawn once and kept for the
whole run). Every epoch, for member k,

    corr = (1/n) sum_i (f(x_i) - mean f) z_i,

with mean f the network's mean output on fresh inputs (the data set's test inputs, drawn from
their own generator). corr is the paper's unnormalised quantity: a network that fits y exactly
has corr close to (1/n) sum_i z_i^2 (``noise_power``, about the noise variance, 1 in E3); one
that ignores the noise has corr close to 0. ``noise_power`` is recorded so the trace can be
normalised.

IMP, as ``pruners.after_training.IMP`` and ``noprune.ensemble.pruning.after_training`` define it
(docs/SCIENCE.md section 2): train, prune 20% of the surviving weights by trained magnitude (global
by default; ``prune.scope``), rewind every parameter to its initial value (``prune.rewind_step``
must be 0), train again with a fresh optimizer and the same data order. The rounds are the
repo's IMP schedule to ``prune.density``: the network trains at density 1, then at each density
of ``pruners.schedules.iterative(prune.density, 0.2)`` (0.8, 0.64, ..., the last exactly
``prune.density``); each pruning round trains ``prune.pretrain_epochs`` epochs and the round at
the final mask ``train.epochs`` epochs, as in the ``accuracy`` experiment's imp. So
``prune.density = 0.8**14`` (~0.044) gives 15 rounds.

The rounds are ``pruners.IMP``'s own loop (``IMP.prune_network``), run on :class:`TracedNetwork`:
the stacked view of ``noprune.ensemble`` whose training is :func:`train_round` (``fit_ensemble``
with an evaluation after every epoch and the optional gradient noise; with no gradient noise it
gives bit-identical weights, tests/test_noise_correlation.py), and which records corr where a
round starts and where pruning alone leaves the trained network. The round at the final mask
follows the loop.

Gradient noise (``train.gradient_noise`` = sigma): after the minibatch gradient of the mean loss
is computed and before the optimizer step, i.i.d. N(0, sigma^2) is added to every gradient entry
(weights and biases, pruned entries too: they are zeroed again after the step). Member k draws
it from its own generator (``make_generator(seed, "noise_correlation/gradient_noise")``), one
stream for the whole run, so a member's numbers do not depend on its ensemble.

Seeds: configs that differ only in ``seed`` run as one ensemble (``batch_key``, ``run_batch``);
member k's data set (teacher, inputs, z), init, data order and gradient noise all derive from its
seed. A lone config runs beside a copy of itself, as in ``accuracy``.

"5-layer" student: five Linear layers (``mlp:100,100,100,100``: d -> 100 -> 100 -> 100 -> 100
-> 1), read as the teacher's "3-layer" (``teacher``: d -> width -> width -> 1) is read.

Collapse: ``collapse_round`` is the first round (1 = dense) whose peak corr is below half the
noise power, i.e. the network no longer fits even half of the noise within the round's budget;
``collapse_density`` is that round's density (None, for both, when every round gets there).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

import pruners
from noprune.config import ExperimentConfig, TrainConfig, canonical
from noprune.data import load_dataset
from noprune.data.base import make_generator
from noprune.ensemble import EnsembleData, StackedMLP, StackedNetwork, fit_ensemble
from noprune.errors import UserError
from noprune.experiments.shared import MLP_MODELS, run_alone
from noprune.models import build_model
from noprune.pipeline import check_config
from noprune.specs import split_spec
from noprune.training import TrainingDiverged
from pruners.schedules import iterative

NAME = "noise_correlation"
RATE = 0.2
"""IMP prunes this fraction of the surviving weights per round."""
HALF = 0.5
"""Rise and collapse threshold, as a fraction of the noise power (1/n) sum z_i^2."""
LOSS_POINTS = 20
"""The train-loss trace keeps about this many points per round."""
DIGITS = 5


def noise_correlation(f_train: torch.Tensor, f_fresh: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """[K] corr = (1/n) sum_i (f(x_i) - mean f) z_i, in float64.

    ``f_train``: outputs on the n training inputs, [K, n] or [K, n, 1]; ``f_fresh``: outputs on
    fresh inputs, [K, m] or [K, m, 1], whose mean is mean f; ``z``: the label noise, [K or 1, n]
    or [K or 1, n, 1].
    """
    k = f_train.shape[0]
    f = f_train.reshape(k, -1).double()
    mean = f_fresh.reshape(k, -1).double().mean(dim=1, keepdim=True)
    noise = z.reshape(z.shape[0], -1).double()
    return ((f - mean) * noise).mean(dim=1)


def round_densities(density: float) -> list[float]:
    """The densities the network trains at: 1, then the IMP schedule to ``density``."""
    return [1.0] if density == 1.0 else [1.0, *iterative(density, RATE)]


def check(config: ExperimentConfig) -> None:
    """What E3 needs beyond ``check_config``."""
    check_config(config)
    prune, train = config.prune, config.train
    if prune.pruner != "imp":
        raise UserError(f"{NAME} runs imp (prune.pruner = 'imp'), got {prune.pruner!r}")
    if prune.ablation is not None:
        raise UserError(f"{NAME} takes no ablation, got {prune.ablation!r}")
    if prune.rewind_step != 0:
        raise UserError(
            f"{NAME} rewinds to the initialization (prune.rewind_step = 0), got {prune.rewind_step}"
        )
    if split_spec(config.model)[0] not in MLP_MODELS:
        raise UserError(f"{NAME} needs an MLP model (one of {', '.join(MLP_MODELS)}), got {config.model!r}")
    if split_spec(config.data)[0] != "teacher":
        raise UserError(f'{NAME} needs the teacher data set (data = "teacher:..."), got {config.data!r}')
    if train.steps or train.augment or train.converge:
        raise UserError(
            f"{NAME} traces a fixed number of whole epochs per round (train.steps = 0, "
            "train.converge = false) without augmentation"
        )
    if train.epochs < 1 or (prune.density < 1.0 and prune.pretrain_epochs < 1):
        raise UserError(f"{NAME} needs train.epochs >= 1 and prune.pretrain_epochs >= 1")


def batch_key(config: ExperimentConfig) -> str | None:
    """Everything but the seed: such configs run as one ensemble."""
    return json.dumps(canonical(dataclasses.replace(config, seed=0)), sort_keys=True)


@dataclass
class Probe:
    """What the per-epoch evaluation needs: training and fresh inputs of every member, the
    training targets and the noise z."""

    x: torch.Tensor  # [K, n + m, d]: training inputs, then fresh inputs
    y: torch.Tensor  # [K, n, 1]
    z: torch.Tensor  # [K, n, 1]

    @property
    def n(self) -> int:
        return self.y.shape[1]

    @torch.no_grad()
    def __call__(self, model: StackedMLP) -> tuple[torch.Tensor, torch.Tensor]:
        """corr [K] (float64) and the mean training loss [K] of ``model`` now."""
        out = model(self.x)
        f_train, f_fresh = out[:, : self.n], out[:, self.n :]
        loss = (f_train - self.y).pow(2).mean(dim=(1, 2))
        return noise_correlation(f_train, f_fresh, self.z), loss.double()


class GradientNoise:
    """i.i.d. N(0, sigma^2) per gradient entry, member k's from its own generator."""

    def __init__(self, sigma: float, seeds: Sequence[int], params: Sequence[torch.Tensor]) -> None:
        self.sigma = sigma
        self.generators = [make_generator(s, f"{NAME}/gradient_noise") for s in seeds]
        self.shapes = [p.shape[1:] for p in params]
        self.sizes = [p[0].numel() for p in params]
        self.device = params[0].device
        self.buffer = torch.empty(len(seeds), sum(self.sizes))

    def add_(self, grads: list[torch.Tensor]) -> None:
        for k, generator in enumerate(self.generators):
            self.buffer[k].normal_(generator=generator)
        noise = self.buffer.to(self.device)
        k = len(self.generators)
        parts = [c.reshape(k, *s) for c, s in zip(noise.split(self.sizes, dim=1), self.shapes, strict=True)]
        torch._foreach_add_(grads, parts, alpha=self.sigma)


@dataclass
class RoundTrace:
    """Per-epoch corr and train loss [epochs, K] of one round, and the members that diverged."""

    corr: torch.Tensor
    loss: torch.Tensor
    diverged: torch.Tensor
    seconds: float


@torch.no_grad()
def train_round(
    model: StackedMLP,
    data: EnsembleData,
    masks: Sequence[torch.Tensor],
    config: TrainConfig,
    *,
    seeds: Sequence[int],
    probe: Probe | None = None,
    noise: GradientNoise | None = None,
) -> RoundTrace:
    """``fit_ensemble`` for ``config.epochs`` epochs (member k's data order from ``seeds[k]``,
    a fresh optimizer, pruned weights held at zero), plus ``noise`` added to the gradients and
    ``probe`` evaluated after every epoch. Members whose loss becomes non-finite stop changing."""
    corr, loss = [], []

    def record(net: StackedMLP) -> None:
        c, l_ = probe(net)
        corr.append(c)
        loss.append(l_)

    log = fit_ensemble(
        model,
        data,
        masks,
        dataclasses.replace(config, gradient_noise=0.0),  # the noise comes in as ``perturb``
        seeds=seeds,
        perturb=None if noise is None else noise.add_,
        on_epoch=None if probe is None else record,
    )
    empty = torch.zeros(0, model.size, dtype=torch.float64)
    return RoundTrace(
        torch.stack(corr).cpu() if corr else empty,
        torch.stack(loss).cpu() if loss else empty,
        log.diverged.cpu(),
        log.seconds,
    )


class TracedNetwork(StackedNetwork):
    """The stacked view IMP's loop runs on in E3: each training is a traced
    :func:`train_round`, and corr is recorded where a round starts (the masked rewind point)
    and after each pruning (the trained weights under the new mask, before rewinding)."""

    def __init__(
        self,
        model: StackedMLP,
        *,
        seeds: Sequence[int],
        include_biases: bool,
        data: EnsembleData,
        train: TrainConfig,
        probe: Probe,
        noise: GradientNoise | None,
    ) -> None:
        super().__init__(model, seeds=seeds, include_biases=include_biases, data=data, train=train)
        self.probe, self.noise = probe, noise
        self.corr_start: list[torch.Tensor] = []
        self.corr_pruned: list[torch.Tensor] = []
        self.realised: list[torch.Tensor] = []
        self.traces: list[RoundTrace] = []

    def train(self, masks, steps, *, start=0, length=None, members=None) -> None:
        k = self.model.size
        self.corr_start.append(self.probe(self.model)[0].cpu())
        self.realised.append(
            torch.stack([m.reshape(k, -1).sum(dim=1) for m in masks]).sum(dim=0).double().cpu()
        )
        epochs = steps // self.config.steps_per_epoch(self.data.n_train)
        config = dataclasses.replace(self.config, epochs=epochs)
        trace = train_round(
            self.model, self.data, masks, config, seeds=self.seeds, probe=self.probe, noise=self.noise
        )
        self.traces.append(trace)

    def select(self, scores, densities, **kwargs):
        masks = super().select(scores, densities, **kwargs)
        trained = StackedNetwork(self.model.clone(), seeds=self.seeds, include_biases=self.include_biases)
        trained.apply(masks)  # what pruning alone does to the trained network, before rewinding
        self.corr_pruned.append(self.probe(trained.model)[0].cpu())
        return masks


def _rounded(values: Sequence[float] | torch.Tensor) -> list[float]:
    return [round(float(v), DIGITS) for v in values]


def _first_at_least(values: torch.Tensor, threshold: float) -> int | None:
    """1-based index of the first value >= threshold, None if none."""
    hits = (values >= threshold).nonzero()
    return int(hits[0, 0]) + 1 if len(hits) else None


def run_batch(
    configs: Sequence[ExperimentConfig], *, device: torch.device, data_root: str | None
) -> list[dict[str, Any] | Exception]:
    """The corr trace of every config (configs of one ``batch_key``), as one ensemble."""
    start = time.perf_counter()
    for config in configs:
        check(config)
    members = list(configs) if len(configs) > 1 else [configs[0], configs[0]]
    first = members[0]
    seeds = [c.seed for c in members]
    datasets = [load_dataset(c.data, seed=c.seed, root=data_root) for c in members]
    if any("noise" not in d.extras for d in datasets):
        raise UserError(f"{NAME} needs a data set that records its label noise (teacher)")
    model = StackedMLP.from_models(
        [
            build_model(c.model, d.input_shape, d.num_classes, seed=c.seed, init=c.init)
            for c, d in zip(members, datasets, strict=True)
        ]
    ).to(device)
    data = EnsembleData.from_datasets(datasets).to(device)
    z = torch.stack([d.extras["noise"] for d in datasets]).to(device)
    probe = Probe(torch.cat([data.x_train, data.x_test], dim=1), data.y_train, z)
    noise_power = z.double().pow(2).mean(dim=(1, 2)).cpu()
    k = len(members)

    prune, train = first.prune, first.train
    densities = round_densities(prune.density)
    rounds = len(densities)
    epochs = [prune.pretrain_epochs] * (rounds - 1) + [train.epochs]
    noise = GradientNoise(train.gradient_noise, seeds, model.parameters()) if train.gradient_noise else None
    per_epoch = train.steps_per_epoch(data.n_train)
    imp = pruners.get("imp", train_steps=prune.pretrain_epochs * per_epoch, rate=RATE)
    net = TracedNetwork(
        model, seeds=seeds, include_biases=prune.biases, data=data, train=train, probe=probe, noise=noise
    )
    masks = net.dense()
    if rounds > 1:  # IMP's rounds to the target, each traced
        masks = imp.prune_network(net, [prune.density] * k, batch=None, scope=prune.scope, invert=False)
    net.apply(masks)  # the round at the final mask: the ticket trains for train.epochs
    net.train(masks, train.epochs * per_epoch)
    corr_start, corr_pruned, realised, traces = net.corr_start, net.corr_pruned, net.realised, net.traces
    diverged = torch.zeros(k, dtype=torch.bool)
    for trace in traces:
        diverged |= trace.diverged
    numel = sum(m[0].numel() for m in masks)
    seconds = time.perf_counter() - start
    results: list[dict[str, Any] | Exception] = []
    for j in range(len(configs)):
        if bool(diverged[j]):
            results.append(TrainingDiverged(f"training loss became non-finite (member {j} of an ensemble)"))
            continue
        power = float(noise_power[j])
        per_round = [t.corr[:, j] for t in traces]
        peaks = [float(c.max()) for c in per_round]
        to_half = [_first_at_least(c, HALF * power) for c in per_round]
        collapse = next((r for r, p in enumerate(peaks) if p < HALF * power), None)
        loss_epochs, loss_values, offset = [], [], 0
        for r, t in enumerate(traces):
            stride = max(1, epochs[r] // LOSS_POINTS)
            for e in range(stride - 1, epochs[r], stride):
                loss_epochs.append(offset + e + 1)
                loss_values.append(float(t.loss[e, j]))
            offset += epochs[r]
        density = [float(d[j]) / numel for d in realised]
        results.append(
            {
                "rounds": rounds,
                "epochs_per_round": epochs,
                "density": density,
                "nnz": [int(d[j]) for d in realised],
                "numel": numel,
                "noise_power": power,
                "corr": _rounded(torch.cat(per_round)),
                "corr_start": _rounded([c[j] for c in corr_start]),
                "corr_after_prune": _rounded([c[j] for c in corr_start[1:]]),
                "corr_pruned_before_rewind": _rounded([c[j] for c in corr_pruned]),
                "peak_corr": _rounded(peaks),
                "final_corr": _rounded([float(c[-1]) for c in per_round]),
                "epochs_to_half": to_half,
                "train_loss": _rounded(loss_values),
                "train_loss_epochs": loss_epochs,
                "final_train_loss": _rounded([float(t.loss[-1, j]) for t in traces]),
                "collapse_round": None if collapse is None else collapse + 1,
                "collapse_density": None if collapse is None else density[collapse],
                "peak_corr_round1": peaks[0],
                "epochs_to_half_round1": to_half[0],
                "peak_corr_last": peaks[-1],
                "final_density": density[-1],
                "seconds": seconds / len(members),
                "ensemble_size": len(members),
            }
        )
    return results


run = run_alone(run_batch, "The corr trace of one config (run beside a copy of itself, as in ``run_batch``).")
