"""host-down on a made-up swarm: the node on a worker host is chosen, the host drained, the lab deployed
again, and the verdict reads who was on that node and whether it served again on another host."""

import threading
import time
from types import SimpleNamespace

from lab.studies.experiments import host_down
from lab.studies.experiments.base import Case, Outcome
from lab.studies.experiments.host_down import HostDown, node_off_the_manager, running_placement
from lab.traffic.observations import Observation, UserEvidence

MANAGER, WORKER, OTHER = "manager", "worker-1", "worker-2"


def member(name, host, state="running"):
    return SimpleNamespace(name=name, host=host, state=state)


def test_the_node_moved_is_the_first_off_the_manager():
    placement = {
        "djlab-nginx": MANAGER, "djlab-postgres": MANAGER,
        "djlab-node-1": MANAGER, "djlab-node-3": WORKER, "djlab-node-2": WORKER,
    }
    assert node_off_the_manager("djlab", placement) == "djlab-node-2"
    assert node_off_the_manager("djlab", {"djlab-nginx": MANAGER, "djlab-node-1": MANAGER}) is None


def test_placement_counts_running_members_only():
    engine = SimpleNamespace(members=lambda name: [member(f"{name}-node-1", WORKER), member(f"{name}-node-2", WORKER, "starting")])
    assert running_placement(engine, "djlab") == {"djlab-node-1": WORKER}


class Swarm:
    """Three hosts; node-2 runs on worker-1 until the lab deploys again with worker-1 drained."""

    def __init__(self):
        self.redeployed = threading.Event()
        self.served_again = threading.Event()
        self.hosts = []
        self.drained_at = None

    def members(self, name):
        node_2 = OTHER if self.redeployed.is_set() else WORKER
        if self.redeployed.is_set():
            self.served_again.set()
        return [member(f"{name}-nginx", MANAGER), member(f"{name}-postgres", MANAGER),
                member(f"{name}-node-1", MANAGER), member(f"{name}-node-2", node_2)]

    def set_host(self, host, availability):
        self.hosts.append((host, availability))
        if availability == "drain":
            self.drained_at = time.time()


class Clients:
    """Two users: one on node-1 all along, one on node-2 who loses the session when node-2 moves (files)."""

    def __init__(self, swarm, session_moves):
        self.swarm, self.session_moves = swarm, session_moves

    def run(self, count, seconds, pause):
        self.swarm.served_again.wait(10)
        time.sleep(0.05)
        drained, back = self.swarm.drained_at, time.time()
        on_1, on_2 = UserEvidence("u1", logged_in=True), UserEvidence("u2", logged_in=True)
        on_1.observations = [Observation(0, 200, "demo", "node-1", "s1", 1, 0.01, at=drained - 1),
                             Observation(1, 200, "demo", "node-1", "s1", 2, 0.01, at=back)]
        after = "demo" if self.session_moves else None
        on_2.observations = [Observation(0, 200, "demo", "node-2", "s2", 1, 0.01, at=drained - 1),
                             Observation(1, 200, after, "node-2", "s2", 2 if after else None, 0.01, at=back)]
        return [on_1, on_2]


class Lab:
    name = "djlab"

    def __init__(self, swarm):
        self.engine = swarm

    def login(self):
        return "demo", "password"

    def up(self):
        self.engine.redeployed.set()


def run_case(monkeypatch, backend, balance, session_moves):
    monkeypatch.setattr(host_down, "time", SimpleNamespace(sleep=lambda s: None, monotonic=time.monotonic, time=time.time))
    swarm = Swarm()
    case = Case(backend, balance)
    outcome = Outcome("host-down", case.label, "", "")
    HostDown().measure(Lab(swarm), Clients(swarm, session_moves), case, outcome)
    return swarm, outcome


def test_a_store_every_host_reaches_keeps_everyone_logged_in(monkeypatch):
    swarm, outcome = run_case(monkeypatch, "redis", "round_robin", session_moves=True)
    assert swarm.hosts == [(WORKER, "drain"), (WORKER, "active")]
    assert outcome.passed, outcome.why
    figures = dict(outcome.figures)
    assert figures.pop("seconds_until_node_serves_again") is not None
    assert figures == {
        "users": 2, "drained_host": WORKER, "moved_node": "node-2", "users_on_moved_node": 1, "logged_out": 0,
        "failed_requests": 0, "seconds_until_no_failure": 0.0, "requests_on_new_host": 1,
    }
    assert outcome.observed.startswith("0 of 2 users logged out (1 were on node-2); 0 requests failed; node-2 served again after ")
    assert [label for _, label in outcome.events] == [f"{WORKER} drained (node-2 ran there)", f"node-2 serves again on {OTHER}"]


def test_files_on_the_drained_host_log_out_exactly_its_users(monkeypatch):
    _, outcome = run_case(monkeypatch, "local_file", "sticky", session_moves=False)
    assert outcome.passed, outcome.why
    assert outcome.figures["logged_out"] == 1
    _, outcome = run_case(monkeypatch, "local_file", "sticky", session_moves=True)
    assert not outcome.passed
    assert "yet stayed logged in" in outcome.why
