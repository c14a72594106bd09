"""`lab ls`: every lab on this machine, from the states it saved and the members the engine labels, each
without the other too, and a project folder that is gone only said to be gone."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

import lab.cli
from lab.cli.labs import format_rows, lab_rows
from lab.engines.interface import Member
from lab.errors import EngineUnavailable
from lab.model.config import LabConfig
from lab.model.plan import ContainerSpec, labels
from lab.run.lab import Lab
from lab.run.state import LabState, StateStore, new_secrets

from .fake_engine import FakeEngine
from .test_cli import run


def member(engine: FakeEngine, lab: str, name: str, role: str, state: str = "running") -> None:
    engine.ensure_network(f"{lab}-net", labels(lab, "network"))
    engine.create(ContainerSpec(f"{lab}-{name}", role, "image", labels(lab, role)), f"{lab}-net")
    engine.containers[f"{lab}-{name}"].state = state


@pytest.fixture
def machine(tmp_path):
    """Four labs: `shop` up with one node exited, `blog` down with its data kept and its folder since
    removed, `stray` with members but no state, `broken` with a state file that is not the lab's."""
    engine = FakeEngine()
    states = StateStore(tmp_path / "state")
    (tmp_path / "shop").mkdir()
    states.save(LabState(LabConfig(name="shop", site=str(tmp_path / "shop"), backend="redis", port=8081), new_secrets()))
    states.save(LabState(LabConfig(name="blog", site=str(tmp_path / "blog"), backend="db", balance="ip_hash",
                                   https=True, port=8443), new_secrets()))
    (tmp_path / "state" / "broken.json").write_text("{not json")
    for name, role, state in (("nginx", "nginx", "running"), ("node-1", "node", "running"), ("node-2", "node", "exited")):
        member(engine, "shop", name, role, state)
    member(engine, "stray", "redis", "redis")
    yield engine, states
    engine.close()


def test_every_lab_from_its_state_or_its_members(machine, tmp_path):
    engine, states = machine
    rows = {row.name: row for row in lab_rows(states, [engine])}
    assert sorted(rows) == ["blog", "broken", "shop", "stray"]
    shop = rows["shop"]
    assert (shop.running, shop.members, shop.url, shop.backend, shop.balance) == (
        2, 3, "http://127.0.0.1:8081/", "redis", "round_robin")
    assert shop.project == str(tmp_path / "shop") and not shop.project_gone and not shop.note
    blog = rows["blog"]
    assert (blog.running, blog.members, blog.url, blog.project_gone) == (0, 0, "https://127.0.0.1:8443/", True)
    assert (rows["stray"].running, rows["stray"].members, rows["stray"].project) == (1, 1, None)
    assert "no state on this machine: `lab --name stray down`" in rows["stray"].note
    assert "cannot be read: `lab --name broken down`" in rows["broken"].note


def test_the_table_a_user_reads(machine, tmp_path):
    engine, states = machine
    table = format_rows(lab_rows(states, [engine])).replace(str(tmp_path), "~")
    print(table)
    lines = table.splitlines()
    assert lines[0].split() == ["LAB", "ENGINE", "RUNNING", "URL", "BACKEND/BALANCE", "PROJECT"]
    assert lines[1].split() == ["blog", "local", "down", "https://127.0.0.1:8443/", "db/ip_hash", "~/blog", "(gone)"]
    shop = next(line for line in lines if line.startswith("shop"))
    assert shop.split() == ["shop", "local", "2/3", "http://127.0.0.1:8081/", "redis/round_robin", "~/shop"]
    assert "no state on this machine" in lines[lines.index(next(l for l in lines if l.startswith("stray"))) + 1]


def test_an_engine_that_does_not_answer_leaves_the_saved_labs_listed(machine):
    engine, states = machine

    def unreachable():
        raise EngineUnavailable("cannot reach the Docker engine (made up by the test)")

    engine.labs = unreachable
    rows = {row.name: row for row in lab_rows(states, [engine])}
    assert sorted(rows) == ["blog", "broken", "shop"]  # the stray lab only the engine knows is not
    assert rows["shop"].members is None and "the local engine did not answer" in rows["shop"].note
    assert "?" in format_rows(rows.values())


def test_no_lab_says_how_to_start_one(tmp_path):
    engine = FakeEngine()
    assert format_rows(lab_rows(StateStore(tmp_path / "none"), [engine])) == "no lab on this machine: `lab up` starts one"


def test_ls_json_through_the_command(capsys, machine, monkeypatch):
    engine, states = machine
    monkeypatch.setattr(lab.cli, "Lab", lambda name, progress=None: Lab(name, engine=engine, states=states))
    code, out, err = run(capsys, "ls", "--json")
    assert code == 0, err
    listed = {row["name"]: row for row in json.loads(out)}
    assert listed["shop"]["running"] == 2 and listed["blog"]["project_gone"] is True
    code, out, _ = run(capsys, "ls")
    assert code == 0 and out.startswith("LAB ")


def test_a_lab_is_counted_on_the_engine_its_state_names(tmp_path):
    """A swarm lab's task containers carry its labels too: its members are the swarm's services."""
    states = StateStore(tmp_path / "state")
    states.save(LabState(LabConfig(name="fleet", site=str(tmp_path), engine="swarm"), new_secrets()))
    swarm = SimpleNamespace(kind="swarm", lab_names=lambda: {"fleet"},
                            members=lambda lab: [Member(f"{lab}-nginx", "nginx", "running")] * 4)
    local = SimpleNamespace(kind="local", lab_names=lambda: {"fleet"},
                            members=lambda lab: pytest.fail("the local engine's containers are the swarm's tasks"))
    (row,) = lab_rows(states, [local, swarm])
    assert (row.engine, row.running, row.members) == ("swarm", 4, 4)
