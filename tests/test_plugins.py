"""Pruners from other installed distributions: the ``noprune.pruners`` entry-point group.

The test builds a tiny distribution (one module, one entry point), installs it with pip into a
temporary folder, and runs noprune in fresh interpreters that have the folder on their path:
``noprune list`` shows the pruner, and a sweep on the process executor (spawned workers) runs
it, the ensemble engine included, into the store, the leaderboard and runs.csv.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import has_row

PLUGIN = '''
import dataclasses

import torch

import pruners


@dataclasses.dataclass
class GradientMagnitude(pruners.ScoringPruner):
    """|dL/dtheta| on the scoring batch: keeps the weights the loss is most sensitive to."""

    name = "grad_magnitude"
    description = "largest |dL/dtheta| on one batch (a plugin from another distribution)"
    uses_data = True
    order = 2.5
    color = "tab:cyan"

    def score(self, net, masks, batch):
        copy = net.masked_copy(masks)
        theta = copy.targets()
        return [g.abs() for g in torch.autograd.grad(copy.loss(batch), theta)]
'''

PLUGIN_EXTRAS = '''

def tiny_net(options, input_shape, num_classes):
    """tiny_net:W, a one-hidden-layer ReLU network (a plugin model)"""
    width = int(options or 8)
    inputs = int(torch.Size(input_shape).numel())
    return torch.nn.Sequential(
        torch.nn.Flatten(),
        torch.nn.Linear(inputs, width),
        torch.nn.ReLU(),
        torch.nn.Linear(width, num_classes),
    )


def blobs(*, seed, n=40, d=6):
    """two Gaussian blobs in R^d (a plugin data set)"""
    from noprune.data import Dataset

    g = torch.Generator().manual_seed(seed)
    y = torch.arange(2 * n) % 2
    x = torch.randn(2 * n, d, generator=g) + 2.0 * y[:, None]
    return Dataset("blobs", x[:n], y[:n], x[n:], y[n:], 2, "classification")
'''

PYPROJECT = """
[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "noprune-demo-plugin"
version = "0.1.0"

[project.entry-points."noprune.pruners"]
grad_magnitude = "noprune_demo_plugin:GradientMagnitude"

[project.entry-points."noprune.models"]
tiny_net = "noprune_demo_plugin:tiny_net"

[project.entry-points."noprune.datasets"]
blobs = "noprune_demo_plugin:blobs"

[tool.setuptools]
py-modules = ["noprune_demo_plugin"]
"""

SUITE = """
name = "plugin"
description = "a sweep of a plugin pruner beside random"
[fixed]
data = "gaussian:n=40,d=10,n_test=50"
model = "mlp:16,16"
train.epochs = 5
train.batch_size = 8
train.lr = 0.05
[grid]
"prune.pruner" = ["random", "grad_magnitude"]
"prune.density" = [0.5, 0.1]
seed = [0, 1]
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plugin distribution, built and installed by pip into a folder of its own."""
    source = tmp_path_factory.mktemp("plugin-source")
    (source / "pyproject.toml").write_text(PYPROJECT)
    (source / "noprune_demo_plugin.py").write_text(textwrap.dedent(PLUGIN) + PLUGIN_EXTRAS)
    target = tmp_path_factory.mktemp("plugin-site")
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation"]
    subprocess.run([*command, "--no-index", "--target", str(target), str(source)], check=True)
    assert list(target.glob("noprune_demo_plugin-0.1.0.dist-info/entry_points.txt"))
    return target


def noprune(site: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-m", "noprune", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_an_installed_plugin_pruner_is_listed(site: Path, tmp_path: Path) -> None:
    listed = noprune(site, "list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    pruners_section = listed.stdout.split("ablations:")[0]
    assert "largest |dL/dtheta| on one batch (a plugin from another distribution)" in pruners_section
    # its order (2.5) puts it between snip and grasp
    names = [line.split()[0] for line in pruners_section.splitlines()[1:] if line.strip()]
    assert names.index("snip") < names.index("grad_magnitude") < names.index("grasp")
    assert "tiny_net:W, a one-hidden-layer ReLU network (a plugin model)" in listed.stdout.split("models:")[1]
    assert "two Gaussian blobs in R^d (a plugin data set)" in listed.stdout.split("data sets:")[1]


def test_a_plugin_pruner_runs_through_a_sweep_on_the_process_executor(site: Path, tmp_path: Path) -> None:
    suite = tmp_path / "plugin.toml"
    suite.write_text(SUITE)
    store, results = tmp_path / "s.sqlite", tmp_path / "results"
    args = ("run", str(suite), "--store", str(store), "--results", str(results), "--no-progress")
    ran = noprune(site, *args, "--executor", "process", "--workers", "2", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "8 done, 0 failed" in ran.stdout
    assert has_row((results / "plugin" / "leaderboard.md").read_text(), "grad_magnitude")
    with open(results / "plugin" / "runs.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["prune.pruner"] == "grad_magnitude"]  # flat columns
    assert len(rows) == 4 and all(r["status"] == "done" for r in rows)
    # seeds of one density ran as one ensemble: the rule written once runs on the stacked path
    assert all(int(r["ensemble_size"]) >= 2 for r in rows)
    # and the single-model path (noprune prune) takes the name too
    pruned = noprune(
        site, "prune", "--pruner", "grad_magnitude", "--model", "mlp:16", "--data", "gaussian:n=40,d=10",
        "--density", "0.2", "--out", str(tmp_path / "one"), cwd=tmp_path,
    )  # fmt: skip
    assert pruned.returncode == 0, pruned.stderr


def test_a_plugin_model_and_data_set_run_through_a_sweep(site: Path, tmp_path: Path) -> None:
    suite = tmp_path / "models.toml"
    suite.write_text(
        SUITE.replace('data = "gaussian:n=40,d=10,n_test=50"', 'data = "blobs:n=30"')
        .replace('model = "mlp:16,16"', 'model = "tiny_net:12"')
        .replace('name = "plugin"', 'name = "plugin-models"')
    )
    store, results = tmp_path / "s.sqlite", tmp_path / "results"
    args = ("run", str(suite), "--store", str(store), "--results", str(results), "--no-progress")
    ran = noprune(site, *args, "--executor", "process", "--workers", "2", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "8 done, 0 failed" in ran.stdout
    assert "blobs:n=30 / tiny_net:12" in (results / "plugin-models" / "leaderboard.md").read_text()
