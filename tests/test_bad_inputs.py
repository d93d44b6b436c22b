"""Bad input, table-driven: every subcommand and every file type a user hands noprune.

Each case builds its input in a fresh folder beside a finished store and four mask files, runs
the command, and checks: exit code 2, one line on stderr that starts ``noprune: error:``, no
traceback, and every file already there byte-identical with nothing new written (the store
included).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from noprune.cli import main

TINY = """
name = "tiny"
[fixed]
data = "gaussian:n=20,d=5,n_test=20"
model = "mlp:8"
train.epochs = 1
prune.pruner = "magnitude"
[grid]
"prune.density" = [0.5, 0.2]
"""

PRUNE = ["prune", "--pruner", "random", "--model", "mlp:8", "--data", "gaussian:n=20,d=5", "--density", "0.5"]


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """A folder with a finished store (suite tiny), its results, a suite file, the JSON result
    files of its runs, four mask files and their labels."""
    folder = tmp_path_factory.mktemp("inputs")
    (folder / "tiny.toml").write_text(TINY)
    run = ["run", str(folder / "tiny.toml"), "--store", str(folder / "s.sqlite"), "--executor", "serial"]
    extra = ["--results", str(folder / "results"), "--json-dir", str(folder / "json"), "--no-progress"]
    assert main(run + extra) == 0
    for seed in range(4):
        assert main([*PRUNE, "--seed", str(seed), "--out", str(folder / f"m{seed}")]) == 0
    np.save(folder / "labels.npy", np.random.default_rng(0).integers(0, 2, size=(4, 20)))
    return folder


def write(name: str, content: str | bytes) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        return path

    return make


def suite(text: str | bytes) -> Callable[[Path], list[str]]:
    """``noprune run`` of a suite file with this text."""
    return lambda f: ["run", str(write("bad.toml", text)(f)), "--store", str(f / "s.sqlite"), "--no-progress"]


def run(*extra: str) -> Callable[[Path], list[str]]:
    """``noprune run`` of the good suite with extra arguments."""
    return lambda f: ["run", str(f / "tiny.toml"), "--store", str(f / "s.sqlite"), "--no-progress", *extra]


def edited(field: str, value: object) -> Callable[[Path], list[str]]:
    """``noprune ingest`` of one good result file with one field replaced."""

    def args(f: Path) -> list[str]:
        result = json.loads(next((f / "json").glob("*.json")).read_text())
        result[field] = value
        folder = f / "bad-json"
        write("bad-json/r.json", json.dumps(result))(f)
        return ["ingest", str(folder), "--store", str(f / "s.sqlite")]

    return args


def edited_metric(metric: str, value: object) -> Callable[[Path], list[str]]:
    """``noprune ingest`` of one good result file with one metric replaced."""

    def args(f: Path) -> list[str]:
        result = json.loads(next((f / "json").glob("*.json")).read_text())
        result["metrics"][metric] = value
        folder = f / "edited"
        folder.mkdir()
        (folder / "r.json").write_text(json.dumps(result))
        return ["ingest", str(folder), "--store", str(f / "s.sqlite")]

    return args


def ingest_file(name: str, content: str | bytes) -> Callable[[Path], list[str]]:
    def args(f: Path) -> list[str]:
        path = write(name, content)(f)
        return [
            "ingest",
            str(path.parent if path.suffix == ".json" else path),
            "--store",
            str(f / "s.sqlite"),
        ]

    return args


def csv_edited(edit: Callable[[str], str]) -> Callable[[Path], list[str]]:
    """``noprune ingest`` of the suite's runs.csv after ``edit``."""
    return lambda f: [
        "ingest",
        str(write("edited/runs.csv", edit((f / "results" / "tiny" / "runs.csv").read_text()))(f)),
        "--store",
        str(f / "s.sqlite"),
    ]


def store_file(content: bytes | Callable[[Path], None]) -> Callable[[Path], list[str]]:
    """``noprune status`` of a store file with this content (or made by this function)."""

    def args(f: Path) -> list[str]:
        path = f / "other.sqlite"
        if callable(content):
            content(path)
        else:
            path.write_bytes(content)
        return ["status", "--store", str(path)]

    return args


def damaged_schema(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA application_id={0x6E707275}")
    db.execute("CREATE TABLE runs (key TEXT)")
    db.commit()
    db.close()


def newer(path: Path) -> None:
    """A store written by a later schema version."""
    from noprune.sweep.store import SCHEMA_VERSION, Store

    with Store.open(path):
        pass
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.execute("PRAGMA journal_mode=DELETE")  # no -wal or -shm beside it, as a copied store
    db.commit()
    db.close()


def foreign(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()


def corrupt(path: Path) -> None:
    """A store whose pages are damaged after its header."""
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA application_id={0x6E707275}")
    db.execute("CREATE TABLE runs (key TEXT)")
    db.executemany("INSERT INTO runs VALUES (?)", [(str(i) * 500,) for i in range(100)])
    db.commit()
    db.close()
    data = bytearray(path.read_bytes())
    data[8192 : 8192 + 8] = b"\x0d\x00\x00\x00\x09\x0f\x00\x00"
    data[8292:8322] = b"\x07" * 30
    path.write_bytes(bytes(data))


def mi(*extra: str, masks: Callable[[Path], list[str]] | None = None) -> Callable[[Path], list[str]]:
    """``noprune mi`` of the four good masks (or others) with extra arguments."""

    def args(f: Path) -> list[str]:
        files = masks(f) if masks else [str(f / f"m{i}" / "masks.safetensors") for i in range(4)]
        return ["mi", *files, *[a.replace("{f}", str(f)) for a in extra]]

    return args


def masks_with(make: Callable[[Path], Path]) -> Callable[[Path], list[str]]:
    return lambda f: [str(f / f"m{i}" / "masks.safetensors") for i in range(3)] + [str(make(f))]


def odd_mask(value: float | None) -> Callable[[Path], Path]:
    """A mask file like m0's whose first tensor is float with one entry ``value`` (None: a file
    of empty tensors)."""

    def make(f: Path) -> Path:
        import torch
        from safetensors.torch import save_file

        from pruners import MaskSet
        from pruners.masks import FORMAT

        masks = dict(MaskSet.load(f / "m0" / "masks.safetensors"))
        if value is None:
            masks = {name: torch.zeros(0, dtype=torch.bool) for name in masks}
        else:
            first = next(iter(masks))
            odd = masks[first].float()
            odd.view(-1)[0] = value
            masks[first] = odd
        path = f / "odd.safetensors"
        order = json.dumps(list(masks))  # written as MaskSet.save does, without its conversion
        save_file({n: m.contiguous() for n, m in masks.items()}, path, {"format": FORMAT, "order": order})
        return path

    return make


def labels(name: str, content: str | bytes | np.ndarray) -> Callable[[Path], list[str]]:
    def args(f: Path) -> list[str]:
        path = f / name
        if isinstance(content, np.ndarray):
            np.save(path, content)
        else:
            write(name, content)(f)
        return mi("--labels", str(path))(f)

    return args


def truncated(f: Path) -> Path:
    data = (f / "m0" / "masks.safetensors").read_bytes()
    return write("cut.safetensors", data[: len(data) // 2])(f)


def other_model(f: Path) -> Path:
    args = [*PRUNE, "--out", str(f / "wide")]
    args[args.index("mlp:8")] = "mlp:9"
    assert main(args) == 0
    return f / "wide" / "masks.safetensors"


def suite_folder(f: Path) -> list[str]:
    (f / "folder.toml").mkdir()
    return ["run", str(f / "folder.toml"), "--store", str(f / "s.sqlite")]


def fixed(template: str, **values: object) -> str:
    return TINY.replace('prune.pruner = "magnitude"', template.format(**values))


CASES: dict[str, Callable[[Path], list[str]]] = {
    # -- command lines ---------------------------------------------------------------------
    "no command": lambda f: [],
    "unknown command": lambda f: ["frobnicate"],
    "prune: unknown pruner": lambda f: [*PRUNE, "--pruner", "bogus", "--out", str(f / "o")],
    "prune: --out under /proc": lambda f: [*PRUNE, "--out", "/proc/noprune/out"],
    "prune: --out below a file": lambda f: [*PRUNE, "--out", str(f / "tiny.toml" / "out")],
    "prune: unknown pruner setting": lambda f: [
        *PRUNE,
        "--pruner",
        "synflow",
        "--pruner-setting",
        "bogus=1",
        "--out",
        str(f / "o"),
    ],
    "prune: setting of the wrong type": lambda f: [
        *PRUNE,
        "--pruner",
        "synflow",
        "--pruner-setting",
        "rounds=many",
        "--out",
        str(f / "o"),
    ],
    "prune: setting without =": lambda f: [*PRUNE, "--pruner-setting", "rounds", "--out", str(f / "o")],
    "prune: bad model spec": lambda f: [*PRUNE, "--model", "mlp:abc", "--out", str(f / "o")],
    "prune: bad data option": lambda f: [*PRUNE, "--data", "gaussian:n=abc", "--out", str(f / "o")],
    "prune: unknown device": lambda f: [*PRUNE, "--device", "tpu", "--out", str(f / "o")],
    "prune: two density units": lambda f: [*PRUNE, "--sparsity", "0.5", "--out", str(f / "o")],
    "run: unknown suite": lambda f: ["run", "nosuchsuite", "--store", str(f / "s.sqlite")],
    "run: missing suite file": lambda f: ["run", str(f / "missing.toml"), "--store", str(f / "s.sqlite")],
    "run: --batch 0": run("--batch", "0"),
    "run: --workers -1": run("--workers", "-1"),
    "run: unknown executor": run("--executor", "mpi"),
    "run: option without =": run("--executor-option", "address"),
    "run: option the executor lacks": run("--executor-option", "address=x"),
    "run: an unreachable Dask scheduler": run(
        "--executor", "dask", "--executor-option", "address=tcp://127.0.0.1:9"
    ),
    "run: a Dask address that is not one": run(
        "--executor", "dask", "--executor-option", "address=nowhere:port"
    ),
    "run: --set an unknown field": run("--set", "train.bogus=1"),
    "run: --set a word for a number": run("--set", "train.epochs=many"),
    "run: --set density 2": run("--set", "prune.density=2"),
    "run: unknown device": run("--device", "tpu"),
    "run: --results below a file": lambda f: run("--results", str(f / "tiny.toml" / "r"))(f),
    "run: --json-dir under /proc": run("--json-dir", "/proc/noprune/json"),
    "run: --store is a folder": lambda f: ["run", str(f / "tiny.toml"), "--store", str(f / "results")],
    "status: no store": lambda f: ["status", "--store", str(f / "missing.sqlite")],
    "status: unknown suite": lambda f: ["status", "nosuch", "--store", str(f / "s.sqlite")],
    "leaderboard: unknown suite": lambda f: ["leaderboard", "nosuch", "--store", str(f / "s.sqlite")],
    "leaderboard: unknown metric": lambda f: [
        "leaderboard",
        "tiny",
        "--metric",
        "nonexistent",
        "--store",
        str(f / "s.sqlite"),
    ],
    "leaderboard: unknown format": lambda f: [
        "leaderboard",
        "tiny",
        "--format",
        "xls",
        "--store",
        str(f / "s.sqlite"),
    ],
    "leaderboard: no store": lambda f: ["leaderboard", "--store", str(f / "missing.sqlite")],
    "plot: unknown metric": lambda f: [
        "plot",
        "tiny",
        "--metric",
        "bogus",
        "--store",
        str(f / "s.sqlite"),
        "--out",
        str(f / "p" / "x"),
    ],
    "plot: unknown suite": lambda f: [
        "plot",
        "nosuch",
        "--store",
        str(f / "s.sqlite"),
        "--out",
        str(f / "p" / "x"),
    ],
    "plot: --out below a file": lambda f: [
        "plot",
        "tiny",
        "--store",
        str(f / "s.sqlite"),
        "--out",
        str(f / "tiny.toml" / "x"),
    ],
    "bench: unknown case": lambda f: ["bench", "--cases", "z"],
    "bench: no case": lambda f: ["bench", "--cases", ","],
    "bench: unknown device": lambda f: ["bench", "--cases", "a", "--device", "tpu"],
    "report: no results": lambda f: ["report", "--results", str(f / "missing")],
    "report: --out under /proc": lambda f: [
        "report",
        "--results",
        str(f / "results"),
        "--out",
        "/proc/noprune/r.md",
    ],
    "ingest: --suite ../x": lambda f: [
        "ingest",
        str(f / "json"),
        "--suite",
        "../x",
        "--store",
        str(f / "s.sqlite"),
    ],
    "ingest: missing folder": lambda f: ["ingest", str(f / "missing"), "--store", str(f / "s.sqlite")],
    # -- suite files (TOML) ------------------------------------------------------------------
    "suite: TOML syntax": suite("name = \n[grid"),
    "suite: not UTF-8": suite(b"name = '\xff'\n"),
    "suite: name escapes the results folder": suite(TINY.replace('name = "tiny"', 'name = "../../../x"')),
    "suite: absolute name": suite(TINY.replace('name = "tiny"', 'name = "/tmp/x"')),
    "suite: name a number": suite(TINY.replace('name = "tiny"', "name = 5")),
    "suite: empty grid": suite(TINY.split("[grid]")[0] + "[grid]\n"),
    "suite: grid value not a list": suite(TINY.replace("[0.5, 0.2]", "0.5")),
    "suite: grid list empty": suite(TINY.replace("[0.5, 0.2]", "[]")),
    "suite: unknown field": suite(fixed("prune.bogus = 1")),
    "suite: unknown top-level key": suite("colour = 'red'\n" + TINY),
    "suite: fixed not a table": suite('name = "x"\nfixed = 3\n[grid]\nseed = [0]\n'),
    "suite: metrics not a list": suite('metrics = "test_accuracy"\n' + TINY),
    "suite: metrics empty": suite("metrics = []\n" + TINY),
    "suite: bad range": suite(TINY.replace('"prune.density" = [0.5, 0.2]', "seed = {range = [3, 1]}")),
    "suite: a word for a number": suite(TINY.replace("train.epochs = 1", 'train.epochs = "many"')),
    "suite: density out of range": suite(TINY.replace("[0.5, 0.2]", "[0.5, 2.0]")),
    "suite: unknown pruner": suite(fixed('prune.pruner = "bogus"')),
    "suite: negative seed": suite(fixed('prune.pruner = "magnitude"\nseed = -1')),
    "suite: seed of 2^63": suite(fixed('prune.pruner = "magnitude"\nseed = 9223372036854775808')),
    "suite: negative momentum": suite(fixed('prune.pruner = "magnitude"\ntrain.momentum = -0.5')),
    "suite: momentum nan": suite(fixed('prune.pruner = "magnitude"\ntrain.momentum = nan')),
    "suite: negative weight decay": suite(fixed('prune.pruner = "magnitude"\ntrain.weight_decay = -1e-4')),
    "suite: infinite lr": suite(fixed('prune.pruner = "magnitude"\ntrain.lr = inf')),
    "suite: alpha above 1": suite(fixed('prune.pruner = "magnitude"\ninfo.alpha = 1.5')),
    "suite: alpha nan": suite(fixed('prune.pruner = "magnitude"\ninfo.alpha = nan')),
    "suite: density nan": suite(TINY.replace("[0.5, 0.2]", "[0.5, nan]")),
    "suite: synflow with 0 rounds": suite(fixed('prune.pruner = "synflow"\nprune.settings.rounds = 0')),
    "suite: force with 0 rounds": suite(fixed('prune.pruner = "force"\nprune.settings.rounds = 0')),
    "suite: random_like like itself": suite(
        fixed('prune.pruner = "random_like"\nprune.settings.like = "random_like"')
    ),
    "suite: random_like like no pruner": suite(
        fixed('prune.pruner = "random_like"\nprune.settings.like = "bogus"')
    ),
    "suite: a field in [fixed] and [grid]": suite(TINY.replace("[grid]", "prune.density = 0.3\n[grid]")),
    "suite: a folder": lambda f: ["run", str(f / "results"), "--store", str(f / "s.sqlite")],
    "suite: a folder named .toml": lambda f: suite_folder(f),
    # -- result files (JSON) and runs.csv for ingest -----------------------------------------
    "ingest: JSON syntax": ingest_file("j1/r.json", "{not json"),
    "ingest: JSON a list": ingest_file("j2/r.json", "[1, 2]"),
    "ingest: JSON without key": ingest_file("j3/r.json", '{"config": "{}", "status": "done"}'),
    "ingest: provenance a list": edited("provenance", ["host"]),
    "ingest: metrics a string": edited("metrics", "0.9"),
    "ingest: status unknown": edited("status", "finished"),
    "ingest: config not JSON": edited("config", "{oops"),
    "ingest: key not the config's": edited("key", "0" * 16),
    "ingest: started a string": edited("started", "yesterday"),
    "ingest: done without metrics": edited("metrics", None),
    "ingest: provenance of an unknown field": edited("provenance", {"planet": "mars"}),
    "ingest: csv without a column": csv_edited(lambda t: t.replace("status", "state", 1)),
    "ingest: a metric that is text": edited_metric("test_accuracy", "high"),
    "ingest: a metric that is NaN": edited_metric("test_accuracy", float("nan")),
    "ingest: a metric that is infinite": edited_metric("train_accuracy", float("inf")),
    "ingest: a metric nested twice": edited_metric("nnz", [[1]]),
    "ingest: experiment not its config's": edited("experiment", "mask_information"),
    "ingest: JSON nested too deeply": ingest_file("deep/r.json", "[" * 100000 + "]" * 100000),
    "ingest: an empty folder": lambda f: [
        "ingest",
        str((f / "empty").mkdir() or f / "empty"),
        "--store",
        str(f / "s.sqlite"),
    ],
    "ingest: older csv without experiment": csv_edited(lambda t: t.replace("experiment", "kind", 1)),
    "ingest: csv config edited": csv_edited(lambda t: t.replace(",mlp:8,", ",mlp:9,", 1)),
    "ingest: csv not UTF-8": ingest_file("c/runs.csv", b"key,status\n\xff\xfe,done\n"),
    "ingest: csv of something else": ingest_file("d/runs.csv", "a,b\n1,2\n"),
    # -- stores (SQLite) ---------------------------------------------------------------------
    "store: empty file": store_file(b""),
    "store: text": store_file(b"not a database\n" * 20),
    "store: SQLite header then garbage": store_file(b"SQLite format 3\x00" + b"\x07" * 4000),
    "store: another program's database": store_file(foreign),
    "store: ours but without its tables": store_file(damaged_schema),
    "store: damaged pages": store_file(corrupt),
    "store: of a newer schema": store_file(newer),
    # -- masks (safetensors) and designs (npy, csv, txt, json) for mi ------------------------
    "mi: one mask": lambda f: ["mi", str(f / "m0" / "masks.safetensors"), "--labels", str(f / "labels.npy")],
    "mi: missing mask file": mi(
        "--labels", "{f}/labels.npy", masks=masks_with(lambda f: f / "missing.safetensors")
    ),
    "mi: mask file is text": mi(
        "--labels", "{f}/labels.npy", masks=masks_with(write("t.safetensors", "hello"))
    ),
    "mi: weights, not masks": mi(
        "--labels", "{f}/labels.npy", masks=masks_with(lambda f: f / "m0" / "init.safetensors")
    ),
    "mi: truncated mask file": mi("--labels", "{f}/labels.npy", masks=masks_with(truncated)),
    "mi: masks of another model": mi("--labels", "{f}/labels.npy", masks=masks_with(other_model)),
    "mi: the same file twice": mi(
        "--labels", "{f}/labels.npy", masks=lambda f: [str(f / "m0" / "masks.safetensors")] * 4
    ),
    "mi: no design": mi(),
    "mi: both designs": mi("--labels", "{f}/labels.npy", "--draws", "{f}/labels.npy"),
    "mi: --alpha 0": mi("--labels", "{f}/labels.npy", "--alpha", "0"),
    "mi: --alpha 1.5": mi("--labels", "{f}/labels.npy", "--alpha", "1.5"),
    "mi: --permutations -1": mi("--labels", "{f}/labels.npy", "--permutations", "-1"),
    "mi: missing labels": mi("--labels", "{f}/missing.npy"),
    "mi: labels rows are not the masks": labels("l1.npy", np.zeros((3, 20), dtype=int)),
    "mi: labels not binary": labels("l2.npy", np.full((4, 20), 2)),
    "mi: labels one-dimensional": labels("l3.npy", np.zeros(20, dtype=int)),
    "mi: labels with NaN": labels("l4.npy", np.full((4, 20), np.nan)),
    "mi: labels an object array": labels("l5.npy", np.array([[{}]] * 4, dtype=object)),
    "mi: labels text in a csv": labels("l6.csv", "a,b\nc,d\n"),
    "mi: labels json not a list": labels("l7.json", '{"labels": 1}'),
    "mi: labels of an unknown type": labels("l8.xyz", "0 1"),
    "mi: a mask of 0.5": mi("--labels", "{f}/labels.npy", masks=masks_with(odd_mask(0.5))),
    "mi: a mask of 7": mi("--labels", "{f}/labels.npy", masks=masks_with(odd_mask(7.0))),
    "mi: a mask of NaN": mi("--labels", "{f}/labels.npy", masks=masks_with(odd_mask(float("nan")))),
    "mi: masks of no weights": mi(
        "--labels",
        "{f}/labels.npy",
        masks=lambda f: [str(odd_mask(None)(f))] * 1 + [str(f / "m0" / "masks.safetensors")],
    ),
    "mi: complex labels": labels("l10.npy", np.full((4, 20), 1 + 1j)),
    "mi: empty labels csv": labels("l11.csv", ""),
    "mi: a path with a newline": mi("--labels", "{f}/new\nline.npy"),
    "mi: labels npy garbage": labels("l9.npy", b"\x93NUMPY garbage"),
    "mi: draws of the wrong length": lambda f: mi("--draws", str(write("d.json", "[0, 1, 2]")(f)))(f),
}


#: What each case's one line must say: it failed for the reason the case is about.
EXPECTED: dict[str, str] = {
    "no command": "arguments are required: command",
    "unknown command": "invalid choice: 'frobnicate'",
    "prune: unknown pruner": "unknown pruner 'bogus'",
    "prune: --out under /proc": "--out /proc/noprune/out: cannot write there",
    "prune: --out below a file": "is not a folder",
    "prune: unknown pruner setting": "pruner synflow has no setting 'bogus'",
    "prune: setting of the wrong type": "prune.settings.rounds takes an int, got 'many'",
    "prune: setting without =": "takes field=value",
    "prune: bad model spec": "bad hidden widths 'abc'",
    "prune: bad data option": "option n='abc' for data set gaussian",
    "prune: unknown device": "unknown device 'tpu'",
    "prune: two density units": "give exactly one of --density",
    "run: unknown suite": "unknown suite 'nosuchsuite'",
    "run: missing suite file": "no suite file at",
    "run: --batch 0": "--batch must be at least 1",
    "run: --workers -1": "workers must be 0",
    "run: unknown executor": "unknown executor 'mpi'",
    "run: option without =": "--executor-option takes KEY=VALUE",
    "run: option the executor lacks": "the process executor takes no options",
    "run: an unreachable Dask scheduler": "cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'",
    "run: a Dask address that is not one": "cannot reach the Dask scheduler at 'nowhere:port'",
    "run: --set an unknown field": "unknown config field 'train.bogus'",
    "run: --set a word for a number": "train.epochs='many'",
    "run: --set density 2": "density must be in (0, 1]",
    "run: unknown device": "unknown device 'tpu'",
    "run: --results below a file": "--results",
    "run: --json-dir under /proc": "--json-dir /proc/noprune/json: cannot write there",
    "run: --store is a folder": "Is a directory",
    "status: no store": "no store at",
    "status: unknown suite": "no suite 'nosuch'",
    "leaderboard: unknown suite": "no suite 'nosuch'",
    "leaderboard: unknown metric": "has the metric 'nonexistent'; it has: ",
    "leaderboard: unknown format": "unknown leaderboard format 'xls'",
    "leaderboard: no store": "no store at",
    "plot: unknown metric": "has the metric 'bogus'",
    "plot: unknown suite": "no suite 'nosuch'",
    "plot: --out below a file": "exists and is not a folder",
    "bench: unknown case": "--cases takes",
    "bench: no case": "--cases takes",
    "bench: unknown device": "unknown device 'tpu'",
    "report: no results": "no runs.csv under",
    "report: --out under /proc": "--out /proc/noprune: cannot write there",
    "ingest: --suite ../x": "--suite '../x' must be letters",
    "ingest: missing folder": "no folder or runs.csv",
    "suite: TOML syntax": "is malformed: Invalid value",
    "suite: not UTF-8": "is malformed: 'utf-8' codec",
    "suite: name escapes the results folder": "name '../../../x' must be letters",
    "suite: absolute name": "name '/tmp/x' must be letters",
    "suite: name a number": "name 5 must be letters",
    "suite: empty grid": "every [grid] needs at least one field",
    "suite: grid value not a list": "grid field 'prune.density' must be a non-empty list",
    "suite: grid list empty": "grid field 'prune.density' must be a non-empty list",
    "suite: unknown field": "unknown config field 'prune.bogus'",
    "suite: unknown top-level key": "unknown keys ['colour']",
    "suite: fixed not a table": "[fixed] must be a table",
    "suite: metrics not a list": "metrics must be a non-empty list",
    "suite: metrics empty": "metrics must be a non-empty list",
    "suite: bad range": "seed = {range = ...} takes",
    "suite: a word for a number": "train.epochs takes an int, got 'many'",
    "suite: density out of range": "density must be in (0, 1], got 2",
    "suite: unknown pruner": "unknown pruner 'bogus'",
    "suite: negative seed": "seed must be an integer in 0..9223372036854775807, got -1",
    "suite: seed of 2^63": "seed must be an integer in 0..9223372036854775807",
    "suite: negative momentum": "train.momentum must be finite and >= 0, got -0.5",
    "suite: momentum nan": "train.momentum must be finite and >= 0, got nan",
    "suite: negative weight decay": "train.weight_decay must be finite and >= 0",
    "suite: infinite lr": "train.lr must be finite and > 0, got inf",
    "suite: alpha above 1": "info.alpha must be in (0, 1), got 1.5",
    "suite: alpha nan": "info.alpha must be in (0, 1), got nan",
    "suite: density nan": "density must be in (0, 1], got nan",
    "suite: synflow with 0 rounds": "pruner synflow: synflow needs at least one round",
    "suite: force with 0 rounds": "pruner force: rounds must be >= 1, got 0",
    "suite: random_like like itself": "like must name another pruner, got 'random_like'",
    "suite: random_like like no pruner": "like must name another pruner, got 'bogus'",
    "suite: a field in [fixed] and [grid]": "'prune.density' is in [fixed] and in a [grid]",
    "suite: a folder": "unknown suite",
    "suite: a folder named .toml": "cannot read the suite file",
    "ingest: JSON syntax": "r.json: not a JSON file",
    "ingest: JSON a list": "r.json: not a noprune result",
    "ingest: JSON without key": "no field 'key'",
    "ingest: provenance a list": "field 'provenance' must be an object, got list",
    "ingest: a metric that is text": "metric 'test_accuracy' is 'high'",
    "ingest: a metric that is NaN": "metric 'test_accuracy' is nan",
    "ingest: a metric that is infinite": "metric 'train_accuracy' is inf",
    "ingest: a metric nested twice": "metric 'nnz' is [[1]]",
    "ingest: experiment not its config's": "'experiment' is 'mask_information', its config's is 'accuracy'",
    "ingest: JSON nested too deeply": "nested too deeply",
    "ingest: an empty folder": "no result files in",
    "ingest: older csv without experiment": "no column 'experiment'",
    "ingest: metrics a string": "field 'metrics' must be an object or null, got str",
    "ingest: status unknown": "field 'status' must be done or failed, got 'finished'",
    "ingest: config not JSON": "field 'config' is not a run's config",
    "ingest: key not the config's": "field 'key' is not the key of its config",
    "ingest: started a string": "field 'started' must be a number or null, got str",
    "ingest: done without metrics": "a done result needs its field 'metrics'",
    "ingest: provenance of an unknown field": "field 'provenance.planet'",
    "ingest: csv without a column": "runs.csv: no column 'status'",
    "ingest: csv config edited": "runs.csv:2: not a run of noprune (its config",
    "ingest: csv not UTF-8": "not a readable runs.csv",
    "ingest: csv of something else": "runs.csv: no column 'key'",
    "store: empty file": "is an empty file, not a noprune store",
    "store: text": "not an SQLite database",
    "store: SQLite header then garbage": "is corrupt (file is not a database)",
    "store: another program's database": "an SQLite database of another program",
    "store: of a newer schema": "is a store of a newer noprune (schema 2; this one reads 1)",
    "store: ours but without its tables": "is a damaged noprune store: runs lacks the column experiment",
    "store: damaged pages": "is corrupt (On tree page",
    "mi: one mask": "give at least 2 mask files",
    "mi: missing mask file": "missing.safetensors not found",
    "mi: mask file is text": "t.safetensors as a noprune mask file",
    "mi: weights, not masks": "init.safetensors as a noprune mask file",
    "mi: truncated mask file": "cut.safetensors as a noprune mask file",
    "mi: masks of another model": "wide/masks.safetensors does not match",
    "mi: the same file twice": "is given twice",
    "mi: no design": "one of the arguments --labels --draws is required",
    "mi: both designs": "not allowed with argument --labels",
    "mi: --alpha 0": "--alpha must be in (0, 1), got 0",
    "mi: --alpha 1.5": "--alpha must be in (0, 1), got 1.5",
    "mi: --permutations -1": "--permutations must be 0",
    "mi: missing labels": "missing.npy not found",
    "mi: labels rows are not the masks": "has 3 rows for 4 mask files",
    "mi: labels not binary": "must hold binary labels (0/1 or -1/+1), found 2",
    "mi: labels one-dimensional": "got shape (20,)",
    "mi: labels with NaN": "found nan",
    "mi: a mask of 0.5": "holds 0.5; a mask is boolean",
    "mi: a mask of 7": "holds 7.0; a mask is boolean",
    "mi: a mask of NaN": "holds nan; a mask is boolean",
    "mi: masks of no weights": "odd.safetensors holds no weights",
    "mi: complex labels": "holds complex numbers",
    "mi: empty labels csv": "l11.csv is empty",
    "mi: a path with a newline": "new\\nline.npy not found",
    "mi: labels an object array": "holds Python objects (pickle), which are never loaded",
    "mi: labels text in a csv": "could not convert string 'a'",
    "mi: labels json not a list": "must be a [K, n] array of numbers",
    "mi: labels of an unknown type": "takes a .npy, .csv, .txt or .json file",
    "mi: labels npy garbage": "cannot read --labels file",
    "mi: draws of the wrong length": "has 3 draw ids for 4 mask files",
}


def snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "folder"
        for p in sorted(folder.rglob("*"))
    }


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_gives_one_line_exit_2_and_writes_nothing(case, base, tmp_path, capsys):
    folder = tmp_path / "f"
    shutil.copytree(base, folder)
    args = CASES[case](folder)  # builds the case's own input files
    capsys.readouterr()  # what building them said
    before = snapshot(folder)
    rc = main(args)
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert rc == 2, (out, err)
    assert len(lines) == 1 and lines[0].startswith("noprune: error: "), err
    assert "Traceback" not in err
    assert EXPECTED[case] in lines[0], lines[0]
    assert snapshot(folder) == before  # the store and everything else byte-identical, nothing new


def test_the_table_covers_every_subcommand_and_file_type():
    assert len(CASES) >= 60 and set(EXPECTED) == set(CASES)
    commands = {name.split(":")[0] for name in CASES}
    assert {"prune", "run", "status", "leaderboard", "plot", "bench", "report", "ingest", "mi"} <= commands
    assert {"suite", "store"} <= commands
