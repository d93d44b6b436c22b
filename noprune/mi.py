"""``noprune mi``: bounds on I(mask; data) for mask files a user already has.

K mask files (``MaskSet.save``; ``noprune prune --out DIR`` writes ``DIR/masks.safetensors``)
over the same parameters, and one of two designs saying what data variable S each mask was
pruned on:

- labels: a [K, n] array of binary labels, row k the label vector mask k was pruned on, the
  rows i.i.d. uniform (H(S) = n bits); :func:`infotheory.label_information` gives an exact zero
  or a lower and an upper bound (jointly at 1 - alpha) and a detector;
- draws: one draw id per mask; replicates of a draw (other pruner seeds) share an id and S is
  uniform over the distinct ids (H(S) = log2 #ids). Exact zero when every mask is identical;
  else the upper bound min(H(S), log2 C(p, k), sum_j h2(p_j)), the Fano lower bound from a
  nearest-centroid decoder of the draw id tested on a held-out replicate of each draw, and the permutation
  detector.

Files are read without pickle. Every problem with the input is a :class:`UserError` naming the
file; the CLI turns it into one line and exit code 2.
"""

from __future__ import annotations

import io
import json
import math
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import infotheory
from infotheory import Estimate
from noprune.config import SEED_LIMIT
from noprune.errors import UserError

FORMATS = (".npy", ".csv", ".txt", ".json")


# -- reading ---------------------------------------------------------------------------------
def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def load_masks(paths: Sequence[str | os.PathLike]) -> tuple[np.ndarray, int, np.ndarray]:
    """Packed masks [K, ceil(p / 8)], p, and each mask's nnz, from K mask files.

    Each MaskSet is flattened in its stored parameter order; all files must hold the same
    parameter names with the same shapes.
    """
    from pruners import MaskSet

    if len(paths) < 2:
        raise UserError(f"give at least 2 mask files (one per draw or replicate), got {len(paths)}")
    rows: list[np.ndarray] = []
    layout: list[tuple[str, tuple[int, ...]]] | None = None
    first = None
    seen: dict[Path, Path] = {}
    for path in paths:
        path = Path(path)
        if not path.is_file():
            raise UserError(f"mask file {path} not found")
        resolved = path.resolve()
        if resolved in seen:
            raise UserError(
                f"mask file {path} is given twice (also as {seen[resolved]}); "
                "each mask must come from its own pruning"
            )
        seen[resolved] = path
        try:
            masks = MaskSet.load(path)
        except Exception as error:  # safetensors, JSON metadata, format: all one message
            raise UserError(f"cannot read {path} as a noprune mask file: {_one_line(error)}") from None
        here = [(name, tuple(m.shape)) for name, m in masks.items()]
        if layout is None:
            layout, first = here, path
        elif here != layout:
            raise UserError(f"{path} does not match {first}: {_layout_difference(here, layout)}")
        flat = np.concatenate([m.reshape(-1).cpu().numpy() for m in masks.values()])
        rows.append(infotheory.pack(flat[None, :])[0])
    assert layout is not None
    p_bits = sum(math.prod(shape) for _, shape in layout)
    packed = np.stack(rows)
    return packed, p_bits, infotheory.popcount(packed)


def _layout_difference(here: list, want: list) -> str:
    """The first way one mask layout differs from another, in a few words."""
    names, wanted = dict(here), dict(want)
    if list(names) != list(wanted):
        extra = [n for n in names if n not in wanted]
        missing = [n for n in wanted if n not in names]
        if extra or missing:
            parts = [
                f"no {', '.join(missing)}" if missing else "",
                f"extra {', '.join(extra)}" if extra else "",
            ]
            return "parameters differ (" + "; ".join(p for p in parts if p) + "); masks must share one model"
        return "parameters are in a different order; masks must share one model"
    for name, shape in here:
        if shape != wanted[name]:
            return f"{name} has shape {shape}, not {wanted[name]}; masks must share one model"
    return "layouts differ"  # pragma: no cover


def _read_array(path: Path, flag: str) -> Any:
    """A .npy (no pickle), .csv/.txt (numbers, one row a line) or .json (lists) file as nested data."""
    if not path.is_file():
        raise UserError(f"{flag} file {path} not found")
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise UserError(f"{flag} takes a .npy, .csv, .txt or .json file, got {path}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a parser's warning (an empty file, ...) is the error line
            if suffix == ".npy":
                return np.load(path, allow_pickle=False)
            text = path.read_text()
            if not text.strip():
                raise UserError(f"{flag} file {path} is empty")
            if suffix == ".json":
                return json.loads(text)
            delimiter = "," if "," in text else None
            return np.loadtxt(
                io.StringIO(text), delimiter=delimiter, ndmin=2, dtype=str if flag == "--draws" else float
            )
    except Warning as warning:
        raise UserError(f"cannot read {flag} file {path}: {_one_line(warning)}") from None
    except ValueError as error:
        if "allow_pickle" in str(error):
            raise UserError(
                f"{path} holds Python objects (pickle), which are never loaded; save a numeric array"
            ) from None
        raise UserError(f"cannot read {flag} file {path}: {_one_line(error)}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"cannot read {flag} file {path}: {_one_line(error)}") from None


def load_labels(path: str | os.PathLike, n_masks: int) -> np.ndarray:
    """[K, n] labels in {0, 1} (uint8) from a file; -1/+1 labels are mapped to 0/1."""
    path = Path(path)
    raw = _read_array(path, "--labels")
    try:
        if np.iscomplexobj(np.asarray(raw)):
            raise UserError(f"--labels {path} holds complex numbers; labels are 0/1 or -1/+1")
        labels = np.asarray(raw, dtype=np.float64)
    except (ValueError, TypeError):
        raise UserError(f"--labels {path} must be a [K, n] array of numbers (one row per mask)") from None
    if labels.ndim == 1 and n_masks == 1:  # pragma: no cover - K >= 2 is enforced earlier
        labels = labels[None]
    if labels.ndim != 2 or labels.shape[1] == 0:
        raise UserError(
            f"--labels {path} must be a [K, n] array (one row per mask), got shape {labels.shape}"
        )
    if len(labels) != n_masks:
        raise UserError(
            f"--labels {path} has {len(labels)} rows for {n_masks} mask files; give one row per mask"
        )
    values = set(np.unique(labels).tolist()) if np.isfinite(labels).all() else {float("nan")}
    if values <= {0.0, 1.0}:
        out = labels.astype(np.uint8)
    elif values <= {-1.0, 1.0}:
        out = (labels > 0).astype(np.uint8)
    else:
        shown = ", ".join(f"{v:g}" for v in sorted(values)[:6])
        raise UserError(f"--labels {path} must hold binary labels (0/1 or -1/+1), found {shown}")
    _check_label_replicates(out, path)
    return out


def _check_label_replicates(labels: np.ndarray, path: Path) -> None:
    """Refuse repeated label rows that i.i.d. uniform labels would almost never produce
    (:func:`infotheory.labels.check_label_rows`): a label vector used for several masks puts one
    draw on both sides of the held-out split. Short label vectors repeat by chance and pass."""
    try:
        infotheory.check_label_rows(labels)
    except ValueError as error:
        raise UserError(f"--labels {path}: {error} (for replicates of a draw use --draws)") from None


def load_draws(path: str | os.PathLike, n_masks: int) -> np.ndarray:
    """One draw id (a number or a name) per mask -> int64 ids 0..D-1, in sorted order of the ids."""
    path = Path(path)
    raw = _read_array(path, "--draws")
    try:
        ids = np.asarray(raw)
    except ValueError:
        raise UserError(f"--draws {path} must be a flat list of draw ids, one per mask") from None
    if ids.ndim > 1 and sum(s > 1 for s in ids.shape) <= 1:
        ids = ids.reshape(-1)
    if ids.ndim != 1 or ids.dtype.kind not in "iufUSb":
        raise UserError(f"--draws {path} must be a flat list of draw ids (numbers or names), one per mask")
    if len(ids) != n_masks:
        raise UserError(f"--draws {path} has {len(ids)} draw ids for {n_masks} mask files; give one per mask")
    if ids.dtype.kind == "f" and not np.isfinite(ids).all():
        raise UserError(f"--draws {path} has a missing or non-finite draw id")
    if ids.dtype.kind in "US":
        ids = np.char.strip(ids.astype(str))
        if (ids == "").any():
            raise UserError(f"--draws {path} has an empty draw id")
    _, inverse = np.unique(ids, return_inverse=True)
    inverse = inverse.ravel().astype(np.int64)
    if inverse.max() < 1:
        raise UserError(f"--draws {path}: every mask comes from one draw, so H(S) = 0; give at least 2 draws")
    return inverse


# -- estimating ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Information:
    """What ``noprune mi`` reports: estimates of I(mask; S), mask sizes and p_eff."""

    design: str
    h_s: float
    alpha: float
    n_masks: int
    n_draws: int
    p: int
    nnz: np.ndarray
    exact: Estimate | None
    lower: Estimate | None
    upper: Estimate
    detector: Estimate | None
    decoders: dict[str, Estimate] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def nnz_mean(self) -> float:
        return float(np.mean(self.nnz))

    def effective_parameters(self) -> infotheory.EffectiveParameters:
        """p_eff = mean nnz + I (informal form, b = 1), I taken as [lower, upper]."""
        low = 0.0 if self.lower is None else self.lower.value
        return infotheory.effective_parameters(self.nnz_mean, min(low, self.upper.value), self.upper.value)

    def text(self) -> str:
        if self.design == "labels":
            what = f"labels: {self.n_draws} label vectors of n = {round(self.h_s)} binary labels"
        else:
            what = f"draws: {self.n_draws} distinct draws"
        lines = [f"{self.n_masks} masks, design {what}, H(S) = {self.h_s:.6g} bits"]
        if self.exact is not None:
            lines.append(f"{self.exact}: every mask is identical")
        else:
            if self.lower is not None:
                lines.append(f"{self.lower}{_how(self.lower)}")
            lines.append(f"{self.upper}{_how(self.upper)}")
            if self.lower is not None:
                lines.append(
                    f"the lower and the upper bound hold jointly with {100 * (1 - self.alpha):g}% confidence"
                )
        if self.detector is not None:
            lines.append(f"{self.detector}")
        lines.append(
            f"masks: mean nnz {self.nnz_mean:.6g} of p = {self.p} (density {self.nnz_mean / self.p:.6g}), "
            f"nnz from {int(self.nnz.min())} to {int(self.nnz.max())}"
        )
        lines.append(f"{self.effective_parameters()} (informal form, b = 1 bit per weight)")
        lines.extend(f"note: {note}" for note in self.notes)
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        peff = self.effective_parameters()
        return _plain(
            {
                "design": self.design,
                "h_s": self.h_s,
                "alpha": self.alpha,
                "n_masks": self.n_masks,
                "n_draws": self.n_draws,
                "p": self.p,
                "nnz_mean": self.nnz_mean,
                "nnz_min": int(self.nnz.min()),
                "nnz_max": int(self.nnz.max()),
                "exact": _estimate_json(self.exact),
                "lower": _estimate_json(self.lower),
                "upper": _estimate_json(self.upper),
                "detector": _estimate_json(self.detector),
                "decoders": {name: _estimate_json(e) for name, e in self.decoders.items()},
                "p_eff": {
                    "low": peff.low,
                    "high": peff.high,
                    "nnz": peff.nnz,
                    "bits_per_weight": peff.bits_per_weight,
                    "information_low": peff.information_low,
                    "information_high": peff.information_high,
                },
                "notes": self.notes,
            }
        )


UPPER_NAMES = {
    "h_s": "H(S)",
    "log2_binomial": "log2 C(p, k)",
    "sum_h2_bits": "sum of per-bit entropies",
    "code_independent": "held-out code length, independent bits",
    "code_autoregressive": "held-out code length, autoregressive logistic code",
}


def _how(estimate: Estimate) -> str:
    """A short account of a bound's method, appended to its line."""
    d = estimate.details
    if estimate.kind == "upper_bound":
        code = d.get("codes", {}).get(str(d.get("chosen", "")).removeprefix("code_"))
        mean = f" (mean length {code['mean_length']:.4g} bits)" if code else ""
        return f"; from {UPPER_NAMES.get(d.get('chosen'), d.get('chosen'))}{mean}"
    if "error_rate" in d:
        where = f" on {d['test_draws']} test draws" if "test_draws" in d else ""
        if "mean_term" in d:
            chain = " along the chain rule" if d["decoder"] == "log_loss_chain" else ""
            return (
                f"; log-loss (Barber-Agakov) of a linear-Gaussian decoder{chain}, mean "
                f"{d['mean_term']:.4g} bits{where}"
            )
        return f"; {d.get('decoder', 'a')} decoder, held-out error {d['error_rate']:.4g}{where} " + (
            f"(at most {d['error_rate_upper']:.4g})"
        )
    return f"; {d['note']}" if "note" in d else ""


def _estimate_json(estimate: Estimate | None) -> dict[str, Any] | None:
    if estimate is None:
        return None
    return {
        "value": estimate.value,
        "kind": estimate.kind,
        "confidence": estimate.confidence,
        "n_masks": estimate.n_masks,
        "n_draws": estimate.n_draws,
        "details": estimate.details,
    }


def _plain(value: Any) -> Any:
    """JSON-able copy: numpy scalars and arrays to Python, non-finite floats to None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def label_design(
    packed: np.ndarray,
    p_bits: int,
    nnz: np.ndarray,
    labels: np.ndarray,
    alpha: float = 0.05,
    permutations: int = 100,
    seed: int = 0,
    fit: int | None = None,
) -> Information:
    """I(mask; labels) for one mask per i.i.d. uniform binary label vector (H(S) = n); the first
    ``fit`` masks are fit draws (default: half), the rest test draws."""
    k, n = labels.shape
    if fit is not None and not 0 <= fit < k:
        raise UserError(
            f"--fit must be in 0..{k - 1} (the first FIT of the {k} masks are fit draws), got {fit}"
        )
    try:
        infotheory.labels.check_mask_order(packed)
    except ValueError as error:
        raise UserError(f"the mask files: {error}") from None
    info = infotheory.label_information(
        packed, p_bits, labels, fit=fit, alpha=alpha, seed=seed, n_permutations=permutations
    )
    notes = []
    if info.exact is None:
        notes.append(
            f"fit draws: the first {info.fit_draws} masks (decoders and mask models fitted there); "
            f"test draws: the other {k - info.fit_draws} (every bound is certified on them)"
        )
    if info.exact is None and not info.decoders:
        notes.append(
            f"the lower bound needs at least {infotheory.labels.MIN_SPLIT} fit and "
            f"{infotheory.labels.MIN_SPLIT} test draws; got {info.fit_draws} and {k - info.fit_draws}"
        )
    return Information(
        "labels",
        float(n),
        alpha,
        k,
        k,
        p_bits,
        nnz,
        info.exact,
        info.lower,
        info.upper,
        info.detector,
        dict(info.decoders),
        notes,
    )


def draw_design(
    packed: np.ndarray,
    p_bits: int,
    nnz: np.ndarray,
    draws: np.ndarray,
    alpha: float = 0.05,
    permutations: int = 100,
    seed: int = 0,
) -> Information:
    """I(mask; S) with S uniform over the distinct draw ids (H(S) = log2 #ids), from
    :func:`infotheory.draw_information`: the draw id is decoded by a nearest centroid fitted on
    all but the last mask of each draw and tested on those last masks. Identical replicates of
    a draw are refused."""
    try:
        info = infotheory.draw_information(
            packed, p_bits, draws, alpha=alpha, n_permutations=permutations, seed=seed
        )
    except ValueError as error:
        raise UserError(f"--draws: {error}") from None
    _, per_draw = np.unique(draws, return_counts=True)
    decoders = {} if info.lower is None or info.exact is not None else {"centroid": info.lower}
    return Information(
        "draws",
        float(np.log2(len(per_draw))),
        alpha,
        len(packed),
        len(per_draw),
        p_bits,
        nnz,
        info.exact,
        info.lower,
        info.upper,
        info.detector,
        decoders,
        list(info.notes),
    )


def information_from_files(
    mask_paths: Sequence[str | os.PathLike],
    labels: str | os.PathLike | None = None,
    draws: str | os.PathLike | None = None,
    alpha: float = 0.05,
    permutations: int = 100,
    seed: int = 0,
    fit: int | None = None,
) -> Information:
    """Read K mask files and the design file (exactly one of ``labels`` and ``draws``) and
    estimate I(mask; S)."""
    if (labels is None) == (draws is None):
        raise UserError(
            "give exactly one of --labels FILE (binary label vectors) and --draws FILE (draw ids)"
        )
    if not 0.0 < alpha < 1.0:
        raise UserError(f"--alpha must be in (0, 1), got {alpha:g}")
    if permutations < 0:
        raise UserError(f"--permutations must be 0 (no detector) or more, got {permutations}")
    if not 0 <= seed < SEED_LIMIT:
        raise UserError(f"--seed must be in 0..{SEED_LIMIT - 1}, got {seed}")
    packed, p_bits, nnz = load_masks(mask_paths)
    if labels is not None:
        y = load_labels(labels, len(packed))
        return label_design(packed, p_bits, nnz, y, alpha, permutations, seed, fit)
    if fit is not None:
        raise UserError(
            "--fit applies to --labels only (the draws design holds out a replicate of each draw)"
        )
    ids = load_draws(draws, len(packed))  # type: ignore[arg-type]
    return draw_design(packed, p_bits, nnz, ids, alpha, permutations, seed)
