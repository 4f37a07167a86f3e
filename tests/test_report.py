"""The HTML report (yanreform.apps.report, ``yanreform report``): content, self-containment, and a render in
headless Chromium (DOM checked, no console message, screenshot kept under the test's tmp dir)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from yanreform.apps.report import render_report, report_for_collection, report_for_file, write_report
from yanreform.library import Library

REPO = Path(__file__).resolve().parent.parent
BUNDLED = REPO / "corpus" / "yancheng-2024-reform-cases.txt"


def _next_year(tmp_path: Path) -> Path:
    text = BUNDLED.read_text(encoding="utf-8").replace("2024", "2025")
    text = text.replace("打造“智慧法鹰”持续深化法治公安建设", "深化“智慧法鹰”应用建设法治公安")
    p = tmp_path / "yancheng-2025.txt"
    p.write_text(text, encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def two_years(tmp_path_factory, fake_tagger):
    tmp = tmp_path_factory.mktemp("report")
    lib = Library(tmp / "lib.sqlite", tagger=fake_tagger)
    lib.add(BUNDLED, year=2024)
    cid = lib.add(_next_year(tmp), year=2025)
    yield lib, cid
    lib.close()


@pytest.fixture(scope="module")
def report_html(two_years) -> str:
    lib, cid = two_years
    return render_report(report_for_collection(lib, cid))


def test_every_case_has_a_section_with_chips_evidence_related_and_resubmissions(two_years, report_html):
    lib, cid = two_years
    cases = lib.cases(collection=cid)
    ids = re.findall(r'<section class="case" id="[^"]+" data-case-id="([^"]+)"', report_html)
    assert ids == [c.id for c in cases]
    for c in cases:
        assert report_html.count(f'href="#case-{c.id}"') >= 2  # table of contents and heatmap row
    tagged = [t for c in cases for i in c.initiatives for t in i.tags]
    assert report_html.count('data-code="') >= len(tagged)  # a chip per tag (plus highlights)
    assert "<mark " in report_html  # evidence highlighted in the text
    assert report_html.count("<h3>相关的往年案例 Related earlier cases</h3>") == len(cases)
    assert report_html.count("class='reason'") >= len(cases)  # every case has an earlier related case here
    assert "yancheng-2024-reform-cases-01" in report_html  # the earlier case named
    resub = report_html[report_html.index('id="resubmissions"') : report_html.index('<section class="case"')]
    assert resub.count('<span class="kind resubmission">') == 10
    assert '<table class="spans">' in resub


def test_heatmap_and_counts(two_years, report_html):
    lib, cid = two_years
    cases = lib.cases(collection=cid)
    heat = report_html[report_html.index('<div class="heatmap">') : report_html.index("</table></div>")]
    assert heat.count('<tr><td class="case">') == len(cases)
    codes = {code for c in cases for code in c.codes}
    assert heat.count('class="cat"') == len(codes)
    filled = sum(len(c.codes) for c in cases)
    assert heat.count('<td class="cell" style="background:rgba(') == filled


def test_report_is_self_contained_and_printable(report_html):
    assert report_html.startswith("<!DOCTYPE html>")
    for needle in ("http://", "https://", "src=", "@import", "url(", "<link"):
        assert needle not in report_html, needle
    assert "@media print" in report_html and "@page" in report_html
    assert "Noto Sans CJK SC" in report_html and "Microsoft YaHei" in report_html
    assert '<html lang="zh-CN">' in report_html and '<meta charset="utf-8">' in report_html


def test_report_for_a_file_outside_the_library(two_years, tmp_path):
    lib, _ = two_years
    p = tmp_path / "incoming.txt"
    p.write_text(BUNDLED.read_text(encoding="utf-8").replace("2024", "2026"), encoding="utf-8")
    data = report_for_file(lib, p, year=2026, k_related=2)
    assert [c.id for c in data.cases] == [f"incoming-{n:02d}" for n in range(1, 11)]
    assert all(c.initiatives[0].tags is not None for c in data.cases)
    assert all(len(r) == 2 and all(x.year < 2026 for x in r) for r in data.related.values())
    assert {d.kind for d in data.dupes} == {"resubmission"} and len(data.dupes) >= 10
    out = write_report(data, tmp_path / "incoming.html")
    html = out.read_text(encoding="utf-8")
    assert html.count('<section class="case"') == 10
    assert len(lib.collections()) == 2  # the file was not imported


@pytest.mark.slow  # a subprocess (Python start-up): full suite only
def test_cli_report_without_a_model(tmp_path, capsys):
    """``report --related 0`` of a text-only library needs no model: the console path runs it as a user
    would (a subprocess, so loading torch would show)."""
    libp = str(tmp_path / "lib.sqlite")
    with Library(libp) as lib:  # the default tagger is never loaded: nothing is tagged
        lib.add(BUNDLED, year=2024, tag=False)
    env = {**os.environ, "PYTHONPATH": str(REPO), "YANREFORM_HOME": str(tmp_path / "home")}
    out = tmp_path / "r.html"
    code = (
        "import sys, yanreform.apps.cli as c; rc = c.main(sys.argv[1:]); "
        "print('torch' in sys.modules); sys.exit(rc)"
    )
    r = subprocess.run(
        [sys.executable, "-c", code, "report", "yancheng-2024-reform-cases", "-o", str(out), "--related", "0",
         "--library", libp],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"  # no model loaded
    assert (
        "report: 10 cases" in r.stderr
        and out.read_text(encoding="utf-8").count('<section class="case"') == 10
    )
    from yanreform.apps.cli import main

    capsys.readouterr()  # (log lines of the import above, when an earlier CLI test left its handler)
    assert main(["report", "nope", "-o", str(out), "--library", libp]) == 2
    err = capsys.readouterr().err
    assert "neither a file nor a collection" in err and len(err.strip().splitlines()) == 1


# ---------------------------------------------------------------------------------------------- in a browser

_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-extensions",
    "--hide-scrollbars",
]  # fmt: skip


def _chromium() -> str:
    """The Chromium binary, installed by scripts/system-deps.sh when missing and possible; skips otherwise."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
        if found:
            return found
    subprocess.run(["bash", str(REPO / "scripts" / "system-deps.sh")], capture_output=True, timeout=900)
    found = shutil.which("chromium")
    if not found:
        pytest.skip(
            "Chromium is not installed and scripts/system-deps.sh could not install it (needs apt and root)"
        )
    return found


@pytest.mark.slow
def test_report_renders_in_headless_chromium(two_years, report_html, tmp_path):
    lib, cid = two_years
    exe = _chromium()
    page = tmp_path / "report.html"
    page.write_text(report_html, encoding="utf-8")
    url = page.resolve().as_uri()
    r = subprocess.run(
        [exe, *_FLAGS, f"--user-data-dir={tmp_path / 'profile-dom'}", "--enable-logging=stderr", "--v=0",
         "--virtual-time-budget=5000", "--dump-dom", url],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    dom = r.stdout
    cases = lib.cases(collection=cid)
    assert re.findall(r'data-case-id="([^"]+)"', dom) == [c.id for c in cases]
    assert f'data-ready="{len(cases)}"' in dom  # the inline script ran to its end
    console = [ln for ln in r.stderr.splitlines() if ":CONSOLE" in ln]
    assert console == [], console  # the report logs nothing: any console line is an error or a stray log
    shot = tmp_path / "report.png"
    s = subprocess.run(
        [exe, *_FLAGS, f"--user-data-dir={tmp_path / 'profile-shot'}", "--window-size=1100,1600",
         f"--screenshot={shot}", url],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert s.returncode == 0 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", s.stderr[-2000:]
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one
    print(f"\nreport screenshot: {shot}")
