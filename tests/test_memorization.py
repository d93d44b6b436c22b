"""The ``memorization`` experiment (docs/SCIENCE.md E1): the metric, per-member stopping, agreement of
the ensemble with the single-model path, independence from batch composition, and the E1 suite."""

from __future__ import annotations

import dataclasses
import itertools
import math

import pytest
import torch

from noprune.config import ExperimentConfig, PruneConfig, TrainConfig
from noprune.ensemble import CHECK_EVERY, MEMORISED, memorisation_stop
from noprune.errors import UserError
from noprune.experiments import batch_key, get_experiment, memorization
from noprune.report.memorization_plot import FIGURES, PAPER_FIG1A, PAPER_FIG1B, plot_memorization
from noprune.sweep.runner import expand, load_suite, plan_jobs
from noprune.sweep.store import Record
from noprune.training import Convergence

CPU = torch.device("cpu")
# Small and quick: 20 points in R^10, a 32-32 MLP, full batch.
SMALL = ExperimentConfig(
    experiment="memorization",
    data="gaussian:n=20,d=10,n_test=20",
    model="mlp:32,32",
    prune=PruneConfig(batch_per_class=20, pretrain_epochs=30),
    train=TrainConfig(optimizer="adam", lr=1e-2, batch_size=0, steps=120),
)
TIMES = ("scoring_seconds", "train_seconds", "ensemble_size")


pytestmark = pytest.mark.usefixtures("one_thread")


def small(pruner: str, density: float, seed: int, **train: object) -> ExperimentConfig:
    return dataclasses.replace(
        SMALL,
        seed=seed,
        prune=dataclasses.replace(SMALL.prune, pruner=pruner, density=density),
        train=dataclasses.replace(SMALL.train, **train),
    )


def e1(pruner: str, density: float, seed: int) -> ExperimentConfig:
    """A config of the E1 suite (its fixed settings: data, model, optimizer, budget)."""
    suite = load_suite("e1-memorization")
    overrides = {"prune.pruner": pruner, "prune.density": density, "seed": seed}
    (config,) = expand(suite, overrides)
    return config


def run_batch(configs: list[ExperimentConfig]) -> list[dict]:
    out = memorization.run_batch(configs, device=CPU, data_root=None)
    assert all(isinstance(m, dict) for m in out), out
    return out  # type: ignore[return-value]


def without_times(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if k not in TIMES}


def test_registered_and_batched_like_accuracy() -> None:
    experiment = get_experiment("memorization")
    assert experiment.run_batch is memorization.run_batch
    assert MEMORISED == pytest.approx(math.log(2) / 10, rel=1e-15)
    a, b = small("snip", 0.3, 0), small("snip", 0.1, 7)
    assert batch_key(a) == batch_key(b) is not None
    assert batch_key(a).startswith("memorization/")
    assert batch_key(a) != batch_key(small("synflow", 0.3, 0))


def test_dense_network_memorises_every_e1_point() -> None:
    """Density 1 on the E1 data and budget: every point memorised, stopped at a check."""
    configs = [e1("random", 1.0, seed) for seed in range(3)]
    budget = configs[0].train.total_steps(30)
    for m in run_batch(configs):
        assert m["memorised_fraction"] == 1.0
        assert m["train_accuracy"] == 1.0 and m["train_loss"] <= MEMORISED
        assert 0 < m["steps"] < budget and m["steps"] % CHECK_EVERY == 0
        assert m["density"] == 1.0 and m["nnz"] == m["numel"] == 30 * 100 + 100 * 100 + 100 * 2


def test_minibatch_training_checks_memorisation_once_an_epoch() -> None:
    """A check is a forward pass over the whole training set: full batch checks every 10
    steps, minibatch training at the end of each epoch (never more often than every 10 steps);
    a dense minibatch network stops at an epoch's end, on both paths."""
    assert memorisation_stop(TrainConfig(batch_size=0), 30).check_every == CHECK_EVERY
    assert memorisation_stop(TrainConfig(batch_size=64), 5000).check_every == 79
    assert memorisation_stop(TrainConfig(batch_size=64), 300).check_every == CHECK_EVERY
    config = dataclasses.replace(
        e1("random", 1.0, 0),
        data="gaussian:n=120",
        train=TrainConfig(optimizer="adam", lr=0.01, batch_size=8, epochs=100),
    )
    (batched,) = run_batch([config])
    alone = memorization.run(config, device=CPU, data_root=None)
    assert batched["memorised_fraction"] == alone["memorised_fraction"] == 1.0
    assert 0 < batched["steps"] == alone["steps"] < 1500 and batched["steps"] % 15 == 0


def test_convergence_rule_stops_on_a_flat_loss_or_three_unchanged_accuracies() -> None:
    """No Free Prune's rule, per network: |loss change| < 0.01 between two epochs' ends, or the
    same count of correct points three epochs in a row; never at the first epoch's end."""
    rule = Convergence(3)
    updates = [  # (losses, counts of correct points) of networks a, b, c at each epoch's end
        ([1.0, 1.0, 1.0], [5, 5, 5]),
        ([0.9, 0.995, 0.9], [5, 6, 6]),  # b: loss moved by 0.005
        ([0.8, 0.9, 0.8], [5, 7, 7]),
        ([0.7, 0.8, 0.7], [5, 8, 8]),  # a: 5 correct at four epochs' ends in a row
    ]
    seen = [rule.update(torch.tensor(loss), torch.tensor(right)).tolist() for loss, right in updates]
    assert seen == [[False] * 3, [False, True, False], [False, False, False], [True, False, False]]


@pytest.mark.parametrize("pruner", ["random", "imp"])
def test_training_to_convergence_stops_each_member_as_it_would_stop_alone(pruner: str) -> None:
    """train.converge on both paths: every member of the ensemble stops at the epoch the
    one-model path stops it (imp also trains each round to convergence)."""
    configs = [
        dataclasses.replace(
            e1(pruner, density, seed),
            model="mlp:32,32",
            data="gaussian:n=120",
            prune=dataclasses.replace(e1(pruner, density, seed).prune, pretrain_epochs=40),
            train=TrainConfig(optimizer="adam", lr=0.01, batch_size=16, epochs=60, converge=True),
        )
        for density, seed in [(0.2, 0), (0.05, 1), (0.2, 2)]
    ]
    batched = run_batch(configs)
    alone = [memorization.run(c, device=CPU, data_root=None) for c in configs]
    steps = [m["steps"] for m in batched]
    assert steps == [m["steps"] for m in alone]
    assert all(0 < s < 60 * 8 and s % 8 == 0 for s in steps), steps  # stopped at an epoch's end
    for b, a in zip(batched, alone, strict=True):
        assert b["train_loss"] == pytest.approx(a["train_loss"], rel=1e-4, abs=1e-5)


@pytest.mark.parametrize("pruner", ["random", "snip", "synflow", "imp"])
def test_ensemble_member_equals_the_one_config_run(pruner: str) -> None:
    """Members that stop early and members that train the whole budget: each gets what the
    single-model path (``pruners`` + ``fit`` with a stop test) gives its config."""
    configs = [small(pruner, d, s) for d, s in [(0.5, 0), (0.03, 3), (0.3, 2)]]
    batched = run_batch(configs)
    budget = SMALL.train.steps
    assert {m["steps"] < budget for m in batched} == {True, False}, "fixture: some stop, some do not"
    for config, member in zip(configs, batched, strict=True):
        single = memorization.run(config, device=CPU, data_root=None)
        assert set(single) == set(member) - {"ensemble_size"}
        assert single["nnz"] == member["nnz"] and single["per_layer_density"] == member["per_layer_density"]
        assert single["collapsed_layers"] == member["collapsed_layers"]
        assert single["effective_nnz"] == member["effective_nnz"] <= member["nnz"]
        assert single["steps"] == member["steps"]
        assert single["memorised_fraction"] == member["memorised_fraction"]
        for metric in ("train_accuracy", "train_loss", "test_loss", "test_accuracy"):
            assert single[metric] == pytest.approx(member[metric], rel=1e-4, abs=1e-6), metric
        assert single["density_after_training"] == member["density_after_training"]


def test_effective_density_counts_only_weights_on_an_input_output_path() -> None:
    """One-round SynFlow at density 0.01 collapses a layer of the 10-32-32-2 network: it keeps
    weights, none on a path (effective density 0); 100 rounds keep a connected mask. The same
    on the single-model and the batched path."""
    configs = [
        dataclasses.replace(c, prune=dataclasses.replace(c.prune, settings={"rounds": rounds}))
        for rounds in (1, 100)
        for c in [small("synflow", 0.01, 0)]
    ]
    collapsed, kept = (memorization.run(c, device=CPU, data_root=None) for c in configs)
    assert collapsed["collapsed_layers"] and collapsed["nnz"] > 0
    assert collapsed["effective_nnz"] == 0 and collapsed["effective_density"] == 0.0
    assert not kept["collapsed_layers"]
    assert 0 < kept["effective_nnz"] <= kept["nnz"]
    assert kept["effective_density"] == kept["effective_nnz"] / kept["numel"]
    for config, single in zip(configs, (collapsed, kept), strict=True):
        (member,) = run_batch([config])
        assert member["effective_nnz"] == single["effective_nnz"]


def test_synflow_rounds_reach_both_paths() -> None:
    """prune.settings.rounds sets SynFlow's schedule in the single-model and the batched path
    alike; fewer rounds give other masks (the E1 docstring's rounds probe)."""
    three = [
        dataclasses.replace(c, prune=dataclasses.replace(c.prune, settings={"rounds": 3}))
        for c in (small("synflow", 0.05, 0), small("synflow", 0.02, 1))
    ]
    batched = run_batch(three)
    default = run_batch([small("synflow", 0.05, 0), small("synflow", 0.02, 1)])
    for config, member, hundred in zip(three, batched, default, strict=True):
        single = memorization.run(config, device=CPU, data_root=None)
        assert single["per_layer_density"] == member["per_layer_density"]
        assert single["memorised_fraction"] == member["memorised_fraction"]
        assert member["nnz"] == hundred["nnz"]
    assert [m["per_layer_density"] for m in batched] != [m["per_layer_density"] for m in default]
    with pytest.raises(UserError, match="at least one round"):
        memorization.run(
            dataclasses.replace(three[0], prune=dataclasses.replace(three[0].prune, settings={"rounds": 0})),
            device=CPU,
            data_root=None,
        )


def test_batch_composition_does_not_change_a_member() -> None:
    """Alone (padded with a copy of itself), first of two, or in the middle of three: member
    ``a`` gets bitwise the same numbers."""
    a = small("snip", 0.15, 3)
    others = [small("snip", 0.5, 4), small("snip", 0.05, 5)]
    alone = run_batch([a])[0]
    pair = run_batch([a, others[0]])[0]
    middle = run_batch([others[0], a, others[1]])[1]
    assert alone["ensemble_size"] == 2
    assert without_times(alone) == without_times(pair) == without_times(middle)


def test_e1_suite_grid_batches_into_ensembles_of_one_density() -> None:
    suite = load_suite("e1-memorization")
    pruners = ["random", "uniform", "erk", "smart_ratio", "snip", "force", "prospr", "grasp", "synflow"]
    pruners += ["ntksap", "px", "phew", "magnitude_after", "imp"]
    densities = [0.1, 0.07, 0.045, 0.03, 0.025, 0.02, 0.015, 0.01, 0.007]
    assert suite.grids == ({"prune.pruner": pruners, "prune.density": densities, "seed": list(range(250))},)
    assert suite.fixed["experiment"] == "memorization" and suite.metrics[0] == "memorised_fraction"
    configs = expand(suite, {"prune.pruner": "snip"})  # one pruner: expanding costs ~1 ms a config
    assert len(configs) == len(densities) * 250
    # The whole training set is the scoring batch, so every member's batch has the same shape.
    assert all(c.prune.batch_per_class >= 30 for c in configs)
    jobs = plan_jobs(configs, batch=250)
    assert len(jobs) == len(densities)
    for job in jobs:  # one ensemble per density: its members stop at similar times
        assert len(job) == 250 and len({c.prune.density for c in job}) == 1


def test_imp_memorises_more_than_random_at_density_0_02() -> None:
    """The E1 suite's settings, 4 seeds: IMP keeps memorising where random pruning cannot."""
    seeds = range(4)
    imp = run_batch([e1("imp", 0.02, s) for s in seeds])
    rand = run_batch([e1("random", 0.02, s) for s in seeds])
    mean_imp = sum(m["memorised_fraction"] for m in imp) / len(imp)
    mean_rand = sum(m["memorised_fraction"] for m in rand) / len(rand)
    assert mean_imp >= mean_rand + 0.5, (mean_imp, mean_rand)


def test_figure_against_sparsity_only_for_memorization_runs(tmp_path) -> None:
    def record(experiment: str, pruner: str, density: float, seed: int, value: float) -> Record:
        config = {"experiment": experiment, "prune": {"pruner": pruner, "density": density}, "seed": seed}
        return Record(f"{experiment}{pruner}{density}{seed}", config, "done", {"memorised_fraction": value})

    runs = [
        record("memorization", p, d, s, 1.0 - d)
        for p in ("imp", "random")
        for d in (0.1, 0.01)
        for s in (0, 1)
    ]
    assert plot_memorization([record("accuracy", "imp", 0.1, 0, 0.5)], tmp_path / "none") == []
    paths = plot_memorization(runs, tmp_path)
    assert paths == [tmp_path / "memorised_vs_sparsity.png", tmp_path / "memorised_vs_sparsity.pdf"]
    assert all(p.stat().st_size > 1000 for p in paths)
    assert all(0.9 <= s <= 0.993 for readings in PAPER_FIG1A.values() for s, _ in readings)
    assert all(0.97 <= s <= 0.997 for readings in PAPER_FIG1B.values() for s, _ in readings)


def test_one_pruner_at_several_settings_gets_shades_of_its_colour_and_the_papers_curve(tmp_path) -> None:
    """e1-synflow-rounds: rows ``synflow [rounds=N]`` share SynFlow's colour from light to
    full, and are compared with the paper's SynFlow readings."""
    from matplotlib.colors import to_rgb

    from noprune.report.leaderboard import Row
    from noprune.report.plots import plain_label as _plain
    from noprune.report.plots import pruner_color
    from noprune.report.plots import shade as _shade

    row = Row(label="synflow [rounds=3]", pruner="synflow", cells={})
    assert _plain(row) == "synflow" and _plain(Row("imp", "imp", {})) == "imp"
    base = to_rgb(pruner_color("synflow"))
    shades = [_shade(pruner_color("synflow"), i, 4) for i in (1, 2, 3, 4)]
    assert shades[-1] == pytest.approx(base)
    assert all(sum(a) > sum(b) for a, b in itertools.pairwise(shades))  # lighter first
    config = {"experiment": "memorization", "data": "gaussian"}
    runs = [
        Record(
            f"{r}{d}{s}",
            {**config, "prune": {"pruner": "synflow", "density": d, "synflow_rounds": r}, "seed": s},
            "done",
            {"memorised_fraction": 1.0 - d},
        )
        for r in (3, 100)
        for d in (0.1, 0.01)
        for s in (0, 1)
    ]
    assert plot_memorization(runs, tmp_path)[0].stat().st_size > 1000


@pytest.mark.parametrize(
    ("data", "fig1a", "fig1b"),
    [
        ("gaussian", True, False),
        ("gaussian:n=30,d=30,n_test=100", True, False),
        ("gaussian:n=100,d=20", False, False),
        ("fashionmnist:input_noise=3", False, True),
        ("fashionmnist:n_train=5000,input_noise=3", False, False),
        ("fashionmnist", False, False),
        ("digits:input_noise=3", False, False),
    ],
)
def test_the_papers_readings_are_drawn_only_on_the_data_they_were_read_from(
    data: str, fig1a: bool, fig1b: bool
) -> None:
    """Fig. 1a's crosses on the E1 Gaussian points, Fig. 1b's on all of noisy FashionMNIST; an
    E2 figure of digits gets neither (it once carried Fig. 1a's, an E1 reading, by mistake)."""
    memorised, accuracy = FIGURES
    assert (memorised.metric, accuracy.metric) == ("memorised_fraction", "train_accuracy")
    assert memorised.holds(data) is fig1a and accuracy.holds(data) is fig1b


def test_e2_figure_is_train_accuracy_in_percent(tmp_path) -> None:
    config = {"experiment": "memorization", "data": "fashionmnist:input_noise=3"}
    runs = [
        Record(f"{p}{d}{s}", {**config, "prune": {"pruner": p, "density": d}, "seed": s}, "done", metrics)
        for p in ("imp", "random")
        for d in (0.03, 0.003)
        for s in (0, 1)
        for metrics in [{"memorised_fraction": 0.1, "train_accuracy": 0.6}]
    ]
    paths = plot_memorization(runs, tmp_path)
    assert [p.name for p in paths] == [
        "memorised_vs_sparsity.png",
        "memorised_vs_sparsity.pdf",
        "train_accuracy_vs_sparsity.png",
        "train_accuracy_vs_sparsity.pdf",
    ]
