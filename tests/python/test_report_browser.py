"""The report in a real browser: headless Chromium opens the report of the shared CI build, every chart
draws its data, nothing is logged as an error and no request leaves the file; a full-page screenshot
goes to target/report_screenshot.png. A second test plants the three defects on a tiny page and
checks the harness reports each of them.

Chromium comes from Debian's package (make setup installs it where missing). Without it the tests skip,
unless MICROSEG_REQUIRE_BROWSER=1 (set by .ci/run): then they fail.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from microseg.report import write_report
from microseg.report.browser import check_report, find_browser
from microseg.report.page import render

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "target" / "report_screenshot.png"
# sections the CI build always fills (their marts are built by every full `dbt build`)
CORE_SECTIONS = {"quality", "identity", "rfm", "segments"}

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> str:
    path = find_browser()
    if path is None:
        if os.environ.get("MICROSEG_REQUIRE_BROWSER") == "1":
            pytest.fail("no chromium on PATH and MICROSEG_REQUIRE_BROWSER=1: run `make setup` as root to install it")
        pytest.skip("no chromium on PATH (make setup installs Debian's chromium package when run as root)")
    return path


@pytest.mark.dbt
def test_report_of_the_ci_build_renders_offline(dbt_build, browser, tmp_path):
    started = time.perf_counter()
    report = write_report(dbt_build.db, tmp_path / "report.html")
    written = time.perf_counter() - started
    result = check_report(report.path, screenshot=SCREENSHOT, browser=browser)
    print(f"report {report.bytes / 1e6:.1f} MB written in {written:.1f} s; browser load + draw {result.load_seconds:.1f} s; "
          f"sections rendered: {', '.join(s.key for s in report.sections if s.charts)}")  # fmt: skip
    assert not result.console_errors, result.console_errors
    assert not result.requests, result.requests
    assert not result.empty_charts, result.empty_charts
    assert len(result.charts) == sum(len(s.charts) for s in report.sections)
    drawn = {s["key"] for s in result.sections if s["charts"]}
    assert drawn >= CORE_SECTIONS
    assert SCREENSHOT.stat().st_size > 50_000  # a full page of charts, not a blank viewport


def test_harness_reports_requests_errors_and_empty_charts(browser, tmp_path):
    """Planted: a chart without data, an image from the network, a console error and an exception."""
    import plotly.graph_objects as go

    from microseg.report.page import Chart, Section

    full = Chart("full", "with data", go.Figure(go.Bar(x=["a", "b"], y=[1, 2])))
    empty = Chart("empty", "no data", go.Figure(go.Bar(x=[], y=[])))
    page = render([Section("s", "S", charts=[full, empty])], "t", "s")
    # the real report has a Content-Security-Policy; the planted page drops it so the request is attempted
    page = page.replace('<meta http-equiv="Content-Security-Policy"', '<meta name="no-csp"')
    planted = ('<img src="http://192.0.2.1/pixel.png"><script>console.error("planted error");'
               'setTimeout(() => { throw new Error("planted exception"); }, 0);</script></body>')  # fmt: skip
    path = tmp_path / "planted.html"
    path.write_text(page.replace("</body>", planted))
    result = check_report(path, browser=browser, timeout=15)
    assert result.empty_charts == ["empty"]
    assert any(url.startswith("http://192.0.2.1/") for url in result.requests)
    assert any("planted error" in e for e in result.console_errors)
    assert any("planted exception" in e for e in result.console_errors)
    assert not result.ok
