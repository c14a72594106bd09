"""The nfs backend is real NFS: a userspace server, every node mounting its export, and what an outage does."""

import os
import time

import pytest

from lab import LabConfig
from lab.engines.host import nfs_client
from lab.model.security import PROFILES
from lab.traffic.evidence import VirtualUser

from .conftest import free_port, gunicorn_processes

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def fuse_mode_before():
    return os.stat("/dev/fuse").st_mode if os.path.exists("/dev/fuse") else None


@pytest.fixture(scope="module")
def lab(module_lab_factory, fuse_mode_before):
    lab = module_lab_factory("nfs")
    lab.up(LabConfig(name=lab.name, backend="nfs", nodes=2, port=free_port()))
    return lab


def attrs(lab, part):
    return lab.engine.docker.client.containers.get(f"{lab.name}-{part}").attrs


def run(lab, part, command):
    code, output = lab.engine.docker.exec(f"{lab.name}-{part}", ["bash", "-c", command])
    assert code == 0, output
    return output


def test_every_node_mounts_the_servers_export(lab):
    client, _ = nfs_client()
    for node in ("node-1", "node-2"):
        mounts = run(lab, node, "cat /proc/mounts")
        if client == "fuse":
            assert f"libnfs:nfs://{lab.name}-nfs/export /srv/nfs-sessions fuse" in mounts
        else:
            assert " /srv/nfs-sessions nfs" in mounts


def test_a_file_written_on_one_node_is_read_on_the_other_and_lands_in_the_export(lab):
    run(lab, "node-1", "echo written-on-node-1 > /srv/nfs-sessions/probe.txt")
    assert run(lab, "node-2", "cat /srv/nfs-sessions/probe.txt").strip() == "written-on-node-1"
    assert run(lab, "nfs", "cat /export/probe.txt").strip() == "written-on-node-1"
    run(lab, "node-2", "rm /srv/nfs-sessions/probe.txt")
    assert "probe.txt" not in run(lab, "nfs", "ls /export")


def test_no_node_shares_a_docker_volume_with_the_server(lab):
    server = {m.get("Name") for m in attrs(lab, "nfs")["Mounts"]}
    for node in ("node-1", "node-2"):
        assert not server & {m.get("Name") for m in attrs(lab, node)["Mounts"]}


def test_capabilities_only_where_they_are_needed(lab):
    server = attrs(lab, "nfs")["HostConfig"]
    assert server["CapAdd"] == list(PROFILES["nfs"].capabilities) and server["CapDrop"] == ["ALL"]
    assert "seccomp=unconfined" in server["SecurityOpt"]
    for node in ("node-1", "node-2"):
        host = attrs(lab, node)["HostConfig"]
        if nfs_client()[0] == "fuse":
            assert host["CapAdd"] == ["SYS_ADMIN", "SETUID", "SETGID"] and host["CapDrop"] == ["ALL"]
            assert [d["PathOnHost"] for d in host["Devices"]] == ["/dev/fuse"]
    for part in ("postgres", "nginx", "nfs", "node-1", "node-2"):
        assert attrs(lab, part)["HostConfig"]["Privileged"] is False
    assert not attrs(lab, "postgres")["HostConfig"]["CapAdd"] and not attrs(lab, "postgres")["HostConfig"]["Devices"]


def test_gunicorn_runs_as_the_site_user_with_no_capability_while_root_holds_the_mount(lab):
    for node in ("node-1", "node-2"):
        assert gunicorn_processes(lab, node) == {("1000", "0000000000000000")}
        mounter = run(lab, node, "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline | grep -q '^python -m lab_[n]ode.nfs_mount' "
                                 "&& awk '/^Uid:/{print $2}' $p/status; done; true")
        assert mounter.split() == ["0"], "the FUSE mount is root's, made before the drop"


def test_the_hosts_fuse_device_is_left_as_it_was(lab, fuse_mode_before):
    if fuse_mode_before is None:
        pytest.skip("this machine has no /dev/fuse")
    assert os.stat("/dev/fuse").st_mode == fuse_mode_before


def test_the_export_squashes_root(lab):
    # The nodes speak NFS as the site user; a client that says it is root becomes the anonymous user.
    url = run(lab, "node-1", "echo $LAB_NFS_URL").strip().replace("uid=1000&gid=1000", "uid=0&gid=0")
    script = (
        "import os; from lab_node.nfs_mount import NfsClient; client = NfsClient(%r); "
        "client.create('/squash-probe', os.O_WRONLY | os.O_CREAT, 0o600)" % url
    )
    run(lab, "node-1", f"python -c \"{script}\"")
    owner = run(lab, "nfs", "stat -c '%u' /export/squash-probe").strip()
    run(lab, "nfs", "rm -f /export/squash-probe")
    assert owner not in ("0", ""), f"root was not squashed: the file belongs to uid {owner}"
    sessions_owner = run(lab, "node-1", "echo probe > /srv/nfs-sessions/owner-probe && stat -c '%u' /srv/nfs-sessions/owner-probe")
    run(lab, "node-1", "rm /srv/nfs-sessions/owner-probe")
    assert sessions_owner.strip() == "1000"


def test_sessions_on_nfs_survive_round_robin_and_land_in_the_export(lab):
    username, password = lab.login()
    user = VirtualUser(lab.status()["url"])
    user.login(username, password)
    evidence = user.browse(10)
    assert set(evidence.nodes_seen) == {"node-1", "node-2"}
    assert evidence.kept(username), evidence.first_failure(username)
    assert "sessionid" in run(lab, "nfs", "ls /export")


def test_a_server_outage_fails_requests_fast_and_sessions_survive_it(lab):
    username, password = lab.login()
    user = VirtualUser(lab.status()["url"], timeout=20)
    user.login(username, password)
    before = user.browse(2).observations[-1].counter
    nodes = {row["name"]: row["id"] for row in lab.engine.docker.lab_containers(lab.name) if row["role"] == "node"}
    lab.engine.docker.stop(f"{lab.name}-nfs", timeout=1)
    try:
        during = [user.whoami() for _ in range(4)]
    finally:
        lab.engine.docker.start(f"{lab.name}-nfs")
    assert all(o.status != 200 for o in during), "nothing can be served while the export is away"
    assert max(o.seconds for o in during) < 10, [o.seconds for o in during]

    deadline, recovered = time.monotonic() + 30, None
    while time.monotonic() < deadline:
        observation = user.whoami()
        if observation.status == 200:
            recovered = observation
            break
        time.sleep(0.3)
    assert recovered is not None, "the nodes did not recover within 30 s"
    # The session lived on the server's volume: the same user, and the counter carries on.
    after = user.browse(4).observations[-4:]
    assert all(o.user == username for o in after) and after[0].counter > before
    assert {row["name"]: row["id"] for row in lab.engine.docker.lab_containers(lab.name) if row["role"] == "node"} == nodes


def test_the_kernel_client_path(lab_factory, monkeypatch):
    client, why = nfs_client()
    if client != "kernel":
        pytest.skip(f"kernel NFS client path not tested on this machine: {why}")
    monkeypatch.setenv("LAB_NFS_CLIENT", "kernel")
    lab = lab_factory("nfskernel")
    lab.up(LabConfig(name=lab.name, backend="nfs", nodes=2, port=free_port()))
    run(lab, "node-1", "echo kernel > /srv/nfs-sessions/probe.txt")
    assert run(lab, "node-2", "cat /srv/nfs-sessions/probe.txt").strip() == "kernel"
