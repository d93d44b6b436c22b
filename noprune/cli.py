"""The ``noprune`` command line: list, prune, run.

Errors a user can cause end with one line on stderr naming the problem, exit code 2, and no
traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import logging
import os
import signal
import sqlite3
import sys
import tomllib
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from noprune import __version__, progress
from noprune.errors import TrainingDiverged, UnknownNameError, UserError
from noprune.paths import SUITES_DIR, inside, output_folder, write_text

if TYPE_CHECKING:
    from noprune.config import TrainConfig

DEFAULT_STORE = "runs/noprune.sqlite"
log = logging.getLogger("noprune")


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UserError(f"{message} (see {self.prog} --help)")


def density_from(args: argparse.Namespace) -> tuple[float, str]:
    """The density from --density, --sparsity or --compression, and which unit was given."""
    given = [
        (k, getattr(args, k)) for k in ("density", "sparsity", "compression") if getattr(args, k) is not None
    ]
    if len(given) != 1:
        raise UserError(
            "give exactly one of --density, --sparsity (1 - density), --compression (1 / density)"
        )
    unit, value = given[0]
    converted = {"density": value, "sparsity": 1.0 - value, "compression": 1.0 / value if value else 0.0}
    density = round(converted[unit], 12)  # 1 - 0.95 is 0.050000000000000044 in floats
    if not 0.0 < density <= 1.0:
        raise UserError(f"density must be in (0, 1], got {density:g} from --{unit} {value:g}")
    return density, unit


def add_training_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--optimizer", default="sgd", help="sgd or adam (default sgd)")
    p.add_argument("--lr", type=float, default=0.05, help="learning rate (default 0.05)")
    p.add_argument("--momentum", type=float, default=0.9, help="SGD momentum (default 0.9)")
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--batch-size", type=int, default=128, help="0 for full batch (default 128)")
    p.add_argument("--lr-schedule", default="constant", help="constant, cosine or step")
    p.add_argument(
        "--pretrain-epochs",
        type=int,
        default=10,
        help="dense training before ranking for magnitude_after, per round for imp (default 10)",
    )
    p.add_argument("--rewind-step", type=int, default=0, help="imp rewinds survivors to this step (0: init)")


def suite_metrics() -> str:
    """The metrics the packaged suites tabulate, for --help (any metric the runs recorded works)."""
    names = set()
    for path in SUITES_DIR.glob("*.toml"):
        with contextlib.suppress(OSError, tomllib.TOMLDecodeError):
            names.update(tomllib.loads(path.read_text()).get("metrics", ["test_accuracy"]))
    return ", ".join(sorted(map(str, names)))


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="noprune", description="Pruning at initialization, measured honestly.")
    metrics = suite_metrics().replace("%", "%%")
    parser.add_argument("--version", action="version", version=f"noprune {__version__}")
    loudness = parser.add_mutually_exclusive_group()
    loudness.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="results only: no messages, no progress bars (warnings stay)",
    )
    loudness.add_argument("-v", "--verbose", action="store_true", help="also each job as it finishes")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)

    sub.add_parser("list", help="pruners, ablations, models, data sets, experiments, suites, executors")

    p = sub.add_parser("prune", help="prune one network, optionally train it, write masks and a report")
    p.add_argument("--pruner", required=True, help="a pruner from `noprune list`")
    p.add_argument(
        "--model", required=True, help="a model spec, e.g. mlp:300,100 or resnet20 or timm:resnet18"
    )
    p.add_argument("--data", required=True, help="a data set spec, e.g. digits or gaussian:n=30,d=30")
    p.add_argument("--density", type=float, help="fraction of prunable weights kept, in (0, 1]")
    p.add_argument("--sparsity", type=float, help="1 - density")
    p.add_argument("--compression", type=float, help="1 / density")
    p.add_argument("--scope", default="global", help="global (default) or layerwise")
    p.add_argument(
        "--pruner-setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="one of the pruner's own settings, e.g. rounds=3 for synflow (repeatable; `noprune list`)",
    )
    p.add_argument(
        "--init", default="kaiming_normal", help="kaiming_normal (default) or pytorch (torch's own default)"
    )
    p.add_argument("--ablation", help="shuffle, reinit or invert (Frankle et al. 2021)")
    p.add_argument(
        "--prune-biases", action="store_true", help="prune Linear/Conv biases too (default: weights only)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--train-epochs", type=int, default=0, help="train the pruned network this many epochs")
    p.add_argument(
        "--batch-per-class", type=int, default=10, help="scoring batch size per class (default 10)"
    )
    p.add_argument("--data-root", help="folder holding MNIST, FashionMNIST or CIFAR in torchvision's layout")
    p.add_argument("--device", default="auto", help="auto (default), cpu or cuda")
    p.add_argument("--out", required=True, help="folder for masks.safetensors, init.safetensors, report.json")
    add_training_flags(p)

    r = sub.add_parser(
        "run",
        help="run a suite: skip what is done, store each result, print the leaderboard",
        description="Run a suite (a packaged one by name, see `noprune list`, or a .toml file): every "
        "run not yet done in the store is run, each result is stored as it finishes, and "
        "results/SUITE/ receives leaderboard.md, figures, runs.csv and provenance.json. An "
        "interrupted sweep resumes where it stopped when the same command is run again.",
    )
    r.add_argument("suite", nargs="?", default="quick", help="suite name or .toml path (default quick)")
    r.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override a config field for every run, e.g. --set train.epochs=5 (repeatable)",
    )
    r.add_argument("--executor", default="process", help="serial, process (default), dask or slurm")
    r.add_argument("--workers", type=int, default=0, help="parallel workers (default: one per core)")
    r.add_argument(
        "--executor-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="executor settings, e.g. address=tcp://host:8786 (dask), partition=gpu (slurm)",
    )
    r.add_argument(
        "--batch",
        type=int,
        default=32,
        help="train up to N compatible MLP runs as one ensemble per job (default 32; 1: one per job)",
    )
    r.add_argument("--json-dir", help="workers also write one JSON file per run here (for noprune ingest)")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.add_argument(
        "--results", default="results", help="folder for leaderboard, plot, CSV (default results/)"
    )
    r.add_argument(
        "--metric",
        action="append",
        help="leaderboard metric, repeatable (default: the suite's metrics, else test_accuracy); "
        f"any metric the runs recorded, e.g. {metrics}",
    )
    r.add_argument("--device", default="auto", help="auto (default), cpu or cuda")
    r.add_argument("--data-root", help="folder holding MNIST, FashionMNIST or CIFAR in torchvision's layout")
    add_store_flags(r)

    st = sub.add_parser("status", help="done, failed, pending and running counts per suite")
    st.add_argument("suite", nargs="?", help="one suite (default: all in the store)")
    add_store_flags(st)

    ig = sub.add_parser("ingest", help="merge one-JSON-file-per-run outputs, or a runs.csv, into the store")
    ig.add_argument(
        "folder", help="folder of JSON result files written by workers (--json-dir), or a suite's runs.csv"
    )
    ig.add_argument("--suite", default="ingested", help="suite to file the runs under (default ingested)")
    add_store_flags(ig)

    lb = sub.add_parser("leaderboard", help="tables of a metric: pruners by density, mean ± std over seeds")
    lb.add_argument("suite", nargs="?", help="one suite (default: every run in the store)")
    lb.add_argument(
        "--metric",
        action="append",
        help="a metric the runs recorded, repeatable (default: the metrics the suite's file declares, "
        f"else test_accuracy), e.g. {metrics}",
    )
    lb.add_argument(
        "--format",
        default="md",
        help="md (default), latex (booktabs), html, csv (long form) or any tabulate format (rst, grid, ...)",
    )
    add_store_flags(lb)

    pl = sub.add_parser("plot", help="metric against density, one line per pruner, PNG and PDF")
    pl.add_argument("suite", nargs="?", help="one suite (default: every run in the store)")
    pl.add_argument(
        "--metric",
        action="append",
        help="a metric the runs recorded, repeatable (default: the metrics the suite's file declares, "
        f"else test_accuracy), e.g. {metrics}",
    )
    pl.add_argument(
        "--out",
        help="file stem (default: the metric's name in the current folder, e.g. test_accuracy; "
        "with several metrics, STEM_METRIC)",
    )
    add_store_flags(pl)

    b = sub.add_parser(
        "bench", help="ensemble engine against a one-model loop: speedups, GFLOP/s, %% of peak"
    )
    b.add_argument(
        "--cases",
        default="a,b,c,d",
        help="comma-separated: a (E1), b (E4), c (digits MLP), d (snip, grasp, synflow); default all",
    )
    b.add_argument("--device", default="auto", help="auto (default), cpu or cuda")

    mi = sub.add_parser(
        "mi", help="bounds on I(mask; data) for mask files pruned on known label or data draws"
    )
    mi.add_argument(
        "masks", nargs="+", help="mask files (masks.safetensors from noprune prune), one per mask"
    )
    design = mi.add_mutually_exclusive_group(required=True)
    design.add_argument(
        "--labels",
        help="[K, n] binary labels (.npy, .csv, .txt, .json), row k the labels mask k was pruned on",
    )
    design.add_argument(
        "--draws", help="one draw id per mask (.npy, .csv, .txt, .json); replicates of a draw share an id"
    )
    mi.add_argument(
        "--alpha", type=float, default=0.05, help="bounds hold jointly at 1 - alpha (default 0.05)"
    )
    mi.add_argument(
        "--permutations", type=int, default=100, help="detector permutations (0: none; default 100)"
    )
    mi.add_argument(
        "--fit",
        type=int,
        default=None,
        help="with --labels: the first FIT masks are fit draws (decoders and mask models are fitted "
        "on them, nothing is counted on them), the rest test draws (default: the first half)",
    )
    mi.add_argument("--seed", type=int, default=0, help="seed of the permutations (default 0)")
    mi.add_argument("--json", action="store_true", help="print one JSON object instead of text")

    rp = sub.add_parser(
        "report",
        help="nnz, I bounds, p_eff, memorisation and Lipschitz side by side, from results/*/runs.csv",
    )
    rp.add_argument("--results", default="results", help="folder of suite results (default results/)")
    rp.add_argument("--out", help="report file (default RESULTS/report.md)")

    si = sub.add_parser(
        "site", help="a static results site: RESULTS/index.html, a page per suite, the report (no network)"
    )
    si.add_argument("--results", default="results", help="folder of suite results (default results/)")

    rd = sub.add_parser(
        "render",
        help="redraw each suite's leaderboard and figures from its committed runs.csv (no store); "
        "figures it no longer draws are removed",
    )
    rd.add_argument("suites", nargs="*", help="suite folders to redraw (default: every RESULTS/*/runs.csv)")
    rd.add_argument("--results", default="results", help="folder of suite results (default results/)")
    for command in sub.choices.values():  # also after the command: noprune run quick -q
        quiet = command.add_mutually_exclusive_group()
        quiet.add_argument(
            "-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="as noprune -q"
        )
        quiet.add_argument(
            "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="as noprune -v"
        )
    return parser


def add_store_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--store",
        default=DEFAULT_STORE,
        help=f"results store, or a runs.csv (default {DEFAULT_STORE}; where it does not exist, "
        "leaderboard and plot read results/SUITE/runs.csv)",
    )


def cmd_list() -> None:
    import pruners
    from noprune.config import pruner_settings
    from noprune.data import DATASETS
    from noprune.experiments import EXPERIMENTS
    from noprune.models import INITS, MODELS
    from noprune.sweep.executors import EXECUTORS
    from noprune.sweep.runner import available_suites, load_suite

    settings = {name: pruner_settings(name) for name in pruners.available()}
    sections = {
        "pruners": pruners.available(),
        "pruner settings (prune.settings.NAME, --pruner-setting NAME=VALUE; defaults)": {
            name: ", ".join(f"{k}={v}" for k, v in values.items())
            for name, values in settings.items()
            if values
        },
        "ablations": pruners.ABLATIONS,
        "models": MODELS,
        "inits": INITS,
        "data sets": DATASETS,
        "experiments": {name: e.description for name, e in EXPERIMENTS.items()},
        "suites": {name: load_suite(name).description for name in available_suites()},
        "executors": EXECUTORS,
    }
    for title, entries in sections.items():
        print(f"{title}:")
        width = max(len(n) for n in entries)
        for name, text in entries.items():
            print(f"  {name:<{width}}  {text}")


def train_config(args: argparse.Namespace, epochs: int) -> TrainConfig:
    from noprune.config import TrainConfig

    return TrainConfig(
        optimizer=args.optimizer,
        lr=args.lr,
        momentum=args.momentum,
        weight_decay=args.weight_decay,
        epochs=epochs,
        batch_size=args.batch_size,
        lr_schedule=args.lr_schedule,
    )


def pruner_settings_from(pruner: str, items: list[str]) -> dict[str, object]:
    """``--pruner-setting NAME=VALUE`` pairs, parsed as ``--set prune.settings.NAME=VALUE``."""
    import pruners
    from noprune.config import parse_assignment

    if pruner not in pruners.PRUNERS:
        raise UnknownNameError("pruner", pruner, list(pruners.PRUNERS))
    pairs = [parse_assignment(f"prune.settings.{item.strip()}") for item in items]
    return {path.removeprefix("prune.settings."): value for path, value in pairs}


def cmd_prune(args: argparse.Namespace) -> None:
    from noprune.config import ExperimentConfig, PruneConfig
    from noprune.pipeline import run_prune
    from noprune.weights import save_state

    density, unit = density_from(args)
    if unit != "density":
        log.info(f"--{unit} {getattr(args, unit):g} -> density {density:g} (fraction of weights kept)")
    out = output_folder(args.out, "--out", create=False)  # a bad --out fails now, not after the work
    config = ExperimentConfig(
        data=args.data,
        model=args.model,
        init=args.init,
        seed=args.seed,
        prune=PruneConfig(
            pruner=args.pruner,
            density=density,
            scope=args.scope,
            ablation=args.ablation,
            batch_per_class=args.batch_per_class,
            pretrain_epochs=args.pretrain_epochs,
            rewind_step=args.rewind_step,
            biases=args.prune_biases,
            settings=pruner_settings_from(args.pruner, args.pruner_setting),
        ),
        train=train_config(args, args.train_epochs),
    )
    outcome = run_prune(config, device=args.device, data_root=args.data_root)
    output_folder(out, "--out")
    report = outcome.report
    outcome.masks.save(out / "masks.safetensors", metadata={"pruner": args.pruner, "density": f"{density!r}"})
    save_state(outcome.init_state, out / "init.safetensors")
    write_text(out / "report.json", json.dumps(report, indent=2) + "\n")
    what = "parameters (weights and biases)" if args.prune_biases else "weights"
    print(
        f"{args.pruner} on {args.model} / {args.data}: kept {report['nnz']} of {report['numel']} {what} "
        f"(density {report['density']:.6g}, target {density:g}), scored in {report['scoring_seconds']:.2f} s"
    )
    on_paths = report["connected"]
    print(
        f"on an input-to-output path: {on_paths['nnz']} of the {report['nnz']} kept "
        f"(effective density {on_paths['density']:.6g})"
    )
    for name in report["collapsed_layers"]:
        log.warning(f"warning: layer collapse: {name} has no surviving weight")
    if "training" in report:
        t = report["training"]
        epochs = f"{args.train_epochs} epoch" + ("s" if args.train_epochs != 1 else "")
        print(
            f"trained {epochs}: train accuracy {t['train_accuracy']:.4f}, "
            f"test accuracy {t['test_accuracy']:.4f} ({t['seconds']:.1f} s)"
        )
    log.info(f"wrote {out / 'masks.safetensors'}, {out / 'init.safetensors'}, {out / 'report.json'}")


def key_values(items: list[str], flag: str) -> dict[str, str]:
    out = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise UserError(f"{flag} takes KEY=VALUE, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def cmd_run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Run a suite; exit code 1 when runs of this sweep failed (after the summary line). The
    executor's workers start first, so that they import torch while this process does (this
    module and the executors import no torch): on two cores the quick suite's first job starts
    1.2 s sooner."""
    from noprune.sweep.executors import make_executor

    if args.batch < 1:
        raise UserError(f"--batch must be at least 1, got {args.batch}")
    options = key_values(args.executor_option, "--executor-option")
    with make_executor(args.executor, workers=args.workers, options=options) as executor:
        executor.warm()
        return run_suite(args, argv, executor)


def run_suite(args: argparse.Namespace, argv: Sequence[str], executor: object) -> int:
    from noprune.config import parse_assignment
    from noprune.report.leaderboard import build_tables, render
    from noprune.report.results import prepare, write_results
    from noprune.sweep.provenance import resolve_device
    from noprune.sweep.runner import expand, load_suite, run_sweep
    from noprune.sweep.store import Record, Store

    suite = load_suite(args.suite)
    overrides = dict(parse_assignment(item) for item in args.set)
    configs = expand(suite, overrides)
    from noprune.experiments import check_run

    for config in configs:
        check_run(config)  # a bad name, spec or range: one error line before any run starts
    resolve_device(args.device)  # fail early on --device cuda without CUDA
    results = inside(output_folder(args.results, "--results", create=False), suite.name, "--results")
    output_folder(results, "--results", create=False)
    if args.json_dir:
        output_folder(args.json_dir, "--json-dir")
    metrics = args.metric or list(suite.metrics)
    with Store.open(args.store) as store:
        store.lock()
        stored = [Record.from_row(row) for row in store.rows(suite.name)]
        if any(r.status == "done" for r in stored):  # a typo fails now, not after the sweep
            check_metrics(stored, metrics, f"suite {suite.name}")
        log.info(f"suite {suite.name}: {len(configs)} runs ({suite.description}); store {args.store}")
        summary = run_sweep(
            suite,
            configs,
            store,
            executor=executor,
            device=args.device,
            data_root=args.data_root,
            out_dir=args.json_dir,
            progress=not args.no_progress and not args.quiet,
            batch=args.batch,
            when_idle=prepare,
        )
        command = "noprune " + " ".join(argv)
        from noprune.experiments import EXPERIMENTS

        # the files first: a reader that stops early (noprune run | head) must not cost them
        rows = store.rows(suite.name)
        if any(row["status"] == "done" for row in rows):  # all failed: the files say so, exit 1
            check_metrics(map(Record.from_row, rows), metrics, f"suite {suite.name}", stored=True)
        try:
            paths = write_results(
                rows, suite.name, results, metrics=metrics, command=command, experiments=EXPERIMENTS
            )
        except UserError as error:  # a full disk: every run is stored, only the files are not
            raise UserError(
                f"{error}; the runs are stored: rerun the same command to write the files"
            ) from None
        if not args.quiet:  # -q: the leaderboard alone on standard output
            print(
                f"{summary.done} done, {summary.failed} failed, {summary.skipped} already done "
                f"({summary.seconds:.1f} s)"
            )
        print(render(build_tables(map(Record.from_row, rows), metrics[0]), "md"))
    log.info("wrote " + ", ".join(str(p) for p in paths))
    if not any(p.name == "runs.csv" for p in paths):
        log.info(f"{results}: runs.csv and provenance.json already record these runs and numbers; kept")
    if summary.failed:
        log.warning(
            f"{summary.failed} runs failed; their errors are in the store (noprune status {suite.name})"
        )
        return 1
    return 0


def open_existing(path: str):
    from noprune.sweep.store import Store

    return Store.read(path)


def cmd_status(args: argparse.Namespace) -> None:
    """Each suite's runs by status: every suite of the store, or the one named, counted in the
    store where it holds the suite, else read as :func:`stored_rows` finds it."""
    counted: dict[str, Counter[str]] | None = None
    failed: list[dict] = []
    running = False
    store_path = Path(args.store)
    if store_path.suffix != ".csv" and (store_path.exists() or args.suite is None):
        with open_existing(args.store) as store:
            if args.suite is None or args.suite in store.suites():
                counted = {
                    name: store.counts(name) for name in ([args.suite] if args.suite else store.suites())
                }
                failed = [r for r in store.rows(args.suite) if r["status"] == "failed"] if args.suite else []
                running = store.driver_running()
    if counted is None:  # not in the store: a runs.csv, given or committed
        rows, _ = stored_rows(args.store, args.suite)
        counted = {args.suite or store_path.parent.name: Counter(r["status"] for r in rows)}
        failed = [r for r in rows if r["status"] == "failed"]
    # rows marked running are running only while a driver holds the lock; else a killed
    # driver left them, and the next noprune run on this store runs them again
    label = "running" if running else "interrupted"
    print(f"{'suite':<20} {'done':>7} {'failed':>7} {'pending':>7} {label:>11}")
    for name, c in counted.items():
        print(f"{name:<20} {c['done']:>7} {c['failed']:>7} {c['pending']:>7} {c['running']:>11}")
    for row in failed:
        print(f"failed {row['key']}: {(row['error'] or '').splitlines()[0] if row['error'] else ''}")


def cmd_ingest(args: argparse.Namespace) -> None:
    from noprune.sweep.ingest import ingest, load_results
    from noprune.sweep.runner import check_suite_name
    from noprune.sweep.store import Store

    check_suite_name(args.suite, "--suite")
    results = load_results(Path(args.folder))  # all checked before the store is touched
    with Store.open(args.store) as store:
        store.lock()
        added, skipped = ingest(store, results, suite=args.suite)
    print(f"ingested {added} results into {args.store} (suite {args.suite}); {skipped} already stored")


def stored_rows(store_path: str, suite: str | None, results: str = "results") -> tuple[list[dict], str]:
    """The runs (of ``suite``, if given) and where they were read: a runs.csv given as
    ``--store``; else the store, where it holds the suite; else the committed
    ``results/SUITE/runs.csv`` (saying so), whether the store exists or not. Leaderboards, plots
    and status of a committed suite need no store; a store that does not exist is an error only
    when it was named and nothing else holds the suite (or no suite was named)."""
    from noprune.sweep.runs_csv import read_rows

    path = Path(store_path)
    if path.suffix == ".csv":
        check_suite_of(path, suite)
        return read_rows(path), store_path
    committed = [Path(results, suite, "runs.csv")] if suite else sorted(Path(results).glob("*/runs.csv"))
    committed = [f for f in committed if f.is_file()]
    named = suite is not None or store_path == DEFAULT_STORE  # else every suite of the named store
    if path.exists() or not (named and committed):
        with open_existing(store_path) as store:
            names = store.suites()
            if suite is None or suite in names:
                return store.rows(suite), store_path
        if not committed:
            known = ", ".join(names) or "no suites"
            raise UserError(
                f"no suite {suite!r} in {store_path} (it has: {known}) nor a {results}/{suite}/runs.csv"
            )
        log.info(f"no suite {suite} in {store_path}; reading {committed[0]}")
        return read_rows(committed[0]), str(committed[0])
    if not committed:
        where = f"{results}/{suite}/runs.csv" if suite else f"{results}/*/runs.csv"
        raise UserError(f"no store at {store_path} and no {where} to read runs from")
    log.info(f"no store at {store_path}; reading {', '.join(map(str, committed))}")
    by_key = {row["key"]: row for f in committed for row in read_rows(f)}  # a run in two suites once
    return [by_key[k] for k in sorted(by_key)], ", ".join(map(str, committed))


def check_suite_of(csv_path: Path, suite: str | None) -> None:
    """Refuse a runs.csv whose provenance.json (beside it) names another suite than ``suite``."""
    provenance = csv_path.with_name("provenance.json")
    if suite is None or not provenance.is_file():
        return
    try:
        recorded = json.loads(provenance.read_text()).get("suite")
    except (OSError, ValueError, AttributeError):
        return
    if isinstance(recorded, str) and recorded != suite:
        raise UserError(
            f"{csv_path} holds the runs of suite {recorded!r} (its provenance.json), not {suite!r}"
        )


def metrics_to_show(suite: str | None, given: list[str] | None) -> list[str]:
    """The metrics to show: those given, else those a packaged suite of that name declares,
    else test_accuracy."""
    from noprune.sweep.runner import available_suites, load_suite

    if given:
        return given
    if suite in available_suites():
        return list(load_suite(suite).metrics)
    return ["test_accuracy"]


def stored_records(store_path: str, suite: str | None, metrics: list[str]) -> list:
    """The runs of :func:`stored_rows` as records, refused with one line when no finished run
    has one of ``metrics``."""
    from noprune.sweep.store import Record

    rows, _ = stored_rows(store_path, suite)
    records = [Record.from_row(row) for row in rows]
    check_metrics(records, metrics, f"suite {suite}" if suite else store_path)
    return records


def check_metrics(records: Iterable, metrics: Sequence[str], where: str, *, stored: bool = False) -> None:
    """Refuse, in one line, a metric that no finished run records (a typo in ``--metric`` or a
    suite's ``metrics``). ``stored``: the runs are stored and only their files are refused."""
    done = [r for r in records if r.status == "done" and r.metrics]
    names = sorted(
        {
            name
            for r in done
            for name, value in r.metrics.items()
            if isinstance(value, int | float) and not isinstance(value, bool)
        }
    )
    missing = [m for m in metrics if m not in names]
    if missing:
        after = "; the runs are stored: rerun with another --metric to write the files" if stored else ""
        raise UserError(
            f"no finished run of {where} has the metric {missing[0]!r}; it has: {', '.join(names)}{after}"
        )


def cmd_leaderboard(args: argparse.Namespace) -> None:
    from noprune.report.leaderboard import build_tables, render

    metrics = metrics_to_show(args.suite, args.metric)
    records = stored_records(args.store, args.suite, metrics)
    print("\n".join(render(build_tables(records, metric), args.format) for metric in metrics))


def cmd_plot(args: argparse.Namespace) -> None:
    from noprune.report.plots import plot_metric

    metrics = metrics_to_show(args.suite, args.metric)
    stems = {m: Path(f"{args.out}_{m}" if args.out and len(metrics) > 1 else args.out or m) for m in metrics}
    for stem in stems.values():
        output_folder(stem.parent, "--out", create=False)
    records = stored_records(args.store, args.suite, metrics)
    paths = []
    for metric, stem in stems.items():
        output_folder(stem.parent, "--out")
        paths += plot_metric(records, metric, stem)
    if not paths:
        raise UserError(f"nothing to plot: no task of these runs has {metrics[0]} at more than one density")
    log.info("wrote " + ", ".join(str(p) for p in paths))


def cmd_bench(args: argparse.Namespace) -> None:
    from noprune.ensemble import bench
    from noprune.sweep.provenance import resolve_device

    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in cases if c not in bench.CASES]
    if unknown or not cases:
        raise UserError(f"--cases takes a comma-separated subset of a,b,c,d, got {args.cases!r}")
    rows = bench.run(cases, resolve_device(args.device), echo=log.info)
    print(bench.format_table(rows))


def cmd_mi(args: argparse.Namespace) -> None:
    from noprune.mi import information_from_files

    result = information_from_files(
        args.masks,
        args.labels,
        args.draws,
        alpha=args.alpha,
        permutations=args.permutations,
        seed=args.seed,
        fit=args.fit,
    )
    print(json.dumps(result.to_json(), indent=2) if args.json else result.text())


def packaged_suite(name: str):
    """The packaged suite a results folder is named after, or None (a user's own suite)."""
    from noprune.sweep.runner import available_suites, load_suite

    return load_suite(name) if name in available_suites() else None


def cmd_render(args: argparse.Namespace) -> None:
    """Re-render each suite folder's leaderboard and figures from its own runs.csv (no store):
    after a change to how results are drawn, the committed results follow with one command.
    Figures (PNG, PDF) in the folder that this drawing does not write are removed."""
    from noprune.experiments import EXPERIMENTS
    from noprune.report.results import write_results
    from noprune.sweep.runs_csv import read_rows

    root = Path(args.results)
    folders = [root / name for name in args.suites] or sorted(p.parent for p in root.glob("*/runs.csv"))
    missing = [f for f in folders if not (f / "runs.csv").is_file()]
    if missing:
        raise UserError(f"no runs.csv in {missing[0]}")
    if not folders:
        raise UserError(f"no runs.csv under {root}/*/ (run a suite with noprune run first)")
    bar = progress.bar(len(folders), "render", unit="suite")
    for folder in folders:
        bar.update()
        rows = read_rows(folder / "runs.csv")
        suite = packaged_suite(folder.name)
        metrics = list(suite.metrics) if suite else ["test_accuracy"]
        try:
            command = json.loads((folder / "provenance.json").read_text())["command"]
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            raise UserError(f"{folder}: no readable provenance.json beside runs.csv") from None
        paths = write_results(
            rows,
            folder.name,
            folder,
            metrics=metrics,
            command=command,
            experiments=EXPERIMENTS,
            recorded=rows,
        )
        stale = sorted({*folder.glob("*.png"), *folder.glob("*.pdf")} - set(paths))
        for figure in stale:  # drawn by an earlier version under another name
            figure.unlink()
        removed = f", removed {len(stale)} stale figures" if stale else ""
        log.info(f"{folder}: wrote {len(paths)} files{removed}")
    bar.close()


def cmd_site(args: argparse.Namespace) -> None:
    from noprune.report.site import write_site

    results = Path(args.results)
    if not any(results.glob("*/leaderboard.md")):
        raise UserError(f"no results under {results}/*/ (run a suite with noprune run first)")

    def about(name: str) -> dict[str, str]:
        suite = packaged_suite(name)
        return {"description": suite.description, "notes": suite.notes} if suite else {}

    pages = write_site(results, about)
    log.info(f"wrote {pages[0]} and {len(pages) - 1} more pages")


def cmd_report(args: argparse.Namespace) -> None:
    from noprune.report.combined import write_report

    out = Path(args.out) if args.out else Path(args.results) / "report.md"
    output_folder(out.parent, "--out" if args.out else "--results", create=False)
    if out.is_dir():
        raise UserError(f"--out {out} is a folder; give the report's file name, e.g. {out / 'report.md'}")
    log.info(f"wrote {write_report(Path(args.results), out)}")


COMMANDS = {
    "prune": cmd_prune,
    "status": cmd_status,
    "ingest": cmd_ingest,
    "leaderboard": cmd_leaderboard,
    "plot": cmd_plot,
    "bench": cmd_bench,
    "mi": cmd_mi,
    "report": cmd_report,
    "render": cmd_render,
    "site": cmd_site,
}


# What the machine, not the code, can make a write fail with: a full disk or quota, a file over
# the size limit, a read-only file system, no permission.
MACHINE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM}


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM (kill, a scheduler's cancel) stops a command as Ctrl-C does: the executor
    terminates its workers and the store is unlocked, instead of leaving orphaned workers
    computing results that no driver will store."""
    raise KeyboardInterrupt


class _Stderr(logging.Handler):
    """Writes each message to the standard error of the moment (a test's capture included)."""

    def emit(self, record: logging.LogRecord) -> None:
        print(self.format(record), file=sys.stderr)


def configure_logging(quiet: bool, verbose: bool) -> None:
    """noprune's messages on standard error: what it wrote and did (info; none with --quiet,
    which leaves warnings and errors), each job and step too with --verbose (debug). Results
    (tables, summaries, --json) go to standard output whatever the level."""
    if not any(isinstance(h, _Stderr) for h in log.handlers):
        handler = _Stderr()
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.propagate = False
    log.setLevel(logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO)


def main(argv: Sequence[str] | None = None) -> int:
    previous = signal.signal(signal.SIGTERM, _interrupt)
    code = 0
    try:
        argv = list(sys.argv[1:] if argv is None else argv)
        args = build_parser().parse_args(argv)
        configure_logging(args.quiet, args.verbose)
        with progress.shown(not args.quiet and args.command in ("prune", "bench", "render")):
            if args.command == "list":
                cmd_list()
            elif args.command == "run":
                code = cmd_run(args, [a for a in argv if a not in ("-q", "--quiet", "-v", "--verbose")])
            else:
                COMMANDS[args.command](args)
        sys.stdout.flush()  # a closed pipe or a full disk shows here, inside the handlers below
    except UserError as error:  # one line, whatever a path in it holds
        print(f"noprune: error: {error}".replace("\r", "\\r").replace("\n", "\\n"), file=sys.stderr)
        return 2
    except TrainingDiverged as error:
        print(f"noprune: error: {error}; lower the learning rate (--lr)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        stores = argv is not None and argv[:1] == ["run"]  # only a sweep stores as it goes
        resume = "; finished results are stored, run the same command to resume" if stores else ""
        print(f"noprune: interrupted{resume}", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (noprune list | head): nothing left to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except sqlite3.OperationalError as error:  # the store's disk is full or became read-only
        print(f"noprune: error: cannot write the store ({error}); stored results are kept", file=sys.stderr)
        return 2
    except OSError as error:
        if error.errno not in MACHINE_ERRORS:
            raise
        where = error.filename or "standard output"
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing more to flush
        print(f"noprune: error: cannot write {where}: {error.strerror}", file=sys.stderr)
        return 2
    finally:
        signal.signal(signal.SIGTERM, previous)
    return code


if __name__ == "__main__":
    sys.exit(main())
