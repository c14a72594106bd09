"""Beyond one machine: three Docker engines on this machine (the main one and two in network namespaces)
in one swarm, a registry they all pull from, and the lab exported as a compose file that
`docker stack deploy` runs across them. Redis keeps users logged in across hosts; shared_file, whose
"shared" volume is local to each host, loses them the moment a request crosses to another host.
"""

import subprocess
import time
from pathlib import Path

import pytest

from lab import LabConfig
from lab.engines import registry
from lab.model.config import PROJECT_ROOT
from lab.engines.swarm import SwarmEngine
from lab.studies.experiments import EXPERIMENTS, Case
from lab.studies.matrix import run_cell
from lab.traffic.evidence import VirtualUser

from .conftest import free_port

pytestmark = pytest.mark.integration
HOSTS_SCRIPT = PROJECT_ROOT / "lab" / "setup" / "swarm-hosts.sh"


def run(*command: str) -> str:
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{' '.join(command)}: {result.stdout}{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def swarm(engine):
    run("bash", str(HOSTS_SCRIPT), "up", "3")  # what `make swarm-hosts HOSTS=3` runs
    registry.up(engine)
    yield SwarmEngine.over(engine)
    registry.down(engine)
    run("bash", str(HOSTS_SCRIPT), "down")  # what `make swarm-hosts-down` runs
    assert "labhost-" not in run("ip", "netns", "list")
    assert subprocess.run(["ip", "link", "show", "labswarm0"], capture_output=True).returncode != 0
    assert engine.client.info()["Swarm"]["LocalNodeState"] == "inactive"
    assert engine.lab_resources(registry.OWNER) == {"containers": [], "networks": [], "volumes": []}


def deploy(lab, port: int, backend: str) -> None:
    """Export the lab with `backend`, deploy it as a stack by hand, and wait as `lab up --engine swarm`
    does: every node answers through nginx with its planned configuration, and the demo user logs in."""
    path, plan = lab.export_compose(Path(lab.states.directory) / lab.name, registry.ADDRESS, None, port=port, backend=backend)
    run("docker", "stack", "deploy", "--resolve-image", "never", "-c", str(path), lab.name)
    lab.engine_of(plan.config.replace(engine="swarm")).wait_until_serving(plan, print)


def users(lab, port: int, count: int = 4):
    found = []
    for number in range(count):
        user = VirtualUser(f"http://127.0.0.1:{port}/", f"user-{number}", login_path=lab.login_path())
        user.login(*lab.login())
        found.append(user.browse(9))
    return found


def test_lab_up_engine_swarm_spreads_the_nodes_and_the_matrix_sees_what_one_machine_hides(swarm, lab_factory):
    lab = lab_factory("engine")
    lab.up(LabConfig(name=lab.name, nodes=3, backend="redis", port=free_port(), engine="swarm"))
    status = lab.status()
    hosts = {c["name"]: c["host"] for c in status["containers"]}
    assert {hosts[f"{lab.name}-node-{i}"] for i in (1, 2, 3)} == {"host-1", "host-2", "host-3"}, hosts
    clients = lab.clients()
    kept = run_cell(lab, clients, "redis", "round_robin", requests_count=9)
    assert kept.passed and kept.observed_kept and len(kept.nodes_seen) == 3, kept.summary()
    lost = run_cell(lab, clients, "shared_file", "round_robin", requests_count=9)
    assert lost.expected.kept is False and "local to each host" in lost.expected.reason
    assert lost.passed and not lost.observed_kept, lost.summary()
    hosts = {c["name"]: c["host"] for c in lab.status()["containers"]}  # a redeploy may place nodes anew
    for detail in lost.lost_details():  # the evidence names node and host of the request that lost it
        assert hosts[f"{lab.name}-{detail['hit']}"] != hosts[f"{lab.name}-{detail['session_made_on']}"], detail
    outcome = EXPERIMENTS["host-down"].run(lab, Case("redis", "round_robin"))
    assert outcome.passed, f"{outcome.observed}: {outcome.why}"
    assert outcome.figures["seconds_until_node_serves_again"] is not None and outcome.figures["logged_out"] == 0
    print("host-down:", outcome.figures)
    assert "GET /__lab__/" in lab.logs("node-2", tail=50)  # a service's log, through the manager
    removed = lab.down()
    assert removed["containers"] >= 7
    for host, engine in swarm.host_engines().items():  # nothing of the lab on any host
        assert engine.lab_resources(lab.name) == {"containers": [], "networks": [], "volumes": []}, host


def test_the_exported_compose_file_runs_on_three_hosts_by_hand(swarm, lab_factory):
    lab = lab_factory("swarm")
    lab.up(LabConfig(name=lab.name, nodes=3, backend="redis", port=free_port()))
    port = free_port()
    try:
        deploy(lab, port, "redis")
        placement = swarm.swarm_placement(lab.name)
        hosts = {placement.get(f"{lab.name}-node-{i}") for i in (1, 2, 3)}
        assert len(hosts - {None}) >= 2, placement  # spread over the hosts
        kept = users(lab, port)
        username = lab.login()[0]
        assert all(user.kept(username) for user in kept), [u.first_failure(username) for u in kept]
        assert {node for user in kept for node in user.nodes_seen} == {"node-1", "node-2", "node-3"}

        deploy(lab, port, "shared_file")
        lost = users(lab, port)
        for user in lost:  # each one lost it at its first request served on another host than its login's
            failure = user.first_failure(username)
            assert failure is not None, f"{user.name} kept the login on per-host files"
            login_host = placement[f"{lab.name}-{user.login_node}"]
            assert placement[f"{lab.name}-{failure.node}"] != login_host
            assert all(o.node == user.login_node for o in user.observations[: failure.index])
    finally:
        # The stack goes first (its tasks, secrets, configs and overlay network); `lab down` then takes
        # the local lab and the stack's volumes on this host, by their labels.
        subprocess.run(["docker", "stack", "rm", lab.name], capture_output=True, timeout=60)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (
            any(row["name"].startswith(f"{lab.name}_") for row in swarm.docker.lab_containers(lab.name))
            or any(name.endswith("-overlay") for name in swarm.docker.lab_resources(lab.name)["networks"])
        ):
            time.sleep(0.5)
