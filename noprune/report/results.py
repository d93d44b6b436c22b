"""What a finished sweep leaves behind: the leaderboard, a plot, a CSV export, provenance."""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

from noprune.errors import UserError
from noprune.paths import write_text
from noprune.report.leaderboard import build_tables, render
from noprune.report.plots import plot_metric
from noprune.sweep.provenance import git_state, package_version
from noprune.sweep.runs_csv import read_rows, write_rows
from noprune.sweep.store import STATUSES, Record

RECORD_COLUMNS = ("key", "status", "experiment", "config", "metrics", "error")
"""What a run's record is; the rest (start and end times, host, commit) is how it was made."""


def _record(row: dict[str, Any], shown: Sequence[str]) -> tuple[str, ...]:
    """A run's record as text, its timings left out unless a table shows them (a rerun that
    reproduces every number takes other seconds)."""
    values = {c: "" if row.get(c) is None else str(row[c]) for c in RECORD_COLUMNS}
    if values["metrics"]:
        metrics = json.loads(values["metrics"])
        kept = {k: v for k, v in metrics.items() if not k.endswith("seconds") or k in shown}
        values["metrics"] = json.dumps(kept, sort_keys=True)
    return tuple(values[c] for c in RECORD_COLUMNS)


def same_record(
    path: Path, rows: list[dict[str, Any]], shown: Sequence[str], old: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]] | None:
    """The runs of the ``runs.csv`` at ``path`` (``old``, where the caller has read them) where
    it already holds these runs with these numbers, else None."""
    if old is None:
        if not path.is_file():
            return None
        try:
            old = read_rows(path)
        except UserError:
            return None
    return old if sorted(_record(r, shown) for r in old) == sorted(_record(r, shown) for r in rows) else None


def write_results(
    rows: list[dict[str, Any]],
    suite: str,
    out_dir: Path,
    *,
    metrics: Sequence[str],
    command: str,
    experiments: Mapping[str, Any] = MappingProxyType({}),
    recorded: list[dict[str, Any]] | None = None,
) -> list[Path]:
    """leaderboard.md (a section per metric, or the experiment's own ``table``), each metric's
    plot (PNG and PDF), the figures the suite's experiments register (``Experiment.figures``),
    runs.csv and provenance.json. ``experiments``: the registry (``noprune.experiments.EXPERIMENTS``,
    passed in, so that presentation never imports the experiments). ``recorded``: the runs the
    folder's runs.csv holds, where the caller has read them already (``noprune render``).

    Where ``runs.csv`` already holds the same runs with the same numbers (timings aside: a rerun
    of a committed suite reproduces every number but not its seconds), its runs and
    provenance.json are kept: they record the run that first produced those numbers, everything
    is drawn from them (so a rerun rewrites the committed files byte for byte) and the
    leaderboard names that run's command. runs.csv is then rewritten in the current layout
    (``noprune.sweep.runs_csv``) with the same runs."""
    out_dir.mkdir(parents=True, exist_ok=True)
    old = same_record(out_dir / "runs.csv", rows, metrics, recorded)
    kept = old is not None
    if old is not None:
        try:
            command = json.loads((out_dir / "provenance.json").read_text())["command"]
            rows = old
        except (OSError, ValueError, KeyError):
            kept = False
    records = [Record.from_row(r) for r in rows]
    by_experiment: dict[str, list[Record]] = {}
    for record in records:
        by_experiment.setdefault(str(record.config.get("experiment", "accuracy")), []).append(record)
    present = {name: experiments[name] for name in sorted(by_experiment) if name in experiments}
    tables = [e for e in present.values() if e.table is not None]
    figures: list[Path] = []
    if tables:  # runs that are not pruners x densities: the experiment's own table
        text = tables[0].table(records, suite, command)
    else:
        sections = [render(build_tables(records, metric), "md") for metric in metrics]
        text = (
            f"# Leaderboard: suite `{suite}`\n\nProduced by `{command}`; every number below comes from "
            f"the runs in `runs.csv` (provenance in `provenance.json`).\n\n" + "\n".join(sections) + "\n"
        )
        for metric in metrics:
            figures += plot_metric(records, metric, out_dir / metric)
    for name, experiment in present.items():
        for figure in experiment.figures:  # each experiment's own figures
            figures += figure(by_experiment[name], out_dir)
    leaderboard = out_dir / "leaderboard.md"
    write_text(leaderboard, text.rstrip("\n") + "\n" + figure_links(figures))
    paths = [leaderboard, *figures]
    csv_path = write_rows(rows, out_dir / "runs.csv")
    if kept:
        return paths
    paths.append(csv_path)
    commit, dirty = git_state()
    provenance = {
        "command": command,
        "suite": suite,
        "written": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "noprune": package_version(),
        "git_commit": commit,
        "git_dirty": dirty,
        "python": platform.python_version(),
        "runs": {status: sum(r["status"] == status for r in rows) for status in STATUSES},
        "hosts": sorted({r["host"] for r in rows if r["host"]}),
        "devices": sorted({r["device"] for r in rows if r["device"]}),
        "torch": sorted({r["torch"] for r in rows if r["torch"]}),
        "run_commits": sorted({r["git_commit"] for r in rows if r["git_commit"]}),
        "compute_seconds": compute_seconds(rows),
    }
    path = out_dir / "provenance.json"
    write_text(path, json.dumps(provenance, indent=2) + "\n")
    paths.append(path)
    return paths


def prepare() -> None:
    """Import what :func:`write_results` draws with (matplotlib, about 0.7 s), ahead of time:
    ``noprune run`` calls it while its last jobs run (``run_sweep``'s ``when_idle``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot


def figure_links(figures: Sequence[Path]) -> str:
    """A leaderboard's figures section: each PNG shown, its PDF linked."""
    pngs = [p for p in figures if p.suffix == ".png"]
    if not pngs:
        return ""
    lines = ["", "## Figures", ""]
    for png in pngs:
        pdf = png.with_suffix(".pdf")
        link = f" ([PDF]({pdf.name}))" if pdf in figures else ""
        lines += [f"![{png.stem}]({png.name})", "", f"`{png.stem}`{link}", ""]
    return "\n".join(lines)


def compute_seconds(rows: Sequence[Mapping[str, Any]]) -> float:
    """Worker time the stored runs took: each job's interval once. The members of an ensemble
    share their job's start and end, so summing per run would charge each member the whole
    ensemble's time (K times the work)."""
    jobs = {
        (r["host"], r["started"], r["finished"])
        for r in rows
        if r["status"] in ("done", "failed") and r["started"] is not None and r["finished"] is not None
    }
    return sum(finished - started for _, started, finished in jobs)
