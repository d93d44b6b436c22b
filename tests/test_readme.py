"""The README tells the truth: every local link and image resolves, its tables are the committed
leaderboards' numbers, and its `noprune mi` example prints what the README shows when rerun.

Each check is a function of the README's text, so a test can also feed it a README with one
thing broken and see it fail."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = [README, *sorted((ROOT / "docs").glob("*.md"))]
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def broken_links(doc: Path, text: str) -> list[str]:
    """The local targets of ``[text](target)`` and ``![alt](target)`` in ``text`` that do not exist."""
    targets = re.findall(r"!?\[[^\]]*\]\(([^)\s]+)\)", text)
    local = [t.split("#")[0] for t in targets if not re.match(r"[a-z]+://|mailto:|#", t)]
    return [t for t in local if not (doc.parent / t).exists()]


def tables(text: str) -> list[tuple[int, list[list[str]]]]:
    """Every markdown table: (index of its first line, rows of stripped cells), the
    separator line dropped."""
    found: list[tuple[int, list[list[str]]]] = []
    lines = text.splitlines()
    start = None
    for i, line in enumerate([*lines, ""]):
        if line.startswith("|") and start is None:
            start = i
        elif not line.startswith("|") and start is not None:
            rows = [[c.strip() for c in row.strip().strip("|").split("|")] for row in lines[start:i]]
            found.append((start, [r for r in rows if not set("".join(r)) <= set("-: ")]))
            start = None
    return found


def leaderboard_means(path: Path) -> dict[tuple[str, str], str]:
    """{(pruner, density): mean as printed} of the first pruner-by-density table of a
    leaderboard.md that has the cell (a cell reads ``mean ± std (n)``, perhaps in bold)."""
    means: dict[tuple[str, str], str] = {}
    for _, rows in tables(path.read_text()):
        if not rows[0][0].startswith("pruner"):
            continue
        for row in rows[1:]:
            for density, cell in zip(rows[0][1:], row[1:], strict=True):
                number = NUMBER.search(cell.replace("*", ""))
                if number:
                    means.setdefault((row[0], density), number.group())
    return means


def half_unit(printed: str) -> float:
    """Half a unit in the last digit of a printed number: how far rounding moved it."""
    return 0.5 * 10.0 ** -len(printed.partition(".")[2]) + 1e-12


def table_mismatches(text: str) -> list[str]:
    """README tables of pruners (rows) by density (columns) against the leaderboard.md the text
    before each cites last: each README number must be that cell's mean as the README rounds it."""
    lines = text.splitlines()
    wrong: list[str] = []
    for start, rows in tables(text):
        if rows[0][0] != "density":
            continue
        before = "\n".join(lines[max(0, start - 6) : start])
        cited = re.findall(r"\((results/[\w.-]+/leaderboard\.md)\)", before)
        assert cited, f"README line {start + 1}: a table of densities that cites no leaderboard"
        means = leaderboard_means(ROOT / cited[-1])
        for row in rows[1:]:
            for density, cell in zip(rows[0][1:], row[1:], strict=True):
                shuffled = density.endswith(" shuffled")  # the shuffle ablation's pruner+shuffle rows
                key = (
                    (row[0] + "+shuffle", density.removesuffix(" shuffled"))
                    if shuffled
                    else (row[0], density)
                )
                mean = means.get(key)
                if mean is None or abs(float(mean) - float(cell)) > half_unit(cell) + half_unit(mean):
                    wrong.append(f"{row[0]} at {density}: README {cell}, {cited[-1]} {mean}")
    return wrong


def test_every_local_link_and_image_in_the_readme_and_docs_resolves() -> None:
    assert {str(d): broken_links(d, d.read_text()) for d in DOCS} == {str(d): [] for d in DOCS}
    assert broken_links(README, README.read_text() + "\n![gone](results/quick/nothing.png)\n") == [
        "results/quick/nothing.png"
    ]


def test_the_quick_table_is_the_committed_leaderboard_line_for_line() -> None:
    committed = (ROOT / "results" / "quick" / "leaderboard.md").read_text().splitlines()
    start = next(
        i for i, (at, rows) in enumerate(tables(README.read_text())) if rows[0][0] == "pruner \\ density"
    )
    at, _ = tables(README.read_text())[start]
    lines = README.read_text().splitlines()
    block = lines[at : lines.index("", at)]
    assert len(block) == 18 and all(line in committed for line in block)


def test_tables_of_densities_are_the_cited_leaderboards_numbers() -> None:
    text = README.read_text()
    assert table_mismatches(text) == []
    broken = text.replace("| imp | 1 | 1 | 0.999 | 0.978 |", "| imp | 1 | 1 | 0.999 | 0.987 |")
    assert broken != text and table_mismatches(broken) == [
        "imp at 0.02: README 0.987, results/e1-memorization/leaderboard.md 0.9777"
    ]


def mi_example(text: str) -> tuple[str, str, str]:
    """The `noprune mi` section's Python snippet, command and printed block."""
    section = text[text.index("### How much does a mask know about its data?") :]
    snippet = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    command = re.search(r"```bash\n(noprune mi [^\n#]*)", section).group(1).split()
    printed = re.search(r"printed \(.*?\):\n\n```\n(.*?)```", section, re.S).group(1)
    return snippet, " ".join(command), printed


def same_up_to_rounding(shown: str, rerun: str, rtol: float = 0.05, atol: float = 0.3) -> bool:
    """The same words, and every number within ``rtol`` (plus ``atol`` from 1 up: the bounds move between
    CPUs: BLAS sums in another order move a decoder's held-out error in its fourth digit, and a
    Fano bound of a few bits by a few tenths)."""
    if NUMBER.sub("#", shown) != NUMBER.sub("#", rerun):
        return False
    pairs = zip(NUMBER.findall(shown), NUMBER.findall(rerun), strict=True)
    return all(
        abs(float(a) - float(b)) <= rtol * abs(float(a)) + (atol if abs(float(a)) >= 1 else 0.0)
        for a, b in pairs
    )


def test_the_mi_example_prints_what_the_readme_shows(tmp_path) -> None:
    """The snippet makes 256 SNIP masks, the command bounds them (10 s on two cores)."""
    snippet, command, printed = mi_example(README.read_text())
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", snippet], cwd=tmp_path, env=env, check=True, capture_output=True)
    masks = sorted(str(p.relative_to(tmp_path)) for p in (tmp_path / "runs" / "mi").glob("m*.safetensors"))
    args = [a for a in command.split()[2:] if not a.startswith("runs/mi/m*")]
    result = subprocess.run(
        [sys.executable, "-m", "noprune", "mi", *masks, *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert same_up_to_rounding(printed, result.stdout), result.stdout
    assert not same_up_to_rounding(printed.replace("I >= 4.60 bits", "I >= 6.60 bits"), result.stdout)


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.name)
def test_no_doc_points_at_a_file_that_is_gone(doc: Path) -> None:
    """Paths in backticks under results/ name files or folders that exist."""
    named = re.findall(r"`(results/[\w./-]+)`", doc.read_text())
    assert [n for n in named if "*" not in n and "SUITE" not in n and not (ROOT / n).exists()] == []
