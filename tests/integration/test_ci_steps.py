"""The ready-made CI jobs (docs/ci/), run: their `lab` lines, in order, as a runner runs them (the installed
`lab` command, in a checkout's folder), against a real lab of the sample site; each exit code as the job needs
it, `lab down` whatever happened, and JUnit files a test report reads, one testcase per cell and per hazard.

The lines are the ones tests/unit/test_ci_jobs.py parses out of the job files, with a lab name and a free port
of the test's own (a CI runner has the machine to itself)."""

import json
import os
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET

import pytest

from lab.model.backends import BACKENDS
from lab.verdicts.cells import QUICK_CELLS
from lab.verdicts.hazards import HAZARDS

from ..unit.test_ci_jobs import GITHUB, GITLAB, lab_commands, option
from .conftest import NOTHING, TEST_PREFIX, free_port

pytestmark = pytest.mark.integration


def lab(folder, state_dir, name, *arguments: str) -> subprocess.CompletedProcess:
    """`lab --name NAME ...` in `folder`, as a job step runs it; the lab's own reports kept under `folder` too."""
    environment = {key: value for key, value in os.environ.items() if key not in ("LAB_NAME", "LAB_REPORTS_DIR")}
    environment.update(LAB_STATE_DIR=str(state_dir), LAB_REPORTS_DIR=str(folder / ".lab-reports"))
    done = subprocess.run([sys.executable, "-m", "lab", "--name", name, *arguments], cwd=folder, env=environment,
                          capture_output=True, text=True, timeout=900)
    print(f"$ lab {' '.join(arguments)}  -> {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


def junit_cases(path) -> tuple[ET.Element, list[str]]:
    suite = ET.parse(path).getroot().find("testsuite")
    return suite, [case.get("name") for case in suite.iter("testcase")]


@pytest.mark.timeout(1800)
def test_the_ci_jobs_lab_steps_pass_on_the_sample_site_and_leave_junit_files(engine, state_dir, tmp_path):
    steps = lab_commands(GITHUB)
    assert steps == lab_commands(GITLAB), "the two jobs run the same lab lines; this test runs them once"
    *checks, down = steps
    assert down == ["down"]
    name = f"{TEST_PREFIX}ci-{uuid.uuid4().hex[:6]}"
    checkout = tmp_path / "checkout"  # no manage.py here: `lab up` serves the sample site
    checkout.mkdir()
    try:
        for argv in checks:
            if argv[0] == "readiness":  # what the project did once and committed: the baseline
                saved = lab(checkout, state_dir, name, "readiness", "--save-baseline", option(argv, "--baseline"))
                assert saved.returncode == 0, saved.stderr[-2000:]
            if argv[0] == "up":
                argv = [*argv, "--port", str(free_port())]
            done = lab(checkout, state_dir, name, *argv)
            assert done.returncode == 0, f"lab {' '.join(argv)} exited {done.returncode}: {done.stderr[-2000:]}"
            if "--junit" in argv:
                assert f"junit: {option(argv, '--junit')}" in done.stdout
    finally:
        taken_down = lab(checkout, state_dir, name, *down)
    assert taken_down.returncode == 0, taken_down.stderr[-2000:]
    assert engine.lab_resources(name) == NOTHING

    matrix = next(argv for argv in checks if argv[0] == "matrix")
    suite, names = junit_cases(checkout / option(matrix, "--junit"))
    cells = [f"{backend}/{balance}" for backend, balance in QUICK_CELLS if BACKENDS[backend].available]
    assert [n for n in names if not n.startswith("channel-layer/")] == cells  # one testcase per cell run
    assert (suite.get("failures"), suite.get("errors")) == ("0", "0")

    readiness = next(argv for argv in checks if argv[0] == "readiness")
    suite, names = junit_cases(checkout / option(readiness, "--junit"))
    assert len(names) == len(HAZARDS) and len(set(names)) == len(names)  # one testcase per hazard
    known = json.loads((checkout / option(readiness, "--baseline")).read_text())["found"]
    assert suite.get("failures") == "0" and suite.get("skipped") == str(len(known))  # each one known in the baseline
