"""The package as a user installs it: a built wheel (not an editable install) carries the suites,
its version and its type marker, and runs a suite by name from any folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import noprune

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "noprune", "pruners", "infotheory")


def test_a_built_wheel_runs_a_packaged_suite_from_anywhere(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    for name in SOURCES:  # build from a copy: setuptools writes build/ and egg-info beside it
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "wheel", str(source), "--no-deps", "--no-build-isolation", "-w", tmp_path / "dist"], check=True
    )
    (wheel,) = (tmp_path / "dist").glob("noprune-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {
        "noprune/suites/quick.toml",
        "noprune/py.typed",
        "pruners/py.typed",
        "infotheory/py.typed",
    } <= names
    assert len([n for n in names if n.startswith("noprune/suites/")]) == len(
        list((ROOT / "noprune" / "suites").glob("*.toml"))
    )
    site = tmp_path / "site"
    subprocess.run([*pip, "install", "--no-deps", "--target", site, wheel], check=True)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}

    def noprune_cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "noprune", *args],
            cwd=elsewhere,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    where = subprocess.run(
        [sys.executable, "-c", "import noprune; print(noprune.__file__)"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
    )
    assert Path(where.stdout.strip()).is_relative_to(site)
    assert noprune_cli("--version").stdout.strip() == f"noprune {noprune.__version__}"
    assert "quick" in noprune_cli("list").stdout
    one_run = [
        "--set",
        "prune.pruner=random",
        "--set",
        "prune.density=0.5",
        "--set",
        "seed=0",
        "--set",
        "train.epochs=1",
    ]
    run = noprune_cli(
        "run", "quick", *one_run, "--store", "s.sqlite", "--results", "out", "--workers", "1", "--no-progress"
    )
    assert run.returncode == 0, run.stderr
    assert "1 done, 0 failed" in run.stdout
    assert (elsewhere / "out" / "quick" / "leaderboard.md").is_file()
