"""The reconciler's steps (lab.engines.reconcile) on the in-memory engine, plan by plan, without a `Lab` around it.

docs/architecture.md, "How data flows": stores and migrations while nodes boot, then nginx, then what the plan no
longer has; only the difference changes; a rolling apply drains one node at a time (4 nginx reloads for 3 nodes).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from lab import LabConfig
from lab.engines.host import free_port
from lab.engines.interface import ApplyRequest
from lab.engines.reconcile import Reconciler
from lab.errors import NginxConfigError, NotReady, SiteError
from lab.model.nginx_conf import CONF_PATH
from lab.model.plan import Plan, build_plan
from lab.run.state import new_secrets

from .fake_engine import FakeEngine
from .projects import read

TAGS = {key: f"django-lab/{key}:test" for key in ("node", "site", "nginx", "postgres", "redis", "memcached", "nfs")}
SECRETS = new_secrets()
NODES = [f"fake-node-{i}" for i in (1, 2, 3)]


class SeenList(list):
    """Progress lines, with a look at the lab as each is said."""

    def __init__(self, on_line):
        super().__init__()
        self.on_line = on_line

    def append(self, line: str) -> None:
        super().append(line)
        self.on_line(line)


class Applier:
    """What `Lab.up` asks of the local engine's reconciler, on plans built here: the plan, the request
    (migrated for this site image or not; how to plan again with the NFS server's address), apply, serve."""

    def __init__(self, engine: FakeEngine, workdir):
        self.engine = engine
        self.workdir = workdir
        self.port = free_port()
        self.lines: list[str] = []
        self.tags = dict(TAGS)
        self.prepared_site: str | None = None
        self.replans: list[str] = []  # the addresses the reconciler planned again with

    def replan(self, nfs_client: str, address: str, **options) -> Plan:
        self.replans.append(address)
        return self.plan(nfs_client, address, **options)

    def plan(self, nfs_client: str = "fuse", nfs_address: str | None = None, **options) -> Plan:
        config = LabConfig(name="fake", port=self.port, **options)
        return build_plan(config, SECRETS, self.tags, nfs_client=nfs_client, nfs_address=nfs_address, site=read(config))

    @property
    def reconciler(self) -> Reconciler:
        return Reconciler(self.engine, self.lines.append)

    def apply(self, rolling: bool = False, nfs_client: str = "fuse", **options) -> tuple[Plan, dict[str, str]]:
        plan = self.plan(nfs_client, **options)
        site = self.tags["site"]
        request = ApplyRequest(
            prepared=self.prepared_site == site,
            on_prepared=lambda: setattr(self, "prepared_site", site),
            workdir=self.workdir,
            replan=lambda address: self.replan(nfs_client, address, **options),
            rolling=rolling,
        )
        self.reconciler.prepare(plan)
        applied, actions = self.reconciler.apply(plan, request, nfs_client)
        self.reconciler.wait_for_config(applied)
        return applied, actions

    def since(self, before: int) -> list[tuple[str, str]]:
        return self.engine.calls[before:]

    def at(self, call: tuple[str, str], since: int = 0) -> int:
        """Where `call` first is among the engine's calls from `since` on."""
        return self.engine.calls.index(call, since)

    def live_config_id(self) -> str | None:
        return self.reconciler.live_config_id(f"http://127.0.0.1:{self.port}/")


@pytest.fixture
def lab(tmp_path, monkeypatch):
    monkeypatch.setattr("lab.engines.reconcile.DRAIN_SECONDS", 0.01)  # nothing is in flight on the fake
    engine = FakeEngine()
    yield Applier(engine, tmp_path)
    engine.close()


def servers_in(conf: str) -> dict[str, bool]:
    """Each upstream server of an nginx.conf (its container's name) and whether it is marked down."""
    lines = [line.split() for line in conf.splitlines() if line.strip().startswith("server ") and line.strip().endswith(";")]
    return {words[1].split(":")[0]: words[-1] == "down;" for words in lines}


def running_conf(lab: Applier) -> str:
    return lab.engine.containers["fake-nginx"].loaded[CONF_PATH]


# -- the first up ----------------------------------------------------------------------------------------


def test_a_first_up_creates_every_member_migrates_once_and_serves_the_plan(lab):
    plan, actions = lab.apply()
    assert actions == {spec.name: "created" for spec in plan.containers()}
    assert lab.engine.jobs == ["fake-prepare"] and lab.prepared_site == TAGS["site"]
    assert lab.live_config_id() == plan.nginx_config_id
    assert servers_in(running_conf(lab)) == {node: False for node in NODES}
    assert {container.network for container in lab.engine.containers.values()} == {plan.network}


def test_a_first_up_starts_nodes_while_the_stores_start_and_migrations_run_and_nginx_last(lab):
    lab.engine.job_seconds = 0.2  # a migration that takes a while: its call is recorded as it ends
    lab.apply()
    migrated = lab.at(("job", "fake-prepare"))
    assert all(lab.at(("create", node)) < migrated for node in NODES), lab.engine.calls
    assert lab.at(("create", "fake-postgres")) < migrated
    assert lab.engine.calls[-1] == ("create", "fake-nginx")


def test_every_step_says_how_long_it_took_itself(lab):
    import re

    lab.engine.slow["fake-nginx"] = 0.2
    lab.apply(release_commands=("python manage.py one",))
    lab.apply(rolling=True, backend="memcached")
    timed = [(line, float(found)) for line in lab.lines for found in re.findall(r" in (\d+\.\d) s\b", line)]
    assert {line.split()[0] for line, _ in timed} >= {"stores", "database", "nodes", "nginx", "node-1"}
    assert all(0 <= seconds < 30 for _, seconds in timed), timed
    [nginx] = [seconds for line, seconds in timed if line.startswith("nginx created")]
    assert nginx >= 0.2  # nginx's step waits until it is ready


def test_each_nginx_reload_is_timed_in_the_engines_profile(lab):
    lab.apply(backend="redis")
    lab.engine.stopwatch.take()
    lab.apply(rolling=True, backend="memcached")
    assert lab.engine.stopwatch.take()["nginx reload"].count == 4


def test_nginx_lets_users_in_only_once_every_node_is_ready(lab):
    lab.engine.slow["fake-node-2"] = 0.3
    lab.apply()
    node, nginx = lab.engine.containers["fake-node-2"], lab.engine.containers["fake-nginx"]
    assert nginx.started_at >= node.started_at + 0.3
    [took] = [float(line.split(" ready in ")[1].split(" s")[0]) for line in lab.lines if line.startswith("nodes ready in")]
    assert 0.3 <= took < 30  # the step's own time


def test_a_node_that_exits_as_it_starts_fails_the_apply_naming_it_and_nginx_lets_no_one_in(lab):
    lab.engine.crashes.add("fake-node-2")
    with pytest.raises(NotReady) as raised:
        lab.apply()
    assert raised.value.container == "fake-node-2" and "exited" in raised.value.reason
    assert "fake-nginx" not in lab.engine.containers


def test_release_steps_run_before_any_node_starts(lab):
    """A project's release step may write what a node reads once, at start."""
    lab.engine.job_seconds = 0.1
    lab.apply(release_commands=("python manage.py one", "python manage.py two"))
    migrated = lab.at(("job", "fake-prepare"))
    assert all(lab.at(("create", node)) > migrated for node in NODES), lab.engine.calls
    assert any(line.startswith("database migrated, 2 release steps run and demo user set in ") for line in lab.lines)


def test_without_release_steps_none_are_said_to_run(lab):
    lab.apply(release_commands=())
    assert any(line.startswith("database migrated and demo user set in ") for line in lab.lines)
    assert not any("release step" in line for line in lab.lines)


def test_the_network_and_volumes_are_made_with_the_labs_labels(lab):
    plan, _ = lab.apply()
    assert lab.engine.volumes == {volume.name: dict(volume.labels) for volume in plan.volumes}
    assert lab.engine.networks == {plan.network: dict(plan.network_labels)}


def test_kernel_nfs_mounts_the_export_at_the_servers_address_before_the_nodes_start(lab):
    plan, actions = lab.apply(nfs_client="kernel", backend="nfs")
    [mount] = [name for name in lab.engine.volumes if name.startswith("fake-nfs-mount")]
    options = lab.engine.volume_options[mount]
    assert options["type"] == "nfs" and "addr=10.0.0.2" in options["o"]  # the address the NFS server got
    assert lab.at(("create", "fake-nfs")) < lab.at(("volume create", mount)) < lab.at(("create", "fake-node-1"))
    assert all(lab.at(("job", "fake-prepare")) < lab.at(("create", node)) for node in NODES)
    assert plan == lab.plan("kernel", "10.0.0.2", backend="nfs")  # the plan as applied names the address
    assert lab.replans == ["10.0.0.2"]
    before = len(lab.engine.calls)
    _, again = lab.apply(nfs_client="kernel", backend="nfs")
    assert lab.since(before) == [] and set(again.values()) == {"kept"}


def test_fuse_nfs_is_planned_once_and_the_nodes_still_start_after_the_export(lab):
    plan, _ = lab.apply(nfs_client="fuse", backend="nfs")
    assert plan == lab.plan("fuse", backend="nfs") and lab.replans == []
    assert not [name for name in lab.engine.volumes if name.startswith("fake-nfs-mount")]
    assert all(lab.at(("create", "fake-nfs")) < lab.at(("create", node)) for node in NODES)


def test_a_lab_without_nfs_is_planned_once_whatever_the_nfs_client(lab):
    lab.apply(nfs_client="kernel", backend="redis")
    assert lab.replans == []


def test_each_step_says_what_it_did_to_each_member_by_its_short_name(lab):
    lab.apply()
    summary = {line.split(" ready in ")[0]: line.split(": ", 1)[1] for line in lab.lines if " ready in " in line}
    assert summary["stores"] == "postgres created, redis created"
    assert summary["nodes"] == "node-1 created, node-2 created, node-3 created"
    assert any(line.startswith("nginx created") for line in lab.lines)


# -- only the difference -----------------------------------------------------------------------------------


def test_up_twice_changes_nothing_and_migrates_once(lab):
    lab.apply()
    before = len(lab.engine.calls)
    _, actions = lab.apply()
    assert lab.since(before) == [] and set(actions.values()) == {"kept"}
    assert lab.engine.jobs == ["fake-prepare"]


def test_a_scale_down_removes_the_dropped_node_once_nginx_no_longer_sends_it_requests(lab):
    lab.apply()
    before = len(lab.engine.calls)
    plan, actions = lab.apply(nodes=2)
    assert lab.since(before) == [("reload nginx", "fake-nginx"), ("remove", "fake-node-3")]
    assert servers_in(running_conf(lab)) == {"fake-node-1": False, "fake-node-2": False}
    assert actions["fake-nginx"] == "reloaded" and "fake-node-3" not in actions
    assert "fake-node-3-data" in lab.engine.volumes  # volumes stay until down
    assert any("removed" in line and "fake-node-3" in line for line in lab.lines)


def test_a_scale_down_by_two_says_both_nodes_it_removed(lab):
    lab.apply()
    lab.apply(nodes=1)
    [removed] = [line for line in lab.lines if line.startswith("removed ")]
    assert sorted(removed.removeprefix("removed ").split(", ")) == ["fake-node-2", "fake-node-3"]


def test_a_scale_down_removes_only_its_own_labs_nodes(lab, tmp_path):
    other = Applier(lab.engine, tmp_path)
    other.plan = lambda nfs_client="fuse", nfs_address=None, **options: build_plan(
        LabConfig(name="other", port=other.port, **options), SECRETS, TAGS)
    other.apply()
    lab.apply()
    kept = lab.engine.lab_resources("other")
    lab.apply(nodes=1)
    assert sorted(name for name in lab.engine.containers if name.startswith("fake-node-")) == ["fake-node-1"]
    assert lab.engine.lab_resources("other") == kept and "other-node-3" in kept["containers"]


def test_a_scale_up_creates_only_the_new_node_and_nginx_sends_it_requests(lab):
    lab.apply()
    before = len(lab.engine.calls)
    _, actions = lab.apply(nodes=4)
    assert lab.since(before) == [("volume create", "fake-node-4-data"), ("create", "fake-node-4"),
                                 ("reload nginx", "fake-nginx")]
    assert servers_in(running_conf(lab)) == {f"fake-node-{i}": False for i in (1, 2, 3, 4)}
    assert actions["fake-node-4"] == "created" and {actions[node] for node in NODES} == {"kept"}


def test_a_balance_switch_only_reloads_nginx(lab):
    lab.apply()
    before = len(lab.engine.calls)
    plan, actions = lab.apply(balance="ip_hash")
    assert lab.since(before) == [("reload nginx", "fake-nginx")]
    assert [name for name, action in actions.items() if action != "kept"] == ["fake-nginx"]
    assert lab.live_config_id() == plan.nginx_config_id


def test_a_backend_switch_removes_the_dropped_store_once_the_nodes_left_it_and_reloads_nginx(lab):
    lab.apply(backend="redis")
    before = len(lab.engine.calls)
    _, actions = lab.apply(backend="memcached")
    assert ("create", "fake-memcached") in lab.since(before)
    last_node_change = max(i for i, (_, name) in enumerate(lab.engine.calls) if i >= before and name in NODES)
    assert lab.at(("remove", "fake-redis"), before) > last_node_change
    # The nodes behind nginx changed: it is reloaded (a fresh view of them), though its configuration did not.
    assert lab.at(("reload nginx", "fake-nginx"), before) > last_node_change
    assert actions["fake-nginx"] == "reloaded" and {actions[node] for node in NODES} == {"reloaded"}
    assert "fake-redis" not in actions and "fake-redis" not in lab.engine.containers
    assert "fake-postgres" in lab.engine.containers and actions["fake-postgres"] == "kept"
    assert lab.engine.jobs == ["fake-prepare"]  # the database was kept: no second migration


def test_a_new_database_container_is_migrated_again_before_the_nodes_that_use_it_change(lab):
    lab.apply()
    lab.engine.remove("fake-postgres")
    lab.engine.job_seconds = 0.1
    before = len(lab.engine.calls)
    _, actions = lab.apply(backend="memcached")
    assert lab.engine.jobs == ["fake-prepare", "fake-prepare"]
    migrated = lab.at(("job", "fake-prepare"), before)
    assert lab.at(("create", "fake-postgres"), before) < migrated
    assert all(lab.at(("signal HUP", node), before) > migrated for node in NODES), lab.since(before)
    assert actions["fake-postgres"] == "created"


def test_a_new_site_image_under_users_is_migrated_before_any_node_changes(lab):
    """Users are on the lab: a new node must find the migrated tables when it starts."""
    lab.apply()
    lab.tags["site"] = "django-lab/site:v2"
    lab.engine.job_seconds = 0.1
    before = len(lab.engine.calls)
    _, actions = lab.apply()
    migrated = lab.at(("job", "fake-prepare"), before)
    node_changes = [i for i, (_, name) in enumerate(lab.engine.calls) if i >= before and name in NODES]
    assert node_changes and min(node_changes) > migrated
    assert {actions[node] for node in NODES} == {"recreated"} and lab.prepared_site == "django-lab/site:v2"


def test_a_node_handed_new_files_without_its_signal_gets_the_signal(lab):
    lab.apply()
    lab.engine.containers["fake-node-2"].loaded = {}
    before = len(lab.engine.calls)
    _, actions = lab.apply()
    assert lab.since(before) == [("signal HUP", "fake-node-2"), ("reload nginx", "fake-nginx")]
    assert actions["fake-node-2"] == "reloaded" and actions["fake-node-1"] == "kept"


def test_a_stopped_store_is_started_and_nothing_else_changes(lab):
    lab.apply()
    lab.engine.stop("fake-redis")
    before = len(lab.engine.calls)
    _, actions = lab.apply()
    assert lab.since(before) == [("start", "fake-redis")]
    assert actions["fake-redis"] == "started"


def test_a_scheduler_starts_after_the_nodes_and_goes_when_no_longer_asked_for(lab):
    lab.apply(scheduler="python manage.py run_scheduler")
    assert all(lab.at(("create", node)) < lab.at(("create", "fake-scheduler")) for node in NODES)
    assert lab.at(("create", "fake-scheduler")) < lab.at(("create", "fake-nginx"))
    assert any(line.startswith("members ready") and "scheduler created" in line for line in lab.lines)
    before = len(lab.engine.calls)
    lab.apply(scheduler="")
    assert lab.since(before) == [("remove", "fake-scheduler")]


def test_a_container_of_the_lab_no_plan_has_is_removed_whatever_its_role(lab):
    plan, _ = lab.apply()
    leftover = plan.prepare  # a one-off job's container left behind by an interrupted run
    lab.engine.create(leftover, plan.network)
    before = len(lab.engine.calls)
    lab.apply()
    assert lab.since(before) == [("remove", leftover.name)]


# -- nginx ---------------------------------------------------------------------------------------------------


def test_a_stopped_nginx_is_started_again_without_a_reload(lab):
    lab.apply()
    lab.engine.stop("fake-nginx")
    assert not lab.reconciler.serving("fake")
    before = len(lab.engine.calls)
    plan, actions = lab.apply()
    assert lab.since(before) == [("start", "fake-nginx")]
    assert actions["fake-nginx"] == "started"
    assert lab.live_config_id() == plan.nginx_config_id


def test_nginx_that_runs_another_configuration_is_reloaded_with_the_planned_one(lab):
    lab.apply()
    lab.engine.containers["fake-nginx"].loaded[CONF_PATH] = "# someone else's configuration"
    before = len(lab.engine.calls)
    plan, actions = lab.apply()
    assert lab.since(before) == [("reload nginx", "fake-nginx")]
    assert actions["fake-nginx"] == "reloaded"
    assert lab.live_config_id() == plan.nginx_config_id


def test_a_configuration_nginx_rejects_fails_the_apply_with_its_output_and_the_running_one_stays(lab):
    lab.apply()
    running = lab.live_config_id()
    lab.engine.nginx_rejects = True
    with pytest.raises(NginxConfigError, match="configuration file test failed"):
        lab.apply(balance="ip_hash")
    assert lab.live_config_id() == running
    assert CONF_PATH + ".next" not in lab.engine.containers["fake-nginx"].files


def test_serving_means_this_labs_nginx_runs(lab):
    assert not lab.reconciler.serving("fake")
    lab.apply()
    assert lab.reconciler.serving("fake")
    assert not lab.reconciler.serving("other")
    lab.engine.stop("fake-nginx")
    assert not lab.reconciler.serving("fake")


# -- rolling -------------------------------------------------------------------------------------------------


def test_a_rolling_apply_drains_each_changed_node_in_turn_in_four_reloads_for_three_nodes(lab):
    lab.apply(backend="redis")
    before, reloads = len(lab.engine.calls), len(lab.engine.nginx_confs)
    plan, actions = lab.apply(rolling=True, backend="memcached")
    confs = lab.engine.nginx_confs[reloads:]
    assert len(confs) == 4
    for node, (count, conf) in zip(NODES, confs):
        drained = {name for name, down in servers_in(conf).items() if down}
        assert drained == {node}
        # nginx loaded that configuration before the node changed, and the node changed before the next reload
        assert count <= lab.at(("signal HUP", node), before)
    assert not any(servers_in(confs[-1][1]).values())
    assert lab.at(("signal HUP", "fake-node-3"), before) < confs[-1][0]
    assert {actions[node] for node in NODES} == {"reloaded"}
    assert lab.live_config_id() == plan.nginx_config_id
    steps = [line.split() for line in lab.lines if " and ready in " in line]
    assert [words[:2] for words in steps] == [[f"node-{i}", "reloaded"] for i in (1, 2, 3)]
    assert all(0 <= float(words[-2]) < 30 for words in steps)


def test_a_roll_ends_with_every_node_back_in_nginx(lab):
    lab.apply(backend="redis")
    seen = {}
    lab.lines = SeenList(lambda line: line.startswith("nodes rolled") and seen.update(live=lab.live_config_id()))
    plan, _ = lab.apply(rolling=True, backend="memcached")
    assert seen["live"] == plan.nginx_config_id  # before nginx is converged, the last node is back
    [rolled] = [line for line in lab.lines if line.startswith("nodes rolled in ")]
    assert 0 <= float(rolled.split()[3]) < 30


def test_a_rolling_apply_drains_the_next_node_only_once_the_one_before_is_ready(lab):
    lab.apply(backend="redis")
    lab.engine.slow["fake-node-1"] = 0.2
    reloads = len(lab.engine.nginx_confs)
    drained_at = {}
    put_file = lab.engine.put_file

    def noted(container, path, content):  # when each drained configuration was handed to nginx
        if container == "fake-nginx":
            drained_at.update({name: __import__("time").monotonic() for name, down in servers_in(content).items() if down})
        put_file(container, path, content)

    lab.engine.put_file = noted
    lab.apply(rolling=True, backend="memcached")
    assert len(lab.engine.nginx_confs) - reloads == 4
    assert drained_at["fake-node-2"] >= lab.engine.containers["fake-node-1"].started_at + 0.2


def test_a_rolling_apply_stops_at_a_node_that_does_not_come_back_and_leaves_the_others_as_they_were(lab):
    lab.apply()
    lab.tags["site"] = "django-lab/site:v2"  # a new version: every node is recreated
    lab.engine.crashes.add("fake-node-1")
    before = len(lab.engine.calls)
    with pytest.raises(NotReady) as raised:
        lab.apply(rolling=True)
    assert raised.value.container == "fake-node-1"
    assert [name for _, name in lab.since(before) if name in NODES[1:]] == []
    assert servers_in(running_conf(lab)) == {"fake-node-1": True, "fake-node-2": False, "fake-node-3": False}


def test_a_rolling_apply_creates_a_missing_node_at_once_and_still_rolls_the_others(lab):
    lab.apply(backend="redis")
    lab.engine.remove("fake-node-1")
    before, reloads = len(lab.engine.calls), len(lab.engine.nginx_confs)
    plan, actions = lab.apply(rolling=True, backend="memcached")
    confs = [conf for _, conf in lab.engine.nginx_confs[reloads:]]
    assert [sorted(name for name, down in servers_in(conf).items() if down) for conf in confs] == [
        ["fake-node-2"], ["fake-node-3"], []]
    assert lab.at(("create", "fake-node-1"), before) < lab.engine.nginx_confs[reloads][0]
    assert actions["fake-node-1"] == "created" and actions["fake-node-3"] == "reloaded"
    assert {container.network for container in lab.engine.containers.values()} == {plan.network}


def test_a_rolling_apply_of_what_runs_already_changes_nothing(lab):
    lab.apply()
    before = len(lab.engine.calls)
    _, actions = lab.apply(rolling=True)
    assert lab.since(before) == [] and set(actions.values()) == {"kept"}


def test_a_rolling_balance_switch_drains_no_node(lab):
    lab.apply()
    before = len(lab.engine.calls)
    plan, actions = lab.apply(rolling=True, balance="least_conn")
    assert lab.since(before) == [("reload nginx", "fake-nginx")]
    assert actions["fake-nginx"] == "reloaded" and {actions[node] for node in NODES} == {"kept"}
    assert lab.live_config_id() == plan.nginx_config_id


def test_a_rolling_scale_down_removes_the_dropped_node_too(lab):
    lab.apply()
    before = len(lab.engine.calls)
    lab.apply(rolling=True, nodes=2)
    assert lab.since(before) == [("reload nginx", "fake-nginx"), ("remove", "fake-node-3")]
    assert servers_in(running_conf(lab)) == {"fake-node-1": False, "fake-node-2": False}


def test_a_rolling_scale_up_starts_the_new_node_without_draining_any(lab):
    lab.apply()
    lab.engine.slow["fake-node-4"] = 0.1
    before, reloads = len(lab.engine.calls), len(lab.engine.nginx_confs)
    plan, actions = lab.apply(rolling=True, nodes=4)
    assert lab.engine.containers["fake-node-4"].network == plan.network
    assert lab.since(before) == [("volume create", "fake-node-4-data"), ("create", "fake-node-4"),
                                 ("reload nginx", "fake-nginx")]
    [(_, conf)] = lab.engine.nginx_confs[reloads:]
    assert servers_in(conf) == {f"fake-node-{i}": False for i in (1, 2, 3, 4)}
    assert actions["fake-node-4"] == "created" and {actions[node] for node in NODES} == {"kept"}


def test_a_rolling_apply_drains_a_node_whose_process_runs_other_files(lab):
    lab.apply()
    lab.engine.containers["fake-node-2"].loaded = {}
    before, reloads = len(lab.engine.calls), len(lab.engine.nginx_confs)
    _, actions = lab.apply(rolling=True)
    assert lab.since(before) == [("reload nginx", "fake-nginx"), ("signal HUP", "fake-node-2"), ("reload nginx", "fake-nginx")]
    drained, back = (conf for _, conf in lab.engine.nginx_confs[reloads:])
    assert servers_in(drained) == {"fake-node-1": False, "fake-node-2": True, "fake-node-3": False}
    assert not any(servers_in(back).values())
    assert actions["fake-node-2"] == "reloaded" and actions["fake-node-1"] == "kept"


def test_a_rolling_apply_on_a_lab_nginx_does_not_serve_changes_every_node_at_once(lab):
    """No one is on a lab whose nginx does not run: there is nothing to drain."""
    lab.apply(backend="redis")
    lab.engine.stop("fake-nginx")
    before, reloads = len(lab.engine.calls), len(lab.engine.nginx_confs)
    _, actions = lab.apply(rolling=True, backend="memcached")
    assert lab.engine.nginx_confs[reloads:] == []
    assert {actions[node] for node in NODES} == {"reloaded"} and actions["fake-nginx"] == "started"
    assert max(lab.at(("signal HUP", node), before) for node in NODES) < lab.at(("start", "fake-nginx"), before)


def test_a_rolling_apply_under_users_migrates_before_the_first_node_is_drained(lab):
    lab.apply()
    lab.tags["site"] = "django-lab/site:v2"
    lab.engine.job_seconds = 0.1
    before = len(lab.engine.calls)
    lab.apply(rolling=True)
    assert lab.at(("job", "fake-prepare"), before) < lab.at(("reload nginx", "fake-nginx"), before)


# -- migrations that fail or warn -------------------------------------------------------------------------


def test_a_failed_release_step_names_the_step_and_the_option_that_replaces_it(lab):
    lab.engine.job_results["fake-prepare"] = (1, "\n".join([
        "lab-release: running: migrate (the lab migrates once per lab)",
        "lab-release: running: `python manage.py three` (Procfile:1 (release))",
        "django: error: not the lab's line",
        "lab-release: error: the release step `python manage.py three` (Procfile:1 (release)) exited 1: error: no such table",
    ]))
    with pytest.raises(SiteError) as raised:
        lab.apply()
    message = str(raised.value)
    # the step that failed, whole: its command, where the project declares it, its exit code and its last error line
    assert message.split(";")[0] == "the release step `python manage.py three` (Procfile:1 (release)) exited 1: error: no such table"
    assert "--release-command CMD" in message
    assert "fake-nginx" not in lab.engine.containers and lab.prepared_site is None


def test_failed_migrations_without_a_release_step_say_the_exit_code_and_keep_the_output(lab):
    lab.engine.job_results["fake-prepare"] = (2, "Traceback: django.db.utils.OperationalError\nmigrate: error: x\n")
    with pytest.raises(NotReady) as raised:
        lab.apply()
    assert raised.value.container == "fake-prepare"
    assert "exited 2" in raised.value.reason and "OperationalError" in raised.value.logs
    assert "fake-nginx" not in lab.engine.containers


def test_migrations_the_running_version_may_trip_on_are_named_while_users_are_on_the_lab(lab):
    lab.apply()
    lab.tags["site"] = "django-lab/site:v2"
    lab.engine.job_results["fake-prepare"] = (0, "\n".join([
        "lab-release: incompatible: Remove field caption from photo",
        "migrate: incompatible: Rename field a on b",
        "lab-release: incompatible: RunSQL: incompatible: DROP TABLE x",
    ]))
    lab.apply()
    [warning] = [line for line in lab.lines if "expand/contract" in line]
    assert "Remove field caption from photo; Rename field a on b; RunSQL: incompatible: DROP TABLE x" in warning
    assert "lab-release" not in warning and "incompatible: Remove" not in warning


def test_migrations_on_a_lab_no_one_uses_yet_warn_of_nothing(lab):
    lab.engine.job_results["fake-prepare"] = (0, "lab-release: incompatible: Remove field caption from photo\n")
    lab.apply()
    assert not [line for line in lab.lines if "Remove field caption" in line]


# -- asking nginx what it serves -----------------------------------------------------------------------------


class Answers:
    """A stand-in for HTTP: what nginx's health and a node's health (through nginx) answer, in turn."""

    def __init__(self, nginx: list[tuple[int, dict]], node: int = 200):
        self.nginx = list(nginx)
        self.node = node
        self.asked: list[str] = []

    def __call__(self, url: str, *args, **kwargs) -> tuple[int, dict]:
        self.asked.append(url)
        if url.endswith("/nginx-health"):
            return self.nginx.pop(0) if len(self.nginx) > 1 else self.nginx[0]
        return self.node, {}


PLAN = SimpleNamespace(url="http://127.0.0.1:8080/", nginx_config_id="abc123", nginx=SimpleNamespace(name="t-nginx"))


def test_the_live_configuration_is_the_one_nginx_names_in_a_healthy_answer():
    answers = Answers([(200, {"X-Lab-Config": "abc123"})])
    assert Reconciler(FakeEngine(), print, fetch=answers).live_config_id("http://127.0.0.1:8080/") == "abc123"
    assert answers.asked == ["http://127.0.0.1:8080/nginx-health"]


def test_an_nginx_that_does_not_answer_well_serves_no_known_configuration():
    for status in (502, 0):
        answers = Answers([(status, {"X-Lab-Config": "abc123"})])
        assert Reconciler(FakeEngine(), print, fetch=answers).live_config_id(PLAN.url) is None
    assert Reconciler(FakeEngine(), print, fetch=Answers([(200, {})])).live_config_id(PLAN.url) is None


def test_waiting_for_a_configuration_ends_once_nginx_serves_it_with_a_healthy_node():
    answers = Answers([(200, {"X-Lab-Config": "old"})] * 3 + [(200, {"X-Lab-Config": "abc123"})])
    Reconciler(FakeEngine(), print, fetch=answers).wait_for_config(PLAN, timeout=5)
    assert "http://127.0.0.1:8080/__lab__/health" in answers.asked
    assert answers.nginx == [(200, {"X-Lab-Config": "abc123"})]


def test_waiting_for_a_configuration_no_node_answers_through_fails_naming_nginx_with_its_log():
    answers = Answers([(200, {"X-Lab-Config": "abc123"})], node=502)
    engine = SimpleNamespace(logs=lambda container, tail=40: f"the last lines of {container}")
    with pytest.raises(NotReady) as raised:
        Reconciler(engine, print, fetch=answers).wait_for_config(PLAN, timeout=0.2)
    assert raised.value.container == "t-nginx" and "abc123" in raised.value.reason
    assert raised.value.logs == "the last lines of t-nginx"


def test_waiting_for_a_configuration_nginx_never_loads_fails_within_its_timeout():
    import time

    answers = Answers([(200, {"X-Lab-Config": "old"})])
    started = time.monotonic()
    with pytest.raises(NotReady, match="abc123"):
        Reconciler(FakeEngine(), print, fetch=answers).wait_for_config(PLAN, timeout=0.3)
    assert 0.3 <= time.monotonic() - started < 2
    assert len(answers.asked) >= 4  # asked again and again until the deadline


def test_a_worker_machine_the_plan_drops_is_removed(lab, tmp_path):
    """--worker-machines 0 on a project that declares a worker: its machine goes, nothing else changes."""
    from .projects import make

    site = make(tmp_path, {"manage.py": "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'app.settings')\n",
                           "app/__init__.py": "", "app/settings.py": "",
                           "Procfile": "web: gunicorn app.wsgi\nworker: celery -A app worker -l INFO\n"})
    lab.apply(site=str(site))
    assert ("create", "fake-worker-1") in lab.engine.calls
    before = len(lab.engine.calls)
    lab.apply(site=str(site), worker_machines=0)
    assert lab.since(before) == [("remove", "fake-worker-1")]


def test_a_node_has_90_s_to_be_ready_and_the_release_job_15_minutes(lab, monkeypatch):
    """docs/ci.md: each node gets 90 s to load the site and pass its health check, a deploy's release job 15 minutes."""
    import lab.engines.reconcile as reconcile

    waited = []
    real = reconcile.wait_until_ready

    def recording(engine, container, check, timeout=60.0, interval=None):
        waited.append((container, timeout))
        return real(engine, container, check, timeout=timeout, interval=interval)

    monkeypatch.setattr(reconcile, "wait_until_ready", recording)
    lab.apply()
    assert lab.engine.job_timeouts["fake-prepare"] == 900
    assert {timeout for container, timeout in waited if container in NODES} == {90}
    waited.clear()
    lab.apply(rolling=True, backend="memcached")  # each node replaced in turn
    assert {container for container, _ in waited} >= set(NODES)
    assert {timeout for container, timeout in waited if container in NODES} == {90}
    waited.clear()
    lab.apply(rolling=True, backend="memcached", nodes=4)  # a new node in a rolling apply
    assert ("fake-node-4", 90) in waited
