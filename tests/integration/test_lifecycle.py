"""One lab through its life: up, log in, switch balance and backend, reject a bad config, down."""

import dataclasses

import pytest

from lab import BALANCE_MODES, LabConfig, NginxConfigError
from lab.engines.host import fetch
from lab.model.plan import HEALTH
from lab.model.security import PROFILES
from lab.traffic.evidence import VirtualUser

from .conftest import NOTHING, browse, free_port, gunicorn_processes

pytestmark = pytest.mark.integration
NODES = {"node-1", "node-2", "node-3"}


@pytest.fixture(scope="module")
def lab(module_lab_factory):
    lab = module_lab_factory("life")
    lab.up(LabConfig(name=lab.name, port=free_port()))
    return lab


def container_ids(lab):
    return {row["name"]: row["id"] for row in lab.engine.docker.lab_containers(lab.name)}


def test_up_brings_healthy_nodes_stores_and_nginx(lab):
    status = lab.status()
    assert status["running"], status["containers"]
    roles = sorted(c["role"] for c in status["containers"])
    assert roles == ["nginx", "node", "node", "node", "store", "store"]
    assert {"url", "username", "password", "backend", "balance", "nodes"} <= set(status)
    assert (status["backend"], status["balance"], status["nodes"]) == ("redis", "round_robin", 3)


def test_only_nginx_is_published(lab):
    published = {}
    for name in container_ids(lab):
        ports = lab.engine.docker.client.containers.get(name).attrs["NetworkSettings"]["Ports"] or {}
        published[name] = {port: binds for port, binds in ports.items() if binds}
    assert [name for name, ports in published.items() if ports] == [f"{lab.name}-nginx"]
    (bind,) = published[f"{lab.name}-nginx"]["80/tcp"]
    assert bind["HostIp"] == "127.0.0.1"


def test_redis_under_round_robin_keeps_the_user_on_every_node(lab):
    evidence = browse(lab, 12)
    assert set(evidence.nodes_seen) == NODES, "not evidence: the user did not reach every node"
    assert evidence.kept("demo"), evidence.first_failure("demo")
    assert [o.counter for o in evidence.observations] == list(range(1, 13))


def test_every_container_is_hardened_as_its_profile_says(lab):
    clients = lab.clients(direct=1, nat_users=0)
    clients.ensure()
    profiles = {"nginx": "nginx", "node": "node", "client": "client"}
    checked = set()
    for row in lab.engine.docker.lab_containers(lab.name):
        host = lab.engine.docker.client.containers.get(row["name"]).attrs["HostConfig"]
        profile = PROFILES[row["labels"].get("django-lab.store") or profiles[row["role"]]]
        assert host["CapDrop"] == ["ALL"] and sorted(host["CapAdd"] or []) == sorted(profile.capabilities), row["name"]
        assert "no-new-privileges:true" in host["SecurityOpt"] and host["Privileged"] is False, row["name"]
        assert host["Memory"] >= profile.memory_mb * 2**20 and host["PidsLimit"] == profile.pids, row["name"]
        assert host["LogConfig"] == {"Type": "json-file", "Config": {"max-file": "3", "max-size": "10m"}}, row["name"]
        checked.add(row["role"])
    assert checked == {"nginx", "node", "store", "client"}


def test_nodes_serve_as_the_site_user_with_no_capability(lab):
    assert gunicorn_processes(lab, "node-1") == {("1000", "0000000000000000")}


def test_the_stores_take_only_the_labs_own_passwords_from_the_labs_own_network(lab):
    state = lab.states.load(lab.name)
    node = f"{lab.name}-node-1"
    probe = (
        "import psycopg, sys\n"
        "for password in sys.argv[1:]:\n"
        "    try:\n"
        "        psycopg.connect(host='{host}', user='lab', dbname='lab', password=password, connect_timeout=3).close()\n"
        "        print('accepted')\n"
        "    except psycopg.OperationalError:\n"
        "        print('refused')\n"
    ).format(host=f"{lab.name}-postgres")
    lab.engine.docker.put_file(node, "/tmp/probe.py", probe)
    code, output = lab.engine.docker.exec(node, ["python", "/tmp/probe.py", "lab", "wrong"], env=None)
    assert output.split() == ["refused", "refused"], output  # the image's old fixed password is gone
    code, output = lab.engine.docker.exec(node, ["bash", "-c", 'python /tmp/probe.py "$P"'], env={"P": state.secrets.db_password})
    assert output.split() == ["accepted"], output
    code, hba = lab.engine.docker.exec(f"{lab.name}-postgres", ["cat", "/var/lib/postgresql/data/pg_hba.conf"])
    subnet = lab.engine.docker.client.networks.get(f"{lab.name}-net").attrs["IPAM"]["Config"][0]["Subnet"]
    hosts = {line.split()[3] for line in hba.splitlines() if line.startswith("host")}
    assert hosts == {"127.0.0.1/32", subnet}, hba
    code, output = lab.engine.docker.exec(f"{lab.name}-redis", ["redis-cli", "ping"])
    assert "NOAUTH" in output, output


def test_every_answer_of_the_site_names_node_user_and_session_from_the_labs_middleware(lab):
    status = lab.status()
    user = VirtualUser(status["url"])
    anonymous = user._request("accounts/login/")[1]  # the site's own page
    assert anonymous["X-Lab-Node"].startswith("node-") and anonymous["X-Lab-User"] == ""
    user.login(status["username"], status["password"])
    _, headers, _ = user._request("")  # the site's home page, not a lab URL
    assert headers["X-Lab-User"].isdigit() and len(headers["X-Lab-Session"]) == 8
    assert user.whoami().user == status["username"], "the lab's own /__lab__/whoami beside the site's URLs"


def test_up_again_changes_nothing(lab):
    before = container_ids(lab)
    result = lab.up()
    assert result.changed == [] and container_ids(lab) == before


@pytest.mark.parametrize("mode", list(BALANCE_MODES))
def test_switching_balance_only_reloads_nginx(lab, mode):
    before = container_ids(lab)
    lab.switch(balance=mode)
    assert container_ids(lab) == before, "switching balance must not recreate containers"
    _, headers = fetch(lab.status()["url"] + "nginx-health")
    assert headers["X-Lab-Balance"] == mode
    evidence = browse(lab, 9)
    assert evidence.kept("demo"), evidence.first_failure("demo")
    # From this machine every request has one client address, so ip_hash pins too.
    if BALANCE_MODES[mode].pins_users:
        assert len(evidence.nodes_seen) == 1, evidence.nodes_seen
    else:
        assert len(evidence.nodes_seen) >= 2, evidence.nodes_seen


@pytest.mark.parametrize(
    "breakage, message",
    [
        (lambda conf: conf.replace("server_tokens off;", "server_tokens off;\n    no_such_directive on;"), "unknown"),
        # Two servers with one name is only a [warn] to nginx; the lab treats it as an error.
        (lambda conf: conf + "http { server { listen 81; server_name a; } server { listen 81; server_name a; } }\n",
         "rejected"),
    ],
    ids=["error", "warning"],
)
def test_nginx_refuses_a_bad_config_and_keeps_serving(lab, breakage, message):
    plan = lab.plan()
    serving = lab.live_config_id(plan.config)
    broken = dataclasses.replace(plan, nginx_conf=breakage(plan.nginx_conf))
    with pytest.raises(NginxConfigError, match=message):
        lab.apply_nginx_conf(broken)
    assert lab.live_config_id(plan.config) == serving
    assert fetch(plan.config.url + HEALTH)[0] == 200


def test_locmem_under_round_robin_logs_the_user_out(lab):
    result = lab.switch(backend="locmem", balance="round_robin")
    assert f"{lab.name}-redis" not in container_ids(lab), "the store no backend needs is removed"
    assert all(f"{lab.name}-node-{i}" in result.changed for i in (1, 2, 3))
    evidence = browse(lab, 12)
    failure = evidence.first_failure("demo")
    assert failure is not None and failure.user is None, "locmem cannot share a login between nodes"
    assert len(evidence.nodes_seen) >= 2


def test_logs_show_the_requests_a_node_served(lab):
    browse(lab, 3)
    logs = "".join(lab.logs(f"node-{i}") for i in (1, 2, 3))
    assert "GET /__lab__/whoami" in logs


def test_down_removes_every_labelled_resource_and_is_idempotent(lab):
    removed = lab.down()
    # nginx, 3 nodes, postgres and the one client container; the lab network and the client network.
    assert removed["containers"] == 6 and removed["networks"] == 2 and removed["volumes"] >= 4
    assert lab.engine.docker.lab_resources(lab.name) == NOTHING
    assert lab.states.load(lab.name) is None
    assert lab.down() == {"containers": 0, "networks": 0, "volumes": 0, "state": 0}
