"""The HTML report in a real headless Chromium: no console errors, charts and tables present, screenshot."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from _report_data import synthetic_scored
from complaintkit.report import build_report, write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars"]
CONSOLE = re.compile(r":CONSOLE[:(\]]|Uncaught|Failed to load resource")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="chromium is not installed (apt-get install chromium chromium-driver); CI installs it via .ci/run")


def _chromium(page: Path, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    if CHROMIUM is None:
        pytest.fail("chromium is missing in CI: .ci/run should have installed it")
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    command = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *extra,
               page.as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True, cwd=tmp_path)


def console_messages(stderr: str) -> list[str]:
    """Lines of Chromium's log that report a page console message or a failed load."""
    return [line for line in stderr.splitlines() if CONSOLE.search(line)]


def test_console_check_catches_a_page_error(tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_text("<html><body><script>throw new Error('planted')</script></body></html>")
    assert any("planted" in line for line in console_messages(_chromium(page, tmp_path, "--dump-dom").stderr))


def test_report_opens_in_chromium_without_errors(tmp_path: Path) -> None:
    scored = synthetic_scored()
    report = build_report(scored, previous=synthetic_scored(seed=1), by=["agent_id", "channel"],
                          value_col="annual_value")
    page = write_report(report, tmp_path / "report.html")
    html = page.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:|url\(\s*["']?https?:|@import""", html), "needs network"

    dom = _chromium(page, tmp_path, "--dump-dom")
    assert console_messages(dom.stderr) == []
    rendered = dom.stdout
    for section in ("summary", "overview", "trends", "churn", "money", "segments-1", "segments-2", "emerging",
                    "examples"):
        assert f'id="{section}"' in rendered, section
    assert rendered.count("<svg") >= 6  # shares, trends, churn, money and two heatmaps
    assert rendered.count("<table") >= 5 and rendered.count("<tr>") > 20

    screenshot = tmp_path / "report.png"
    shot = _chromium(page, tmp_path, "--window-size=1200,4000", f"--screenshot={screenshot}")
    assert console_messages(shot.stderr) == []
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and screenshot.stat().st_size > 50_000
