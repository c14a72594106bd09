"""The plan as a compose file for `docker stack deploy`: names swarm accepts, secrets apart, nodes pinned."""

import pytest
import yaml

from lab import LabConfig
from lab.engines.compose import compose_file
from lab.errors import ConfigError
from lab.model.plan import build_plan
from lab.run.state import new_secrets

TAGS = {key: f"django-lab/{key}:t" for key in ("node", "site", "nginx", "postgres", "redis", "memcached", "nfs")}


def plan(**options):
    return build_plan(LabConfig(name="l" * 31, **options), new_secrets(), TAGS)


def test_services_are_named_short_with_the_full_name_as_alias_and_nodes_round_the_hosts():
    compose = compose_file(plan(nodes=4), "127.0.0.1:5000", ["host-1", "host-2", "host-3"])
    content = yaml.safe_load(compose.text())
    services = content["services"]
    assert set(services) == {"postgres", "redis", "prepare", "node-1", "node-2", "node-3", "node-4", "nginx"}
    lab = "l" * 31
    assert all(len(f"{lab}_{name}") <= 63 for name in services)  # swarm's limit for a service name
    assert services["node-2"]["networks"]["lab"]["aliases"] == [f"{lab}-node-2"]  # what nginx.conf names
    assert services["node-4"]["deploy"]["placement"]["constraints"] == ["node.labels.django-lab.host == host-1"]
    assert services["nginx"]["ports"] == [{"target": 80, "published": 8080, "protocol": "tcp", "mode": "host"}]
    assert services["node-1"]["image"] == "127.0.0.1:5000/django-lab/site:t"
    assert content["networks"]["lab"]["driver"] == "overlay" and content["networks"]["lab"]["attachable"]
    assert all(service["cap_drop"] == ["ALL"] for service in services.values())  # hardened as on one engine


def test_node_configs_travel_as_secrets_with_names_swarm_accepts():
    compose = compose_file(plan(), None, [])
    content = yaml.safe_load(compose.text())
    for name in content["secrets"]:
        assert len(f"{'l' * 31}_{name}") <= 64  # swarm's limit for a secret's name
    node = content["services"]["node-1"]
    secret = node["secrets"][0]["source"]
    assert node["environment"]["LAB_CONFIG_FILE"] == f"/run/secrets/{secret}.json"
    assert f"secrets/{secret}.json" in compose.files
    assert "secret_key" not in compose.text()  # keys stay in the secret files, not the compose file
    assert "placement" not in node["deploy"]  # no hosts given: swarm places them


def test_a_backend_that_needs_a_device_cannot_be_exported():
    with pytest.raises(ConfigError, match="nfs"):
        compose_file(plan(backend="nfs"), None, [])
