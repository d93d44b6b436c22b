"""Speed of the ensemble engine against a one-model-at-a-time loop of the same work.

Four workloads of the paper's experiments, each run both ways in the same process:

* ``a``: E1 shape: K = 250 MLPs 30-100-100-2 on their own n = 30 Gaussian points, full batch.
* ``b``: E4 shape: K = 32,000 copies of one 3-4-1 MLP (21 parameters) on the 6 toy points,
  each with its own random +-1 labels (the data drawn 32,000 times, the init fixed), MSE.
* ``c``: digits MLP 64-300-100-10, minibatch 128, momentum SGD, K = 64 seeds, shared data.
* ``d``: snip, grasp and synflow (100 rounds) scores of K = 32 digits MLPs 64-300-100-10.

The ensemble side is ``noprune.ensemble`` (``fit_ensemble``, ``prune_ensemble``); the loop side
is ``noprune.training.fit`` and ``pruners.get(name).prune`` per member. Where the loop would take
minutes it runs on the first m members and its time is scaled by K / m (the members do the same
work, so the loop's time is linear in K); the row says so. Achieved GFLOP/s counts the matmul
FLOPs of forward and backward (3 x forward, forward = 2 * K * batch * sum(in * out) per step)
and is set against the peak of a large square float32 matmul measured beside each case (right
before it), so a load that comes and goes moves both. The ensemble side and the peak are timed
by ``torch.utils.benchmark.Timer`` (median of blocks, CUDA drained, every thread torch uses);
the loop side, one pass over its members (each on fresh arguments), by a drained wall clock.

``noprune bench`` prints the table; ``benchmarks/test_ensemble_speed.py`` runs the same cases
through the same :func:`measure` under pytest-benchmark.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from tabulate import tabulate

import pruners
from noprune.config import TrainConfig
from noprune.data import Dataset, balanced_batch, load_dataset
from noprune.ensemble import EnsembleData, StackedMLP, fit_ensemble, prune_ensemble
from noprune.models import build_model
from noprune.training import fit

CASES = ("a", "b", "c", "d")
SCORERS = ("snip", "grasp", "synflow")
TARGETS: dict[str, tuple[float | None, float | None]] = {
    "a": (12.0, 0.30),
    "b": (500.0, None),
    "c": (3.0, 0.40),
}
"""Case -> (minimum speedup over the loop, minimum fraction of the matmul peak), on 2 CPU cores."""


@dataclass
class Workload:
    """One case, both sides. ``setup()`` gives fresh arguments for one ensemble run (untimed,
    so repeated runs do the same work); ``member_setup(i)`` the same for loop member i."""

    case: str
    title: str
    k: int
    loop_members: int
    flops: float | None
    detail: str
    setup: Callable[[], tuple[Any, ...]]
    ensemble: Callable[..., Any]
    member_setup: Callable[[int], tuple[Any, ...]]
    member: Callable[..., Any]
    warm: Callable[[], Any]


def resolve(device: str | torch.device) -> torch.device:
    """'auto' is CUDA when torch sees it, else the CPU."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn: Callable[..., Any], args: tuple[Any, ...], device: torch.device) -> float:
    """Seconds of ``fn(*args)``, the device drained before and after."""
    sync(device)
    start = time.perf_counter()
    fn(*args)
    sync(device)
    return time.perf_counter() - start


def timer_median(fn: Callable[..., Any], args: tuple[Any, ...], min_seconds: float) -> float:
    """Median seconds of ``fn(*args)`` by ``torch.utils.benchmark.Timer``: blocks of calls
    until ``min_seconds`` are spent (at least one block after the block-size probe), CUDA
    drained, on every thread torch uses (the Timer's default is one)."""
    # torch.utils.benchmark loads torch.utils.cpp_extension, whose import warns about CUDA_HOME on
    # a machine with a CUDA toolkit and no GPU: imported here, with that warning silenced.
    extension_log = logging.getLogger("torch.utils.cpp_extension")
    level = extension_log.level
    extension_log.setLevel(logging.ERROR)
    try:
        from torch.utils import benchmark
    finally:
        extension_log.setLevel(level)
    timer = benchmark.Timer(
        stmt="fn(*args)", globals={"fn": fn, "args": args}, num_threads=torch.get_num_threads()
    )
    return timer.blocked_autorange(min_run_time=min_seconds).median


def peak_gflops(device: str | torch.device = "cpu", size: int = 2048, min_seconds: float = 0.5) -> float:
    """GFLOP/s of ``size`` x ``size`` float32 matmuls (median, after warm-up products)."""
    device = resolve(device)
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(size, size, generator=generator).to(device)
    b = torch.randn(size, size, generator=generator).to(device)
    for _ in range(2):
        a @ b
    return 2 * size**3 / timer_median(torch.mm, (a, b), min_seconds) / 1e9


def layer_sizes(model: StackedMLP) -> int:
    """sum over layers of in * out: the multiply-adds of one example through one member."""
    return sum(w.shape[1] * w.shape[2] for w in model.weights)


def examples_seen(n: int, batch_size: int, steps: int) -> int:
    """Training examples summed over ``steps`` steps (an epoch's last minibatch may be short)."""
    batch = n if batch_size == 0 else min(batch_size, n)
    per_epoch = -(-n // batch)
    return sum(min(batch, n - (step % per_epoch) * batch) for step in range(steps))


def train_flops(model: StackedMLP, examples: int) -> float:
    """Matmul FLOPs of forward + backward (3 x forward) of every member over ``examples``."""
    return 3.0 * 2.0 * model.size * examples * layer_sizes(model)


def on(data: Dataset, device: torch.device) -> Dataset:
    """``data`` with its tensors on ``device`` (so neither side times the copy)."""
    return dataclasses.replace(
        data,
        x_train=data.x_train.to(device),
        y_train=data.y_train.to(device),
        x_test=data.x_test.to(device),
        y_test=data.y_test.to(device),
    )


def training_workload(
    case: str,
    title: str,
    models: Sequence[torch.nn.Module],
    stacked: StackedMLP,
    ensemble_data: EnsembleData,
    member_data: Callable[[int], Dataset],
    config: TrainConfig,
    steps: int,
    loop_members: int,
    device: torch.device,
) -> Workload:
    """Train the K members ``steps`` steps with ``fit_ensemble``, or one by one with ``fit``."""
    k = stacked.size
    seeds = list(range(k))
    n = ensemble_data.n_train

    def setup() -> tuple[Any, ...]:
        return (stacked.clone(),)

    def ensemble(model: StackedMLP) -> None:
        fit_ensemble(model, ensemble_data, None, config, seeds=seeds, steps=steps)

    def member_setup(i: int) -> tuple[Any, ...]:
        return copy.deepcopy(models[i]), member_data(i), i

    def member(model: torch.nn.Module, data: Dataset, seed: int) -> None:
        fit(model, data, None, config, seed=seed, steps=steps)

    def warm() -> None:
        fit_ensemble(stacked.clone(), ensemble_data, None, config, seeds=seeds, steps=min(steps, 5))
        fit(copy.deepcopy(models[0]), member_data(0), None, config, seed=0, steps=min(steps, 5))

    batch = "full batch" if config.batch_size == 0 else f"batch {config.batch_size}"
    return Workload(
        case=case,
        title=title,
        k=k,
        loop_members=min(loop_members, k),
        flops=train_flops(stacked, examples_seen(n, config.batch_size, steps)),
        detail=f"{steps} steps, {batch}",
        setup=setup,
        ensemble=ensemble,
        member_setup=member_setup,
        member=member,
        warm=warm,
    )


def workload_a(
    device: str | torch.device = "cpu", *, k: int = 250, steps: int = 200, loop_members: int = 16
) -> Workload:
    """E1 shape: K MLPs 30-100-100-2, each on its own n = 30 Gaussian points in R^30 with random
    labels, cross-entropy, SGD lr 0.01 (no momentum), full batch."""
    device = resolve(device)
    datasets = [on(load_dataset("gaussian:n=30,d=30", seed=s), device) for s in range(k)]
    models = [build_model("mlp:100,100", datasets[0].input_shape, 2, seed=s).to(device) for s in range(k)]
    stacked = StackedMLP.from_models(models)
    config = TrainConfig(lr=0.01, momentum=0.0, batch_size=0, steps=steps)
    return training_workload(
        "a",
        "E1: 30-100-100-2, n = 30",
        models,
        stacked,
        EnsembleData.from_datasets(datasets),
        lambda i: datasets[i],
        config,
        steps,
        loop_members,
        device,
    )


def workload_b(
    device: str | torch.device = "cpu", *, k: int = 32_000, steps: int = 200, loop_members: int = 50
) -> Workload:
    """E4 shape: one 3-4-1 MLP (21 parameters) stacked K times, each copy with its own random
    +-1 labels on the 6 toy points, MSE, full-batch gradient descent (lr 0.1, no momentum)."""
    device = resolve(device)
    toy = on(load_dataset("toy", seed=0), device)
    model = build_model("mlp:4", toy.input_shape, 1, seed=0).to(device)
    n_params = sum(p.numel() for p in model.parameters())
    if n_params != 21:
        raise AssertionError(f"the E4 network has 21 parameters, mlp:4 on toy has {n_params}")
    generator = torch.Generator().manual_seed(0)
    labels = (2 * torch.randint(0, 2, (k, toy.n_train, 1), generator=generator) - 1).float().to(device)
    stacked = StackedMLP.from_models([model] * k)
    config = TrainConfig(lr=0.1, momentum=0.0, batch_size=0, steps=steps)

    def member_data(i: int) -> Dataset:
        return dataclasses.replace(toy, y_train=labels[i])

    return training_workload(
        "b",
        "E4: 3-4-1 (21 params), n = 6",
        [model] * k,
        stacked,
        EnsembleData(x_train=toy.x_train[None], y_train=labels),
        member_data,
        config,
        steps,
        loop_members,
        device,
    )


def workload_c(
    device: str | torch.device = "cpu", *, k: int = 64, epochs: int = 2, loop_members: int = 16
) -> Workload:
    """Digits MLP 64-300-100-10, SGD lr 0.05 momentum 0.9, minibatch 128, K seeds (each its own
    init and data order) on the shared training set."""
    device = resolve(device)
    data = on(load_dataset("digits", seed=0), device)
    models = [build_model("mlp:300,100", data.input_shape, 10, seed=s).to(device) for s in range(k)]
    config = TrainConfig(lr=0.05, momentum=0.9, batch_size=128, epochs=epochs)
    return training_workload(
        "c",
        "digits 64-300-100-10",
        models,
        StackedMLP.from_models(models),
        EnsembleData.shared(data),
        lambda i: data,
        config,
        config.total_steps(data.n_train),
        loop_members,
        device,
    )


def workloads_d(
    device: str | torch.device = "cpu",
    *,
    k: int = 32,
    loop_members: int = 8,
    rounds: int = 100,
    density: float = 0.05,
    names: Sequence[str] = SCORERS,
) -> list[Workload]:
    """Scores and masks of K digits MLPs 64-300-100-10 at ``density``, one workload per pruner;
    snip and grasp score on member k's class-balanced batch (10 per class) drawn with seed k."""
    device = resolve(device)
    data = on(load_dataset("digits", seed=0), device)
    models = [build_model("mlp:300,100", data.input_shape, 10, seed=s).to(device) for s in range(k)]
    batches = [balanced_batch(data, 10, torch.Generator().manual_seed(s)) for s in range(k)]
    stacked_batch = (torch.stack([x for x, _ in batches]), torch.stack([y for _, y in batches]))
    seeds = list(range(k))
    out = []
    for name in names:
        iterative = any(f.name == "rounds" for f in dataclasses.fields(pruners.PRUNERS[name]))
        settings = {"rounds": rounds} if iterative else {}

        def setup() -> tuple[Any, ...]:
            return (StackedMLP.from_models(models),)

        def ensemble(model: StackedMLP, name: str = name, settings: dict = settings) -> None:
            prune_ensemble(name, model, density, seeds=seeds, batch=stacked_batch, **settings)

        def member_setup(i: int) -> tuple[Any, ...]:
            return copy.deepcopy(models[i]), i

        def member(model: torch.nn.Module, i: int, name: str = name, settings: dict = settings) -> None:
            pruners.get(name, **settings).prune(model, density, batch=batches[i], seed=i)

        def warm(name: str = name, iterative: bool = iterative) -> None:
            # an iterative pruner's rounds are all alike: two of them warm both sides up
            few = {"rounds": 2} if iterative else {}
            prune_ensemble(
                name, StackedMLP.from_models(models), density, seeds=seeds, batch=stacked_batch, **few
            )
            pruners.get(name, **few).prune(copy.deepcopy(models[0]), density, batch=batches[0], seed=0)

        flops = None
        if name == "snip":  # a known count: one forward and backward on the scoring batch
            flops = train_flops(setup()[0], len(batches[0][0]))
        detail = f"density {density:g}" + (f", {rounds} rounds" if iterative else ", 10 per class")
        out.append(
            Workload(
                case=f"d:{name}",
                title=f"{name} scores, digits 64-300-100-10",
                k=k,
                loop_members=min(loop_members, k),
                flops=flops,
                detail=detail,
                setup=setup,
                ensemble=ensemble,
                member_setup=member_setup,
                member=member,
                warm=warm,
            )
        )
    return out


def workloads(cases: Sequence[str], device: str | torch.device = "cpu", **steps: int) -> list[Workload]:
    """The workloads of ``cases`` (each of "a", "b", "c", "d"). ``steps`` may hold a_steps,
    b_steps, c_epochs and d_rounds to shorten runs."""
    out: list[Workload] = []
    for case in cases:
        if case == "a":
            out.append(workload_a(device, steps=steps.get("a_steps", 200)))
        elif case == "b":
            out.append(workload_b(device, steps=steps.get("b_steps", 200)))
        elif case == "c":
            out.append(workload_c(device, epochs=steps.get("c_epochs", 2)))
        elif case == "d":
            out.extend(workloads_d(device, rounds=steps.get("d_rounds", 100)))
        else:
            raise ValueError(f"unknown bench case {case!r}; cases: {', '.join(CASES)}")
    return out


def time_ensemble(w: Workload, min_seconds: float = 3.0) -> float:
    """Median seconds of the ensemble side (:func:`timer_median`). Repeated calls reuse one
    setup: every case runs a fixed number of steps or rounds, so a call on members an earlier
    call trained or pruned does the same work."""
    return timer_median(w.ensemble, w.setup(), min_seconds)


def time_loop(w: Workload, device: str | torch.device = "cpu") -> tuple[float, float]:
    """(seconds for all K members, extrapolated; seconds measured on the first m members)."""
    device = resolve(device)
    measured = sum(timed(w.member, w.member_setup(i), device) for i in range(w.loop_members))
    return measured * w.k / w.loop_members, measured


def row(
    w: Workload,
    ensemble_seconds: float,
    loop_seconds: float,
    peak: float,
    device: str | torch.device,
    loop_measured_seconds: float | None = None,
) -> dict[str, Any]:
    """The result row of one case from its two timings and the matmul peak."""
    gflops = None if w.flops is None else w.flops / ensemble_seconds / 1e9
    loop_gflops = None if w.flops is None else w.flops / loop_seconds / 1e9
    target_speedup, target_fraction = TARGETS.get(w.case, (None, None))
    speedup = loop_seconds / ensemble_seconds
    fraction = None if gflops is None else gflops / peak
    checks = []
    if target_speedup is not None:
        checks.append(speedup >= target_speedup)
    if target_fraction is not None:
        checks.append(fraction is not None and fraction >= target_fraction)
    note = w.detail
    if w.loop_members < w.k:
        note += f"; loop measured on m = {w.loop_members} members, scaled by K/m"
    return {
        "case": w.case,
        "title": w.title,
        "K": w.k,
        "ensemble_seconds": ensemble_seconds,
        "loop_seconds": loop_seconds,
        "loop_members": w.loop_members,
        "loop_measured_seconds": loop_measured_seconds,
        "speedup": speedup,
        "gflops": gflops,
        "peak_gflops": peak,
        "fraction_of_peak": fraction,
        "loop_gflops": loop_gflops,
        # The most any ensemble doing the same matmul work could gain: the peak over the loop's rate.
        "speedup_ceiling": None if loop_gflops is None else peak / loop_gflops,
        "target_speedup": target_speedup,
        "target_fraction": target_fraction,
        "met": all(checks) if checks else None,
        "device": str(resolve(device)),
        "note": note,
    }


def measure(w: Workload, device: str | torch.device = "cpu", min_seconds: float = 3.0) -> dict[str, Any]:
    """One case, as ``noprune bench`` and the pytest-benchmark suite both run it: the matmul
    peak measured right before, both sides warmed up, the ensemble timed for ``min_seconds``
    (:func:`time_ensemble`), one pass of the loop; the row, with ``case_seconds``, the wall
    time of the whole case."""
    start = time.perf_counter()
    peak = peak_gflops(device)
    w.warm()
    ensemble_seconds = time_ensemble(w, min_seconds)
    loop_seconds, measured = time_loop(w, device)
    result = row(w, ensemble_seconds, loop_seconds, peak, device, measured)
    result["case_seconds"] = time.perf_counter() - start
    return result


def run(
    cases: Sequence[str] = CASES,
    device: str | torch.device = "auto",
    *,
    min_seconds: float = 3.0,
    echo: Callable[[str], Any] | None = None,
    **steps: int,
) -> list[dict[str, Any]]:
    """Rows of every workload of ``cases``, each case built, warmed up and timed in turn."""
    device = resolve(device)
    if echo:
        echo(f"device {device}, {torch.get_num_threads()} threads")
        load, cores = os.getloadavg()[0], os.cpu_count() or 1
        if device.type == "cpu" and load > 0.5 * cores:
            echo(f"warning: 1-minute load average {load:.1f} on {cores} cores: timings may be noisy")
    rows = []
    for case in cases:
        start = time.perf_counter()
        built = workloads([case], device, **steps)
        setup_seconds = time.perf_counter() - start
        for w in built:
            result = measure(w, device, min_seconds)
            result["case_seconds"] += setup_seconds / len(built)
            rows.append(result)
            if echo:
                echo(
                    f"  {w.case}: {w.detail}: ensemble {result['ensemble_seconds']:.3f} s, "
                    f"loop {result['loop_seconds']:.2f} s ({result['speedup']:.1f}x), "
                    f"peak {result['peak_gflops']:.1f} GFLOP/s [case {result['case_seconds']:.1f} s]"
                )
    return rows


def _target(r: dict[str, Any]) -> str:
    parts = []
    if r.get("target_speedup") is not None:
        parts.append(f">= {r['target_speedup']:g}x")
    if r.get("target_fraction") is not None:
        parts.append(f">= {100 * r['target_fraction']:.0f}% peak")
    return ", ".join(parts) or "-"


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    """A markdown table of result rows, with the targets and whether each was met."""
    header = [
        "case",
        "K",
        "ensemble s",
        "loop s",
        "speedup",
        "GFLOP/s",
        "peak GFLOP/s",
        "% of peak",
        "loop GFLOP/s",
        "ceiling",
        "target",
        "met?",
        "notes",
    ]
    body = []
    for r in rows:
        met = {True: "yes", False: "no", None: "-"}[r.get("met")]
        cells = [
            r["case"],
            f"{r['K']:,}",
            f"{r['ensemble_seconds']:.3f}",
            f"{r['loop_seconds']:.2f}",
            f"{r['speedup']:.1f}x",
            "-" if r["gflops"] is None else f"{r['gflops']:.1f}",
            f"{r['peak_gflops']:.1f}",
            "-" if r["fraction_of_peak"] is None else f"{100 * r['fraction_of_peak']:.0f}%",
            "-" if r.get("loop_gflops") is None else f"{r['loop_gflops']:.3g}",
            "-" if r.get("speedup_ceiling") is None else f"{r['speedup_ceiling']:.3g}x",
            _target(r),
            met,
            r["note"],
        ]
        body.append(cells)
    lines = [tabulate(body, header, tablefmt="pipe", disable_numparse=True)]
    if rows:
        lines.append("")
        lines.append(
            f"device {rows[0]['device']}; peak: 2048x2048 float32 matmul GFLOP/s measured right "
            "before each case; ensemble s: median of torch.utils.benchmark.Timer blocks; GFLOP/s "
            "counts the ensemble's forward + backward matmuls (3 x forward); ceiling: the speedup an "
            "ensemble at 100% of the peak would reach (peak / loop GFLOP/s); targets are for 2 CPU cores."
        )
    return "\n".join(lines)
