"""The lab on a Docker Swarm: the same plan as on one engine, run as a stack of services.

`lab up --engine swarm` builds the images here, pushes them to a registry every host pulls from, writes
the plan as a compose file (lab.compose) and deploys it with `docker stack deploy` through the Docker
endpoint, which must manage the swarm. A switch deploys the changed plan again: swarm replaces the nodes
whose configuration changed. Ready means what it means on one engine: every node answers through nginx
with its planned configuration, and the demo user logs in. `lab down` removes the stack, then the lab's
volumes on every host whose engine it can reach (`make swarm-hosts` names them).
"""

from __future__ import annotations

import time

from lab.engines import registry as test_registry
from lab.engines.compose import compose_file
from lab.engines.host import fetch, port_is_free
from lab.errors import ConfigError, NotReady, PortInUse
from lab.model.plan import HEALTH, NODE_CONFIG_PATH, Plan, build_plan, image_keys, node_config_id
from lab.run.build_errors import site_images
from lab.run.site_facts import facts_key
from lab.traffic.evidence import LoginFailed, VirtualUser

READY_TIMEOUT = 180  # first deploys pull every image on every host


def _registry(lab, config) -> str:
    if config.registry:
        return config.registry
    rows = lab.engine.lab_containers(test_registry.OWNER)
    if any(row["name"] == test_registry.NAME and row["state"] == "running" for row in rows):
        return test_registry.ADDRESS
    raise ConfigError(
        "the swarm's hosts need a registry to pull the lab's images from: give --registry HOST:PORT, "
        "or start the test hosts' own with `make swarm-hosts`"
    )


def up(lab, config, state):
    """Deploy (or redeploy) the lab as a stack; return (plan, seconds)."""
    started = time.monotonic()
    engine = lab.engine
    if not engine.swarm_manager():
        raise ConfigError(
            "--engine swarm needs a Docker endpoint that manages a swarm (this one does not): run `docker swarm init`, "
            "point DOCKER_HOST at a manager, or start test hosts with `make swarm-hosts HOSTS=3`"
        )
    source = _registry(lab, config)
    if not deployed(lab) and not port_is_free(config.host, config.port):
        raise PortInUse(f"port {config.port} on {config.host} is already in use; pick another with `lab up --port N`")
    tags = site_images(engine, config, image_keys(config), lab.progress)
    plan = build_plan(config, state.secrets, tags)
    if (state.site_facts or {}).get("key") != facts_key(plan, tags["site"]):
        engine.ensure_network(plan.network, dict(plan.network_labels))  # the facts job runs here, once per image
        lab._ensure_volumes(plan)
        state = state.replace(site_facts=lab._ask_site(plan, tags["site"]))
        lab.states.save(state)
    plan = lab.build(config, state, tags, "fuse")
    path, hosts = write_stack(lab, plan, source, lab.states.directory / f"{config.name}-swarm")
    lab.progress(f"deploying stack {config.name} over {', '.join(hosts) or 'the swarm'} (images from {source})")
    engine.deploy_stack(str(path), config.name)
    wait_until_serving(lab, plan)
    return state, plan, time.monotonic() - started


def write_stack(lab, plan: Plan, source: str | None, directory, hosts: list[str] | None = None):
    """Push the plan's images to the registry `source` (when given) and write the plan as a compose file
    under `directory`, nodes round `hosts` (default: the swarm's active hosts); (its path, the hosts)."""
    if source:
        for tag in sorted({spec.image for spec in (*plan.containers(), plan.prepare)}):
            started = time.monotonic()
            lab.engine.push(tag, source)
            lab.progress(f"pushed {tag} to {source} in {time.monotonic() - started:.1f} s")
    hosts = lab.engine.swarm_hosts() if hosts is None else hosts
    return compose_file(plan, source, hosts).write(directory), hosts


def wait_until_serving(lab, plan: Plan, timeout: float = READY_TIMEOUT) -> None:
    """Until every node answers through nginx with its planned configuration and the demo user logs in."""
    url = plan.url
    wanted = {(spec.env["LAB_NODE"], node_config_id(spec.files[NODE_CONFIG_PATH])) for spec in plan.nodes}
    seen: set[tuple[str, str]] = set()
    deadline = time.monotonic() + timeout
    while seen != wanted and time.monotonic() < deadline:
        try:
            status, headers = fetch(url + HEALTH)
            if status != 200:
                raise OSError(f"nginx answered {status}")
            seen = (seen | {(headers["X-Lab-Node"], headers["X-Lab-Config-Id"])}) & wanted
        except (OSError, KeyError):
            time.sleep(0.2)
    missing = sorted(node for node, _ in wanted - seen)
    if missing:
        raise NotReady(f"{plan.config.name} stack", f"{', '.join(missing)} did not answer through nginx with the planned configuration in {timeout:.0f} s")
    lab.progress(f"every node serves its planned configuration: {', '.join(sorted(node for node, _ in seen))}")
    while time.monotonic() < deadline:  # and the one-off job has migrated and set the demo user
        try:
            VirtualUser(url, login_path=lab.login_path()).login(*lab.login())
            return
        except (LoginFailed, OSError):
            time.sleep(0.5)
    raise NotReady(f"{plan.config.name}-prepare", f"the demo user could not log in within {timeout:.0f} s")


def deployed(lab) -> bool:
    """Whether the lab's stack has services on the swarm."""
    return bool(lab.engine.swarm_services(lab.name))


def status_rows(lab) -> list[dict]:
    """One row per service: its state and the host it runs on."""
    placement = lab.engine.swarm_services(lab.name)
    return [
        {"name": name, "role": role, "state": state, "health": "running" if state == "running" else "-", "host": host}
        for name, (host, state, role) in sorted(placement.items())
    ]


def down(lab) -> dict[str, int]:
    """The stack, then the lab's volumes on every host whose engine is known."""
    removed = {"containers": 0, "networks": 0, "volumes": 0}
    if lab.engine.swarm_manager():
        services = len(lab.engine.swarm_services(lab.name))
        # Client containers sit on the stack's network: they go first, or the network cannot.
        for row in lab.engine.lab_containers(lab.name):
            if row["role"] == "client":
                lab.engine.remove(row["name"], timeout=1)
                removed["containers"] += 1
        if services:
            lab.engine.remove_stack(lab.name)
            removed["containers"] += services
        for host, engine in lab.engine.host_engines().items():
            for key, count in engine.remove_lab(lab.name).items():
                removed[key] += count
    return removed
