"""Studies run on the in-memory engine, without Docker: a matrix cell and the load bench's steps go
through the engine's clients port (lab.engines.clients_port) onto the fake's records."""

import json

import pytest

from lab import LabConfig
from lab.engines.host import free_port
from lab.run.lab import Lab
from lab.run.state import StateStore
from lab.studies.loadbench import COOKIES_IN_CONTAINER, LUA_IN_CONTAINER, USERS_PER_CLIENT, LoadBench
from lab.studies.matrix import run_cell
from lab.traffic.clients import SCRIPT_IN_CONTAINER

from .fake_engine import engine  # noqa: F401 (a fixture the tests ask for)


@pytest.fixture
def lab(engine, tmp_path):
    lab = Lab("study", engine=engine, states=StateStore(tmp_path / "state"))
    lab.up(LabConfig(name="study", port=free_port(), backend="db", nodes=2))
    return lab


def clients_of(engine) -> dict:
    return {name: c for name, c in engine.containers.items() if c.spec.role == "client"}


def test_a_matrix_cell_switches_the_lab_runs_every_user_in_its_clients_and_judges_them(engine, lab):
    clients = lab.clients()
    result = run_cell(lab, clients, "redis", "round_robin", requests_count=3)

    assert lab.config().backend == "redis" and result.switch_seconds >= 0
    made = clients_of(engine)
    assert sorted(made) == sorted(group.container.name for group in clients.groups) and len(made) == 7
    assert all(c.network == group.network for group in clients.groups for c in [made[group.container.name]])
    ran = [command for _, command in engine.client_commands]
    assert ran == [["python3", SCRIPT_IN_CONTAINER]] * 7  # one job per client, the password in its environment
    assert len(result.users) == 9 and all(user.kept(result.username) for user in result.users)
    assert result.observed_kept and result.requests == 27
    assert {user.client for user in result.users} == set(made)


def test_a_second_cell_on_the_same_nginx_makes_no_client_again(engine, lab):
    clients = lab.clients()
    run_cell(lab, clients, "redis", "round_robin", requests_count=1)
    before = [call for call in engine.calls if call[1] in clients_of(engine)]
    run_cell(lab, clients, "redis", "ip_hash", requests_count=1)
    assert [call for call in engine.calls if call[1] in clients_of(engine)] == before


def test_the_load_bench_logs_users_in_hands_wrk_their_cookies_and_combines_its_figures(engine, lab):
    wrk = {"requests": 300, "seconds": 3.0, "errors": 0, "non_2xx": 0, "statuses": {},
           "latency_0.1ms": {"20": 200, "40": 100}, "nodes": {"node-1": 150, "node-2": 150}}
    engine.client_answers["wrk"] = (0, "Running 3s test\nLABJSON " + json.dumps(wrk) + "\n")
    bench = LoadBench(lab, seconds=3)

    row = bench.cell("redis", "round_robin")

    made = clients_of(engine)
    assert len(made) == 6 and not any(group.shares_address for group in bench.clients.groups)  # no NAT client
    for client in made.values():
        assert LUA_IN_CONTAINER in client.files
        assert client.files[COOKIES_IN_CONTAINER].count("sessionid=") == USERS_PER_CLIENT
    assert row["requests_per_s"] == 600.0 and row["p50_ms"] == 2.05 and row["p99_ms"] == 4.05
    assert row["node_share"] == {"node-1": 0.5, "node-2": 0.5} and row["logged_in_share"] == 1.0
    wrk_runs = [command for _, command in engine.client_commands if command[0] == "wrk"]
    assert len(wrk_runs) == 6 and all(command[-5] == bench.nginx for command in wrk_runs)


def test_the_lifecycle_bench_times_each_step_of_each_round_and_leaves_nothing(engine, tmp_path):
    from lab.studies.lifecycle import lifecycle

    lab = Lab("bench-lifecycle", engine=engine, states=StateStore(tmp_path / "state"))
    said = []
    figures = lifecycle(2, cold=False, progress=said.append, lab=lab)
    assert {step: len(values) for step, values in figures.items()} == {"cold build": 0, "warm up": 2, "switch": 2, "down": 2}
    assert [line.split(":")[0] for line in said] == ["round 1", "round 2"]
    assert engine.lab_resources("bench-lifecycle") == {"containers": [], "networks": [], "volumes": []}


def test_the_profile_bench_measures_the_floor_with_the_engine_and_returns_every_figure(engine, tmp_path):
    from lab.reports.bench_figures import profile_report
    from lab.studies.profile import profile

    lab = Lab("bench-profile", engine=engine, states=StateStore(tmp_path / "state"))
    results = profile(1, matrix=False, lab=lab)
    assert {step: len(values) for step, values in results["figures"].items()} == {
        "up floor": 1, "warm up": 1, "switch": 1, "down": 1}
    assert set(results["cells"]) == {"balance change", "backend change"} and len(results["traffic"]) == 3
    assert "matrix cell memcached/ip_hash (backend change)" in results["steps"]
    text = profile_report(results)
    assert "figures and floors (medians of 1 rounds)" in text and "full matrix" not in text
    assert engine.lab_resources("bench-profile") == {"containers": [], "networks": [], "volumes": []}
