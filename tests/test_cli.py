"""Tests of the ``noprune`` command line: list, prune (every pruner, ablations, density units,
layer collapse, training) and run, in process through ``noprune.cli.main`` and, for exit codes
and stderr, through real subprocesses."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch

import pruners
from noprune.cli import main
from noprune.data import DATASETS
from noprune.models import INITS, MODELS, build_model
from noprune.weights import load_state

MODEL = "mlp:64,32"
LAYERS = ["fc1.weight", "fc2.weight", "out.weight"]
NUMEL = 64 * 64 + 64 * 32 + 32 * 10  # 6464 prunable weights on 8x8 digits
BASE = ["prune", "--model", MODEL, "--data", "digits", "--device", "cpu", "--pretrain-epochs", "2"]
REPO = Path(__file__).resolve().parent.parent


@dataclass
class Run:
    rc: int
    out: str
    err: str


def cli(*argv: str) -> Run:
    """``noprune ARGV`` in process, with stdout and stderr captured."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(list(argv))
    return Run(rc, out.getvalue(), err.getvalue())


def prune(out: Path, *args: str) -> Run:
    return cli(*BASE, "--out", str(out), *args)


def subprocess_cli(*argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "noprune", *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=REPO,
    )


def report(out: Path) -> dict[str, Any]:
    return json.loads((out / "report.json").read_text())


def masks(out: Path) -> pruners.MaskSet:
    return pruners.MaskSet.load(out / "masks.safetensors")


def init(out: Path) -> dict[str, torch.Tensor]:
    return load_state(out / "init.safetensors")


def fresh_init() -> dict[str, torch.Tensor]:
    """The initial weights every run with seed 0 starts from."""
    return build_model(MODEL, (1, 8, 8), 10, seed=0).state_dict()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Output folders of a few reference runs shared by several tests."""
    root = tmp_path_factory.mktemp("runs")
    argv = {
        "magnitude": ["--pruner", "magnitude", "--density", "0.05"],
        "magnitude_dense": ["--pruner", "magnitude", "--density", "1"],
        "snip": ["--pruner", "snip", "--density", "0.05"],
        "snip_again": ["--pruner", "snip", "--density", "0.05"],
    }
    out = {}
    for name, args in argv.items():
        result = prune(root / name, *args)
        assert result.rc == 0, result.err
        out[name] = root / name
    return out


# -- list --------------------------------------------------------------------------------------


def test_list_prints_every_pruner_ablation_model_and_data_set(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    sections: dict[str, list[str]] = {}
    current = None
    for line in captured.out.splitlines():
        if not line.startswith(" "):
            current = line.rstrip(":")
            sections[current] = []
        else:
            assert current is not None
            sections[current].append(line.split()[0])
    from noprune.config import pruner_settings
    from noprune.experiments import EXPERIMENTS
    from noprune.sweep.executors import EXECUTORS
    from noprune.sweep.runner import available_suites

    assert sections == {
        "pruners": list(pruners.PRUNERS),
        "pruner settings (prune.settings.NAME, --pruner-setting NAME=VALUE; defaults)": [
            n for n in pruners.PRUNERS if pruner_settings(n)
        ],
        "ablations": list(pruners.ABLATIONS),
        "models": list(MODELS),
        "inits": list(INITS),
        "data sets": list(DATASETS),
        "experiments": list(EXPERIMENTS),
        "suites": available_suites(),
        "executors": list(EXECUTORS),
    }
    assert {"quick", "synflow-fig6"} <= set(sections["suites"])
    assert set(pruners.BUILTIN) <= set(pruners.PRUNERS.values())
    assert set(pruners.ABLATIONS) == {"shuffle", "reinit", "invert"}


# -- prune with every pruner -------------------------------------------------------------------


@pytest.mark.parametrize("pruner", list(pruners.PRUNERS))
def test_prune_writes_masks_init_and_report(
    pruner: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    rc = main([*BASE, "--pruner", pruner, "--density", "0.05", "--out", str(out)])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    written = ", ".join(str(out / n) for n in ("masks.safetensors", "init.safetensors", "report.json"))
    assert captured.err.splitlines() == [f"wrote {written}"]  # the only message: no warning
    assert sorted(p.name for p in out.iterdir()) == ["init.safetensors", "masks.safetensors", "report.json"]

    rep = report(out)
    expected_nnz = round(0.05 * NUMEL)
    assert rep["pruner"] == pruner
    assert rep["numel"] == NUMEL
    assert rep["nnz"] == expected_nnz
    assert rep["density"] == pytest.approx(expected_nnz / NUMEL)
    assert rep["density_target"] == 0.05
    assert list(rep["per_layer"]) == LAYERS
    assert sum(v["nnz"] for v in rep["per_layer"].values()) == expected_nnz
    assert sum(v["numel"] for v in rep["per_layer"].values()) == NUMEL
    for v in rep["per_layer"].values():
        assert v["density"] == pytest.approx(v["nnz"] / v["numel"])
    assert rep["collapsed_layers"] == [n for n, v in rep["per_layer"].items() if v["nnz"] == 0]
    assert isinstance(rep["scoring_seconds"], float) and rep["scoring_seconds"] >= 0.0
    assert isinstance(rep["pruner_settings"], dict)
    assert rep["seeds"] == {"data": 0, "init": 0, "batch": 0, "pruner": 0, "train": 0}
    assert rep["provenance"]["torch"] == torch.__version__
    assert rep["provenance"]["device"] == "cpu"
    assert "training" not in rep
    if pruner == "synflow":
        assert rep["pruner_settings"]["rounds"] == 100
    if pruner in ("imp", "magnitude_after"):
        assert rep["pruner_settings"]["train_steps"] == 2 * 12  # 2 epochs of ceil(1437 / 128)
        assert rep["pretraining"] == {"epochs": 2, "rewind_step": 0}
    else:
        assert rep["pretraining"] is None
    assert f"kept {expected_nnz} of {NUMEL} weights" in captured.out

    m = masks(out)
    assert list(m) == LAYERS
    assert m.nnz == rep["nnz"]
    assert {n: s.nnz for n, s in m.per_layer().items()} == {n: v["nnz"] for n, v in rep["per_layer"].items()}

    state = init(out)
    reference = fresh_init()
    assert state.keys() == reference.keys()
    for name in LAYERS:
        assert state[name].shape == m[name].shape
        assert bool((state[name][~m[name]] == 0).all()), f"{name}: a pruned weight is nonzero"
    if pruner == "magnitude_after":
        # It fine-tunes from the trained weights: init.safetensors holds those, not the init.
        assert not torch.equal(state["fc1.weight"][m["fc1.weight"]], reference["fc1.weight"][m["fc1.weight"]])
    else:
        # Pruners at initialization (and imp, rewound to step 0) keep the initial weights.
        for name in LAYERS:
            assert torch.equal(state[name][m[name]], reference[name][m[name]])


def test_prune_is_deterministic(runs: dict[str, Path]) -> None:
    assert masks(runs["snip"]) == masks(runs["snip_again"])
    a, b = init(runs["snip"]), init(runs["snip_again"])
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_seed_changes_the_random_mask(tmp_path: Path) -> None:
    assert prune(tmp_path / "s0", "--pruner", "random", "--density", "0.05").rc == 0
    assert prune(tmp_path / "s1", "--pruner", "random", "--density", "0.05", "--seed", "1").rc == 0
    assert masks(tmp_path / "s0") != masks(tmp_path / "s1")
    seeds = report(tmp_path / "s1")["seeds"]
    assert seeds == {"data": 1, "init": 1, "batch": 1, "pruner": 1, "train": 1}


def test_layerwise_scope_keeps_each_layer_density(tmp_path: Path) -> None:
    assert prune(tmp_path, "--pruner", "magnitude", "--density", "0.25", "--scope", "layerwise").rc == 0
    rep = report(tmp_path)
    assert rep["scope"] == "layerwise"
    assert {n: v["nnz"] for n, v in rep["per_layer"].items()} == {
        "fc1.weight": 1024,
        "fc2.weight": 512,
        "out.weight": 80,
    }


# -- training ----------------------------------------------------------------------------------


def test_prune_and_train_reports_training_and_keeps_pruned_weights_zero(tmp_path: Path) -> None:
    train_flags = ["--train-epochs", "2", "--lr", "0.2", "--weight-decay", "5e-4"]
    result = prune(tmp_path, "--pruner", "snip", "--density", "0.05", *train_flags)
    assert result.rc == 0, result.err
    rep = report(tmp_path)
    t = rep["training"]
    assert 0.0 <= t["train_accuracy"] <= 1.0
    assert 0.0 <= t["test_accuracy"] <= 1.0
    assert t["train_accuracy"] > 0.2  # above the 0.1 of chance after 2 epochs at 5% density
    assert t["steps"] == 2 * 12
    assert t["config"]["epochs"] == 2
    assert t["config"]["lr"] == 0.2 and t["config"]["weight_decay"] == 5e-4
    assert t["config"]["optimizer"] == "sgd" and t["config"]["momentum"] == 0.9
    assert t["history"][-1]["step"] == 24
    assert 0.0 < rep["density_after_training"] <= rep["density"]
    assert "trained 2 epochs" in result.out
    # init.safetensors holds the weights before training, identical to a run without training.
    assert prune(tmp_path / "untrained", "--pruner", "snip", "--density", "0.05").rc == 0
    a, b = init(tmp_path), init(tmp_path / "untrained")
    assert all(torch.equal(a[k], b[k]) for k in a)


# -- density units -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "value", "printed"),
    [
        ("--sparsity", "0.95", "--sparsity 0.95 -> density 0.05"),
        ("--compression", "20", "--compression 20 -> density 0.05"),
    ],
)
def test_sparsity_and_compression_equal_density(
    runs: dict[str, Path], tmp_path: Path, flag: str, value: str, printed: str
) -> None:
    result = prune(tmp_path, "--pruner", "snip", flag, value)
    assert result.rc == 0, result.err
    assert printed in result.err  # a message: on standard error, with the files written
    assert masks(tmp_path) == masks(runs["snip"])
    assert report(tmp_path)["nnz"] == report(runs["snip"])["nnz"]
    assert report(tmp_path)["density_target"] == pytest.approx(0.05)


def test_density_prints_no_conversion(tmp_path: Path) -> None:
    result = prune(tmp_path, "--pruner", "random", "--density", "0.05")
    assert result.rc == 0
    assert "->" not in result.out


@pytest.mark.parametrize(
    "units",
    [["--density", "0.05", "--sparsity", "0.95"], ["--density", "0.05", "--compression", "20"], []],
    ids=["density+sparsity", "density+compression", "none"],
)
def test_exactly_one_density_unit(tmp_path: Path, units: list[str]) -> None:
    result = prune(tmp_path / "out", "--pruner", "random", *units)
    assert result.rc == 2
    assert result.err.startswith("noprune: error: give exactly one of --density")
    assert not (tmp_path / "out").exists()


# -- layer collapse ----------------------------------------------------------------------------


def test_layer_collapse_is_reported_and_warned(tmp_path: Path) -> None:
    # round(0.0002 * 6464) = 1 weight over 3 layers: two layers necessarily collapse.
    result = prune(tmp_path, "--pruner", "magnitude", "--density", "0.0002")
    assert result.rc == 0
    rep = report(tmp_path)
    assert rep["nnz"] == 1
    collapsed = rep["collapsed_layers"]
    assert len(collapsed) == 2
    assert collapsed == [n for n in LAYERS if rep["per_layer"][n]["nnz"] == 0]
    assert masks(tmp_path).collapsed() == collapsed
    assert rep["connected"] == {"nnz": 0, "density": 0.0}  # a collapsed network has no path
    assert "on an input-to-output path: 0 of the 1 kept (effective density 0)" in result.out
    warnings = [line for line in result.err.splitlines() if not line.startswith("wrote ")]
    assert len(warnings) == 2 and len(result.err.splitlines()) == 3
    for name, line in zip(collapsed, warnings, strict=True):
        assert "layer collapse" in line and name in line
    assert "layer collapse" not in result.out


def test_layer_collapse_through_subprocess(tmp_path: Path) -> None:
    proc = subprocess_cli(*BASE, "--out", str(tmp_path), "--pruner", "random", "--density", "0.0002")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    collapsed = report(tmp_path)["collapsed_layers"]
    assert len(collapsed) == 2
    assert lines[:2] == [f"warning: layer collapse: {n} has no surviving weight" for n in collapsed]
    assert len(lines) == 3 and lines[2].startswith("wrote ")


def test_no_collapse_no_warning(runs: dict[str, Path]) -> None:
    rep = report(runs["magnitude"])
    assert rep["collapsed_layers"] == []
    assert 0 < rep["connected"]["nnz"] <= rep["nnz"]


# -- user errors -------------------------------------------------------------------------------

USER_ERRORS = {
    "unknown pruner": (["--pruner", "bogus", "--density", "0.05"], "unknown pruner 'bogus'"),
    "unknown model": (["--pruner", "random", "--density", "0.05", "--model", "bogus"], "unknown model"),
    "unknown data": (["--pruner", "random", "--density", "0.05", "--data", "bogus"], "unknown data set"),
    "density 0": (["--pruner", "random", "--density", "0"], "density must be in (0, 1]"),
    "density 1.5": (["--pruner", "random", "--density", "1.5"], "density must be in (0, 1]"),
    "density -0.1": (["--pruner", "random", "--density", "-0.1"], "density must be in (0, 1]"),
    "sparsity 1": (["--pruner", "random", "--sparsity", "1"], "density must be in (0, 1]"),
    "compression 0": (["--pruner", "random", "--compression", "0"], "density must be in (0, 1]"),
    "mnist no root": (["--pruner", "random", "--density", "0.05", "--data", "mnist"], "--data-root"),
    "unknown ablation": (
        ["--pruner", "random", "--density", "0.05", "--ablation", "bogus"],
        "unknown ablation 'bogus'",
    ),
    "unknown scope": (["--pruner", "random", "--density", "0.05", "--scope", "bogus"], "scope"),
    "unknown init": (
        ["--pruner", "random", "--density", "0.05", "--init", "xavier"],
        "unknown init 'xavier'",
    ),
    "bad optimizer": (["--pruner", "random", "--density", "0.05", "--optimizer", "rmsprop"], "rmsprop"),
    "bad lr schedule": (["--pruner", "random", "--density", "0.05", "--lr-schedule", "bogus"], "bogus"),
    "imp rewind past training": (
        ["--pruner", "imp", "--density", "0.05", "--rewind-step", "24"],
        "rewind_step 24 and train_steps 24",
    ),
    "imp without training": (
        ["--pruner", "imp", "--density", "0.05", "--pretrain-epochs", "0"],
        "prune.pretrain_epochs",
    ),
    "not a number": (["--pruner", "random", "--density", "lots"], "--density"),
}


def check_user_error(rc: int, out: str, err: str, where: Path) -> None:
    assert rc == 2
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("noprune: error: ")
    assert "Traceback" not in err
    assert out == ""
    assert not where.exists()


@pytest.mark.parametrize("case", list(USER_ERRORS))
def test_user_errors_are_one_line_exit_2_and_write_nothing(tmp_path: Path, case: str) -> None:
    args, message = USER_ERRORS[case]
    out = tmp_path / "out"
    result = prune(out, *args)
    check_user_error(result.rc, result.out, result.err, out)
    assert message in result.err


def test_missing_data_folder(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "out"
    result = prune(
        out, "--pruner", "random", "--density", "0.05", "--data", "mnist", "--data-root", str(empty)
    )
    check_user_error(result.rc, result.out, result.err, out)
    assert "mnist not found" in result.err and str(empty) in result.err


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_without_cuda_is_a_user_error(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = cli(*BASE, "--device", "cuda", "--pruner", "random", "--density", "0.05", "--out", str(out))
    check_user_error(result.rc, result.out, result.err, out)
    assert "cuda" in result.err.lower()


def test_missing_out_flag(tmp_path: Path) -> None:
    result = cli(*BASE, "--pruner", "random", "--density", "0.05")
    check_user_error(result.rc, result.out, result.err, tmp_path / "nothing")
    assert "--out" in result.err


def test_out_is_a_file(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("keep me\n")
    result = prune(target, "--pruner", "random", "--density", "0.05")
    assert result.rc == 2
    assert result.err.startswith("noprune: error:") and len(result.err.splitlines()) == 1
    assert target.read_text() == "keep me\n"


def test_missing_command_and_unknown_command() -> None:
    for argv in ([], ["bogus"]):
        result = cli(*argv)
        assert result.rc == 2
        assert len(result.err.splitlines()) == 1 and result.err.startswith("noprune: error:")


def test_user_error_through_subprocess(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess_cli(*BASE, "--pruner", "bogus", "--density", "0.05", "--out", str(out))
    check_user_error(proc.returncode, proc.stdout, proc.stderr, out)
    assert "unknown pruner 'bogus'" in proc.stderr


def test_missing_data_through_subprocess(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess_cli(
        *BASE, "--pruner", "snip", "--density", "0.05", "--data", "mnist", "--out", str(out)
    )
    check_user_error(proc.returncode, proc.stdout, proc.stderr, out)


# -- ablations ---------------------------------------------------------------------------------


def test_shuffle_ablation_keeps_per_layer_counts_but_moves_the_mask(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    result = prune(tmp_path, "--pruner", "snip", "--density", "0.05", "--ablation", "shuffle")
    assert result.rc == 0, result.err
    plain, shuffled = masks(runs["snip"]), masks(tmp_path)
    assert {n: s.nnz for n, s in shuffled.per_layer().items()} == {
        n: s.nnz for n, s in plain.per_layer().items()
    }
    for name in LAYERS:
        assert not torch.equal(plain[name], shuffled[name]), name
    rep = report(tmp_path)
    assert rep["ablation"] == "shuffle"
    assert rep["per_layer"] == report(runs["snip"])["per_layer"]
    # The shuffled mask applies to the same initial weights.
    state, reference = init(tmp_path), fresh_init()
    for name in LAYERS:
        assert torch.equal(state[name], reference[name] * shuffled[name])


def test_invert_ablation_keeps_the_smallest_magnitudes(runs: dict[str, Path], tmp_path: Path) -> None:
    result = prune(tmp_path, "--pruner", "magnitude", "--density", "0.05", "--ablation", "invert")
    assert result.rc == 0, result.err
    inverted = masks(tmp_path)
    assert inverted.nnz == masks(runs["magnitude"]).nnz == round(0.05 * NUMEL)
    full = init(runs["magnitude_dense"])  # density 1: the complete initial weights
    assert masks(runs["magnitude_dense"]).nnz == NUMEL
    kept = torch.cat([full[n][inverted[n]].abs() for n in LAYERS])
    pruned = torch.cat([full[n][~inverted[n]].abs() for n in LAYERS])
    assert kept.max() <= pruned.min()
    # The plain run keeps the largest ones: the two masks are disjoint.
    plain = masks(runs["magnitude"])
    assert all(not bool((plain[n] & inverted[n]).any()) for n in LAYERS)
    state = init(tmp_path)
    for name in LAYERS:
        assert torch.equal(state[name], full[name] * inverted[name])
    assert report(tmp_path)["ablation"] == "invert"


def test_reinit_ablation_keeps_the_mask_and_draws_new_weights(runs: dict[str, Path], tmp_path: Path) -> None:
    result = prune(tmp_path, "--pruner", "magnitude", "--density", "0.05", "--ablation", "reinit")
    assert result.rc == 0, result.err
    m = masks(tmp_path)
    assert m == masks(runs["magnitude"])
    plain_state, state = init(runs["magnitude"]), init(tmp_path)
    assert state.keys() == plain_state.keys()
    for name in LAYERS:
        kept_new, kept_old = state[name][m[name]], plain_state[name][m[name]]
        assert bool((state[name][~m[name]] == 0).all())
        assert bool((kept_new != kept_old).all()), name
        # Fresh draws are not chosen for magnitude: they are no longer all large.
        assert kept_new.abs().min() < kept_old.abs().min()
    assert report(tmp_path)["ablation"] == "reinit"


# -- run ---------------------------------------------------------------------------------------


def subcommands() -> list[str]:
    from argparse import _SubParsersAction

    from noprune.cli import build_parser

    (sub,) = (a for a in build_parser()._actions if isinstance(a, _SubParsersAction))
    return sorted(sub.choices)


@pytest.mark.parametrize(
    "argv", [[], *([name] for name in subcommands())], ids=lambda a: " ".join(a) or "noprune"
)
def test_every_help_prints_and_exits_0(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """`noprune --help` once died in argparse on a bare % in the bench help ("% of peak")."""
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--help"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: noprune {' '.join(argv)}".rstrip())


def test_run_quick_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "quick", "--help"])
    assert exit_info.value.code == 0
    captured = capsys.readouterr()
    assert "usage: noprune run" in captured.out
    for flag in ("--set", "--executor", "--workers", "--store", "--device"):
        assert flag in captured.out


@pytest.mark.parametrize("command", ["run", "leaderboard", "plot"])
def test_metric_help_names_the_metrics_the_suites_tabulate(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for metric in ("test_accuracy", "memorised_fraction", "information_lower", "peff_high"):
        assert metric in text


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    import noprune

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0 and capsys.readouterr().out.strip() == f"noprune {noprune.__version__}"


def test_run_quick_help_through_subprocess() -> None:
    proc = subprocess_cli("run", "quick", "--help")
    assert proc.returncode == 0
    assert "usage: noprune run" in proc.stdout
    assert proc.stderr == ""


def test_run_unknown_suite() -> None:
    result = cli("run", "bogus")
    assert result.rc == 2
    assert result.err.splitlines() == [result.err.strip()]
    assert "unknown suite 'bogus'" in result.err


@pytest.mark.slow
def test_run_quick_suite(tmp_path: Path) -> None:
    """The README's main job, end to end: 126 runs, a leaderboard, a plot and a CSV."""
    result = cli(
        "run",
        "quick",
        "--device",
        "cpu",
        "--no-progress",
        "--store",
        str(tmp_path / "s.sqlite"),
        "--results",
        str(tmp_path / "results"),
    )
    assert result.rc == 0, result.err
    assert "126 done, 0 failed" in result.out
    rows = [line for line in result.out.splitlines() if line.startswith("| ") and "±" in line]
    assert [r.split("|")[1].strip() for r in rows] == list(pruners.PRUNERS)
    assert all(r.count("(3)") == 6 for r in rows)  # six densities, three seeds each
    written = {p.name for p in (tmp_path / "results" / "quick").iterdir()}
    assert {
        "leaderboard.md",
        "test_accuracy.png",
        "test_accuracy.pdf",
        "runs.csv",
        "provenance.json",
    } <= written


def test_bench_rejects_unknown_cases_with_one_line() -> None:
    result = cli("bench", "--cases", "a,z")
    assert result.rc == 2
    assert result.err.count("\n") == 1 and "z" in result.err


def test_prune_biases_counts_every_parameter_of_the_toy(tmp_path: Path) -> None:
    result = cli(
        "prune",
        "--pruner",
        "magnitude",
        "--model",
        "mlp:4",
        "--data",
        "toy",
        "--density",
        "0.1",
        "--prune-biases",
        "--out",
        str(tmp_path),
    )
    assert result.rc == 0, result.err
    assert "kept 2 of 21 parameters (weights and biases)" in result.out
    rep = report(tmp_path)
    assert list(rep["per_layer"]) == ["fc1.weight", "fc1.bias", "out.weight", "out.bias"]
    assert rep["config"]["prune"]["biases"] is True


def test_a_reader_that_stops_early_gets_no_traceback() -> None:
    """``noprune list | head -1``: the pipe closes under noprune; it exits quietly."""
    import subprocess
    import sys

    listing = subprocess.Popen(
        [sys.executable, "-m", "noprune", "list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    listing.stdout.readline()
    listing.stdout.close()  # the reader goes away before the listing ends
    err = listing.stderr.read().decode()
    assert listing.wait(timeout=60) == 0 and "Traceback" not in err and "BrokenPipe" not in err
