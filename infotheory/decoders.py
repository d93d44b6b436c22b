"""Held-out decoders of S from the mask, with folds grouped by draw: nearest centroid, logistic probe."""

from __future__ import annotations

import numpy as np
from scipy import optimize

from infotheory.bits import hamming


def group_folds(groups: np.ndarray, folds: int, seed: int = 0) -> list[np.ndarray]:
    """Test-row indices of each fold; all rows of one group (draw) land in the same fold."""
    groups = np.asarray(groups)
    uniq, inverse = np.unique(groups, return_inverse=True)
    if len(uniq) < 2:
        raise ValueError("grouped cross-validation needs at least 2 draws")
    folds = min(folds, len(uniq))
    order = np.random.default_rng(seed).permutation(len(uniq))
    fold_of_group = np.empty(len(uniq), dtype=np.int64)
    fold_of_group[order] = np.arange(len(uniq)) % folds
    fold_of_row = fold_of_group[inverse]
    return [np.flatnonzero(fold_of_row == f) for f in range(folds)]


def _check_disjoint(groups: np.ndarray, test: np.ndarray, train: np.ndarray) -> None:
    assert not np.intersect1d(groups[test], groups[train]).size, "a draw straddles train and test"


def _score(wrong: np.ndarray, groups: np.ndarray, unit: str) -> tuple[float, int]:
    """(errors, n) per mask, or per draw (sum over draws of the fraction of its masks wrong)."""
    if unit == "mask":
        return float(wrong.sum()), len(wrong)
    if unit != "draw":
        raise ValueError(f"unit must be 'draw' or 'mask', got {unit!r}")
    _, inverse = np.unique(groups, return_inverse=True)
    per_draw = np.bincount(inverse, weights=wrong) / np.bincount(inverse)
    return float(per_draw.sum()), len(per_draw)


def nearest_centroid_cv(
    packed: np.ndarray,
    p_bits: int,
    labels: np.ndarray,
    groups: np.ndarray,
    folds: int = 5,
    seed: int = 0,
    unit: str = "draw",
    budget_bytes: int = 1 << 26,
) -> tuple[float, int]:
    """Held-out errors of a nearest-class-centroid decoder in Hamming space -> (errors, n).

    Centroid of a class = per-bit majority (ties -> 0) of that class's training masks; a test
    mask gets the class of the nearest centroid (ties -> the smallest label). Folds are grouped
    by draw id ``groups``. A test mask whose class has no training mask counts as an error.
    ``unit="draw"`` (default) returns the summed per-draw error fractions over the number of
    draws, so replicates of one draw are not counted as independent tests (feed it to Fano);
    ``unit="mask"`` counts masks. Works on the packed form in column chunks (any p).
    """
    packed = np.asarray(packed, dtype=np.uint8)
    labels = np.asarray(labels)
    groups = np.asarray(groups)
    m, nb = packed.shape
    if not (len(labels) == len(groups) == m):
        raise ValueError(f"{m} masks, {len(labels)} labels, {len(groups)} groups")
    classes, y = np.unique(labels, return_inverse=True)
    c = len(classes)
    test_sets = group_folds(groups, folds, seed)
    f = len(test_sets)
    # indicator of (fold, class) training membership -> [f * c, m], and majority thresholds
    ind = np.zeros((f, c, m), dtype=np.float32)
    for i, test in enumerate(test_sets):
        train = np.setdiff1d(np.arange(m), test)
        _check_disjoint(groups, test, train)
        ind[i, y[train], train] = 1.0
    ind = ind.reshape(f * c, m)
    n_train = ind.sum(axis=1)[:, None]
    centroids = np.zeros((f * c, nb), dtype=np.uint8)
    step = max(1, budget_bytes // (8 * 4 * max(m, f * c)))
    for s in range(0, nb, step):
        bits = np.unpackbits(packed[:, s : s + step], axis=1).astype(np.float32)
        counts = ind @ bits  # exact: integer counts < 2**24
        centroids[:, s : s + step] = np.packbits(2 * counts > n_train, axis=1)
    centroids = centroids.reshape(f, c, nb)
    present = n_train.reshape(f, c) > 0
    wrong = np.zeros(m, dtype=np.float64)
    for i, test in enumerate(test_sets):
        d = hamming(packed[test], centroids[i], budget_bytes=budget_bytes).astype(np.float64)
        d[:, ~present[i]] = np.inf
        pred = np.argmin(d, axis=1)
        wrong[test] = (pred != y[test]) | ~present[i][y[test]]
    return _score(wrong, groups, unit)


def logistic_probe_cv(
    masks_bool: np.ndarray,
    labels: np.ndarray,
    groups: np.ndarray,
    folds: int = 5,
    seed: int = 0,
    l2: float = 1.0,
    unit: str = "draw",
    max_iter: int = 200,
) -> tuple[float, int]:
    """Held-out errors of an L2-regularised logistic regression on the mask bits -> (errors, n).

    Binary labels only. Features are the bits centred on their training means; the loss is the
    summed log-loss plus l2 / 2 ||w||^2 (intercept unpenalised), minimised by L-BFGS. Folds are
    grouped by draw; ``unit`` as in :func:`nearest_centroid_cv`. Meant for up to ~1e5 bits.
    """
    x_all = np.asarray(masks_bool, dtype=np.float64)
    labels = np.asarray(labels)
    groups = np.asarray(groups)
    classes, y = np.unique(labels, return_inverse=True)
    if len(classes) > 2:
        raise ValueError(f"logistic_probe_cv takes binary labels, got {len(classes)} classes")
    m = len(x_all)
    wrong = np.zeros(m, dtype=np.float64)
    for test in group_folds(groups, folds, seed):
        train = np.setdiff1d(np.arange(m), test)
        _check_disjoint(groups, test, train)
        ytr = y[train].astype(np.float64)
        if len(np.unique(ytr)) < 2:  # one class in training: predict it
            wrong[test] = y[test] != int(ytr[0])
            continue
        mu = x_all[train].mean(axis=0)
        xtr = x_all[train] - mu

        def loss(theta: np.ndarray, xtr: np.ndarray = xtr, ytr: np.ndarray = ytr) -> tuple[float, np.ndarray]:
            w, b = theta[:-1], theta[-1]
            z = xtr @ w + b
            val = np.logaddexp(0.0, z).sum() - ytr @ z + 0.5 * l2 * w @ w
            r = 1.0 / (1.0 + np.exp(-z)) - ytr
            return float(val), np.concatenate([xtr.T @ r + l2 * w, [r.sum()]])

        theta0 = np.zeros(x_all.shape[1] + 1)
        res = optimize.minimize(loss, theta0, jac=True, method="L-BFGS-B", options={"maxiter": max_iter})
        w, b = res.x[:-1], res.x[-1]
        pred = ((x_all[test] - mu) @ w + b) > 0
        wrong[test] = pred.astype(int) != y[test]
    return _score(wrong, groups, unit)
