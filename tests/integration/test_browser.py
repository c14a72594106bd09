"""What a person sees, in a real browser: Debian's Chromium (headless, driven by Playwright, nothing
downloaded) opens `lab watch --web` while the backend switches, and a matrix report. Screenshots are
saved under reports/."""

import os
import subprocess
import sys

import pytest

from lab import LabConfig
from lab.reports.matrix import REPORTS, write_reports
from lab.studies.matrix import report_data, run_cell

from .conftest import free_port

pytestmark = pytest.mark.integration
def test_the_watch_page_shows_the_grid_the_legend_and_a_switch(browser, lab_factory, state_dir):
    lab = lab_factory("browser")
    lab.up(LabConfig(name=lab.name, nodes=3, backend="redis", port=free_port()))
    port = free_port()
    watch = subprocess.Popen(
        [sys.executable, "-m", "lab.cli", "--name", lab.name, "watch", "--web", "--web-port", str(port), "--seconds", "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "LAB_STATE_DIR": str(state_dir)},
    )
    try:
        line = watch.stdout.readline()
        assert "watch page: http://127.0.0.1:" in line, line
        page = browser.new_page(viewport={"width": 1100, "height": 700})
        page.goto(f"http://127.0.0.1:{port}/")
        assert lab.status()["password"] in page.inner_text("header")  # the demo login, and the lab's URL
        assert page.get_attribute("header a", "href") == lab.status()["url"]
        page.wait_for_function("document.querySelectorAll('.user .cell.in').length >= 9 * 5", timeout=30000)
        assert page.locator(".user").count() == 9
        legend = page.inner_text("#legend")
        assert "node-1" in legend and "node-2" in legend and "node-3" in legend and "logged out" in legend
        lab.switch(backend="locmem")
        page.wait_for_selector(".user .mark", timeout=15000)  # the switch marked on every row's timeline
        page.wait_for_function("document.querySelectorAll('.user .cell.out').length >= 9", timeout=20000)
        assert "switch: backend redis -> locmem" in page.inner_text("#events")
        assert "backend locmem" in page.inner_text("#status")
        REPORTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(REPORTS / "watch.png"))
        page.close()
    finally:
        watch.terminate()
        watch.wait(15)


def test_the_matrix_report_shows_its_grid_and_legend(browser, lab_factory, tmp_path):
    lab = lab_factory("report")
    # 3 nodes for 4 users: round robin over 2 nodes can settle into a cycle that hands each of an even
    # number of users the same node every time (nat-2 saw one node in 6 requests), which is no evidence.
    lab.up(LabConfig(name=lab.name, nodes=3, port=free_port()))
    clients = lab.clients(direct=2, nat_users=2)
    clients.ensure()
    results = [run_cell(lab, clients, "redis", "round_robin", 12), run_cell(lab, clients, "locmem", "round_robin", 12)]
    for cell in results:
        assert cell.evidence_problem() is None, cell.evidence_problem()
    paths = write_reports(report_data(lab, clients, results, 12, False, "__lab__/whoami"), directory=tmp_path)
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(paths["html"].as_uri())
    table = page.inner_text("table")
    assert "redis" in table and "locmem" in table and "kept" in table and "lost" in table
    assert page.locator("svg").count() >= 2  # each cell's chart: one row per user, a square per request
    assert "red cross" in page.inner_text("body")  # the legend of the charts
    page.screenshot(path=str(REPORTS / "matrix-report.png"), full_page=True)
    page.close()
