"""Every engine holds to the one interface: the local engine, the swarm engine and the in-memory one."""

import inspect
import re

import pytest

from lab.engines.choice import ENGINES, engine_for
from lab.engines.clients_port import ClientsPort, DockerClients
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
             "restart_member", "hosts", "set_host", "publish", "wait_until_serving",
             # what studies and client containers need, so a third engine needs no Docker
             "build_images", "image_mb", "run_job", "up_floor", "clients", "reload_nginx", "wait_for_member", "describe"}
    assert asked <= set(INTERFACE)


@pytest.mark.parametrize("engine", IMPLEMENTATIONS, ids=lambda cls: cls.__name__)
def test_each_engine_holds_its_connection_and_hands_out_a_clients_port(engine):
    assert not issubclass(engine, DockerEngine), "an engine holds a Docker connection; it is not one"
    made = FakeEngine() if engine is FakeEngine else engine(DockerEngine(client=object()))
    try:
        port = made.clients()
        assert isinstance(port, ClientsPort) and not type(port).__abstractmethods__
        assert made.stopwatch is made.docker.stopwatch
    finally:
        if isinstance(made, FakeEngine):
            made.close()


def test_the_clients_port_on_docker_passes_each_call_to_the_connection():
    said = []

    class Connection:
        def __getattr__(self, name):
            return lambda *args, **options: said.append((name, args, options)) or (0, "")

    port = DockerClients(Connection())
    port.ensure_client("spec", "net", {"label": "x"})
    port.attach("net", "nginx")
    port.put_file("client", "/tmp/f", "text")
    port.exec("client", ["wrk"], env={"K": "v"})
    assert [name for name, _, _ in said] == ["ensure_network", "ensure_container", "connect", "put_file", "exec"]
    assert said[-1] == ("exec", ("client", ["wrk"]), {"env": {"K": "v"}})


def test_nothing_above_the_engines_reaches_the_docker_connection():
    """Images, jobs, client containers and nginx reloads go through LabEngine and its ClientsPort."""
    reaching = [
        f"{path.relative_to(PROJECT_ROOT)}:{number}"
        for path in (PROJECT_ROOT / "lab").rglob("*.py")
        if "engines" not in path.parts and "dockerfiles" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"lab\.docker\b|DockerEngine", line)
    ]
    assert reaching == []


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
