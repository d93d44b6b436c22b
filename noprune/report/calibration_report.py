"""The calibration table and figure of the ``information_calibration`` experiment.

One table row per case (design, case, n, p, q, K or R): the truth, the mean lower and upper
bound, the lower bound as a share of the truth, the coverage of [lower, upper], the fraction of
repetitions with a positive lower bound and with the detector firing (false-positive rates
where the truth is 0), the share refused as misuse, and the seconds per repetition. The figure
plots lower / truth for every case with positive truth, and the false-positive rates of the
null cases against the stated level. Runs of ``exact_label_information`` in the same suite (real
networks, exact truth) get a table of their own below it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tabulate import tabulate

from noprune.data.masks import parse_case
from noprune.report.plots import save_figure
from noprune.sweep.store import Record

EXPERIMENT = "information_calibration"

COLUMNS = (
    "design", "case", "n", "p", "q", "K or R", "reps", "truth", "lower", "upper", "lower / truth",
    "coverage", "lower > 0", "detector fires", "refused", "s / rep",
)  # fmt: skip


def _rows(records: Iterable[Record]) -> list[dict[str, Any]]:
    rows = []
    for record in records:
        if record.config.get("experiment") != EXPERIMENT or record.status != "done" or not record.metrics:
            continue
        case = parse_case(record.config.get("data", ""))
        info = record.config.get("info", {})
        draws = case.case.startswith("draws")
        rows.append(
            {
                "design": "draws" if draws else "labels",
                "case": case.case,
                "n": case.n,
                "p": case.p,
                "q": case.q,
                "K or R": f"R = {info.get('replicates', 2)}" if draws else f"K = {info.get('draws', 64)}",
                "metrics": record.metrics,
            }
        )
    rows.sort(key=lambda r: (r["design"], r["case"], r["n"], r["p"], r["q"], r["K or R"]))
    return rows


def _bits(p: int) -> str:
    """1000 -> '1e3', 64 -> '64'."""
    exponent = len(str(p)) - 1
    return f"1e{exponent}" if p >= 1000 and p == 10**exponent else str(p)


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.1e}"
    return str(value)


def calibration_markdown(records: Iterable[Record]) -> str:
    """The calibration table in Markdown ('' when there is no calibration run)."""
    rows = _rows(records)
    if not rows:
        return ""
    body = []
    for r in rows:
        m = r["metrics"]
        cells = [r["design"], r["case"], r["n"], _bits(r["p"]), r["q"], r["K or R"], m.get("repetitions"),
                 m.get("truth"), m.get("lower_mean"), m.get("upper_mean"), m.get("lower_share"),
                 m.get("coverage"), m.get("lower_positive"), m.get("detector_fires"), m.get("refused"),
                 m.get("seconds")]  # fmt: skip
        body.append([_fmt(c) for c in cells])
    align = ["left"] * 6 + ["right"] * (len(COLUMNS) - 6)
    lines = [tabulate(body, COLUMNS, tablefmt="pipe", colalign=align, disable_numparse=True)]
    return "\n".join(lines) + "\n"


EXACT_EXPERIMENT = "exact_label_information"

EXACT_COLUMNS = (
    "model", "pruner", "density", "n", "R", "points", "p", "nnz", "masks", "H(M)", "H(M | S)",
    "truth", "F + T", "reps", "lower", "upper", "lower / truth", "coverage", "lower > 0", "table s",
    "s / rep",
)  # fmt: skip


def _exact_order(record: Record) -> tuple[Any, ...]:
    """Model, pruner, density from high to low, n, R."""
    config, prune, info = record.config, record.config.get("prune", {}), record.config.get("info", {})
    return (config.get("model", ""), prune.get("pruner", "random"), -prune.get("density", 1.0),
            info.get("points", 0), info.get("replicates", 2))  # fmt: skip


def exact_markdown(records: Iterable[Record]) -> str:
    """The table of the ``exact_label_information`` runs ('' when there is none): per real
    network and pruning, the exact truth with its terms and the bounds' coverage on it."""
    rows = []
    done = [r for r in records if r.config.get("experiment") == EXACT_EXPERIMENT and r.status == "done"]
    for record in sorted(done, key=_exact_order):
        m, prune = record.metrics or {}, record.config.get("prune", {})
        if not m:
            continue
        draws = f"{m['fit_draws']} + {m['test_draws']}" if m.get("fit_draws") is not None else None
        cells = [record.config.get("model", ""), prune.get("pruner", "random"), prune.get("density", 1.0),
                 m.get("label_bits"), m.get("replicates"), m.get("scoring_points"), m.get("params"),
                 m.get("nnz"), m.get("distinct_masks"), m.get("entropy_masks"),
                 m.get("entropy_given_labels"), m.get("truth"), draws, m.get("repetitions"),
                 m.get("lower_mean"), m.get("upper_mean"), m.get("lower_share"), m.get("coverage"),
                 m.get("lower_positive"), m.get("table_seconds"), m.get("seconds")]  # fmt: skip
        rows.append([_fmt(c, 4) for c in cells])
    if not rows:
        return ""
    align = ["left", "left"] + ["right"] * (len(EXACT_COLUMNS) - 2)
    return tabulate(rows, EXACT_COLUMNS, tablefmt="pipe", colalign=align, disable_numparse=True) + "\n"


def leaderboard(records: Iterable[Record], suite: str, command: str) -> str:
    """The information_calibration experiment's leaderboard.md: one row per synthetic case, and
    the table of exact cases on real networks where the suite has some."""
    records = list(records)
    text = (
        f"# Calibration of the information bounds: suite `{suite}`\n\nProduced by `{command}`; "
        "every number below comes from the runs in `runs.csv`.\n\n" + calibration_markdown(records)
    )
    exact = exact_markdown(records)
    if exact:
        text += (
            "\n## Real networks, exact truth\n\nThe pruner on every one of the 2^n label vectors of the "
            "first n training inputs (R pruner seeds each): truth = H(M) - H(M | S) exactly; each repetition "
            "bounds it from F + T draws looked up in that table.\n\n" + exact
        )
    return text


def figures(records: Iterable[Record], out_dir: Path) -> list[Path]:
    """The information_calibration experiment's figure: ``out_dir/calibration.png`` and ``.pdf``."""
    return plot_calibration(records, out_dir / "calibration")


def plot_calibration(records: Iterable[Record], out_stem: Path) -> list[Path]:
    """Left: lower bound / truth per case with positive truth (1 = the bound is the truth).
    Right: false-positive rate of the lower bound and of the detector on the null cases, with
    the lower bound's stated level alpha / 2 and its 3-sigma Monte-Carlo band."""
    rows = _rows(records)
    positive = [r for r in rows if (r["metrics"].get("truth") or 0) > 0]
    null = [r for r in rows if r["metrics"].get("truth") == 0 and not r["metrics"].get("refused")]
    if not positive and not null:
        return []
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(13, max(4, 0.22 * len(positive) + 1)),
                                      gridspec_kw={"width_ratios": [3, 2]})  # fmt: skip
    labels = [f"{r['case']} n={r['n']} p={_bits(r['p'])} q={r['q']:g} {r['K or R']}" for r in positive]
    shares = [r["metrics"]["lower_share"] for r in positive]
    colors = ["tab:blue" if r["design"] == "labels" else "tab:green" for r in positive]
    left.barh(range(len(positive)), shares, color=colors)
    left.set_yticks(range(len(positive)), labels, fontsize=6)
    left.invert_yaxis()
    left.axvline(1.0, color="black", lw=0.8)
    left.set_xlim(0, 1.05)
    left.set_xlabel("certified lower bound / true I(mask; S)")
    left.set_title("tightness (blue: labels design, green: draws design)", fontsize=9)
    names = [f"{r['case']} n={r['n']} {r['K or R']}" for r in null]
    lower_fp = [r["metrics"]["lower_positive"] for r in null]
    detector_fp = [r["metrics"].get("detector_fires") or 0.0 for r in null]
    ys = range(len(null))
    right.barh([y - 0.2 for y in ys], lower_fp, height=0.4, label="lower bound > 0")
    right.barh([y + 0.2 for y in ys], detector_fp, height=0.4, label="detector p < 0.05")
    right.set_yticks(list(ys), names, fontsize=7)
    right.invert_yaxis()
    if null:
        alpha = null[0]["metrics"]["alpha"] / 2
        reps = min(r["metrics"]["repetitions"] for r in null)
        band = 3 * (alpha * (1 - alpha) / reps) ** 0.5
        right.axvline(alpha, color="black", lw=0.8, label=f"stated level {alpha:g}")
        right.axvspan(0, alpha + band, color="grey", alpha=0.15)
        right.axvline(0.05, color="tab:orange", lw=0.8, ls=":", label="detector level 0.05")
    right.set_xlabel("fraction of repetitions (truth = 0)")
    right.set_title("false positives on null cases", fontsize=9)
    right.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    paths = save_figure(fig, Path(out_stem))
    plt.close(fig)
    return paths
