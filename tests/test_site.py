"""The static results site: built from a results folder, loading nothing from a network, and
rendered in headless Chromium (Debian's chromium, which .ci/run installs) with its tables,
images and sorting working and no console error."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from noprune.cli import main

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# Put first in <head>: records every error (scripts, failed images or styles, console.error),
# then on load clicks the first table's second header and writes what it saw into <pre id=probe>.
PROBE = """<script>
(function () {
  var errors = [];
  window.addEventListener("error", function (e) {
    var target = e.target && (e.target.src || e.target.href);
    errors.push(target ? "failed to load " + target : String(e.message));
  }, true);
  var original = console.error;
  console.error = function () {
    errors.push(Array.prototype.join.call(arguments, " "));
    original.apply(console, arguments);
  };
  window.addEventListener("load", function () {
    var images = Array.prototype.map.call(document.images, function (i) {
      return [i.getAttribute("src"), i.complete && i.naturalWidth > 0];
    });
    var tables = document.querySelectorAll("table");
    var column = function (t, c) {
      return Array.prototype.map.call(t.tBodies[0].rows, function (r) {
        return r.cells[c].textContent.trim();
      });
    };
    var before = null, after = null, again = null;
    if (tables.length && tables[0].tHead.rows[0].cells.length > 1) {
      before = column(tables[0], 1);
      tables[0].tHead.rows[0].cells[1].click();
      after = column(tables[0], 1);
      tables[0].tHead.rows[0].cells[1].click();
      again = column(tables[0], 1);
    }
    var cells = Array.prototype.map.call(tables, function (t) { return t.querySelectorAll("td").length; });
    var probe = document.createElement("pre");
    probe.id = "probe";
    probe.textContent = JSON.stringify({errors: errors, images: images, cells: cells,
                                        before: before, after: after, again: again});
    document.body.appendChild(probe);
  });
})();
</script>"""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """Committed results: quick (pruners by densities), mi-calibration (an experiment's own
    table), e5-information (rows of the combined report); the report and the site over them."""
    results = tmp_path_factory.mktemp("site") / "results"
    for suite in ("quick", "mi-calibration", "e5-information"):
        shutil.copytree(ROOT / "results" / suite, results / suite)
    assert main(["report", "--results", str(results)]) == 0
    assert main(["site", "--results", str(results)]) == 0
    return results


def test_every_suite_has_a_page_and_nothing_loads_from_a_network(site):
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    assert pages == [
        "e5-information/index.html",
        "index.html",
        "mi-calibration/index.html",
        "quick/index.html",
        "report.html",
    ]
    for page in pages:
        text = (site / page).read_text()
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", text), page
        assert "<link" not in text and "@import" not in text
    index = (site / "index.html").read_text()
    assert 'href="quick/index.html"' in index and "288" in index  # done runs, from provenance.json
    quick = (site / "quick" / "index.html").read_text()
    assert "noprune run quick" in quick and 'src="test_accuracy.png"' in quick and "<table>" in quick


def test_the_site_is_the_same_bytes_when_built_again(site):
    before = {p: p.read_bytes() for p in site.rglob("*.html")}
    assert main(["site", "--results", str(site)]) == 0
    assert {p: p.read_bytes() for p in site.rglob("*.html")} == before


def test_site_without_results_is_one_clear_error(tmp_path, capsys):
    assert main(["site", "--results", str(tmp_path)]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def render(page: Path) -> tuple[dict, str]:
    """Load ``page`` (with the probe) in headless Chromium; the probe's findings and stderr."""
    probed = page.with_name("probe-" + page.name)
    probed.write_text(page.read_text().replace("<head>", "<head>\n" + PROBE, 1))
    profile = page.parent / ".chromium-profile"
    ran = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--allow-file-access-from-files",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--virtual-time-budget=5000",
            "--dump-dom",
            probed.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    probed.unlink()
    shutil.rmtree(profile, ignore_errors=True)
    found = re.search(r'<pre id="probe">(.*?)</pre>', ran.stdout, re.S)
    assert found, (ran.returncode, ran.stderr[-2000:])
    return json.loads(html.unescape(found.group(1))), ran.stderr


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (Debian: apt-get install chromium)")
@pytest.mark.parametrize(
    "page",
    [
        "index.html",
        "quick/index.html",
        "mi-calibration/index.html",
        "e5-information/index.html",
        "report.html",
    ],
)
def test_pages_render_in_headless_chromium_with_no_console_error(site, page):
    probe, stderr = render(site / page)
    assert probe["errors"] == [], probe["errors"]
    assert not [line for line in stderr.splitlines() if ":CONSOLE" in line and "rror" in line]
    assert probe["cells"] and all(n > 0 for n in probe["cells"])  # every table has cells
    assert all(ok for _, ok in probe["images"]), probe["images"]  # every image decoded
    if page == "quick/index.html":
        assert len(probe["images"]) == 1 and len(probe["cells"]) == 1
        # a click sorts the 0.5 column by value ("97.7 ± 0.6 (3)" by 97.7), a second reverses it
        values = [float(cell.split()[0]) for cell in probe["after"]]
        assert values == sorted(values) and probe["after"] != probe["before"]
        values = [float(cell.split()[0]) for cell in probe["again"]]
        assert values == sorted(values, reverse=True)


def test_the_committed_site_is_what_noprune_site_draws_from_the_committed_results(tmp_path):
    """results/index.html, report.html and each suite's index.html reproduce byte for byte from
    the files the site reads (leaderboard.md, provenance.json, report.md)."""
    from noprune.cli import cmd_site

    committed = ROOT / "results"
    for leaderboard in committed.glob("*/leaderboard.md"):
        folder = tmp_path / leaderboard.parent.name
        folder.mkdir()
        shutil.copy(leaderboard, folder)
        shutil.copy(leaderboard.parent / "provenance.json", folder)
    shutil.copy(committed / "report.md", tmp_path)
    cmd_site(type("Args", (), {"results": str(tmp_path)})())
    drawn = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*.html")}
    assert drawn == {p.relative_to(committed): p.read_bytes() for p in committed.rglob("*.html")}
