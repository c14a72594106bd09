"""Failure experiments against one live lab: one case per (experiment, backend, balance)."""

import time

import pytest

from lab import LabConfig
from lab.reports.experiments import write_experiment_reports
from lab.studies.experiments import EXPERIMENTS

from .conftest import free_port

pytestmark = pytest.mark.integration


def pytest_generate_tests(metafunc):
    if "experiment_case" not in metafunc.fixturenames:
        return
    full = metafunc.config.getoption("experiments") == "full"
    params = [
        pytest.param((experiment, case), id=f"{experiment.name}-{case.label.replace('/', '-').replace(' ', '')}")
        for experiment in EXPERIMENTS.values()
        if not experiment.several_hosts  # host-down runs on the swarm's test hosts (test_swarm.py)
        and not experiment.needs_channels  # on a Channels site: test_own_site.py
        and not experiment.needs_workers  # on a Celery site: test_shapes.py
        for case in (experiment.cases if full else experiment.quick)
    ]
    metafunc.parametrize("experiment_case", params)


@pytest.fixture(scope="module")
def experiments(module_lab_factory, request):
    lab = module_lab_factory("exp")
    lab.up(LabConfig(name=lab.name, port=free_port()))
    outcomes, started = [], time.monotonic()
    yield lab, outcomes
    if outcomes:
        paths = write_experiment_reports(outcomes, time.monotonic() - started, lab.engine.describe())
        reporter = request.config.pluginmanager.getplugin("terminalreporter")
        capture = request.config.pluginmanager.getplugin("capturemanager")
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"\nexperiments report: {paths['html']} (also latest-experiments.*)")


def test_experiment(experiment_case, experiments):
    experiment, case = experiment_case
    lab, outcomes = experiments
    outcome = experiment.run(lab, case)
    outcomes.append(outcome)
    assert outcome.restored == "yes", outcome.restored
    assert outcome.passed, (
        f"{experiment.name} {case.label}: expected {outcome.expected} ({outcome.reason}); "
        f"observed {outcome.observed}; judged per user: {outcome.why}; figures {outcome.figures}"
    )
