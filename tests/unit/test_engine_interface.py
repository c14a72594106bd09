"""Every engine holds to the one interface: the local engine, the swarm engine and the in-memory one."""

import inspect
import re

import pytest

from lab.engines.choice import ENGINES, engine_for
from lab.engines.docker import DockerEngine
from lab.engines.interface import LabEngine
from lab.engines.local import LocalEngine
from lab.engines.reconcile import ContainerEngine
from lab.engines.swarm import SwarmEngine
from lab.model.config import ENGINES as ENGINE_NAMES
from lab.model.config import PROJECT_ROOT, LabConfig

from .fake_engine import FakeEngine

IMPLEMENTATIONS = [LocalEngine, SwarmEngine, FakeEngine]
INTERFACE = sorted(LabEngine.__abstractmethods__)


def parameters(function) -> list[tuple[str, object]]:
    return [(p.name, p.default) for p in inspect.signature(function).parameters.values()]


@pytest.mark.parametrize("engine", IMPLEMENTATIONS, ids=lambda cls: cls.__name__)
def test_each_engine_implements_the_whole_interface_with_its_signatures(engine):
    assert issubclass(engine, LabEngine) and not engine.__abstractmethods__
    for name in INTERFACE:
        assert parameters(getattr(engine, name)) == parameters(getattr(LabEngine, name)), f"{engine.__name__}.{name}"
    for capability in ("kind", "summary", "several_hosts", "warms_nodes"):
        assert hasattr(engine, capability), f"{engine.__name__} does not declare {capability}"


def test_the_interface_covers_a_whole_lab():
    asked = {"apply", "remove_lab", "members", "member_logs", "member_events", "exec_member", "stop_member",
             "restart_member", "hosts", "set_host", "publish", "wait_until_serving"}
    assert asked <= set(INTERFACE)


def test_the_in_memory_engine_replaces_every_container_call_reconcile_makes():
    """Nothing the reconcile asks falls through to Docker: each call is the fake's own, with Docker's parameters."""
    calls = [name for name, _ in inspect.getmembers(ContainerEngine, inspect.isfunction) if not name.startswith("_")]
    assert len(calls) >= 15
    for name in calls:
        assert name in vars(FakeEngine), f"FakeEngine does not replace {name}"
        assert [p for p, _ in parameters(getattr(FakeEngine, name))] == [p for p, _ in parameters(getattr(DockerEngine, name))], name


def test_the_engine_kind_is_read_in_one_place():
    assert tuple(ENGINES) == ENGINE_NAMES
    docker = DockerEngine(client=object())
    local, swarm = LabConfig(name="one"), LabConfig(name="many", engine="swarm")
    assert isinstance(engine_for(local, docker), LocalEngine) and isinstance(engine_for(swarm, docker), SwarmEngine)
    fake = FakeEngine()
    assert engine_for(swarm, fake) is fake  # an engine given whole is used as it is
    assert engine_for(local, docker).stopwatch is docker.stopwatch  # one profile whatever the kind
    compared = [
        str(path.relative_to(PROJECT_ROOT))
        for path in (PROJECT_ROOT / "lab").rglob("*.py")
        if re.search(r"\.engine\s*[!=]=|==\s*\S*\.engine\b|engine\s*==\s*[\"']", path.read_text())
    ]
    assert compared == [], f"the engine's kind compared outside lab/engines/choice.py: {compared}"
