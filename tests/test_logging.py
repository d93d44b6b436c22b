"""Messages, results and progress bars: results on standard output at every level; what was
written and done on standard error (none with --quiet, each job too with --verbose); bars only
where a command turns them on and standard error is a terminal."""

from __future__ import annotations

import io

import pytest

from noprune import progress
from noprune.cli import main
from tests.test_bad_inputs import TINY


@pytest.fixture
def suite(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    return path


@pytest.mark.parametrize("where", ["before", "after"])
def test_quiet_leaves_results_and_drops_messages(tmp_path, suite, capsys, where):
    args = ["run", str(suite), "--store", str(tmp_path / "s.sqlite"), "--results", str(tmp_path / "r")]
    argv = ["-q", *args] if where == "before" else [*args, "--quiet"]
    assert main([*argv, "--executor", "serial"]) == 0
    out, err = capsys.readouterr()
    assert "| magnitude" in out and "done, 0 failed" not in out  # the results alone
    assert err == ""  # no "suite tiny: ...", no "wrote ...", no bar
    provenance = (tmp_path / "r" / "tiny" / "provenance.json").read_text()
    assert "-q" not in provenance and "--quiet" not in provenance  # how loud is not how it was made


def test_default_and_verbose_messages_go_to_standard_error(tmp_path, suite, capsys):
    base = ["run", str(suite), "--results", str(tmp_path / "r"), "--executor", "serial", "--no-progress"]
    assert main([*base, "--store", str(tmp_path / "a.sqlite")]) == 0
    out, err = capsys.readouterr()
    assert "suite tiny: 2 runs" in err and "wrote " in err and "wrote " not in out
    assert "done " not in err  # jobs only with --verbose
    assert main(["-v", *base, "--store", str(tmp_path / "b.sqlite")]) == 0
    err = capsys.readouterr().err
    assert err.count("done ") == 2 and "magnitude density 0.5 seed 0" in err
    assert main(["-q", "-v", "list"]) == 2  # one or the other


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bars_draw_only_when_shown_and_on_a_terminal(monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    with progress.bar(5, "training") as bar:
        bar.update(5)
    assert terminal.getvalue() == ""  # not turned on: a library call or a worker
    with progress.shown(), progress.bar(5, "training") as bar:
        bar.update(5)
    assert "training:" in terminal.getvalue() and "/5 [" in terminal.getvalue()
    piped = io.StringIO()
    monkeypatch.setattr("sys.stderr", piped)
    with progress.shown(), progress.bar(5, "training") as bar:
        bar.update(5)
    assert piped.getvalue() == ""  # not a terminal: no bar in a log file


def test_a_reader_that_stops_early_costs_no_results(tmp_path, suite):
    """`noprune run ... | head -1`: the results folder is written before the tables go to
    standard output, so a closed pipe loses nothing."""
    import os
    import subprocess
    import sys

    command = [sys.executable, "-m", "noprune", "run", str(suite), "--store", str(tmp_path / "s.sqlite")]
    command += ["--results", str(tmp_path / "r"), "--executor", "serial", "--no-progress"]
    shell = " ".join(f"'{c}'" for c in command) + " | head -1"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # each print reaches the pipe at once, as on a terminal
    ran = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, timeout=300, env=env)
    assert ran.stdout.startswith("2 done, 0 failed"), ran.stderr
    assert (tmp_path / "r" / "tiny" / "leaderboard.md").is_file()
    assert (tmp_path / "r" / "tiny" / "runs.csv").is_file()
