"""`lab export compose --site`: the site as the lab ran it, as a compose file docker-compose reads
(`docker-compose config` checks it; it needs no engine and starts nothing)."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from lab import LabConfig
from lab.engines.site_compose import site_compose_file
from lab.errors import ConfigError
from lab.model.config import SAMPLE_SITE
from lab.model.plan import LAB_LABEL, NODE_CONFIG_PATH, build_plan
from lab.project.read import read_site
from lab.run.state import new_secrets

SITES = Path(__file__).resolve().parents[1] / "sites"
TAGS = {key: f"django-lab/{key}:v1" for key in ("node", "site", "release", "nginx", "postgres", "redis", "memcached", "nfs", "pgbouncer")}


def plan_of(folder=SAMPLE_SITE, **config):
    return build_plan(LabConfig(name="shop", site=str(folder), **config), new_secrets(), TAGS, site=read_site(Path(folder)))


def test_nodes_wait_for_the_release_job_and_nginx_for_the_nodes():
    plan = plan_of(backend="redis")
    services = site_compose_file(plan).content["services"]
    assert {"postgres", "redis", "release", "collectstatic", "node-1", "node-2", "node-3", "nginx"} <= set(services)
    assert services["release"]["command"] == ["django-admin", "lab_prepare"]
    for node in ("node-1", "node-2", "node-3"):
        assert services[node]["depends_on"]["release"] == {"condition": "service_completed_successfully"}
        assert services[node]["depends_on"]["collectstatic"] == {"condition": "service_completed_successfully"}
        assert f"shop-{node}" in services[node]["networks"]["default"]["aliases"]  # the names nginx.conf uses
        assert services[node]["healthcheck"]["test"][:2] == ["CMD", "lab-health"]
    assert services["nginx"]["depends_on"]["node-1"] == {"condition": "service_healthy"}
    assert services["nginx"]["ports"] == [f"127.0.0.1:{plan.config.port}:80"]


def test_every_resource_carries_the_labs_labels():
    compose = site_compose_file(plan_of(SITES / "cookiesite", backend="redis"))
    for name, service in compose.content["services"].items():
        assert service["labels"][LAB_LABEL] == "shop", name
        assert service["cap_drop"] == ["ALL"]
    for name, volume in compose.content["volumes"].items():
        assert volume["labels"][LAB_LABEL] == "shop", name
    assert compose.content["networks"]["default"]["labels"][LAB_LABEL] == "shop"


def test_workers_and_the_scheduler_run_beside_the_nodes():
    services = site_compose_file(plan_of(SITES / "cookiesite")).content["services"]
    assert services["worker-1"]["command"] == ["django-admin", "lab_member"]
    assert services["scheduler"]["command"] == ["django-admin", "lab_scheduler"]
    assert services["worker-1"]["depends_on"]["release"]["condition"] == "service_completed_successfully"


def test_a_dollar_in_a_command_is_the_containers_not_composes():
    services = site_compose_file(plan_of(backend="redis")).content["services"]
    assert "$$LAB_REDIS_PASSWORD" in " ".join(services["redis"]["healthcheck"]["test"])


def test_node_configurations_are_files_beside_it_readable_by_their_owner_only(tmp_path):
    plan = plan_of()
    path = site_compose_file(plan).write(tmp_path)
    assert (tmp_path / "files").stat().st_mode & 0o077 == 0
    mounted = [volume for volume in yaml.safe_load(path.read_text())["services"]["node-1"]["volumes"] if volume.endswith(f":{NODE_CONFIG_PATH}:ro")]
    assert len(mounted) == 1
    assert (tmp_path / mounted[0].split(":")[0]).read_text() == plan.nodes[0].files[NODE_CONFIG_PATH]


def test_an_nfs_lab_is_refused():
    with pytest.raises(ConfigError, match="not nfs"):
        site_compose_file(plan_of(backend="nfs"))


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose is not installed (apt-get install docker-compose)")
@pytest.mark.parametrize("folder", [SAMPLE_SITE, SITES / "cookiesite"], ids=["sample", "cookiesite"])
def test_docker_compose_reads_the_file(tmp_path, folder):
    path = site_compose_file(plan_of(folder, backend="redis")).write(tmp_path)
    done = subprocess.run(["docker-compose", "-f", str(path), "config", "-q"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "not set" not in done.stderr, done.stderr  # no `$` read as compose's own variable


def test_shared_media_is_a_volume_every_container_mounts_not_a_fuse_mount():
    compose = site_compose_file(plan_of(shared_media=True)).content
    node = compose["services"]["node-1"]
    assert "shop-media:/srv/nfs-sessions/media" in node["volumes"]
    assert "LAB_NFS_URL" not in node["environment"] and "nfs" not in compose["services"]
    assert "cap_add" not in node and "devices" not in node
    assert compose["volumes"]["shop-media"]["labels"][LAB_LABEL] == "shop"
