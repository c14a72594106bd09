"""The comparison matrix: one case per (backend, balance) cell, judged on what virtual users saw.

`make test` runs a few telling cells; `make matrix` (pytest --matrix=full) runs them all. One lab
serves every cell (switched, not recreated); the report is written when the module finishes.
"""

import pytest

from lab import BACKENDS, LabConfig
from lab.reports.matrix import latency_table, terminal_table, write_reports
from lab.studies.matrix import report_data, run_cell
from lab.traffic.evidence import WHOAMI
from lab.verdicts.cells import QUICK_CELLS, all_cells

from .conftest import free_port

pytestmark = pytest.mark.integration
NODES, WORKERS, REQUESTS = 3, 2, 20


def pytest_generate_tests(metafunc):
    if "cell" not in metafunc.fixturenames:
        return
    full = metafunc.config.getoption("matrix") == "full"
    params = []
    for backend, balance in all_cells() if full else QUICK_CELLS:
        available = BACKENDS[backend].available
        marks = () if available else pytest.mark.skip(reason=f"pending: {BACKENDS[backend].unavailable_reason}")
        params.append(pytest.param((backend, balance), id=f"{backend}-{balance}", marks=marks))
    metafunc.parametrize("cell", params)


class MatrixRun:
    def __init__(self, lab, clients, config):
        self.lab, self.clients, self.config = lab, clients, config
        self.results = []

    def say(self, line):
        """Print past pytest's capture: the per-cell times and the table are the point of a run."""
        reporter = self.config.pluginmanager.getplugin("terminalreporter")
        capture = self.config.pluginmanager.getplugin("capturemanager")
        with capture.global_and_fixture_disabled():
            reporter.write_line(line)


@pytest.fixture(scope="module")
def matrix(module_lab_factory, request):
    lab = module_lab_factory("matrix")
    lab.up(LabConfig(name=lab.name, nodes=NODES, workers=WORKERS, port=free_port()))
    clients = lab.clients()
    clients.ensure()
    run = MatrixRun(lab, clients, request.config)
    yield run
    if not run.results:
        return
    data = report_data(lab, clients, run.results, REQUESTS, request.config.getoption("matrix") == "full", WHOAMI)
    paths = write_reports(data)
    run.say("\n" + terminal_table(data) + "\n\n" + latency_table(data))
    run.say(f"report: {paths['html']} (also latest.html, latest.md, latest.json)")


def test_cell(cell, matrix):
    backend, balance = cell
    result = run_cell(matrix.lab, matrix.clients, backend, balance, REQUESTS)
    matrix.results.append(result)
    matrix.say(f"  {backend}/{balance}: {result.summary()} in {result.seconds:.1f} s")

    assert len(result.users) >= 6
    problem = result.evidence_problem()
    assert problem is None, problem
    lost = "; ".join(
        f"{l['user']} lost at request {l['request']} on {l['hit']} (session made on {l['session_made_on']})"
        for l in result.lost_details()[:3]
    )
    assert result.observed_kept == result.expected.kept, (
        f"expected {'kept' if result.expected.kept else 'lost'} ({result.expected.reason}), "
        f"observed {result.summary()}. {lost}"
    )


def test_a_cell_after_another_gives_the_verdict_it_gives_alone(lab_factory):
    """A switch reloads nodes in place; the cell after it must not be helped by the cell before."""

    def node_ids(lab):
        return {row["name"]: row["id"] for row in lab.engine.docker.lab_containers(lab.name) if row["role"] == "node"}

    verdicts = {}
    for order, cells in {"alone": [("locmem", "sticky")], "after redis": [("redis", "sticky"), ("locmem", "sticky")]}.items():
        lab = lab_factory("order")
        lab.up(LabConfig(name=lab.name, backend=cells[0][0], balance=cells[0][1], port=free_port()))
        clients = lab.clients()
        clients.ensure()
        before = node_ids(lab)
        results = [run_cell(lab, clients, backend, balance) for backend, balance in cells]
        verdicts[order] = (results[-1].observed_kept, results[-1].passed, results[-1].evidence_problem())
        if order == "after redis":
            assert results[0].observed_kept, "redis/sticky keeps the login, so the cell before could help"
            assert node_ids(lab) == before, "the switch to locmem reloaded the nodes in their containers"
    assert verdicts["alone"] == verdicts["after redis"] == (False, True, None), verdicts
