"""The private reach report judged like the listener site: axe-core (WCAG 2.1 A and AA) in Debian's
Chromium and the Nu HTML Checker, with 0 findings."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from cli_support import invoke
from test_site_browser import AXE, VNU, axe_violations, browser, require  # noqa: F401  (browser is a fixture)
from test_stats import AFTER, published, truth, write_log  # noqa: F401  (published is a fixture)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def report(published, tmp_path_factory) -> Path:
    root, s3, old = published
    hits, _ = truth(root, old)
    folder = tmp_path_factory.mktemp("report")
    log = write_log("combined", hits, root, s3, folder / "access.log")
    page = folder / "reach.html"
    result = invoke("--root", str(root), "stats", str(log), "--now", AFTER, "--report", str(page))
    assert result.returncode == 0, result.stderr
    return page


def test_the_reach_report_has_no_axe_violations(report, browser):
    require(AXE.is_file(), "axe-core (npm ci in tests/browser)")
    browser.get(report.as_uri())
    assert "Downloads per day" in browser.page_source
    assert axe_violations(browser) == []


def test_the_reach_report_passes_the_nu_html_checker(report):
    require(VNU.is_file(), "vnu-jar (npm ci in tests/browser)")
    require(shutil.which("java") is not None, "a Java runtime (default-jre-headless)")
    run = subprocess.run(["java", "-jar", str(VNU), "--errors-only", "--format", "json", str(report)],
                         capture_output=True, text=True, timeout=180)
    assert json.loads(run.stderr or run.stdout or '{"messages": []}')["messages"] == []
    assert run.returncode == 0
