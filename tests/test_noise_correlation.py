"""E3 (docs/SCIENCE.md, paper Figs. 2-3): corr with the label noise through IMP rounds.

The definition of corr, the rise within a round and the drop at a prune on a tiny run,
determinism, member = one-seed run, bit-equality with ``fit_ensemble``, gradient noise."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import torch

from noprune.config import ExperimentConfig, TrainConfig, canonical, from_dict, run_key
from noprune.data import load_dataset
from noprune.ensemble import EnsembleData, StackedMLP, fit_ensemble
from noprune.errors import UserError
from noprune.experiments import batch_key, get_experiment
from noprune.experiments import noise_correlation as nc
from noprune.models import build_model
from noprune.report.trace_plot import lines_of, plot_traces
from noprune.sweep.runner import expand, load_suite
from noprune.sweep.store import Record
from noprune.training import fit

CPU = torch.device("cpu")
TINY = {
    "experiment": "noise_correlation",
    "data": "teacher:n=64,d=8,width=8,n_test=64",
    "model": "mlp:32,32",
    "prune": {"pruner": "imp", "density": 0.8, "pretrain_epochs": 15},
    "train": {"optimizer": "adam", "lr": 0.01, "batch_size": 8, "epochs": 15},
}


pytestmark = pytest.mark.usefixtures("one_thread")


def tiny(seed: int = 0, **train: Any) -> ExperimentConfig:
    return from_dict({**TINY, "seed": seed, "train": {**TINY["train"], **train}})


def without_time(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in metrics.items() if k != "seconds"}


# ---------------------------------------------------------------------------------------------
# the definition


def test_corr_of_the_noise_itself_is_one_and_of_a_constant_is_zero() -> None:
    g = torch.Generator().manual_seed(0)
    z = torch.randn(1, 500, 1, generator=g)
    z = z / z.pow(2).mean().sqrt()  # (1/n) sum z^2 = 1 exactly
    c = 3.7
    f_train = torch.stack([z[0] + c, torch.full_like(z[0], c), -z[0] + c])  # [3, n, 1]
    f_fresh = torch.full((3, 200, 1), c)  # the function is c away from the training points
    corr = nc.noise_correlation(f_train, f_fresh, z)
    assert corr.dtype == torch.float64
    assert corr.tolist() == pytest.approx([1.0, 0.0, -1.0], abs=1e-6)
    # A constant network is 0 whatever the constant (its mean on fresh inputs is that constant).
    const = nc.noise_correlation(torch.full((1, 500), -2.0), torch.full((1, 50), -2.0), z)
    assert float(const) == pytest.approx(0.0, abs=1e-12)
    # A network that fits y = clean + z exactly has corr = (1/n) sum (clean - mean f) z + 1.
    clean = torch.randn(1, 500, 1, generator=g)
    expected = float(((clean - clean.mean()) * z).mean()) + 1.0
    fitted = nc.noise_correlation(clean + z, clean.reshape(1, -1, 1), z)
    assert float(fitted) == pytest.approx(expected, abs=1e-5)


def test_rounds_follow_the_imp_schedule() -> None:
    assert nc.round_densities(1.0) == [1.0]
    assert nc.round_densities(0.64) == pytest.approx([1.0, 0.8, 0.64])
    assert len(nc.round_densities(0.8**14)) == 15  # the e3 suite: 14 prunes, 15 rounds
    assert nc.round_densities(0.7) == pytest.approx([1.0, 0.8, 0.7])  # the last lands on the target


# ---------------------------------------------------------------------------------------------
# a tiny run


@pytest.fixture(scope="module")
def tiny_runs(one_thread: None) -> list[dict[str, Any]]:
    return nc.run_batch([tiny(0), tiny(1), tiny(2)], device=CPU, data_root=None)


def test_corr_rises_within_a_round_and_falls_at_the_prune(tiny_runs) -> None:
    for m in tiny_runs:
        assert m["rounds"] == 2 and m["epochs_per_round"] == [15, 15]
        assert len(m["corr"]) == 30
        assert m["density"] == pytest.approx([1.0, 0.8], abs=1e-3)
        power = m["noise_power"]
        first, second = m["corr"][:15], m["corr"][15:]
        # rises: from the init (about 0) to most of the noise power
        assert abs(m["corr_start"][0]) < 0.2 * power
        assert m["peak_corr"][0] > 0.5 * power
        assert first[-1] > first[0] + 0.3 * power
        # falls right after the prune (rewound to the pruned init) and rises again
        assert m["corr_after_prune"] == m["corr_start"][1:]
        assert m["corr_after_prune"][0] < m["final_corr"][0] - 0.4 * power
        assert second[-1] > m["corr_after_prune"][0] + 0.3 * power
        assert m["epochs_to_half"][0] is not None and 1 <= m["epochs_to_half"][0] <= 15
        assert m["peak_corr_round1"] == pytest.approx(m["peak_corr"][0], abs=1e-5)
        assert m["collapse_round"] is None and m["collapse_density"] is None
        assert len(m["train_loss"]) == len(m["train_loss_epochs"]) == 30  # stride 1 at 15 epochs
        assert m["train_loss"][14] < m["train_loss"][0]


def test_deterministic_per_seed(tiny_runs) -> None:
    again = nc.run_batch([tiny(0), tiny(1), tiny(2)], device=CPU, data_root=None)
    assert [without_time(m) for m in again] == [without_time(m) for m in tiny_runs]
    assert tiny_runs[0]["corr"] != tiny_runs[1]["corr"]  # seeds differ


def test_member_equals_its_one_seed_run(tiny_runs) -> None:
    alone = nc.run(tiny(1), device=CPU, data_root=None)
    member = tiny_runs[1]
    assert alone["ensemble_size"] == 2 and member["ensemble_size"] == 3
    for name in ("corr", "corr_start", "corr_pruned_before_rewind", "train_loss"):
        assert alone[name] == pytest.approx(member[name], abs=1e-4), name
    assert alone["nnz"] == member["nnz"]


def test_registered_and_batched_over_seeds() -> None:
    experiment = get_experiment("noise_correlation")
    assert experiment.run is nc.run and experiment.run_batch is nc.run_batch
    assert batch_key(tiny(0)) == batch_key(tiny(7)) is not None
    assert batch_key(tiny(0)) != batch_key(tiny(0, lr=0.02))


# ---------------------------------------------------------------------------------------------
# the trainer


def stacked(seeds: list[int]) -> tuple[StackedMLP, EnsembleData, list[torch.Tensor]]:
    datasets = [load_dataset(TINY["data"], seed=s) for s in seeds]
    model = StackedMLP.from_models([build_model(TINY["model"], (8,), 1, seed=s) for s in seeds])
    g = torch.Generator().manual_seed(5)
    masks = [torch.rand(w.shape, generator=g) < 0.7 for w in model.weights]
    return model, EnsembleData.from_datasets(datasets), masks


def test_train_round_is_fit_ensemble_bit_for_bit() -> None:
    model, data, masks = stacked([0, 1])
    config = TrainConfig(optimizer="adam", lr=0.01, batch_size=16, epochs=4)
    ours, theirs = model.clone(), model.clone()
    z = torch.zeros(2, 64, 1)
    probe = nc.Probe(torch.cat([data.x_train, data.x_test], dim=1), data.y_train, z)
    trace = nc.train_round(ours, data, masks, config, seeds=[0, 1], probe=probe)
    fit_ensemble(theirs, data, masks, config, seeds=[0, 1])
    for a, b in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert torch.equal(a, b)
    assert trace.corr.shape == trace.loss.shape == (4, 2)
    assert not trace.diverged.any()


def test_gradient_noise_slows_the_fit_and_is_reproducible() -> None:
    model, data, masks = stacked([0, 1])
    z = torch.stack([load_dataset(TINY["data"], seed=s).extras["noise"] for s in (0, 1)])
    probe = nc.Probe(torch.cat([data.x_train, data.x_test], dim=1), data.y_train, z)
    config = TrainConfig(optimizer="adam", lr=0.01, batch_size=16, epochs=8)

    def trace(sigma: float) -> torch.Tensor:
        net = model.clone()
        noise = nc.GradientNoise(sigma, [0, 1], net.parameters()) if sigma else None
        return nc.train_round(net, data, masks, config, seeds=[0, 1], probe=probe, noise=noise).corr

    clean, noisy = trace(0.0), trace(1.0)
    assert torch.equal(noisy, trace(1.0))
    assert (noisy[-1] < clean[-1]).all()


def test_gradient_noise_is_refused_by_the_other_trainers() -> None:
    model, data, _ = stacked([0, 1])
    config = TrainConfig(optimizer="adam", lr=0.01, gradient_noise=0.1)
    with pytest.raises(ValueError, match="gradient_noise"):
        fit_ensemble(model, data, None, config, seeds=[0, 1])
    single = build_model(TINY["model"], (8,), 1, seed=0)
    with pytest.raises(UserError, match="gradient_noise"):
        fit(single, load_dataset(TINY["data"], seed=0), None, config)
    with pytest.raises(UserError):
        TrainConfig(gradient_noise=-0.1)


def test_gradient_noise_leaves_run_keys_alone() -> None:
    base = tiny(0)
    assert "gradient_noise" not in canonical(base).get("train", {})
    noisy = dataclasses.replace(base, train=dataclasses.replace(base.train, gradient_noise=0.2))
    assert run_key(noisy) != run_key(base)
    assert run_key(dataclasses.replace(noisy, train=base.train)) == run_key(base)


# ---------------------------------------------------------------------------------------------
# configuration


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("prune", {"pruner": "snip", "density": 0.8}),
        ("prune", {"pruner": "imp", "density": 0.8, "rewind_step": 2}),
        ("data", "gaussian"),
        ("model", "cnn"),
        ("train", {"optimizer": "adam", "steps": 10}),
        ("train", {"optimizer": "adam", "epochs": 3, "converge": True}),
    ],
)
def test_rejects_what_e3_does_not_define(field: str, value: Any) -> None:
    with pytest.raises(UserError):
        nc.run(from_dict({**TINY, field: value}), device=CPU, data_root=None)


@pytest.mark.parametrize("suite", ["e3-noise-correlation", "e3-lr", "e3-gradient-noise", "e3-batch-size"])
def test_suites_expand(suite: str) -> None:
    configs = expand(load_suite(suite))
    assert all(c.experiment == "noise_correlation" for c in configs)
    for c in configs:
        nc.check(c)
    assert len({batch_key(c) for c in configs}) == len(configs) // 25


def test_e3_suite_has_the_papers_sizes() -> None:
    configs = expand(load_suite("e3-noise-correlation"))
    assert sorted(c.seed for c in configs) == list(range(25))
    c = configs[0]
    data = load_dataset(c.data, seed=0)
    assert data.x_train.shape == (1000, 50)
    assert len(nc.round_densities(c.prune.density)) == 15
    assert c.model == "mlp:100,100,100,100" and c.train.optimizer == "adam" and c.train.lr == 1e-3
    student = build_model(c.model, (50,), 1, seed=0)
    assert sum(isinstance(m, torch.nn.Linear) for m in student.modules()) == 5  # "5-layer"


def test_e3_suite_is_the_full_batch_runs_of_the_batch_size_suite() -> None:
    """The main E3 suite trains at full batch (where the collapse shows, e3-batch-size's
    finding), with the same store keys as e3-batch-size's batch-1000 runs, which it reuses."""
    main = expand(load_suite("e3-noise-correlation"))
    assert {c.train.batch_size for c in main} == {1000} == {load_dataset(main[0].data, seed=0).n_train}
    full = [c for c in expand(load_suite("e3-batch-size")) if c.train.batch_size == 1000]
    assert {run_key(c) for c in main} == {run_key(c) for c in full}


# ---------------------------------------------------------------------------------------------
# the figure


def test_trace_plot_is_written_for_corr_runs_only(tiny_runs, tmp_path) -> None:
    configs = [tiny(0), tiny(1), tiny(2)]
    noisy = [dataclasses.replace(c, train=dataclasses.replace(c.train, gradient_noise=0.3)) for c in configs]
    records = [
        Record(f"{i}", canonical(c), "done", m)
        for i, (c, m) in enumerate(zip(configs + noisy, tiny_runs + tiny_runs, strict=True))
    ]
    lines = lines_of(records)
    assert len(lines) == 2 and all(len(line.runs) == 3 for line in lines)
    xs, mean, std = lines[0].trace()
    assert len(xs) == len(mean) == len(std) == 32  # 2 rounds of 15 epochs, each from its start
    assert (
        xs[0] == 0
        and xs[16] == 15
        and mean[16] == pytest.approx(sum(m["corr_start"][1] for m in tiny_runs) / 3)
    )
    paths = plot_traces(records, tmp_path / "corr_trace")
    assert [p.name for p in paths] == ["corr_trace.png", "corr_trace.pdf"]
    assert all(p.stat().st_size > 0 for p in paths)
    other = Record("x", {"experiment": "accuracy"}, "done", {"test_accuracy": 0.5})
    assert plot_traces([other], tmp_path / "none") == []
