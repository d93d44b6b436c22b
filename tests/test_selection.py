"""Exact top-k selection, tie-breaks, scopes and schedules (docs/SCIENCE.md §2, common rules)."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from pruners import MaskSet, exponential, iterative, keep_count, select
from pruners.selection import layer_counts, top_k


def scores_of(*shapes: tuple[int, ...], seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {f"l{i}.weight": torch.randn(s, generator=g) for i, s in enumerate(shapes)}


@pytest.mark.parametrize("density", [1.0, 0.5, 0.3333, 0.1, 0.01, 0.001])
@pytest.mark.parametrize("scope", ["global", "layerwise"])
def test_keeps_exactly_round_density_times_n(density, scope):
    scores = scores_of((37, 11), (5, 3, 3), (101,))
    masks = select(scores, density, scope=scope)
    n = sum(s.numel() for s in scores.values())
    assert masks.nnz == round(density * n)
    assert masks.numel == n


def test_global_keeps_the_highest_scores():
    scores = scores_of((20, 10), (10, 5))
    masks = select(scores, 0.2)
    kept = torch.cat([scores[n][masks[n]] for n in scores])
    dropped = torch.cat([scores[n][~masks[n]] for n in scores])
    assert kept.min() > dropped.max()


def test_ties_break_by_flat_index_deterministically():
    scores = {"a": torch.ones(3, 4), "b": torch.ones(6)}
    masks = select(scores, 0.5)  # 9 of 18, all tied: the first 9 in parameter order
    flat = torch.cat([masks["a"].reshape(-1), masks["b"]])
    assert flat.tolist() == [True] * 9 + [False] * 9
    inverted = select(scores, 0.5, invert=True)
    assert inverted == masks  # ties go to the lower index in both directions


def test_threshold_cut_would_miss_the_target_but_top_k_does_not():
    # Many equal scores straddle the cut: `score > threshold` keeps too few or too many.
    scores = {"w": torch.tensor([3.0, 1.0, 1.0, 1.0, 1.0, 0.0])}
    masks = select(scores, 0.5)
    assert masks.nnz == 3
    assert masks["w"].tolist() == [True, True, True, False, False, False]


def test_layerwise_keeps_the_density_in_every_layer():
    scores = scores_of((100,), (40,), (10,))
    masks = select(scores, 0.25, scope="layerwise")
    assert [s.nnz for s in masks.per_layer().values()] == [25, 10, 3]  # 37.5 -> 38 in all
    for name, stats in masks.per_layer().items():
        assert abs(stats.nnz - 0.25 * scores[name].numel()) < 1


def test_layer_counts_largest_remainder_adds_up_and_respects_alive():
    counts = layer_counts(0.5, [3, 3, 3], [3, 3, 3])
    assert sum(counts) == round(0.5 * 9) == 4 and counts == [2, 1, 1]  # ties to the earlier layer
    counts = layer_counts(0.3, [10, 10], [2, 10])
    assert counts == [2, 4]


def test_never_revives_pruned_weights():
    scores = scores_of((50,))
    alive = MaskSet({"l0.weight": torch.arange(50) % 2 == 0})
    masks = select(scores, 0.2, alive=alive)
    assert masks.nnz == 10
    assert not (masks["l0.weight"] & ~alive["l0.weight"]).any()


def test_nan_scores_are_an_error_not_a_mask():
    with pytest.raises(ValueError, match="NaN"):
        select({"w": torch.tensor([1.0, float("nan"), 2.0])}, 0.5)


def test_invert_is_a_rank_inversion_for_signed_scores():
    scores = torch.tensor([-2.0, -1.0, 0.5, 3.0, 0.25])
    alive = torch.ones(5, dtype=torch.bool)
    assert top_k(scores, alive, 2).tolist() == [False, False, True, True, False]
    assert top_k(scores, alive, 2, invert=True).tolist() == [True, True, False, False, False]
    # 1/score would rank 0.25 (1/s = 4) and 0.5 (1/s = 2) lowest-kept: a different set.


@pytest.mark.parametrize("bad", [0.0, -0.1, 1.5, float("nan")])
def test_density_outside_unit_interval_is_rejected(bad):
    with pytest.raises(ValueError, match="density"):
        select(scores_of((10,)), bad)


def test_exponential_schedule_lands_exactly_on_the_target():
    steps = exponential(0.01, 100)
    assert len(steps) == 100 and steps[-1] == 0.01
    assert all(a > b for a, b in itertools.pairwise(steps))
    assert math.isclose(steps[49], 0.01**0.5)


def test_iterative_schedule_prunes_twenty_percent_of_survivors_per_round():
    steps = iterative(0.05, 0.2)
    assert steps[-1] == 0.05
    assert len(steps) == math.ceil(math.log(0.05) / math.log(0.8))
    for previous, current in zip([1.0, *steps[:-2]], steps[:-1], strict=True):
        assert math.isclose(current / previous, 0.8)
    assert 0.8 - 1e-12 <= steps[-1] / steps[-2] < 1.0
    assert iterative(0.8, 0.2) == [0.8]


def test_keep_count_is_round():
    assert keep_count(0.05, 1216) == 61
    assert keep_count(0.001, 1216) == 1


def test_infinite_scores_never_let_a_pruned_weight_back_in():
    scores = torch.tensor([float("-inf"), 1.0, 5.0, float("-inf")])
    alive = torch.tensor([True, True, False, False])
    assert top_k(scores, alive, 2).tolist() == [True, True, False, False]
    scores = torch.tensor([float("inf"), 1.0, -5.0, float("inf")])
    assert top_k(scores, alive, 2, invert=True).tolist() == [True, True, False, False]
    assert top_k(
        torch.tensor([3.0, 1.0, 2.0]), torch.tensor([True, False, True]), 1, invert=True
    ).tolist() == [
        False,
        False,
        True,
    ]


def stable_sort_top_k_rows(scores, alive, counts, invert=False):
    """The rule as first written: one stable sort per row, pruned entries last, the first
    counts[k] kept. The reference that the linear-time selection must equal bit for bit."""
    order = torch.sort(scores, dim=1, descending=not invert, stable=True).indices
    alive_first = torch.sort(alive.gather(1, order).to(torch.int8), dim=1, descending=True, stable=True)
    order = order.gather(1, alive_first.indices)
    ranks = torch.empty_like(order)
    ranks.scatter_(1, order, torch.arange(scores.shape[1]).expand_as(order))
    return ranks < counts[:, None]


@pytest.mark.parametrize("trial", range(60))
def test_selection_equals_the_stable_sort_on_random_scores_with_ties(trial):
    """Random rows, counts from 0 to all alive, scores drawn from few values (many ties), with
    infinities, signed zeros and pruned entries, both directions."""
    from pruners.selection import top_k_rows

    g = torch.Generator().manual_seed(trial)
    k, n = int(torch.randint(1, 6, (1,), generator=g)), int(torch.randint(1, 400, (1,), generator=g))
    levels = torch.tensor([-math.inf, -1.0, -0.0, 0.0, 0.5, 1.0, math.inf], dtype=torch.float64)
    few = levels[torch.randint(0, len(levels), (k, n), generator=g)]
    many = torch.randn(k, n, generator=g, dtype=torch.float64)
    scores = torch.where(torch.rand(k, n, generator=g) < 0.5, few, many)
    alive = torch.rand(k, n, generator=g) < float(torch.rand(1, generator=g))
    alive[:, 0] = True
    counts = torch.stack([torch.randint(0, int(a.sum()) + 1, (1,), generator=g)[0] for a in alive])
    for invert in (False, True):
        fast = top_k_rows(scores, alive, counts, invert=invert)
        assert torch.equal(fast, stable_sort_top_k_rows(scores, alive, counts, invert))
        assert fast.sum(dim=1).tolist() == counts.tolist() and not (fast & ~alive).any()


def test_rows_that_keep_the_same_count_are_cut_in_one_call_and_equal_the_sort(monkeypatch):
    """An ensemble mixing densities: one selection per distinct count (members at one density
    have the same number alive), each row as the stable sort selects it alone (ties included)."""
    from pruners import selection

    calls = []
    real = selection.cut_values
    monkeypatch.setattr(selection, "cut_values", lambda rows, j: calls.append(len(rows)) or real(rows, j))
    g = torch.Generator().manual_seed(7)
    scores = torch.randint(0, 5, (12, 300), generator=g).to(torch.float64)
    alive = torch.rand(12, 300, generator=g).argsort(dim=1) < 240  # 240 alive in every row
    counts = torch.tensor([30, 120, 30, 0, 120, 30, 5, 30, 120, 5, 30, 0])
    fast = selection.top_k_rows(scores, alive, counts)
    assert sorted(calls) == [2, 3, 5]  # counts 5, 120 and 30; nothing for 0
    assert torch.equal(fast, stable_sort_top_k_rows(scores, alive, counts, False))
    for r in range(12):
        assert torch.equal(fast[r], top_k(scores[r], alive[r], int(counts[r])))
