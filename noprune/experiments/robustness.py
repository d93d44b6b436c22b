"""The ``robustness`` experiment (docs/SCIENCE.md E5, beyond the paper): a law-of-robustness check.

Prune, train until every training point is memorised (loss <= ln(2)/10,
:data:`noprune.ensemble.MEMORISED`; per-member checks as :func:`noprune.ensemble.memorisation_stop`) or the
budget of ``config.train`` ends, then bound the Lipschitz constant of the trained masked network.

The scalar function is the logit margin f(x) = z_1(x) - z_0(x) of the two-class network (its
sign is the prediction; a margin that interpolates random labels must change by a fixed amount
between nearby points of different labels). Every number below is about that f, in the
Euclidean norm on inputs, computed in float64 on the trained weights times the masks:

- ``grad_norm_{train,test}_{max,mean}``: ||grad_x f(x)|| over the training points and over the
  data set's test points (fresh points from the same law: for ``sphere``, the same sphere).
  Each is a lower bound on Lip(f) (f is piecewise linear: its gradient at a point where it is
  differentiable is a directional slope).
- ``adversarial_{max,mean}``: from each training point x, projected gradient ascent on
  |f(x + eta) - f(x)| / ||eta|| over ADV_MIN_RADIUS <= ||eta|| <= :data:`ADV_RADIUS` (0.1, a
  tenth of the sphere's radius; the perturbation lives in R^d, it may leave the sphere):
  eta starts at half the radius along grad_x f(x) (along x where that gradient is zero), then
  :data:`ADV_STEPS` normalised ascent steps of :data:`ADV_STEP` each, projected back into the
  shell; a point's value is the best ratio seen. Every ratio is a difference quotient between
  two actual inputs, hence a certified lower bound on Lip(f).
- ``lipschitz_lower``: the largest of these lower bounds.
- ``spectral_product``: ||w_1 - w_0|| * prod_{l<L} ||W_l||_2 (masked weights; w_c the last
  layer's row of class c), an upper bound on Lip(f) for a ReLU network (ReLU is 1-Lipschitz;
  biases do not change slopes). ``spectral_product_logits`` = prod_l ||W_l||_2 bounds the
  vector-valued logits instead. Spectral norms by ``torch.linalg.matrix_norm(ord=2)``.
- ``robustness_scale_nnz`` = sqrt(n d / nnz): the law-of-robustness scale (docs/SCIENCE.md section 1,
  Theorem 4, informal form Lip(f) >~ sqrt(n d / p)) with the data-blind p = nnz, the number of
  kept weights (biases are not pruned and not counted; ``bias_parameters`` says how many there
  are). The data-aware scale sqrt(n d / p_eff) needs the ``mask_information`` experiment's
  ``peff_low`` / ``peff_high`` for the same (pruner, density, model, data, seed): joining them
  is a report step, not this experiment's (``noprune/suites/e5-information.toml``).

Also: the ``accuracy`` metrics (train and test accuracy and loss, realised density, nnz,
collapsed layers, times), ``memorised_fraction``, ``steps`` (optimizer steps the member took)
and ``interpolated`` (1.0 when every training point is memorised, else 0.0, so a leaderboard
cell reads as the fraction of seeds that interpolated). Lipschitz numbers are recorded for
members that did not interpolate too; a report should read them with ``interpolated``.

Configs that differ only in seed and density run as one ensemble (``shared.stacked_key`` and
``shared.prune_batch``); ``run`` is the same path for one config (padded with a copy of itself,
as ``accuracy`` does), so a member's numbers never depend on the batch it ran in. Only MLPs on
the batched pruners and two-class data are supported.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import torch

from noprune.config import ExperimentConfig
from noprune.ensemble import StackedMLP, memorisation_stop, train_ensemble
from noprune.ensemble.pruning import masked_copy
from noprune.errors import UserError
from noprune.experiments import shared
from noprune.experiments.shared import run_alone
from noprune.specs import split_spec

ADV_RADIUS = 0.1
"""Largest perturbation norm of the adversarial estimate (the data lie on the unit sphere)."""

ADV_MIN_RADIUS = ADV_RADIUS / 100
"""Smallest perturbation norm: keeps the ratio's denominator away from 0."""

ADV_STEPS = 20
"""Projected ascent steps per training point."""

ADV_STEP = ADV_RADIUS / 4
"""Length of one ascent step (the gradient of the ratio is normalised)."""

batch_key = shared.stacked_key
"""As ``accuracy``: MLPs on the batched pruners, configs differing in seed and density."""


def check(config: ExperimentConfig) -> None:
    """What the ensemble path needs; the data's two classes are checked once it is loaded."""
    if split_spec(config.model)[0] not in shared.MLP_MODELS:
        raise UserError(
            f"robustness trains MLPs as one ensemble; model {config.model!r} is not one of "
            f"{', '.join(shared.MLP_MODELS)}"
        )
    if config.prune.ablation not in (None, "invert"):
        raise UserError(f"robustness supports the ablation invert only, not {config.prune.ablation!r}")
    if config.train.augment or config.train.total_steps(1) == 0:
        raise UserError(
            "robustness trains to interpolation: give train.epochs or train.steps > 0, no augment"
        )


# -- Lipschitz bounds of the margin, for every member at once --------------------------------


def margin(model: StackedMLP, x: torch.Tensor) -> torch.Tensor:
    """f(x) = z_1(x) - z_0(x), [K, B] for inputs [K, B, d]."""
    z = model(x)
    if z.shape[-1] != 2:
        raise UserError(
            f"robustness needs a two-class network (the margin z_1 - z_0), got {z.shape[-1]} outputs"
        )
    return z[..., 1] - z[..., 0]


def input_gradients(model: StackedMLP, x: torch.Tensor) -> torch.Tensor:
    """grad_x f(x) [K, B, d] for inputs [K, B, d]. Members and points are independent, so the
    gradient of the summed margins is, row by row, each point's own gradient."""
    with torch.enable_grad():
        x = x.detach().clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(margin(model, x).sum(), x)
    return grad


def input_gradient_norms(model: StackedMLP, x: torch.Tensor) -> torch.Tensor:
    """||grad_x f(x)|| [K, B] for inputs [K, B, d]."""
    return input_gradients(model, x).norm(dim=-1)


def _unit(v: torch.Tensor, fallback: torch.Tensor) -> torch.Tensor:
    """v / ||v|| along the last dimension; ``fallback`` (normalised) where v is zero."""
    norm = v.norm(dim=-1, keepdim=True)
    v = torch.where(norm > 0, v, fallback)
    return v / v.norm(dim=-1, keepdim=True)


def adversarial_ratios(
    model: StackedMLP,
    x: torch.Tensor,
    *,
    radius: float = ADV_RADIUS,
    min_radius: float = ADV_MIN_RADIUS,
    steps: int = ADV_STEPS,
    step: float = ADV_STEP,
) -> torch.Tensor:
    """Best |f(x + eta) - f(x)| / ||eta|| [K, B] found by projected gradient ascent from each
    point of x [K, B, d] over the shell min_radius <= ||eta|| <= radius (module docstring)."""
    x = x.detach()
    with torch.no_grad():
        f0 = margin(model, x)

    def ratio(eta: torch.Tensor) -> torch.Tensor:
        return (margin(model, x + eta) - f0).abs() / eta.norm(dim=-1)

    def project(eta: torch.Tensor, previous: torch.Tensor) -> torch.Tensor:
        """eta scaled into the shell; a step that lands on 0 keeps the previous direction."""
        return _unit(eta, previous) * eta.norm(dim=-1, keepdim=True).clamp(min_radius, radius)

    eta = 0.5 * radius * _unit(input_gradients(model, x), x)
    with torch.no_grad():
        best = ratio(eta)
    for _ in range(steps):
        with torch.enable_grad():
            eta = eta.detach().requires_grad_(True)
            (g,) = torch.autograd.grad(ratio(eta).sum(), eta)
        with torch.no_grad():
            direction = torch.where(g.norm(dim=-1, keepdim=True) > 0, _unit(g, x), torch.zeros_like(g))
            eta = project(eta + step * direction, eta)
            best = torch.maximum(best, ratio(eta))
    return best


def spectral_norms(model: StackedMLP) -> tuple[torch.Tensor, torch.Tensor]:
    """Upper bounds [K] on Lip(f) of the margin and on Lip of the logits: ||w_1 - w_0|| *
    prod_{l<L} ||W_l||_2, and prod_l ||W_l||_2 (weights as they are in ``model``)."""
    hidden = torch.ones(model.size, dtype=model.weights[0].dtype, device=model.device)
    for w in model.weights[:-1]:
        hidden = hidden * torch.linalg.matrix_norm(w, ord=2)
    last = model.weights[-1]
    return (
        hidden * (last[:, 1] - last[:, 0]).norm(dim=-1),
        hidden * torch.linalg.matrix_norm(last, ord=2),
    )


def lipschitz_metrics(
    model: StackedMLP, masks: Sequence[torch.Tensor], x_train: torch.Tensor, x_test: torch.Tensor | None
) -> list[dict[str, float | None]]:
    """Per member: the lower bounds on train and test points, the adversarial estimate and the
    spectral upper bounds of the masked margin network, in float64. Inputs [K or 1, B, d]."""
    net = masked_copy(model, masks, dtype=torch.float64).requires_grad_(False)
    k = net.size

    def stacked(x: torch.Tensor) -> torch.Tensor:
        x = x.to(device=net.device, dtype=torch.float64).flatten(2)
        return x.expand(k, *x.shape[1:]) if x.shape[0] == 1 else x

    train = input_gradient_norms(net, stacked(x_train))
    test = input_gradient_norms(net, stacked(x_test)) if x_test is not None and x_test.shape[1] > 0 else None
    adversarial = adversarial_ratios(net, stacked(x_train))
    upper, upper_logits = spectral_norms(net)
    out = []
    for i in range(k):
        m = {
            "grad_norm_train_max": float(train[i].max()),
            "grad_norm_train_mean": float(train[i].mean()),
            "grad_norm_test_max": None if test is None else float(test[i].max()),
            "grad_norm_test_mean": None if test is None else float(test[i].mean()),
            "adversarial_max": float(adversarial[i].max()),
            "adversarial_mean": float(adversarial[i].mean()),
            "spectral_product": float(upper[i]),
            "spectral_product_logits": float(upper_logits[i]),
        }
        lower = [m["grad_norm_train_max"], m["grad_norm_test_max"], m["adversarial_max"]]
        m["lipschitz_lower"] = max(v for v in lower if v is not None)
        out.append(m)
    return out


# -- the experiment ---------------------------------------------------------------------------


def run_batch(
    configs: Sequence[ExperimentConfig], *, device: torch.device, data_root: str | None
) -> list[dict[str, Any] | Exception]:
    """Prune and train ``configs`` (one batch key) as one ensemble with per-member stopping at
    interpolation, then the Lipschitz bounds of every member (module docstring)."""
    for config in configs:
        check(config)
    pruned = shared.prune_batch(configs, device=device, data_root=data_root)
    if pruned is None:  # data sets of different shapes: one ensemble each
        return [run_batch([c], device=device, data_root=data_root)[0] for c in configs]
    if pruned.model.weights[-1].shape[1] != 2:
        raise UserError(
            f"robustness needs two-class data (the margin z_1 - z_0); {configs[0].data!r} has "
            f"{pruned.model.weights[-1].shape[1]} classes"
        )
    stop = memorisation_stop(pruned.train, pruned.data.n_train)
    result = train_ensemble(
        pruned.model, pruned.data, pruned.masks, pruned.train, seeds=pruned.seeds, stop=stop
    )
    start = time.perf_counter()
    bounds = lipschitz_metrics(pruned.model, pruned.masks, pruned.data.x_train, pruned.data.x_test)
    seconds = (time.perf_counter() - start) / len(pruned.members)
    n, d = pruned.data.n_train, math.prod(pruned.data.x_train.shape[2:])
    biases = sum(0 if b is None else b[0].numel() for b in pruned.model.biases)
    out: list[dict[str, Any] | Exception] = []
    for k in range(len(configs)):
        metrics = shared.member_metrics(pruned, result, k)
        if isinstance(metrics, dict):
            nnz = metrics["nnz"]
            memorised = float(result.memorised[k])
            metrics.update(
                memorised_fraction=memorised,
                interpolated=float(memorised == 1.0),
                steps=int(result.steps[k]),
                n=n,
                d=d,
                bias_parameters=biases if not configs[k].prune.biases else 0,
                robustness_scale_nnz=math.sqrt(n * d / nnz) if nnz > 0 else None,
                **bounds[k],
                adversarial_radius=ADV_RADIUS,
                adversarial_steps=ADV_STEPS,
                lipschitz_seconds=seconds,
            )
        out.append(metrics)
    return out


run = run_alone(run_batch, "One config: the ensemble path with a lone member (``run_batch``).")
