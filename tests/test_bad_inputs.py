"""Bad input, table-driven: every subcommand and every file type a user hands noprune.

Each case builds its input in a fresh folder beside a finished store and four mask files, runs
the command, and checks: exit code 2, one line on stderr that starts ``noprune: error:``, no
traceback, and every file already there byte-identical with nothing new written (the store
included).
"""

from __future__ import annotations

import atexit
import csv
import fcntl
import hashlib
import io
import json
import os
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


def design_file(flag: str, name: str, content: str | bytes | np.ndarray) -> Callable[[Path], list[str]]:
    """``noprune mi`` of the four good masks with this ``--labels`` or ``--draws`` file."""

    def args(f: Path) -> list[str]:
        path = f / name
        if isinstance(content, np.ndarray):
            np.save(path, content)
        else:
            write(name, content)(f)
        return mi(flag, str(path))(f)

    return args


def labels(name: str, content: str | bytes | np.ndarray) -> Callable[[Path], list[str]]:
    return design_file("--labels", name, content)


def truncated(f: Path) -> Path:
    data = (f / "m0" / "masks.safetensors").read_bytes()
    return write("cut.safetensors", data[: len(data) // 2])(f)


def masks_of_model(model: str, folder: str) -> Callable[[Path], Path]:
    """A mask file of ``model`` (instead of m0's mlp:8), pruned into ``folder``."""

    def make(f: Path) -> Path:
        args = [*PRUNE, "--out", str(f / folder)]
        args[args.index("mlp:8")] = model
        assert main(args) == 0
        return f / folder / "masks.safetensors"

    return make


other_model = masks_of_model("mlp:9", "wide")
deeper = masks_of_model("mlp:8,8", "deep")  # one layer more than m0's


def suite_folder(f: Path) -> list[str]:
    (f / "folder.toml").mkdir()
    return ["run", str(f / "folder.toml"), "--store", str(f / "s.sqlite")]


def fixed(template: str, **values: object) -> str:
    return TINY.replace('prune.pruner = "magnitude"', template.format(**values))


def prune(*extra: str) -> Callable[[Path], list[str]]:
    """``noprune prune`` of the tiny network with extra arguments (a later option wins)."""
    return lambda f: [*PRUNE, *extra, "--out", str(f / "o")]


def without_density(*extra: str) -> Callable[[Path], list[str]]:
    """``noprune prune`` without --density, with extra arguments."""
    return lambda f: [*PRUNE[:-2], *extra, "--out", str(f / "o")]


def setting(pruner: str, text: str) -> Callable[[Path], list[str]]:
    """``noprune run`` of the tiny suite with this pruner and these extra [fixed] lines."""
    return suite(fixed(f'prune.pruner = "{pruner}"\n{text}'))


def field(text: str) -> Callable[[Path], list[str]]:
    """``noprune run`` of the tiny suite with these extra [fixed] lines."""
    return setting("magnitude", text)


def grid(text: str) -> Callable[[Path], list[str]]:
    """``noprune run`` of the tiny suite with this [grid] instead of its densities."""
    return suite(TINY.replace('"prune.density" = [0.5, 0.2]', text))


def without(name: str) -> Callable[[Path], list[str]]:
    """``noprune ingest`` of one good result file without one field."""

    def args(f: Path) -> list[str]:
        result = json.loads(next((f / "json").glob("*.json")).read_text())
        del result[name]
        write("bad-json/r.json", json.dumps(result))(f)
        return ["ingest", str(f / "bad-json"), "--store", str(f / "s.sqlite")]

    return args


def csv_cell(column: str, value: str) -> Callable[[str], str]:
    """An edit of a runs.csv: its first run's cell in ``column`` set to ``value``."""

    def edit(text: str) -> str:
        rows = list(csv.reader(io.StringIO(text)))
        rows[1][rows[0].index(column)] = value
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(rows)
        return out.getvalue()

    return edit


def runs_csv(edit: Callable[[str], str]) -> Callable[[Path], str]:
    """The path of a copy of the suite's runs.csv after ``edit``."""
    return lambda f: str(write("edited/runs.csv", edit((f / "results" / "tiny" / "runs.csv").read_text()))(f))


def store_for(command: str, make: bytes | Callable[[Path], None]) -> Callable[[Path], list[str]]:
    """``noprune run``, ``ingest``, ``leaderboard`` or ``plot`` on a store file with this content
    (or made by this function)."""

    def args(f: Path) -> list[str]:
        path = f / "other.sqlite"
        if callable(make):
            make(path)
        else:
            path.write_bytes(make)
        if command == "run":
            return ["run", str(f / "tiny.toml"), "--store", str(path), "--executor", "serial"]
        if command == "ingest":
            return ["ingest", str(f / "json"), "--store", str(path)]
        out = ["--out", str(f / "p" / "x")] if command == "plot" else []
        return [command, "tiny", "--store", str(path), *out]

    return args


def locked(f: Path) -> list[str]:
    """``noprune run`` on a store whose driver lock another driver holds (here this process,
    through another open file description, which flock treats the same); held until exit."""
    handle = open(f / "s.sqlite.lock", "a+")
    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    atexit.register(handle.close)
    return run("--executor", "serial")(f)


def hard_linked(f: Path) -> list[str]:
    os.link(f / "s.sqlite", f / "again.sqlite")
    return run("--executor", "serial")(f)


def results_copy(edit: Callable[[Path], object]) -> Callable[[Path], str]:
    """A copy of the results folder after ``edit`` of its suite folder."""

    def make(f: Path) -> str:
        shutil.copytree(f / "results", f / "r2")
        edit(f / "r2" / "tiny")
        return str(f / "r2")

    return make


def results_with(content: str | bytes) -> Callable[[Path], str]:
    """A results folder whose one suite has a runs.csv with this content."""
    return lambda f: str(write("rr/x/runs.csv", content)(f).parent.parent)


def draws(name: str, content: str | bytes | np.ndarray) -> Callable[[Path], list[str]]:
    return design_file("--draws", name, content)


def saved_masks(name: str, edit: Callable[[dict], dict] = dict, **meta: str) -> Callable[[Path], Path]:
    """A mask file of m0's masks after ``edit``, written as MaskSet.save does but without its
    checks; ``meta`` replaces metadata entries (format, order)."""

    def make(f: Path) -> Path:
        from safetensors.torch import save_file

        from pruners import MaskSet
        from pruners.masks import FORMAT

        masks = edit(dict(MaskSet.load(f / "m0" / "masks.safetensors")))
        metadata = {"format": FORMAT, "order": json.dumps(list(masks)), **meta}
        save_file({n: m.contiguous() for n, m in masks.items()}, f / name, metadata)
        return f / name

    return make


def int_two(masks: dict) -> dict:
    first = next(iter(masks))
    masks[first] = masks[first].long()
    masks[first].view(-1)[0] = 2
    return masks


def four_masks(f: Path) -> list[str]:
    return [str(f / f"m{i}" / "masks.safetensors") for i in range(4)]


def symlink_loop(f: Path) -> list[str]:
    os.symlink(f / "loop.toml", f / "loop.toml")
    return ["run", str(f / "loop.toml"), "--store", str(f / "s.sqlite")]


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
    "list: an extra argument": lambda f: ["list", "extra"],
    "list: -q and -v": lambda f: ["list", "-q", "-v"],
    "prune: unknown model": prune("--model", "bogus"),
    "prune: model spec ending in ':'": prune("--model", "mlp:"),
    "prune: cnn with two widths": prune("--model", "cnn:8,16"),
    "prune: resnet20 with options": prune("--model", "resnet20:3"),
    "prune: cnn on vector data": prune("--model", "cnn:8,16,32"),
    "prune: unknown data set": prune("--data", "bogus"),
    "prune: data option seed": prune("--data", "gaussian:seed=3"),
    "prune: data option root": prune("--data", "gaussian:root=/x"),
    "prune: data option without =": prune("--data", "gaussian:n"),
    "prune: data option a float for an int": prune("--data", "gaussian:n=2.5"),
    "prune: gaussian n=0": prune("--data", "gaussian:n=0,d=5"),
    "prune: negative input noise": prune("--data", "gaussian:n=20,d=5,input_noise=-1"),
    "prune: input noise nan": prune("--data", "gaussian:n=20,d=5,input_noise=nan"),
    "prune: label noise 2": prune("--data", "gaussian:n=20,d=5,label_noise=2"),
    "prune: label noise on regression data": prune("--data", "toy:label_noise=0.5"),
    "prune: mnist without --data-root": prune("--data", "mnist"),
    "prune: mnist from a missing folder": prune("--data", "mnist", "--data-root", "/nonexistent/noprune"),
    "prune: --density 0": prune("--density", "0"),
    "prune: --density nan": prune("--density", "nan"),
    "prune: --density a word": prune("--density", "half"),
    "prune: --compression 0.5": without_density("--compression", "0.5"),
    "prune: --sparsity 1": without_density("--sparsity", "1"),
    "prune: no density": without_density(),
    "prune: no --out": lambda f: list(PRUNE),
    "prune: --out is a file": lambda f: [*PRUNE, "--out", str(f / "tiny.toml")],
    "prune: unknown scope": prune("--scope", "local"),
    "prune: unknown ablation": prune("--ablation", "flip"),
    "prune: unknown init": prune("--init", "xavier"),
    "prune: negative seed": prune("--seed", "-1"),
    "prune: seed of 2^63": prune("--seed", str(2**63)),
    "prune: --seed a word": prune("--seed", "one"),
    "prune: --lr 0": prune("--lr", "0"),
    "prune: --lr inf": prune("--lr", "inf"),
    "prune: negative momentum": prune("--momentum", "-1"),
    "prune: weight decay nan": prune("--weight-decay", "nan"),
    "prune: unknown optimizer": prune("--optimizer", "lbfgs"),
    "prune: unknown lr schedule": prune("--lr-schedule", "linear"),
    "prune: negative batch size": prune("--batch-size", "-1"),
    "prune: --batch-per-class 0": prune("--batch-per-class", "0"),
    "prune: negative --pretrain-epochs": prune("--pretrain-epochs", "-1"),
    "prune: negative --rewind-step": prune("--rewind-step", "-1"),
    "prune: iter_snip with 0 rounds": prune("--pruner", "iter_snip", "--pruner-setting", "rounds=0"),
    "prune: ntksap with 0 rounds": prune("--pruner", "ntksap", "--pruner-setting", "rounds=0"),
    "prune: ntksap with epsilon 0": prune("--pruner", "ntksap", "--pruner-setting", "epsilon=0"),
    "prune: px with 0 rounds": prune("--pruner", "px", "--pruner-setting", "rounds=0"),
    "prune: imp rate 1": prune("--pruner", "imp", "--pruner-setting", "rate=1"),
    "prune: imp rate nan": prune("--pruner", "imp", "--pruner-setting", "rate=nan"),
    "prune: prospr lr 0": prune("--pruner", "prospr", "--pruner-setting", "lr=0"),
    "prune: prospr momentum 1": prune("--pruner", "prospr", "--pruner-setting", "momentum=1"),
    "prune: smart_ratio form x": prune("--pruner", "smart_ratio", "--pruner-setting", "form=x"),
    "prune: smart_ratio classifier_density 0": prune(
        "--pruner", "smart_ratio", "--pruner-setting", "classifier_density=0"
    ),
    "prune: random_like like itself": prune(
        "--pruner", "random_like", "--pruner-setting", "like=random_like"
    ),
    "prune: imp rewinds past its training": prune(
        "--pruner", "imp", "--rewind-step", "1000", "--pretrain-epochs", "1"
    ),
    "prune: imp without training": prune("--pruner", "imp", "--pretrain-epochs", "0"),
    "prune: a derived setting": prune("--pruner", "imp", "--pruner-setting", "train_steps=3"),
    "prune: a setting of a pruner with none": prune("--pruner-setting", "rounds=1"),
    "prune: a setting without a name": prune("--pruner", "synflow", "--pruner-setting", "=3"),
    "prune: a setting a list": prune("--pruner", "synflow", "--pruner-setting", "rounds=[1, 2]"),
    "prune: a setting that is no literal": prune("--pruner", "synflow", "--pruner-setting", "rounds=1 2"),
    "prune: input_shape not a list": prune("--pruner", "synflow", "--pruner-setting", "input_shape=3"),
    "run: --set seed=-1": run("--set", "seed=-1"),
    "run: --set seed=2^63": run("--set", f"seed={2**63}"),
    "run: --set seed=1.5": run("--set", "seed=1.5"),
    "run: --set lr nan": run("--set", "train.lr=nan"),
    "run: --set momentum inf": run("--set", "train.momentum=inf"),
    "run: --set weight decay nan": run("--set", "train.weight_decay=nan"),
    "run: --set gamma 0": run("--set", "train.gamma=0"),
    "run: --set gamma nan": run("--set", "train.gamma=nan"),
    "run: --set negative gradient noise": run("--set", "train.gradient_noise=-1"),
    "run: --set gradient noise inf": run("--set", "train.gradient_noise=inf"),
    "run: --set alpha 0": run("--set", "info.alpha=0"),
    "run: --set alpha -inf": run("--set", "info.alpha=-inf"),
    "run: --set alpha a word": run("--set", "info.alpha=abc"),
    "run: --set draws 0": run("--set", "info.draws=0"),
    "run: --set parents 0": run("--set", "info.parents=0"),
    "run: --set points -1": run("--set", "info.points=-1"),
    "run: --set fit_draws -1": run("--set", "info.fit_draws=-1"),
    "run: --set repetitions -1": run("--set", "info.repetitions=-1"),
    "run: --set replicates 0": run("--set", "info.replicates=0"),
    "run: --set batch_per_class 0": run("--set", "prune.batch_per_class=0"),
    "run: --set pretrain_epochs -1": run("--set", "prune.pretrain_epochs=-1"),
    "run: --set rewind_step -1": run("--set", "prune.rewind_step=-1"),
    "run: --set a negative milestone": run("--set", "train.milestones=1,-2"),
    "run: --set milestones of words": run("--set", "train.milestones=a,b"),
    "run: --set steps -1": run("--set", "train.steps=-1"),
    "run: --set augment maybe": run("--set", "train.augment=maybe"),
    "run: --set unknown optimizer": run("--set", "train.optimizer=lbfgs"),
    "run: --set unknown scope": run("--set", "prune.scope=local"),
    "run: --set unknown ablation": run("--set", "prune.ablation=flip"),
    "run: --set unknown init": run("--set", "init=xavier"),
    "run: --set unknown pruner": run("--set", "prune.pruner=bogus"),
    "run: --set a setting the pruner lacks": run("--set", "prune.settings.rounds=3"),
    "run: --set an unknown setting of synflow": run(
        "--set", "prune.pruner=synflow", "--set", "prune.settings.bogus=1"
    ),
    "run: --set a setting that is no literal": run("--set", "prune.settings.rounds=1 2"),
    "run: --set a derived setting": run("--set", "prune.settings.train_steps=5"),
    "run: --set an old setting name": run("--set", "prune.synflow_rounds=0"),
    "run: --set an empty field": run("--set", "=3"),
    "run: --set a table": run("--set", "prune=1"),
    "run: --set density 0": run("--set", "prune.density=0"),
    "run: --set density nan": run("--set", "prune.density=nan"),
    "run: --workers a word": run("--workers", "many"),
    "run: an option for the serial executor": run("--executor", "serial", "--executor-option", "x=1"),
    "run: an option without a key": run("--executor-option", "=x"),
    "run: --store under /proc": lambda f: ["run", str(f / "tiny.toml"), "--store", "/proc/noprune/s.sqlite"],
    "run: --results under /proc": run("--results", "/proc/noprune/r"),
    "run: --json-dir below a file": lambda f: run("--json-dir", str(f / "tiny.toml" / "j"))(f),
    "run: --results is a file": lambda f: run("--results", str(f / "tiny.toml"))(f),
    "run: an extra argument": run("extra"),
    "run: a store of another program": store_for("run", foreign),
    "run: an empty store file": store_for("run", b""),
    "run: a store of a newer schema": store_for("run", newer),
    "run: a store another run holds": locked,
    "run: a hard-linked store": hard_linked,
    "status: --store a folder": lambda f: ["status", "--store", str(f / "results")],
    "status: --store below a file": lambda f: ["status", "--store", str(f / "tiny.toml" / "s.sqlite")],
    "status: two suites": lambda f: ["status", "a", "b", "--store", str(f / "s.sqlite")],
    "status: a runs.csv of another suite": lambda f: [
        "status",
        "other",
        "--store",
        str(f / "results" / "tiny" / "runs.csv"),
    ],
    "leaderboard: a runs.csv of another suite": lambda f: [
        "leaderboard",
        "other",
        "--store",
        str(f / "results" / "tiny" / "runs.csv"),
    ],
    "leaderboard: a runs.csv not UTF-8": lambda f: [
        "leaderboard",
        "--store",
        str(write("x/runs.csv", b"key,status\n\xff,done\n")(f)),
    ],
    "leaderboard: a runs.csv without key": lambda f: [
        "leaderboard",
        "--store",
        str(write("x/runs.csv", "a,b\n1,2\n")(f)),
    ],
    "leaderboard: a missing runs.csv": lambda f: ["leaderboard", "--store", str(f / "missing.csv")],
    "leaderboard: a folder named .csv": lambda f: [
        "leaderboard",
        "--store",
        str((f / "d.csv").mkdir() or f / "d.csv"),
    ],
    "leaderboard: a runs.csv config edited": lambda f: [
        "leaderboard",
        "--store",
        runs_csv(lambda t: t.replace(",mlp:8,", ",mlp:9,", 1))(f),
    ],
    "leaderboard: a runs.csv with a word for a time": lambda f: [
        "leaderboard",
        "--store",
        runs_csv(csv_cell("started", "yesterday"))(f),
    ],
    "leaderboard: a runs.csv of no runs": lambda f: [
        "leaderboard",
        "--store",
        str(write("x/runs.csv", "key,status\n")(f)),
    ],
    "leaderboard: a store of another program": store_for("leaderboard", foreign),
    "leaderboard: a store of a newer schema": store_for("leaderboard", newer),
    "leaderboard: a damaged store": store_for("leaderboard", corrupt),
    "leaderboard: a metric that is a list": lambda f: [
        "leaderboard",
        "tiny",
        "--metric",
        "collapsed_layers",
        "--store",
        str(f / "s.sqlite"),
    ],
    "leaderboard: an empty format": lambda f: [
        "leaderboard",
        "tiny",
        "--format",
        "",
        "--store",
        str(f / "s.sqlite"),
    ],
    "plot: no store": lambda f: ["plot", "--store", str(f / "missing.sqlite"), "--out", str(f / "p" / "x")],
    "plot: --out under /proc": lambda f: [
        "plot",
        "tiny",
        "--store",
        str(f / "s.sqlite"),
        "--out",
        "/proc/noprune/x",
    ],
    "plot: a runs.csv config edited": lambda f: [
        "plot",
        "--store",
        runs_csv(lambda t: t.replace(",mlp:8,", ",mlp:9,", 1))(f),
        "--out",
        str(f / "p" / "x"),
    ],
    "plot: a store of a newer schema": store_for("plot", newer),
    "plot: an empty store file": store_for("plot", b""),
    "plot: a metric that is a table": lambda f: [
        "plot",
        "tiny",
        "--metric",
        "per_layer_density",
        "--store",
        str(f / "s.sqlite"),
        "--out",
        str(f / "p" / "x"),
    ],
    "bench: an extra argument": lambda f: ["bench", "extra"],
    "report: --results a file": lambda f: ["report", "--results", str(f / "tiny.toml")],
    "report: --out below a file": lambda f: [
        "report",
        "--results",
        str(f / "results"),
        "--out",
        str(f / "tiny.toml" / "r.md"),
    ],
    "report: a runs.csv not UTF-8": lambda f: [
        "report",
        "--results",
        results_with(b"key,status\n\xff,done\n")(f),
        "--out",
        str(f / "r.md"),
    ],
    "report: a runs.csv of something else": lambda f: [
        "report",
        "--results",
        results_with("a,b\n1,2\n")(f),
        "--out",
        str(f / "r.md"),
    ],
    "report: a runs.csv config edited": lambda f: [
        "report",
        "--results",
        results_with((f / "results" / "tiny" / "runs.csv").read_text().replace(",mlp:8,", ",mlp:9,", 1))(f),
        "--out",
        str(f / "r.md"),
    ],
    "site: no results": lambda f: ["site", "--results", str(f / "missing")],
    "render: no runs.csv under --results": lambda f: ["render", "--results", str(f / "missing")],
    "render: a suite folder without runs.csv": lambda f: [
        "render",
        "nosuch",
        "--results",
        str(f / "results"),
    ],
    "render: a folder named runs.csv": lambda f: [
        "render",
        "--results",
        results_copy(lambda d: ((d / "runs.csv").unlink(), (d / "runs.csv").mkdir()))(f),
    ],
    "render: no provenance.json": lambda f: [
        "render",
        "--results",
        results_copy(lambda d: (d / "provenance.json").unlink())(f),
    ],
    "render: provenance.json not JSON": lambda f: [
        "render",
        "--results",
        results_copy(lambda d: (d / "provenance.json").write_text("{oops"))(f),
    ],
    "render: provenance.json without command": lambda f: [
        "render",
        "--results",
        results_copy(lambda d: (d / "provenance.json").write_text("{}"))(f),
    ],
    "render: a runs.csv of something else": lambda f: [
        "render",
        "--results",
        results_copy(lambda d: (d / "runs.csv").write_text("a,b\n1,2\n"))(f),
    ],
    "render: a runs.csv not UTF-8": lambda f: [
        "render",
        "--results",
        results_copy(lambda d: (d / "runs.csv").write_bytes(b"key,status\n\xff,done\n"))(f),
    ],
    "ingest: --suite with a space": lambda f: [
        "ingest",
        str(f / "json"),
        "--suite",
        "my suite",
        "--store",
        str(f / "s.sqlite"),
    ],
    "ingest: a file that is not a runs.csv": lambda f: [
        "ingest",
        str(f / "tiny.toml"),
        "--store",
        str(f / "s.sqlite"),
    ],
    "ingest: --store below a file": lambda f: [
        "ingest",
        str(f / "json"),
        "--store",
        str(f / "tiny.toml" / "s.sqlite"),
    ],
    "ingest: --store a folder": lambda f: ["ingest", str(f / "json"), "--store", str(f / "results")],
    "ingest: into a store of another program": store_for("ingest", foreign),
    "ingest: into a store of a newer schema": store_for("ingest", newer),
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
    "suite: [[grid]] tables, one empty": suite(TINY.replace("[grid]", "[[grid]]") + "[[grid]]\n"),
    "suite: grid a string": suite('name = "x"\ngrid = "x"\n'),
    "suite: range with step 0": grid("seed = {range = [0, 3, 0]}"),
    "suite: range of floats": grid("seed = {range = [0.5, 2]}"),
    "suite: range of booleans": grid("seed = {range = [true, false]}"),
    "suite: range of an unknown field": grid("bogus = {range = [0, 2]}"),
    "suite: range of negative seeds": grid("seed = {range = [-2, 2]}"),
    "suite: unknown field in a grid": grid('"train.bogus" = [1]'),
    "suite: settings not a table": field('prune.settings = "x"'),
    "suite: milestones a number": field("train.milestones = 3"),
    "suite: a negative milestone": field("train.milestones = [-1]"),
    "suite: metrics of numbers": suite("metrics = [1]\n" + TINY),
    "suite: empty name": suite(TINY.replace('name = "tiny"', 'name = ""')),
    "suite: name with a space": suite(TINY.replace('name = "tiny"', 'name = "my suite"')),
    "suite: seed a float": field("seed = 1.5"),
    "suite: seed true": field("seed = true"),
    "suite: density a word": grid('"prune.density" = ["half"]'),
    "suite: density 0": grid('"prune.density" = [0]'),
    "suite: density inf": grid('"prune.density" = [inf]'),
    "suite: density a table": grid('"prune.density" = [{a = 1}]'),
    "suite: pruner a number": suite(fixed("prune.pruner = 3")),
    "suite: unknown init": field('init = "xavier"'),
    "suite: unknown ablation": field('prune.ablation = "flip"'),
    "suite: unknown scope": field('prune.scope = "local"'),
    "suite: unknown optimizer": field('train.optimizer = "lbfgs"'),
    "suite: unknown lr schedule": field('train.lr_schedule = "linear"'),
    "suite: gamma 0": field("train.gamma = 0.0"),
    "suite: gamma nan": field("train.gamma = nan"),
    "suite: negative gradient noise": field("train.gradient_noise = -0.1"),
    "suite: infinite gradient noise": field("train.gradient_noise = inf"),
    "suite: negative lr": field("train.lr = -0.1"),
    "suite: infinite momentum": field("train.momentum = inf"),
    "suite: weight decay nan": field("train.weight_decay = nan"),
    "suite: negative epochs": suite(TINY.replace("train.epochs = 1", "train.epochs = -1")),
    "suite: draws 0": field("info.draws = 0"),
    "suite: negative draws": field("info.draws = -3"),
    "suite: parents 0": field("info.parents = 0"),
    "suite: points -1": field("info.points = -1"),
    "suite: fit_draws -1": field("info.fit_draws = -1"),
    "suite: replicates 0": field("info.replicates = 0"),
    "suite: repetitions -1": field("info.repetitions = -1"),
    "suite: alpha 0": field("info.alpha = 0.0"),
    "suite: alpha -inf": field("info.alpha = -inf"),
    "suite: alpha a word": field('info.alpha = "high"'),
    "suite: batch_per_class 0": field("prune.batch_per_class = 0"),
    "suite: pretrain_epochs -1": field("prune.pretrain_epochs = -1"),
    "suite: rewind_step -1": field("prune.rewind_step = -1"),
    "suite: biases a string": field('prune.biases = "yes"'),
    "suite: augment a number": field("train.augment = 1"),
    "suite: iter_snip with 0 rounds": setting("iter_snip", "prune.settings.rounds = 0"),
    "suite: ntksap with 0 draws": setting("ntksap", "prune.settings.draws = 0"),
    "suite: ntksap with epsilon 0": setting("ntksap", "prune.settings.epsilon = 0.0"),
    "suite: px with 0 rounds": setting("px", "prune.settings.rounds = 0"),
    "suite: px with 0 rounds in a grid": suite(
        fixed('prune.pruner = "px"').replace(
            '"prune.density" = [0.5, 0.2]', '"prune.settings.rounds" = [1, 0]'
        )
    ),
    "suite: imp rate 1": setting("imp", "prune.settings.rate = 1.0"),
    "suite: imp rate 0": setting("imp", "prune.settings.rate = 0.0"),
    "suite: imp rate 1.5": setting("imp", "prune.settings.rate = 1.5"),
    "suite: imp rate -0.2": setting("imp", "prune.settings.rate = -0.2"),
    "suite: prospr lr 0": setting("prospr", "prune.settings.lr = 0.0"),
    "suite: prospr lr -0.1": setting("prospr", "prune.settings.lr = -0.1"),
    "suite: prospr momentum 1": setting("prospr", "prune.settings.momentum = 1.0"),
    "suite: prospr steps -1": setting("prospr", "prune.settings.steps = -1"),
    "suite: smart_ratio form x": setting("smart_ratio", 'prune.settings.form = "x"'),
    "suite: smart_ratio classifier_density 0": setting(
        "smart_ratio", "prune.settings.classifier_density = 0.0"
    ),
    "suite: smart_ratio classifier_density 2": setting(
        "smart_ratio", "prune.settings.classifier_density = 2.0"
    ),
    "suite: random_like like a number": setting("random_like", "prune.settings.like = 3"),
    "suite: a setting of another pruner": field("prune.settings.rounds = 3"),
    "suite: a derived setting": setting("imp", "prune.settings.train_steps = 3"),
    "suite: synflow_rounds = 0 (the old name)": setting("synflow", "prune.synflow_rounds = 0"),
    "suite: rounds a word": setting("synflow", 'prune.settings.rounds = "many"'),
    "suite: rounds a float": setting("synflow", "prune.settings.rounds = 1.5"),
    "suite: rounds true": setting("synflow", "prune.settings.rounds = true"),
    "suite: input_shape a string": setting("synflow", 'prune.settings.input_shape = "x"'),
    "suite: a field in [fixed] and a second [[grid]]": suite(
        TINY.replace("[grid]", "prune.density = 0.3\n[[grid]]\nseed = [0]\n[[grid]]")
    ),
    "suite: a key twice": suite(TINY.replace("train.epochs = 1", "train.epochs = 1\ntrain.epochs = 2")),
    "suite: a grid of 'train'": grid('train = ["fast"]'),
    "suite: prune a string": suite('name = "x"\n[fixed]\nprune = "magnitude"\n[grid]\nseed = [0]\n'),
    "suite: info a string": field('info = "x"'),
    "suite: a setting name with a dot": setting("synflow", '"prune.settings.a.b" = 1'),
    "suite: empty file": suite(""),
    "suite: a byte-order mark": suite(b"\xef\xbb\xbf" + TINY.encode()),
    "suite: a NUL byte": suite(TINY.replace("tiny", "ti\x00ny")),
    "suite: a symlink loop": symlink_loop,
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
    "ingest: a metric -inf": edited_metric("test_loss", float("-inf")),
    "ingest: a metric a table of tables": edited_metric("per_layer_density", {"a": {"b": 1}}),
    "ingest: a metric list holding NaN": edited_metric("collapsed_layers", [1, float("nan")]),
    "ingest: a metric list of text": edited_metric("nnz", ["fc1"]),
    "ingest: a provenance value a float": edited("provenance", {"host": 1.5}),
    "ingest: key a number": edited("key", 5),
    "ingest: status true": edited("status", True),
    "ingest: started true": edited("started", True),
    "ingest: error a number": edited("error", 3),
    "ingest: metrics a list": edited("metrics", [0.9]),
    "ingest: config of an unknown field": edited("config", '{"colour":"red"}'),
    "ingest: no experiment": without("experiment"),
    "ingest: JSON empty file": ingest_file("e/r.json", ""),
    "ingest: JSON not UTF-8": ingest_file("u/r.json", b'{"key": "\xff"}'),
    "ingest: JSON null": ingest_file("n/r.json", "null"),
    "ingest: a folder named r.json": lambda f: [
        "ingest",
        str((f / "fj" / "r.json").mkdir(parents=True) or f / "fj"),
        "--store",
        str(f / "s.sqlite"),
    ],
    "ingest: csv a ragged row": csv_edited(lambda t: t + "abc,done\n"),
    "ingest: csv status finished": csv_edited(csv_cell("status", "finished")),
    "ingest: csv key edited": csv_edited(csv_cell("key", "0" * 16)),
    "ingest: csv a metric nan": csv_edited(csv_cell("test_loss", "nan")),
    "ingest: csv a metric that is text": csv_edited(csv_cell("test_loss", "high")),
    "ingest: csv a word for a time": csv_edited(csv_cell("started", "now")),
    "ingest: csv density a word": csv_edited(csv_cell("prune.density", "half")),
    "ingest: csv header only": csv_edited(lambda t: t.splitlines()[0] + "\n"),
    "ingest: older csv metrics not JSON": ingest_file(
        "o/runs.csv", 'key,status,experiment,config,metrics\nk,done,accuracy,"{}",{oops\n'
    ),
    "ingest: older csv config not JSON": ingest_file(
        "o2/runs.csv", "key,status,experiment,config,metrics\nk,done,accuracy,{oops,{}\n"
    ),
    "ingest: older csv of configs, without experiment": ingest_file(
        "o3/runs.csv", 'key,status,config,metrics\nk,done,"{}",{}\n'
    ),
    # -- stores (SQLite) ---------------------------------------------------------------------
    "store: empty file": store_file(b""),
    "store: text": store_file(b"not a database\n" * 20),
    "store: SQLite header then garbage": store_file(b"SQLite format 3\x00" + b"\x07" * 4000),
    "store: another program's database": store_file(foreign),
    "store: ours but without its tables": store_file(damaged_schema),
    "store: damaged pages": store_file(corrupt),
    "store: of a newer schema": store_file(newer),
    "store: a header alone": store_file(b"SQLite format 3\x00"),
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
    "mi: no mask files": lambda f: ["mi", "--labels", str(f / "labels.npy")],
    "mi: a folder for a mask file": mi(
        "--labels", "{f}/labels.npy", masks=lambda f: [str(f / "m0"), *four_masks(f)[1:]]
    ),
    "mi: a symlink to a mask given too": mi(
        "--labels",
        "{f}/labels.npy",
        masks=lambda f: [
            str(os.symlink(four_masks(f)[0], f / "ln.safetensors") or f / "ln.safetensors"),
            *four_masks(f),
        ],
    ),
    "mi: an empty mask file": mi("--labels", "{f}/labels.npy", masks=masks_with(write("e.safetensors", b""))),
    "mi: masks with another layer": mi("--labels", "{f}/labels.npy", masks=masks_with(deeper)),
    "mi: masks in another order": mi(
        "--labels",
        "{f}/labels.npy",
        masks=masks_with(saved_masks("rev.safetensors", lambda m: dict(reversed(m.items())))),
    ),
    "mi: a mask file of another format": mi(
        "--labels", "{f}/labels.npy", masks=masks_with(saved_masks("fmt.safetensors", format="other/1"))
    ),
    "mi: order metadata not JSON": mi(
        "--labels", "{f}/labels.npy", masks=masks_with(saved_masks("meta.safetensors", order="{oops"))
    ),
    "mi: order metadata of other names": mi(
        "--labels", "{f}/labels.npy", masks=masks_with(saved_masks("names.safetensors", order='["nope"]'))
    ),
    "mi: a mask of -1": mi("--labels", "{f}/labels.npy", masks=masks_with(odd_mask(-1.0))),
    "mi: a mask of inf": mi("--labels", "{f}/labels.npy", masks=masks_with(odd_mask(float("inf")))),
    "mi: an integer mask of 2": mi(
        "--labels", "{f}/labels.npy", masks=masks_with(saved_masks("int.safetensors", int_two))
    ),
    "mi: --fit 4 of 4 masks": mi("--labels", "{f}/labels.npy", "--fit", "4"),
    "mi: --fit -1": mi("--labels", "{f}/labels.npy", "--fit", "-1"),
    "mi: --fit with --draws": lambda f: mi("--draws", str(write("d.json", "[0, 0, 1, 1]")(f)), "--fit", "1")(
        f
    ),
    "mi: --permutations a word": mi("--labels", "{f}/labels.npy", "--permutations", "many"),
    "mi: --alpha nan": mi("--labels", "{f}/labels.npy", "--alpha", "nan"),
    "mi: labels -1, 0 and 1": labels("a.npy", np.array([[-1, 0, 1, 1] * 5] * 4)),
    "mi: labels 0.5": labels("b.npy", np.full((4, 20), 0.5)),
    "mi: labels of words in a txt": labels("c.txt", "a b\nc d\n"),
    "mi: labels csv ragged": labels("d.csv", "0,1,0\n1,0\n0,1,1\n1,1,0\n"),
    "mi: labels json three-dimensional": labels("e.json", "[[[0]], [[1]], [[0]], [[1]]]"),
    "mi: labels json of empty rows": labels("g.json", "[[], [], [], []]"),
    "mi: labels json of strings": labels("h.json", '[["a"], ["b"], ["c"], ["d"]]'),
    "mi: labels json syntax": labels("i.json", "[[0, 1"),
    "mi: labels json not UTF-8": labels("j.json", b"[\xff]"),
    "mi: labels txt blank": labels("k.txt", "  \n\n"),
    "mi: labels csv of comments only": labels("l.csv", "# nothing\n"),
    "mi: labels npy of no rows": labels("m.npy", np.zeros((0, 20))),
    "mi: labels npy three-dimensional": labels("n.npy", np.zeros((4, 5, 4), dtype=int)),
    "mi: label rows repeated": labels(
        "o.npy", np.tile(np.random.default_rng(1).integers(0, 2, size=64), (4, 1))
    ),
    "mi: draws all of one draw": draws("d1.json", "[0, 0, 0, 0]"),
    "mi: draws with NaN": draws("d2.json", "[0, NaN, 1, 1]"),
    "mi: draws with null": draws("d3.json", "[0, null, 1, 1]"),
    "mi: draws with an empty id": draws("d4.csv", "a,,b,c\n"),
    "mi: draws two-dimensional": draws("d5.json", "[[0, 1], [2, 3]]"),
    "mi: draws ragged": draws("d6.json", "[[0], [1, 2], [3], [4]]"),
    "mi: draws complex": draws("d7.npy", np.array([1j, 2j, 1j, 2j])),
    "mi: draws empty file": draws("d8.txt", ""),
    "mi: draws of an unknown type": draws("d9.yaml", "[0, 0, 1, 1]"),
    # -- found by probing, fixed: each was a traceback, a failed run or a stray file ---------
    "prune: erk in the layerwise scope": prune("--pruner", "erk", "--scope", "layerwise"),
    "prune: smart_ratio in the layerwise scope": prune("--pruner", "smart_ratio", "--scope", "layerwise"),
    "prune: grasp at temperature 0": prune("--pruner", "grasp", "--pruner-setting", "temperature=0"),
    "prune: grasp at temperature -1": prune("--pruner", "grasp", "--pruner-setting", "temperature=-1"),
    "prune: erk at power -1": prune("--pruner", "erk", "--pruner-setting", "power=-1"),
    "prune: erk at power nan": prune("--pruner", "erk", "--pruner-setting", "power=nan"),
    "run: an unknown --metric": run("--metric", "bogus"),
    "prune: synflow on an input shape of 0": prune(
        "--pruner", "synflow", "--pruner-setting", "input_shape=[0]"
    ),
    "prune: phew on a ResNet": lambda f: [
        "prune",
        "--pruner",
        "phew",
        "--model",
        "resnet20",
        "--data",
        "digits",
        "--density",
        "0.5",
        "--out",
        str(f / "o"),
    ],
    "report: --out an existing folder": lambda f: [
        "report",
        "--results",
        str(f / "results"),
        "--out",
        str(f),
    ],
    "render: provenance.json a list": lambda f: [
        "render",
        "--results",
        results_copy(lambda d: (d / "provenance.json").write_text("[1]"))(f),
    ],
    "ingest: config a JSON list": edited("config", "[1]"),
    "ingest: config a JSON string": edited("config", '"x"'),
    "ingest: config null": edited("config", "null"),
    "ingest: config with a negative seed": edited("config", '{"seed":-1}'),
    "ingest: started NaN": edited("started", float("nan")),
    "ingest: finished infinite": edited("finished", float("inf")),
    "mi: ragged labels in JSON": labels("l_ragged.json", "[[0, 1], [0], [1, 1], [0, 0]]"),
    "mi: --seed -1": mi("--labels", "{f}/labels.npy", "--seed", "-1"),
    "run: --set model=bogus": run("--set", "model=bogus"),
    "run: --set data=bogus": run("--set", "data=bogus"),
    "run: --set experiment=bogus": run("--set", "experiment=bogus"),
    "run: --set model=mlp:abc": run("--set", "model=mlp:abc"),
    "run: --set a data option it lacks": run("--set", "data=gaussian:q=1"),
    "run: --set a reserved data option": run("--set", "data=gaussian:seed=1"),
    "run: --set model=mlp: with nothing after": run("--set", "model=mlp:"),
    "run: --set a cnn of two widths": run("--set", "model=cnn:8,16"),
    "suite: erk in the layerwise scope": setting("erk", 'prune.scope = "layerwise"'),
    "suite: grasp at temperature 0": setting("grasp", "prune.settings.temperature = 0.0"),
    "suite: imp without training": setting("imp", "prune.pretrain_epochs = 0\ntrain.batch_size = 0"),
    "suite: imp rewinding past its training": setting(
        "imp", "prune.pretrain_epochs = 1\nprune.rewind_step = 100\ntrain.batch_size = 0"
    ),
    "suite: notes a table": suite("notes = {a = 1}\n" + TINY),
    "suite: description a list": suite("description = [1]\n" + TINY),
    "status: a damaged WAL store cut in half": lambda f: status_of_copy(f, cut=True),
    "run: --set a model of ten billion weights": run("--set", "model=mlp:100000,100000"),
    "prune: a model of ten billion weights": prune("--model", "mlp:100000,100000"),
    "run: --set a data set of 1e11 numbers": run("--set", "data=gaussian:n=1000000,d=100000"),
    "run: --set a data set of no points": run("--set", "data=gaussian:n=0,d=5"),
    "run: --set label noise of 2": run("--set", "data=gaussian:n=20,d=5,label_noise=2"),
    "run: --set a negative input noise": run("--set", "data=gaussian:n=20,d=5,input_noise=-1"),
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
    "list: an extra argument": "unrecognized arguments: extra",
    "list: -q and -v": "argument -v/--verbose: not allowed with argument -q/--quiet",
    "prune: unknown model": "unknown model 'bogus'; choose one of: cnn,",
    "prune: model spec ending in ':'": "model spec 'mlp:' has nothing after ':'; drop the ':' or add options",
    "prune: cnn with two widths": "model spec 'cnn:8,16': cnn takes three widths C1,C2,H (e.g. cnn:8,16,32)",
    "prune: resnet20 with options": "model resnet20 takes no options; use 'resnet20' instead of 'resnet20:3'",
    "prune: cnn on vector data": "model cnn needs image input of shape (C, H, W); data set gives (5,)",
    "prune: unknown data set": "unknown data set 'bogus'; choose one of: cifar10,",
    "prune: data option seed": "cannot be set in the data spec 'gaussian:seed=3'; pass it as --seed",
    "prune: data option root": "cannot be set in the data spec 'gaussian:root=/x'; pass it as --data-root",
    "prune: data option without =": "bad option 'n' for data set gaussian",
    "prune: data option a float for an int": "option n='2.5' for data set gaussian is not a valid int",
    "prune: gaussian n=0": "n must be >= 1, got 0",
    "prune: negative input noise": "input noise variance must be >= 0, got -1.0",
    "prune: input noise nan": "input noise variance must be >= 0, got nan",
    "prune: label noise 2": "label noise fraction must be in [0, 1], got 2.0",
    "prune: label noise on regression data": "label noise needs a classification data set; toy is regression",
    "prune: mnist without --data-root": "data set mnist needs a folder: pass --data-root DIR holding",
    "prune: mnist from a missing folder": "data set mnist not found under /nonexistent/noprune",
    "prune: --density 0": "density must be in (0, 1], got 0 from --density 0",
    "prune: --density nan": "density must be in (0, 1], got nan from --density nan",
    "prune: --density a word": "argument --density: invalid float value: 'half'",
    "prune: --compression 0.5": "density must be in (0, 1], got 2 from --compression 0.5",
    "prune: --sparsity 1": "density must be in (0, 1], got 0 from --sparsity 1",
    "prune: no density": "give exactly one of --density, --sparsity (1 - density), --compression",
    "prune: no --out": "the following arguments are required: --out",
    "prune: --out is a file": "tiny.toml exists and is not a folder",
    "prune: unknown scope": "scope must be global or layerwise, got 'local'",
    "prune: unknown ablation": "unknown ablation 'flip'; choose one of: invert, reinit, shuffle",
    "prune: unknown init": "unknown init 'xavier'; choose one of: kaiming_normal, pytorch",
    "prune: negative seed": "seed must be an integer in 0..9223372036854775807, got -1",
    "prune: seed of 2^63": "seed must be an integer in 0..9223372036854775807, got 9223372036854775808",
    "prune: --seed a word": "argument --seed: invalid int value: 'one'",
    "prune: --lr 0": "epochs, steps and batch size must be >= 0 and lr > 0",
    "prune: --lr inf": "train.lr must be finite and > 0, got inf",
    "prune: negative momentum": "train.momentum must be finite and >= 0, got -1.0",
    "prune: weight decay nan": "train.weight_decay must be finite and >= 0, got nan",
    "prune: unknown optimizer": "optimizer must be one of sgd, adam, got 'lbfgs'",
    "prune: unknown lr schedule": "lr schedule must be one of constant, cosine, step, got 'linear'",
    "prune: negative batch size": "epochs, steps and batch size must be >= 0 and lr > 0",
    "prune: --batch-per-class 0": "prune.batch_per_class must be >= 1, got 0",
    "prune: negative --pretrain-epochs": "prune.pretrain_epochs must be >= 0, got -1",
    "prune: negative --rewind-step": "prune.rewind_step must be >= 0, got -1",
    "prune: iter_snip with 0 rounds": "pruner iter_snip: rounds must be >= 1, got 0",
    "prune: ntksap with 0 rounds": "ntksap needs rounds >= 1, draws >= 1, epsilon > 0; got NTKSAP(rounds=0,",
    "prune: ntksap with epsilon 0": "epsilon > 0; got NTKSAP(rounds=20, draws=5, epsilon=0.0)",
    "prune: px with 0 rounds": "pruner px: px needs at least one round, got rounds = 0",
    "prune: imp rate 1": "pruner imp: imp prunes a fraction 0 < rate < 1 of the survivors a round, got 1.0",
    "prune: imp rate nan": "pruner imp: imp prunes a fraction 0 < rate < 1 of the survivors a round, got nan",
    "prune: prospr lr 0": "prospr needs steps >= 0, lr > 0, 0 <= momentum < 1; got ProsPr(steps=3, lr=0.0,",
    "prune: prospr momentum 1": "momentum < 1; got ProsPr(steps=3, lr=0.1, momentum=1.0,",
    "prune: smart_ratio form x": "pruner smart_ratio: smart_ratio: form must be 'resnet' or 'vgg', got 'x'",
    "prune: smart_ratio classifier_density 0": "smart_ratio: classifier_density must be in (0, 1], got 0.0",
    "prune: random_like like itself": "random_like: like must name another pruner, got 'random_like'",
    "prune: imp rewinds past its training": "imp needs 0 <= rewind_step < train_steps, got rewind_step 1000",
    "prune: imp without training": "pruner imp: imp needs 0 <= rewind_step < train_steps",
    "prune: a derived setting": "prune.settings.train_steps is set through prune.pretrain_epochs",
    "prune: a setting of a pruner with none": "pruner random has no setting 'rounds'; its settings: none",
    "prune: a setting without a name": "unknown config field 'prune.settings.' in --set",
    "prune: a setting a list": "config field prune.settings.rounds takes an int, got [1, 2]",
    "prune: a setting that is no literal": "takes a number, true/false or a word, got '1 2'",
    "prune: input_shape not a list": "config field prune.settings.input_shape takes a list, got 3",
    "run: --set seed=-1": "seed must be an integer in 0..9223372036854775807, got -1",
    "run: --set seed=2^63": "seed must be an integer in 0..9223372036854775807, got 9223372036854775808",
    "run: --set seed=1.5": "option seed='1.5' for --set is not a valid int",
    "run: --set lr nan": "epochs, steps and batch size must be >= 0 and lr > 0",
    "run: --set momentum inf": "train.momentum must be finite and >= 0, got inf",
    "run: --set weight decay nan": "train.weight_decay must be finite and >= 0, got nan",
    "run: --set gamma 0": "train.gamma must be finite and > 0, got 0.0",
    "run: --set gamma nan": "train.gamma must be finite and > 0, got nan",
    "run: --set negative gradient noise": "gradient noise must be >= 0, got -1.0",
    "run: --set gradient noise inf": "train.gradient_noise must be finite, got inf",
    "run: --set alpha 0": "info.alpha must be in (0, 1), got 0.0",
    "run: --set alpha -inf": "info.alpha must be in (0, 1), got -inf",
    "run: --set alpha a word": "option info.alpha='abc' for --set is not a valid float",
    "run: --set draws 0": "info.draws must be >= 1, got 0",
    "run: --set parents 0": "info.parents must be >= 1, got 0",
    "run: --set points -1": "info.points must be >= 0 (0: all), got -1",
    "run: --set fit_draws -1": "info.fit_draws must be >= 0 (0: the default split), got -1",
    "run: --set repetitions -1": "info.repetitions must be >= 0, got -1",
    "run: --set replicates 0": "info.replicates must be >= 1, got 0",
    "run: --set batch_per_class 0": "prune.batch_per_class must be >= 1, got 0",
    "run: --set pretrain_epochs -1": "prune.pretrain_epochs must be >= 0, got -1",
    "run: --set rewind_step -1": "prune.rewind_step must be >= 0, got -1",
    "run: --set a negative milestone": "train.milestones must be epochs >= 0, got (1, -2)",
    "run: --set milestones of words": "option train.milestones='a' for --set is not a valid int",
    "run: --set steps -1": "epochs, steps and batch size must be >= 0 and lr > 0",
    "run: --set augment maybe": "option train.augment='maybe' for --set is not a valid bool",
    "run: --set unknown optimizer": "optimizer must be one of sgd, adam, got 'lbfgs'",
    "run: --set unknown scope": "scope must be global or layerwise, got 'local'",
    "run: --set unknown ablation": "unknown ablation 'flip'; choose one of: invert, reinit, shuffle",
    "run: --set unknown init": "unknown init 'xavier'; choose one of: kaiming_normal, pytorch",
    "run: --set unknown pruner": "unknown pruner 'bogus'; choose one of:",
    "run: --set a setting the pruner lacks": "pruner magnitude has no setting 'rounds'; its settings: none",
    "run: --set an unknown setting of synflow": "pruner synflow has no setting 'bogus'; its settings: rounds",
    "run: --set a setting that is no literal": "takes a number, true/false or a word, got '1 2'",
    "run: --set a derived setting": "prune.settings.train_steps is set through prune.pretrain_epochs",
    "run: --set an old setting name": "unknown config field 'prune.synflow_rounds'",
    "run: --set an empty field": "unknown config field '' in --set",
    "run: --set a table": "unknown config field 'prune' in --set",
    "run: --set density 0": "density must be in (0, 1], got 0",
    "run: --set density nan": "density must be in (0, 1], got nan",
    "run: --workers a word": "argument --workers: invalid int value: 'many'",
    "run: an option for the serial executor": "the serial executor takes no options; got 'x'",
    "run: an option without a key": "--executor-option takes KEY=VALUE, got '=x'",
    "run: --store under /proc": "--store /proc/noprune: cannot write there (No such file or directory)",
    "run: --results under /proc": "--results /proc/noprune/r: cannot write there (No such file or directory)",
    "run: --json-dir below a file": "tiny.toml is not a folder)",
    "run: --results is a file": "tiny.toml exists and is not a folder",
    "run: an extra argument": "unrecognized arguments: extra",
    "run: a store of another program": "other.sqlite is an SQLite database of another program, not a noprune",
    "run: an empty store file": "other.sqlite is an empty file, not a noprune store; pass --store NEW_PATH",
    "run: a store of a newer schema": "is a store of a newer noprune",
    "run: a store another run holds": "another noprune run (pid",
    "run: a hard-linked store": "has 2 names (hard links)",
    "status: --store a folder": "cannot read the store",
    "status: --store below a file": "no store at",
    "status: two suites": "unrecognized arguments: b",
    "status: a runs.csv of another suite": "runs.csv holds the runs of suite 'tiny' (its provenance.json)",
    "leaderboard: a runs.csv of another suite": "runs.csv holds the runs of suite 'tiny' (its",
    "leaderboard: a runs.csv not UTF-8": "not a readable runs.csv ('utf-8' codec can't decode byte 0xff",
    "leaderboard: a runs.csv without key": "x/runs.csv: no column 'key'; not a runs.csv of noprune run",
    "leaderboard: a missing runs.csv": "missing.csv: not a readable runs.csv (No such file or directory)",
    "leaderboard: a folder named .csv": "d.csv: not a readable runs.csv (Is a directory)",
    "leaderboard: a runs.csv config edited": "runs.csv:2: not a run of noprune (its config",
    "leaderboard: a runs.csv with a word for a time": "could not convert string to float: 'yesterday'",
    "leaderboard: a runs.csv of no runs": "runs.csv has the metric 'test_accuracy'; it has: ",
    "leaderboard: a store of another program": "other.sqlite is an SQLite database of another program, not a",
    "leaderboard: a store of a newer schema": "is a store of a newer noprune",
    "leaderboard: a damaged store": "is corrupt (On tree page",
    "leaderboard: a metric that is a list": "has the metric 'collapsed_layers'; it has: density",
    "leaderboard: an empty format": "unknown leaderboard format ''",
    "plot: no store": "no store at",
    "plot: --out under /proc": "--out /proc/noprune: cannot write there (No such file or directory)",
    "plot: a runs.csv config edited": "runs.csv:2: not a run of noprune (its config",
    "plot: a store of a newer schema": "is a store of a newer noprune",
    "plot: an empty store file": "other.sqlite is an empty file, not a noprune store; pass --store NEW_PATH",
    "plot: a metric that is a table": "has the metric 'per_layer_density'; it has: density",
    "bench: an extra argument": "unrecognized arguments: extra",
    "report: --results a file": "tiny.toml exists and is not a folder",
    "report: --out below a file": "tiny.toml exists and is not a folder",
    "report: a runs.csv not UTF-8": "runs.csv: not a readable runs.csv ('utf-8' codec can't decode byte 0xff",
    "report: a runs.csv of something else": "rr/x/runs.csv: no column 'key'; not a runs.csv of noprune run",
    "report: a runs.csv config edited": "runs.csv:2: not a run of noprune (its config",
    "site: no results": "no results under",
    "render: no runs.csv under --results": "no runs.csv under",
    "render: a suite folder without runs.csv": "no runs.csv in",
    "render: a folder named runs.csv": "no runs.csv in",
    "render: no provenance.json": "r2/tiny: no readable provenance.json beside runs.csv",
    "render: provenance.json not JSON": "r2/tiny: no readable provenance.json beside runs.csv",
    "render: provenance.json without command": "r2/tiny: no readable provenance.json beside runs.csv",
    "render: a runs.csv of something else": "no column 'key'; not a runs.csv of noprune run",
    "render: a runs.csv not UTF-8": "runs.csv: not a readable runs.csv ('utf-8' codec can't decode byte 0xff",
    "ingest: --suite with a space": "--suite 'my suite' must be letters, digits, '-' and '_'",
    "ingest: a file that is not a runs.csv": "no folder or runs.csv",
    "ingest: --store below a file": "tiny.toml exists and is not a folder",
    "ingest: --store a folder": "results: Is a directory",
    "ingest: into a store of another program": "other.sqlite is an SQLite database of another program, not a",
    "ingest: into a store of a newer schema": "is a store of a newer noprune",
    "suite: [[grid]] tables, one empty": "bad.toml: every [grid] needs at least one field to vary",
    "suite: grid a string": "bad.toml: [fixed] must be a table, and [grid] a table or [[grid]] tables",
    "suite: range with step 0": "non-empty range, got [0, 3, 0]",
    "suite: range of floats": "non-empty range, got [0.5, 2]",
    "suite: range of booleans": "non-empty range, got [True, False]",
    "suite: range of an unknown field": "bad.toml: unknown config field 'bogus'",
    "suite: range of negative seeds": "seed must be an integer in 0..9223372036854775807, got -2",
    "suite: unknown field in a grid": "bad.toml: unknown config field 'train.bogus'",
    "suite: settings not a table": "bad.toml: unknown config field 'prune.settings'",
    "suite: milestones a number": "config field train.milestones takes a list, got 3",
    "suite: a negative milestone": "train.milestones must be epochs >= 0, got (-1,)",
    "suite: metrics of numbers": "bad.toml: metrics must be a non-empty list of metric names",
    "suite: empty name": "bad.toml: name '' must be letters, digits, '-' and '_'",
    "suite: name with a space": "bad.toml: name 'my suite' must be letters, digits",
    "suite: seed a float": "config field seed takes an int, got 1.5",
    "suite: seed true": "config field seed takes an int, got True",
    "suite: density a word": "config field prune.density takes a float, got 'half'",
    "suite: density 0": "density must be in (0, 1], got 0",
    "suite: density inf": "density must be in (0, 1], got inf",
    "suite: density a table": "config field prune.density takes a float, got {'a': 1}",
    "suite: pruner a number": "config field prune.pruner takes a str, got 3",
    "suite: unknown init": "unknown init 'xavier'; choose one of: kaiming_normal, pytorch",
    "suite: unknown ablation": "unknown ablation 'flip'; choose one of: invert, reinit, shuffle",
    "suite: unknown scope": "scope must be global or layerwise, got 'local'",
    "suite: unknown optimizer": "optimizer must be one of sgd, adam, got 'lbfgs'",
    "suite: unknown lr schedule": "lr schedule must be one of constant, cosine, step, got 'linear'",
    "suite: gamma 0": "train.gamma must be finite and > 0, got 0.0",
    "suite: gamma nan": "train.gamma must be finite and > 0, got nan",
    "suite: negative gradient noise": "gradient noise must be >= 0, got -0.1",
    "suite: infinite gradient noise": "train.gradient_noise must be finite, got inf",
    "suite: negative lr": "epochs, steps and batch size must be >= 0 and lr > 0",
    "suite: infinite momentum": "train.momentum must be finite and >= 0, got inf",
    "suite: weight decay nan": "train.weight_decay must be finite and >= 0, got nan",
    "suite: negative epochs": "epochs, steps and batch size must be >= 0 and lr > 0",
    "suite: draws 0": "info.draws must be >= 1, got 0",
    "suite: negative draws": "info.draws must be >= 1, got -3",
    "suite: parents 0": "info.parents must be >= 1, got 0",
    "suite: points -1": "info.points must be >= 0 (0: all), got -1",
    "suite: fit_draws -1": "info.fit_draws must be >= 0 (0: the default split), got -1",
    "suite: replicates 0": "info.replicates must be >= 1, got 0",
    "suite: repetitions -1": "info.repetitions must be >= 0, got -1",
    "suite: alpha 0": "info.alpha must be in (0, 1), got 0.0",
    "suite: alpha -inf": "info.alpha must be in (0, 1), got -inf",
    "suite: alpha a word": "config field info.alpha takes a float, got 'high'",
    "suite: batch_per_class 0": "prune.batch_per_class must be >= 1, got 0",
    "suite: pretrain_epochs -1": "prune.pretrain_epochs must be >= 0, got -1",
    "suite: rewind_step -1": "prune.rewind_step must be >= 0, got -1",
    "suite: biases a string": "config field prune.biases takes a bool, got 'yes'",
    "suite: augment a number": "config field train.augment takes a bool, got 1",
    "suite: iter_snip with 0 rounds": "pruner iter_snip: rounds must be >= 1, got 0",
    "suite: ntksap with 0 draws": "got NTKSAP(rounds=20, draws=0,",
    "suite: ntksap with epsilon 0": "epsilon > 0; got NTKSAP(rounds=20, draws=5, epsilon=0.0)",
    "suite: px with 0 rounds": "pruner px: px needs at least one round, got rounds = 0",
    "suite: px with 0 rounds in a grid": "pruner px: px needs at least one round, got rounds = 0",
    "suite: imp rate 1": "pruner imp: imp prunes a fraction 0 < rate < 1 of the survivors a round, got 1.0",
    "suite: imp rate 0": "pruner imp: imp prunes a fraction 0 < rate < 1 of the survivors a round, got 0.0",
    "suite: imp rate 1.5": "pruner imp: imp prunes a fraction 0 < rate < 1 of the survivors a round, got 1.5",
    "suite: imp rate -0.2": "imp prunes a fraction 0 < rate < 1 of the survivors a round, got -0.2",
    "suite: prospr lr 0": "prospr needs steps >= 0, lr > 0, 0 <= momentum < 1; got ProsPr(steps=3, lr=0.0,",
    "suite: prospr lr -0.1": "got ProsPr(steps=3, lr=-0.1,",
    "suite: prospr momentum 1": "momentum < 1; got ProsPr(steps=3, lr=0.1, momentum=1.0,",
    "suite: prospr steps -1": "prospr needs steps >= 0, lr > 0, 0 <= momentum < 1; got ProsPr(steps=-1,",
    "suite: smart_ratio form x": "pruner smart_ratio: smart_ratio: form must be 'resnet' or 'vgg', got 'x'",
    "suite: smart_ratio classifier_density 0": "smart_ratio: classifier_density must be in (0, 1], got 0.0",
    "suite: smart_ratio classifier_density 2": "smart_ratio: classifier_density must be in (0, 1], got 2.0",
    "suite: random_like like a number": "config field prune.settings.like takes a str, got 3",
    "suite: a setting of another pruner": "pruner magnitude has no setting 'rounds'; its settings: none",
    "suite: a derived setting": "prune.settings.train_steps is set through prune.pretrain_epochs",
    "suite: synflow_rounds = 0 (the old name)": "synflow needs at least one round, got rounds = 0",
    "suite: rounds a word": "config field prune.settings.rounds takes an int, got 'many'",
    "suite: rounds a float": "config field prune.settings.rounds takes an int, got 1.5",
    "suite: rounds true": "config field prune.settings.rounds takes an int, got True",
    "suite: input_shape a string": "config field prune.settings.input_shape takes a list, got 'x'",
    "suite: a field in [fixed] and a second [[grid]]": "'prune.density' is in [fixed] and in a [grid]",
    "suite: a key twice": "is malformed: Cannot overwrite a value",
    "suite: a grid of 'train'": "bad.toml: unknown config field 'train'",
    "suite: prune a string": "bad.toml: unknown config field 'prune'",
    "suite: info a string": "bad.toml: unknown config field 'info'",
    "suite: a setting name with a dot": "bad.toml: unknown config field 'prune.settings.a.b'",
    "suite: empty file": "bad.toml: every [grid] needs at least one field to vary",
    "suite: a byte-order mark": "bad.toml is malformed: Invalid statement (at line 1, column 1)",
    "suite: a NUL byte": "is malformed: Illegal character",
    "suite: a symlink loop": "loop.toml: Too many levels of symbolic links",
    "ingest: a metric -inf": "edited/r.json: metric 'test_loss' is -inf",
    "ingest: a metric a table of tables": "edited/r.json: metric 'per_layer_density' is {'a': {'b': 1}}",
    "ingest: a metric list holding NaN": "edited/r.json: metric 'collapsed_layers' is [1, nan]",
    "ingest: a metric list of text": "edited/r.json: metric 'nnz' is ['fc1']",
    "ingest: a provenance value a float": "field 'provenance.host' is not a provenance field of a run",
    "ingest: key a number": "bad-json/r.json: field 'key' must be a string, got int",
    "ingest: status true": "bad-json/r.json: field 'status' must be a string, got bool",
    "ingest: started true": "bad-json/r.json: field 'started' must be a number or null, got bool",
    "ingest: error a number": "bad-json/r.json: field 'error' must be a string or null, got int",
    "ingest: metrics a list": "bad-json/r.json: field 'metrics' must be an object or null, got list",
    "ingest: config of an unknown field": "field 'config' is not a run's config (unknown config field",
    "ingest: no experiment": "bad-json/r.json: not a noprune result: no field 'experiment'",
    "ingest: JSON empty file": "e/r.json: not a JSON file (Expecting value: line 1 column 1 (char 0))",
    "ingest: JSON not UTF-8": "r.json: not a JSON file ('utf-8' codec can't decode byte 0xff",
    "ingest: JSON null": "n/r.json: not a noprune result (a JSON object with key, config, status, metrics)",
    "ingest: a folder named r.json": "not a JSON file ([Errno 21] Is a directory",
    "ingest: csv a ragged row": "not a run of noprune (config field experiment takes a str, got None)",
    "ingest: csv status finished": "edited/runs.csv:2: field 'status' must be done or failed, got 'finished'",
    "ingest: csv key edited": "does not give its key 0000000000000000",
    "ingest: csv a metric nan": "edited/runs.csv:2: metric 'test_loss' is 'nan'",
    "ingest: csv a metric that is text": "edited/runs.csv:2: metric 'test_loss' is 'high'",
    "ingest: csv a word for a time": "not a run of noprune (could not convert string to float: 'now')",
    "ingest: csv density a word": "config field prune.density takes a float, got 'half'",
    "ingest: csv header only": "no result files in",
    "ingest: older csv metrics not JSON": "o/runs.csv:2: its metrics are not a JSON object",
    "ingest: older csv config not JSON": "o2/runs.csv:2: not a run of noprune (Expecting property name",
    "ingest: older csv of configs, without experiment": "runs.csv:2: no 'experiment'",
    "store: a header alone": "is not a noprune store (not an SQLite database)",
    "mi: no mask files": "the following arguments are required: masks",
    "mi: a folder for a mask file": "m0 not found",
    "mi: a symlink to a mask given too": "masks.safetensors is given twice (also as",
    "mi: an empty mask file": "Error while deserializing header: header too small",
    "mi: masks with another layer": "parameters differ (extra fc2.weight); masks must share one model",
    "mi: masks in another order": "parameters are in a different order; masks must share one model",
    "mi: a mask file of another format": "fmt.safetensors is not a noprune mask file",
    "mi: order metadata not JSON": "meta.safetensors as a noprune mask file: Expecting property name",
    "mi: order metadata of other names": "File does not contain tensor nope",
    "mi: a mask of -1": "odd.safetensors as a noprune mask file: mask fc1.weight holds -1.0",
    "mi: a mask of inf": "odd.safetensors as a noprune mask file: mask fc1.weight holds inf",
    "mi: an integer mask of 2": "int.safetensors as a noprune mask file: mask fc1.weight holds 2",
    "mi: --fit 4 of 4 masks": "--fit must be in 0..3 (the first FIT of the 4 masks are fit draws), got 4",
    "mi: --fit -1": "--fit must be in 0..3 (the first FIT of the 4 masks are fit draws), got -1",
    "mi: --fit with --draws": "--fit applies to --labels only",
    "mi: --permutations a word": "argument --permutations: invalid int value: 'many'",
    "mi: --alpha nan": "--alpha must be in (0, 1), got nan",
    "mi: labels -1, 0 and 1": "a.npy must hold binary labels (0/1 or -1/+1), found -1, 0, 1",
    "mi: labels 0.5": "b.npy must hold binary labels (0/1 or -1/+1), found 0.5",
    "mi: labels of words in a txt": "could not convert string 'a' to float64",
    "mi: labels csv ragged": "the number of columns changed from 3 to 2",
    "mi: labels json three-dimensional": "got shape (4, 1, 1)",
    "mi: labels json of empty rows": "g.json must be a [K, n] array (one row per mask), got shape (4, 0)",
    "mi: labels json of strings": "h.json must be a [K, n] array of numbers (one row per mask)",
    "mi: labels json syntax": "i.json: Expecting ',' delimiter: line 1 column 7 (char 6)",
    "mi: labels json not UTF-8": "'utf-8' codec can't decode byte 0xff in position 1: invalid start byte",
    "mi: labels txt blank": "k.txt is empty",
    "mi: labels csv of comments only": "loadtxt: input contained no data",
    "mi: labels npy of no rows": "m.npy has 0 rows for 4 mask files; give one row per mask",
    "mi: labels npy three-dimensional": "got shape (4, 5, 4)",
    "mi: label rows repeated": "label vectors repeat: 1 distinct among 4",
    "mi: draws all of one draw": "every mask comes from one draw, so H(S) = 0; give at least 2 draws",
    "mi: draws with NaN": "d2.json has a missing or non-finite draw id",
    "mi: draws with null": "d3.json must be a flat list of draw ids (numbers or names), one per mask",
    "mi: draws with an empty id": "d4.csv has an empty draw id",
    "mi: draws two-dimensional": "d5.json must be a flat list of draw ids (numbers or names), one per mask",
    "mi: draws ragged": "d6.json must be a flat list of draw ids, one per mask",
    "mi: draws complex": "d7.npy must be a flat list of draw ids (numbers or names), one per mask",
    "mi: draws empty file": "d8.txt is empty",
    "mi: draws of an unknown type": "--draws takes a .npy, .csv, .txt or .json file",
    "prune: erk in the layerwise scope": "pruner erk: it sets each layer's density itself: scope must be",
    "prune: smart_ratio in the layerwise scope": "pruner smart_ratio: it sets each layer's density itself",
    "prune: grasp at temperature 0": "grasp needs a finite temperature > 0, got 0",
    "prune: grasp at temperature -1": "grasp needs a finite temperature > 0, got -1",
    "prune: erk at power -1": "erk's power must be finite and at least 0 (0 is uniform), got -1",
    "prune: erk at power nan": "erk's power must be finite and at least 0 (0 is uniform), got nan",
    "run: an unknown --metric": "no finished run of suite tiny has the metric 'bogus'",
    "prune: synflow on an input shape of 0": "synflow's input_shape needs positive sizes, got [0]",
    "prune: phew on a ResNet": "pruner phew: phew follows paths through a chain of layers",
    "report: --out an existing folder": "is a folder; give the report's file name",
    "render: provenance.json a list": "no readable provenance.json beside runs.csv",
    "ingest: config a JSON list": "field 'config' is not a run's config (a JSON list, not an object)",
    "ingest: config a JSON string": "field 'config' is not a run's config (a JSON str, not an object)",
    "ingest: config null": "field 'config' is not a run's config (a JSON NoneType, not an object)",
    "ingest: config with a negative seed": "seed must be an integer in 0..",
    "ingest: started NaN": "field 'started' must be a time in seconds, got nan",
    "ingest: finished infinite": "field 'finished' must be a time in seconds, got inf",
    "mi: ragged labels in JSON": "must be a [K, n] array of numbers",
    "mi: --seed -1": "--seed must be in 0..",
    "run: --set model=bogus": "unknown model 'bogus'",
    "run: --set data=bogus": "unknown data set 'bogus'",
    "run: --set experiment=bogus": "unknown experiment 'bogus'",
    "run: --set model=mlp:abc": "bad hidden widths 'abc'",
    "run: --set a data option it lacks": "data set gaussian",
    "run: --set a reserved data option": "option 'seed' cannot be set in the data spec",
    "run: --set model=mlp: with nothing after": "has nothing after ':'",
    "run: --set a cnn of two widths": "cnn takes three widths",
    "suite: erk in the layerwise scope": "scope must be global",
    "suite: grasp at temperature 0": "grasp needs a finite temperature > 0",
    "suite: imp without training": "imp needs 0 <= rewind_step < train_steps",
    "suite: imp rewinding past its training": "imp needs 0 <= rewind_step < train_steps, got rewind_step 100",
    "suite: notes a table": "notes must be text",
    "suite: description a list": "description must be text",
    "status: a damaged WAL store cut in half": "is corrupt",
    "run: --set a model of ten billion weights": "has at least 10,000,400,000 weights, more than",
    "prune: a model of ten billion weights": "has at least 10,000,400,000 weights",
    "run: --set a data set of 1e11 numbers": "asks for 100,100,000,000 input numbers",
    "run: --set a data set of no points": "n must be >= 1, got 0",
    "run: --set label noise of 2": "label_noise is a fraction in [0, 1], got 2.0",
    "run: --set a negative input noise": "input_noise is a variance >= 0, got -1.0",
}


def status_of_copy(f: Path, cut: bool) -> list[str]:
    """``noprune status`` of a copy of the finished store (in WAL mode), cut in half."""
    data = (f / "s.sqlite").read_bytes()
    (f / "half.sqlite").write_bytes(data[: len(data) // 2] if cut else data)
    return ["status", "--store", str(f / "half.sqlite")]


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
    assert len(CASES) >= 250 and set(EXPECTED) == set(CASES)
    commands = {name.split(":")[0] for name in CASES}
    assert {"prune", "run", "status", "leaderboard", "plot", "bench", "report", "ingest", "mi"} <= commands
    assert {"suite", "store"} <= commands
