"""Integration fixtures: real labs on the real engine, each under a unique name, always taken down."""

import uuid

import pytest

from lab import Lab, LabError
from lab.engine import DockerEngine
from lab.evidence import VirtualUser
from lab.host import free_port  # noqa: F401 (the tests import it from here)
from lab.state import StateStore

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
    code, output = lab.engine.exec(
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
