"""The reconcile logic on an in-memory engine: what `up`, `switch` and `down` change, and what they keep."""

import pytest

from lab import LabConfig
from lab.engines.host import free_port
from lab.errors import EngineError
from lab.model.nginx_conf import CONF_PATH
from lab.run.lab import Lab
from lab.run.state import StateStore

from .fake_engine import engine  # noqa: F401 (a fixture the tests ask for)


def new_lab(engine, tmp_path, name="fake", **options) -> Lab:
    lab = Lab(name, engine=engine, states=StateStore(tmp_path / "state"))
    lab.up(LabConfig(name=name, port=free_port(), **options))
    return lab


def changes(engine, since: int) -> list[tuple[str, str]]:
    return engine.calls[since:]


def test_a_first_up_creates_every_planned_member_and_migrates_once(engine, tmp_path):
    lab = new_lab(engine, tmp_path)
    plan = lab.plan()
    assert sorted(engine.containers) == sorted(spec.name for spec in plan.containers())
    assert engine.jobs == ["fake-facts", "fake-prepare"]  # what the site is, then migrations: once each
    assert lab.status()["running"]


def test_a_second_up_keeps_every_member(engine, tmp_path):
    lab = new_lab(engine, tmp_path)
    ids = {name: c.id for name, c in engine.containers.items()}
    before = len(engine.calls)
    result = lab.up()
    assert set(result.actions.values()) == {"kept"}
    assert changes(engine, before) == []
    assert {name: c.id for name, c in engine.containers.items()} == ids


def test_a_balance_switch_only_reloads_nginx(engine, tmp_path):
    lab = new_lab(engine, tmp_path)
    before = len(engine.calls)
    result = lab.switch(balance="ip_hash")
    assert result.changed == ["fake-nginx"] and result.actions["fake-nginx"] == "reloaded"
    assert changes(engine, before) == [("reload nginx", "fake-nginx")]
    assert lab.live_config_id(lab.config()) == result.plan.nginx_config_id


def test_a_backend_switch_touches_only_nodes_and_stores(engine, tmp_path):
    lab = new_lab(engine, tmp_path, backend="redis")
    postgres = engine.containers["fake-postgres"].id
    before = len(engine.calls)
    result = lab.switch(backend="memcached")
    touched = {name for _, name in changes(engine, before)}
    nodes = {f"fake-node-{i}" for i in (1, 2, 3)}
    assert touched <= nodes | {"fake-memcached", "fake-redis", "fake-nginx"}, touched
    assert ("create", "fake-memcached") in changes(engine, before)
    assert ("remove", "fake-redis") in changes(engine, before)  # no node uses it any more
    assert ("create", "fake-nginx") not in changes(engine, before)  # nginx stays up, users keep their connection
    assert {result.actions[node] for node in nodes} <= {"recreated", "reloaded"}
    assert engine.containers["fake-postgres"].id == postgres


def test_down_removes_exactly_the_labs_resources(engine, tmp_path):
    lab = new_lab(engine, tmp_path, name="fake")
    other = new_lab(engine, tmp_path, name="other")
    kept = other.engine.lab_resources("other")
    planned = len(lab.plan().containers())  # postgres, redis, 3 nodes, nginx
    removed = lab.down()
    assert engine.lab_resources("fake") == {"containers": [], "networks": [], "volumes": []}
    assert removed["containers"] == planned == 6 and removed["state"] == 1
    assert engine.lab_resources("other") == kept and kept["containers"]
    assert lab.config() is None and other.config() is not None


def test_an_interrupted_up_is_completed_by_the_next_one(engine, tmp_path):
    lab = Lab("fake", engine=engine, states=StateStore(tmp_path / "state"))
    config = LabConfig(name="fake", port=free_port())
    engine.fail_next("create", "fake-node-2")
    with pytest.raises(EngineError, match="fake-node-2"):
        lab.up(config)
    assert "fake-nginx" not in engine.containers  # nginx lets no one in before every node is ready
    result = lab.up(config)
    assert result.actions["fake-node-2"] == "created" and result.actions["fake-node-1"] == "kept"
    assert lab.status()["running"]
    assert set(lab.up().actions.values()) == {"kept"}


def test_a_node_handed_new_files_without_its_signal_is_not_ready(engine, tmp_path):
    lab = new_lab(engine, tmp_path)
    node = engine.containers["fake-node-1"]
    node.loaded = {}  # the process runs something else than the planned configuration
    result = lab.up()
    assert result.actions["fake-node-1"] == "reloaded"
    assert ("signal HUP", "fake-node-1") in engine.calls


def test_a_rolling_switch_drains_each_node_from_nginx_before_changing_it_one_at_a_time(engine, tmp_path):
    lab = new_lab(engine, tmp_path, backend="redis")
    before, reloads = len(engine.calls), len(engine.nginx_confs)
    result = lab.switch(rolling=True, backend="memcached")
    # One reload a node (it drains that node and puts the one before it back), and one for the last.
    assert len(engine.nginx_confs) - reloads == 4
    nodes = [f"fake-node-{i}" for i in (1, 2, 3)]
    changed_at = [next(i for i, (_, name) in enumerate(engine.calls) if i >= before and name == node) for node in nodes]
    assert changed_at == sorted(changed_at), "one node after another, in order"
    for node, at in zip(nodes, changed_at):
        # What nginx ran when the node changed: the node marked down, every other node up.
        conf = [text for count, text in engine.nginx_confs if count <= at][-1]
        downs = {line.split()[1].split(":")[0] for line in conf.splitlines() if line.strip().startswith("server ") and " down;" in line}
        assert downs == {node}, f"{node} changed while nginx had {sorted(downs) or 'no node'} down"
    assert {result.actions[node] for node in nodes} <= {"recreated", "reloaded"}
    # Back to every node in nginx's configuration, none of them down.
    assert " down;" not in engine.containers["fake-nginx"].files[CONF_PATH]
    assert lab.live_config_id(lab.config()) == result.plan.nginx_config_id


def test_a_scale_down_removes_the_dropped_node_once_nginx_no_longer_sends_it_requests(engine, tmp_path):
    lab = new_lab(engine, tmp_path)
    ids = {name: engine.containers[name].id for name in ("fake-node-1", "fake-node-2")}
    before = len(engine.calls)
    result = lab.switch(nodes=2)
    assert "fake-node-3" not in engine.containers and "fake-node-3" not in result.actions
    assert {name: engine.containers[name].id for name in ids} == ids  # the other nodes are kept
    changed = changes(engine, before)
    assert changed.index(("reload nginx", "fake-nginx")) < changed.index(("remove", "fake-node-3")), changed
    assert "fake-node-3" not in engine.containers["fake-nginx"].files[CONF_PATH]
    assert lab.live_config_id(lab.config()) == result.plan.nginx_config_id
    assert set(lab.up().actions.values()) == {"kept"}
