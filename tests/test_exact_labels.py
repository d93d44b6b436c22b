"""The exact_label_information experiment: exact I(mask; labels | init) from the truth table of
every label vector (snip deterministic, snip on a seed-drawn half random given the labels,
label-blind pruners exactly 0), the exact entropies on hand-made tables, the coverage of the
bounds on draws looked up in the table, and the mi-calibration suite's cases."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch

from noprune.config import ExperimentConfig, InfoConfig, PruneConfig
from noprune.errors import UserError
from noprune.experiments import exact_labels as el
from noprune.experiments import get_experiment
from noprune.sweep.runner import expand, load_suite

CPU = torch.device("cpu")

pytestmark = pytest.mark.usefixtures("one_thread")


def config(pruner: str = "snip", density: float = 0.1, n: int = 5, model: str = "mlp:16,16", **fields: Any):
    info = {"points": n, "replicates": 1, "repetitions": 0, **fields.pop("info", {})}
    return ExperimentConfig(
        experiment=el.NAME,
        data="digits",
        model=model,
        prune=PruneConfig(pruner=pruner, density=density, **fields),
        info=InfoConfig(**info),
    )


def run(c: ExperimentConfig) -> dict[str, Any]:
    return get_experiment(el.NAME).run(c, device=CPU, data_root=None)


# -- the exact entropies on hand-made tables ----------------------------------------------------
def test_exact_information_of_hand_made_tables():
    # deterministic, injective: I = H(M) = log2 of the number of label vectors
    assert el.exact_information(np.arange(8)[:, None]) == {
        "entropy_masks": 3.0, "entropy_given_labels": 0.0, "information": 3.0,
    }  # fmt: skip
    # deterministic, two vectors per mask: H(M) = 1
    assert el.exact_information(np.array([[0], [0], [1], [1]]))["information"] == 1.0
    # the mask ignores S and is uniform over 4 seeds: H(M) = H(M | S) = 2, I = 0
    blind = np.tile(np.array([[7, 8, 9, 10]]), (4, 1))
    assert el.exact_information(blind) == {
        "entropy_masks": 2.0,
        "entropy_given_labels": 2.0,
        "information": 0.0,
    }
    # 2 label vectors, 2 seeds: s = 0 gives masks {a, b}, s = 1 gives {a, a}; P(a) = 3/4
    table = el.exact_information(np.array([[5, 6], [5, 5]]))
    h = -(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25))
    assert table["entropy_masks"] == pytest.approx(h, abs=1e-15)
    assert table["entropy_given_labels"] == pytest.approx(0.5, abs=1e-15)  # (1 + 0) / 2
    assert table["information"] == pytest.approx(h - 0.5, abs=1e-15)
    with pytest.raises(ValueError):
        el.exact_information(np.zeros(4))


def test_label_vectors_and_their_restrictions():
    v = el.label_vectors(3)
    assert v.shape == (8, 3) and v[6].tolist() == [0, 1, 1]  # 6 = 0b110: y_1 = y_2 = 1
    points = np.array([0, 2])
    sub = el.subset_index(3, points)
    assert (el.label_vectors(2)[sub] == v[:, points]).all()
    assert (el.subset_index(3, np.arange(3)) == np.arange(8)).all()


def test_masks_are_told_apart_by_their_hash():
    index = el.MaskIndex()
    a, b = np.array([[1, 2, 3]], dtype=np.uint8), np.array([[1, 2, 4]], dtype=np.uint8)
    assert index.add(np.concatenate([a, b, a])).tolist() == [0, 1, 0]
    assert index.add(b).tolist() == [1] and (index.packed(3) == np.concatenate([a, b])).all()


# -- truth tables of real prunings ----------------------------------------------------------------
def test_snip_is_deterministic_so_the_truth_is_the_mask_entropy():
    m = run(config("snip", 0.1, n=5, info={"replicates": 2}))
    assert m["entropy_given_labels"] == 0.0  # measured over R = 2 seeds: snip ignores its seed
    assert m["truth"] == m["entropy_masks"] > 0.0
    assert m["truth"] <= 5 and m["truth"] <= math.log2(m["distinct_masks"]) + 1e-12
    assert m["nnz_min"] == m["nnz_max"] == round(0.1 * m["params"]) and m["label_vectors"] == 32


def test_snip_on_a_seed_drawn_half_is_random_given_the_labels():
    """k = 2 batch_per_class = 2 of n = 4 points per seed: M is a function of (r, y on r's
    points), so with R masks per label vector H(M | S) > 0 and I < n; were every mask distinct
    and the R subsets distinct, I = k exactly."""
    c = config("snip", 0.1, n=4, batch_per_class=1, info={"replicates": 4})
    table = el.truth_table(c, device=CPU, data_root=None)
    assert all(len(p) == 2 for p in table.points) and len({tuple(p) for p in table.points}) > 1
    m = table.metrics()
    assert m["scoring_points"] == 2 and m["replicates"] == 4
    assert m["entropy_given_labels"] > 0.0
    assert 0.0 < m["truth"] < 4.0
    assert m["truth"] == pytest.approx(m["entropy_masks"] - m["entropy_given_labels"])
    # seed r's mask depends on the labels of its points only
    for r, points in enumerate(table.points):
        others = np.setdiff1d(np.arange(4), points)
        flipped = el.label_vectors(4) ^ np.isin(np.arange(4), others[:1]).astype(np.uint8)
        s = flipped @ (1 << np.arange(4))
        assert (table.ids[s, r] == table.ids[:, r]).all()


@pytest.mark.parametrize("pruner", ["random", "magnitude"])
def test_label_blind_pruners_carry_exactly_zero(pruner: str):
    m = run(config(pruner, 0.1, n=3, info={"replicates": 2}))
    assert m["truth"] == 0.0 and m["entropy_masks"] == m["entropy_given_labels"]
    # the random pruner draws a fresh mask per seed (H(M) = 1 bit over 2 seeds), magnitude one
    assert m["distinct_masks"] == (2 if pruner == "random" else 1)
    assert m["entropy_masks"] == (1.0 if pruner == "random" else 0.0)


def test_the_cnn_prunes_one_network_at_a_time():
    m = run(config("snip", 0.1, n=3, model="cnn:2,2,4"))
    assert m["label_vectors"] == 8 and 0.0 < m["truth"] <= 3.0 and m["entropy_given_labels"] == 0.0


def test_misuse_is_refused():
    for bad in (config(n=0), config(n=17), config(info={"replicates": 0}), config(ablation="shuffle")):
        with pytest.raises(UserError):
            el.truth_table(bad, device=CPU, data_root=None)


# -- coverage --------------------------------------------------------------------------------------
def test_coverage_on_draws_looked_up_in_the_table():
    # a 264-weight MLP: the linear-Gaussian decoders cost the cube of the varying bits
    c = config("snip", 0.1, n=5, model="mlp:4", info={"repetitions": 2, "draws": 16, "alpha": 0.05})
    m = run(c)
    assert m["repetitions"] == 2 and m["fit_draws"] == m["test_draws"] == 8 and m["truth"] == 5.0
    assert 0.0 <= m["lower_mean"] <= m["upper_mean"] and 0.0 <= m["coverage"] <= 1.0
    assert m["lower_mean"] <= m["truth"] + 1e-9 or m["coverage"] < 1.0


def test_identical_masks_are_an_exact_zero():
    m = run(config("magnitude", 0.1, n=3, info={"repetitions": 2, "draws": 20, "fit_draws": 12}))
    assert m["fit_draws"] == 12 and m["test_draws"] == 8  # the first info.fit_draws of info.draws
    assert m["truth"] == m["lower_mean"] == m["upper_mean"] == 0.0
    assert m["coverage"] == m["exact_zero_share"] == 1.0


# -- the suite ---------------------------------------------------------------------------------------
def test_the_calibration_suite_holds_the_exact_cases():
    configs = expand(load_suite("mi-calibration"))
    exact = [c for c in configs if c.experiment == el.NAME]
    others = [c for c in configs if c.experiment != el.NAME]
    assert others and all(c.experiment == "information_calibration" for c in others)
    assert all(c.data.startswith("masks:") for c in others)
    for c in exact:
        el.check(c)
        assert c.info.repetitions >= 200 and c.data == "digits"
    mlp = [c for c in exact if c.model == "mlp:32,32" and c.info.replicates == 1]
    assert {c.info.points for c in mlp} == {16} and len({c.prune.density for c in mlp}) >= 2
    assert any(c.info.replicates > 1 and 2 * c.prune.batch_per_class < c.info.points for c in exact)
    assert any(c.model == "cnn:8,16,32" and 8 <= c.info.points <= 10 for c in exact)


def test_the_calibration_leaderboard_adds_the_exact_cases():
    from noprune.config import canonical
    from noprune.report.calibration_report import exact_markdown, leaderboard
    from noprune.sweep.store import Record

    c = config("magnitude", 0.1, n=3, info={"repetitions": 1, "draws": 8})
    records = [Record("k", canonical(c), "done", run(c))]
    table = exact_markdown(records)
    assert table.count("\n") == 3 and "| mlp:16,16 | magnitude |" in table
    assert "Real networks, exact truth" in leaderboard(records, "s", "cmd")
    assert exact_markdown([]) == "" and "Real networks" not in leaderboard([], "s", "cmd")
