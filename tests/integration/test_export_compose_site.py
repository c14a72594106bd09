"""`lab export compose --site` on this engine: the site as the lab ran it, brought up by docker-compose under a
project name of its own, logged in through its nginx, the login kept across every node; then `down -v`
leaves nothing, and everything it made carried the lab's labels."""

import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from lab import LabConfig
from lab.model.plan import LAB_LABEL
from lab.traffic.evidence import VirtualUser

from .conftest import free_port

pytestmark = pytest.mark.skipif(shutil.which("docker-compose") is None, reason="needs docker-compose (apt-get install docker-compose)")


def compose(path: Path, project: str, *arguments: str, timeout: int = 600) -> str:
    done = subprocess.run(["docker-compose", "-f", str(path), "-p", project, *arguments],
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"docker-compose {' '.join(arguments)}: {done.stdout[-3000:]}{done.stderr[-3000:]}"
    return done.stdout


def labelled(engine, lab: str) -> dict[str, list[str]]:
    """Containers, volumes and networks labelled as lab `lab`'s (whoever made them)."""
    client, selector = engine.client, {"label": f"{LAB_LABEL}={lab}"}
    return {"containers": sorted(c.name for c in client.containers.list(all=True, filters=selector)),
            "volumes": sorted(v.name for v in client.volumes.list(filters=selector)),
            "networks": sorted(n.name for n in client.networks.list(filters=selector))}


def everything_of(engine, project: str) -> dict[str, list[str]]:
    """What docker-compose made for `project`, by its own label."""
    client, selector = engine.client, {"label": f"com.docker.compose.project={project}"}
    return {"containers": sorted(c.name for c in client.containers.list(all=True, filters=selector)),
            "volumes": sorted(v.name for v in client.volumes.list(filters=selector)),
            "networks": sorted(n.name for n in client.networks.list(filters=selector))}


def test_the_exported_site_serves_and_keeps_a_login_across_its_nodes(engine, lab_factory, tmp_path):
    lab = lab_factory("site-compose")
    port = free_port()
    lab.up(LabConfig(name=lab.name, nodes=3, backend="redis", balance="round_robin", port=port))
    login, login_path = lab.login(), lab.login_path()
    path = lab.export_site_compose(tmp_path / "site")
    lab.down()  # its port and names free; the images stay for docker-compose
    project = f"{lab.name}-{uuid.uuid4().hex[:4]}"
    try:
        compose(path, project, "up", "-d")
        deadline = time.monotonic() + 300
        while True:  # nginx starts once the nodes are healthy; the release job ran before them
            try:
                user = VirtualUser(f"http://127.0.0.1:{port}/", "site", login_path=login_path)
                user.login(*login)
                break
            except Exception:  # noqa: BLE001 (not up yet: any refusal, until the deadline)
                if time.monotonic() > deadline:
                    raise
                time.sleep(2)
        seen = user.browse(12).observations
        assert all(o.status == 200 and o.user for o in seen), [(o.node, o.status, o.user) for o in seen]
        assert {o.node for o in seen} == {"node-1", "node-2", "node-3"}, "the login is kept on every node"
        made = everything_of(engine, project)
        mine = labelled(engine, lab.name)
        assert made["containers"] and set(made["containers"]) <= set(mine["containers"])
        assert set(made["volumes"]) <= set(mine["volumes"]) and set(made["networks"]) <= set(mine["networks"])
    finally:
        compose(path, project, "down", "-v", "--remove-orphans")
    assert everything_of(engine, project) == {"containers": [], "volumes": [], "networks": []}
