"""Integration fixtures: real labs on the real engine, each under a unique name, always taken down."""

import contextlib
import io
import os
import shutil
import uuid
from pathlib import Path

import pytest

from lab import Lab, LabError
from lab.engines.docker import DockerEngine
from lab.engines.host import free_port  # noqa: F401 (the tests import it from here)
from lab.run.state import StateStore
from lab.traffic.evidence import VirtualUser

TEST_PREFIX = "labtest-"
NOTHING = {"containers": [], "networks": [], "volumes": []}


def browse(lab: Lab, requests_count: int = 12):
    """Log in as the demo user through nginx and make `requests_count` /__lab__/whoami requests."""
    status = lab.status()
    user = VirtualUser(status["url"], login_path=lab.login_path())
    user.login(status["username"], status["password"])
    return user.browse(requests_count)


def gunicorn_processes(lab: Lab, node: str) -> set[tuple[str, str]]:
    """(uid, effective capabilities in hex) of a node's gunicorn processes, read from /proc."""
    code, output = lab.engine.docker.exec(
        f"{lab.name}-{node}",
        ["bash", "-c", "for s in /proc/[0-9]*/status; do grep -q '^Name:.*gunicorn' $s && "
                       "awk '/^Uid:/{u=$2} /^CapEff:/{c=$2} END{print u, c}' $s; done; true"],
    )
    assert code == 0, output
    return {tuple(line.split()) for line in output.splitlines() if line.strip()}


@pytest.fixture(scope="session")
def engine():
    engine = DockerEngine()
    try:
        engine.client
    except LabError as error:  # fail, never skip: these tests are the product's proof
        pytest.fail(f"integration tests need a Docker engine (`make engine`): {error}")
    # Labs a killed earlier run left behind carry the test prefix; remove them by label.
    for name in engine.labs():
        if name.startswith(TEST_PREFIX):
            engine.remove_lab(name)
    return engine


@pytest.fixture(scope="session")
def state_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("lab-state")


def _factory(engine, state_dir, made):
    def make(tag: str = "lab") -> Lab:
        lab = Lab(f"{TEST_PREFIX}{tag}-{uuid.uuid4().hex[:6]}", engine=engine, states=StateStore(state_dir), progress=print)
        made.append(lab)
        return lab

    return make


def _tear_down(engine, made):
    for lab in made:
        lab.down()
        assert engine.lab_resources(lab.name) == NOTHING, f"{lab.name} left resources behind"


@pytest.fixture(scope="module")
def module_lab_factory(engine, state_dir):
    made: list[Lab] = []
    yield _factory(engine, state_dir, made)
    _tear_down(engine, made)


@pytest.fixture
def lab_factory(engine, state_dir):
    made: list[Lab] = []
    yield _factory(engine, state_dir, made)
    _tear_down(engine, made)


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, driven by Playwright (nothing downloaded)."""
    if not Path(CHROMIUM).exists():
        pytest.fail("the browser tests need Debian's Chromium (`make test` installs it as root: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def run_lab(state_dir, *arguments: str) -> tuple[int, str, str]:
    """The `lab` command in-process, as a user runs it: (exit code, stdout, stderr)."""
    from lab import cli

    out, err = io.StringIO(), io.StringIO()
    saved = os.environ.get("LAB_STATE_DIR")
    os.environ["LAB_STATE_DIR"] = str(state_dir)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(list(arguments))
    finally:
        if saved is None:
            os.environ.pop("LAB_STATE_DIR", None)
        else:
            os.environ["LAB_STATE_DIR"] = saved
    print(out.getvalue()[-3000:], err.getvalue()[-3000:])
    return code, out.getvalue(), err.getvalue()
