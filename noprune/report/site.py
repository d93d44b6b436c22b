"""A static results site over a results folder: ``index.html`` (every suite, what it is, how many
runs, how long they took), one ``SUITE/index.html`` per suite (its notes, the command and
provenance that made it, its leaderboard tables, sortable, and its figures) and ``report.html``
(the combined report, ``noprune report``, with E7's figure).

Everything is drawn from what the folder already holds (``leaderboard.md``, the figures,
``provenance.json``, ``report.md``) and the packaged suite files; the pages load nothing from a
network (styles and the sorting script are inline) and are written in a fixed order with no
time stamps, so the same results give the same bytes.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import markdown

from noprune.paths import write_text

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 80em; padding: 0 1em; color: #222; }
nav a { margin-right: 1em; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; }
th { background: #f3f3f3; cursor: pointer; user-select: none; }
th[aria-sort="ascending"]::after { content: " \\25B2"; }
th[aria-sort="descending"]::after { content: " \\25BC"; }
tbody tr:nth-child(even) { background: #fafafa; }
img { max-width: 100%; border: 1px solid #eee; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1em; }
dt { font-weight: bold; }
dd { margin: 0; }
code { background: #f3f3f3; padding: 0 0.2em; }
"""

#: Click a header to sort its table by that column (numbers by value, the rest as text); click
#: again to reverse. Cells like "97.7 ± 0.6 (3)" sort by their leading number.
SORT_SCRIPT = """
document.querySelectorAll("table").forEach(function (table) {
  var body = table.tBodies[0];
  if (!body || !table.tHead) return;
  table.tHead.querySelectorAll("th").forEach(function (th, column) {
    th.addEventListener("click", function () {
      var up = th.getAttribute("aria-sort") !== "ascending";
      table.tHead.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", up ? "ascending" : "descending");
      var key = function (row) {
        var text = row.cells[column] ? row.cells[column].textContent.trim() : "";
        var number = parseFloat(text.replace(/^[<>~\\s]+/, ""));
        return isNaN(number) ? text : number;
      };
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        var order = typeof x === typeof y ? (x < y ? -1 : x > y ? 1 : 0) : typeof x === "number" ? -1 : 1;
        return up ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""


def write_site(results: Path, suites: Callable[[str], dict[str, str]] | None = None) -> list[Path]:
    """Write the site into ``results`` (beside the suite folders); returns the pages written.
    ``suites(name)`` gives a suite's ``description`` and ``notes`` where it knows the suite."""
    about = suites or (lambda name: {})
    folders = sorted(p.parent for p in results.glob("*/leaderboard.md"))
    report = (results / "report.md").is_file()
    pages = [_index(results, folders, about, report)]
    pages += [_suite_page(folder, about(folder.name), report) for folder in folders]
    if report:
        body = _markdown((results / "report.md").read_text())
        pages.append(_write(results / "report.html", "Combined report", _nav(".", report), body))
    return pages


def _index(results: Path, folders: list[Path], about: Callable[[str], dict[str, str]], report: bool) -> Path:
    rows = []
    for folder in folders:
        provenance = _provenance(folder)
        runs = provenance.get("runs", {})
        seconds = provenance.get("compute_seconds")
        rows.append(
            "<tr>"
            f'<td><a href="{_url(folder.name)}/index.html">{_text(folder.name)}</a></td>'
            f"<td>{_text(about(folder.name).get('description', ''))}</td>"
            f"<td>{runs.get('done', '')}</td><td>{runs.get('failed', '')}</td>"
            f"<td>{'' if seconds is None else f'{seconds:,.0f}'}</td>"
            "</tr>"
        )
    table = (
        "<table><thead><tr><th>suite</th><th>what it runs</th><th>done</th><th>failed</th>"
        "<th>compute seconds</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )
    body = (
        "<p>Every suite's leaderboard, figures and provenance; each number comes from the runs in "
        "the suite's <code>runs.csv</code>.</p>"
    )
    if report:
        body += (
            '<p><a href="report.html">The combined report</a>: nnz, information bounds, p_eff, '
            "memorisation and Lipschitz side by side, across suites.</p>"
        )
    return _write(results / "index.html", "noprune results", _nav(".", report), body + table)


def _suite_page(folder: Path, about: dict[str, str], report: bool) -> Path:
    provenance = _provenance(folder)
    parts = [f"<p>{_text(about['description'])}</p>"] if about.get("description") else []
    if about.get("notes"):
        parts.append(f"<p><em>{_text(about['notes'])}</em></p>")
    if provenance:
        parts.append("<h2>How it was made</h2>" + _provenance_list(provenance))
    parts.append(
        '<p>Data: <a href="runs.csv">runs.csv</a> (one row per run, a column per config field '
        'and metric) and <a href="leaderboard.md">leaderboard.md</a>.</p>'
    )
    # leaderboard.md shows the suite's figures itself (noprune.report.results.figure_links)
    parts.append("<h2>Leaderboard</h2>" + _markdown(_without_title(folder / "leaderboard.md")))
    return _write(folder / "index.html", f"Suite {folder.name}", _nav("..", report), "".join(parts))


def _provenance(folder: Path) -> dict[str, Any]:
    try:
        return json.loads((folder / "provenance.json").read_text())
    except (OSError, ValueError):
        return {}


def _provenance_list(provenance: dict[str, Any]) -> str:
    items = []
    for key, value in provenance.items():
        if isinstance(value, dict):
            shown = ", ".join(f"{k} {v}" for k, v in value.items())
        elif isinstance(value, list):
            shown = ", ".join(map(str, value))
        elif isinstance(value, float):
            shown = f"{value:,.1f}"
        else:
            shown = str(value)
        cell = f"<code>{_text(shown)}</code>" if key == "command" else _text(shown)
        items.append(f"<dt>{_text(key.replace('_', ' '))}</dt><dd>{cell}</dd>")
    return "<dl>" + "".join(items) + "</dl>"


def _without_title(path: Path) -> str:
    """A leaderboard.md without its first heading (the page has its own)."""
    text = path.read_text()
    return text.split("\n", 1)[1] if text.startswith("# ") else text


def _markdown(text: str) -> str:
    return markdown.markdown(text, extensions=["tables"], output_format="html")


def _nav(root: str, report: bool) -> str:
    links = f'<a href="{root}/index.html">all suites</a>'
    links += f'<a href="{root}/report.html">combined report</a>' if report else ""
    return f"<nav>{links}</nav>"


def _write(path: Path, title: str, nav: str, body: str) -> Path:
    page = (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_text(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"{nav}\n<h1>{_text(title)}</h1>\n{body}\n<script>{SORT_SCRIPT}</script>\n</body>\n</html>\n"
    )
    write_text(path, page)
    return path


def _text(value: str) -> str:
    return html.escape(value, quote=True)


def _url(name: str) -> str:
    return html.escape(quote(name), quote=True)
