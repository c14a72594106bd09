"""SwarmEngine: a lab as a stack of services on the swarm the Docker endpoint manages.

The same plan as on one engine: the images are pushed to a registry every host pulls from, the plan is
written as a compose file (lab.engines.compose) and deployed with `docker stack deploy` through the
endpoint, which must manage the swarm. A switch deploys the changed plan again: swarm replaces the
services whose spec changed. Ready means what it means on one engine: every node answers through nginx
with its planned configuration, and the one-off job has migrated. Removing a lab removes the stack,
then the lab's volumes on every host whose engine it can reach (`make swarm-hosts` names them).
"""

from __future__ import annotations

import codecs
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import docker.errors

from lab.engines import registry as test_registry
from lab.engines.clients_port import ClientsPort, DockerClients
from lab.engines.compose import compose_file, service_spec
from lab.engines.docker import DockerEngine, translated
from lab.engines.host import fetch, port_is_free
from lab.engines.images import ensure_images
from lab.engines.interface import ApplyRequest, LabEngine, Member, Progress
from lab.engines.reconcile import Reconciler
from lab.errors import ConfigError, EngineError, NotReady, PortInUse
from lab.model.checks import Check
from lab.model.config import LabConfig
from lab.model.site import Site
from lab.model.plan import (
    HEALTH,
    ContainerSpec,
    LAB_LABEL,
    NODE_CONFIG_PATH,
    ROLE_LABEL,
    SPEC_LABEL,
    Plan,
    node_config_id,
    store_names,
)

READY_TIMEOUT = 180  # first deploys pull every image on every host
HOST_LABEL = "django-lab.host"


def _host_label(node) -> str:
    """A swarm node's name for the lab: its django-lab.host label, else the start of its id."""
    return node.attrs["Spec"].get("Labels", {}).get(HOST_LABEL, node.id[:12])


def write_stack(docker: "DockerEngine | SwarmEngine", plan: Plan, source: str | None, directory: Path, progress: Progress,
                hosts: list[str] | None = None):
    """Push the plan's images to the registry `source` (when given) and write the plan as a compose file
    under `directory`, nodes round `hosts` (default: the swarm's active hosts); (its path, the hosts).
    `docker` is the manager's connection, or the swarm engine on it."""
    swarm = docker if isinstance(docker, SwarmEngine) else SwarmEngine.over(docker)
    if source:
        swarm.publish(sorted({spec.image for spec in (*plan.containers(), plan.prepare)}), source, progress)
    hosts = swarm.swarm_hosts() if hosts is None else hosts
    return compose_file(plan, source, hosts).write(directory), hosts


class SwarmEngine(LabEngine):
    """Services over the swarm's hosts; the endpoint is a manager. Images are built, one-off jobs and
    client containers run on the manager's own engine (the connection it holds)."""

    kind = "swarm"
    summary = "a stack of services on a swarm"
    several_hosts = True
    warms_nodes = False  # the nodes are services on other hosts: their first requests are part of the figures

    def __init__(self, docker: DockerEngine | None = None):
        self.docker = docker or DockerEngine()  # the manager's endpoint
        self.stopwatch = self.docker.stopwatch

    @classmethod
    def over(cls, docker: DockerEngine) -> "SwarmEngine":
        """This kind of engine on the connection (and stopwatch) of `docker`."""
        return cls(docker)

    @property
    def client(self):
        """The manager's SDK client (services, nodes)."""
        return self.docker.client

    def describe(self) -> str:
        return self.docker.describe()  # the manager's engine

    # -- images, jobs and clients, on the manager ----------------------------------------------------

    def build_images(
        self, config: LabConfig, keys: Iterable[str], progress: Progress, rebuild: bool = False, site: Site | None = None
    ) -> dict[str, str]:
        """Built on the manager; `apply` pushes them to the registry every host pulls from."""
        return ensure_images(self.docker, config, keys, progress, rebuild=rebuild, site=site)

    def image_mb(self, tag: str) -> float:
        return self.docker.image_mb(tag)

    def run_job(self, spec: ContainerSpec, network: str, timeout: float = 180) -> tuple[int, str]:
        """A one-off container on the manager, on the network `prepare` made there."""
        return self.docker.run_job(spec, network, timeout=timeout)

    def up_floor(self, plan: Plan) -> float:
        raise ConfigError("the floor of `up` is measured on one engine: `lab bench profile` runs a local lab")

    def clients(self) -> ClientsPort:
        """Client containers run on this machine and join the stack's attachable network."""
        return DockerClients(self.docker)

    # -- making a plan real ------------------------------------------------------------------------

    def refuse(self, config: LabConfig, previous: LabConfig | None) -> None:
        """A backend that needs devices, an endpoint that manages no swarm, no registry, a taken port."""
        if "nfs" in store_names(config):
            raise ConfigError("backend nfs needs /dev/fuse in each node, which swarm services cannot have; pick another")
        if not self.swarm_manager():
            raise ConfigError(
                "--engine swarm needs a Docker endpoint that manages a swarm (this one does not): run `docker swarm init`, "
                "point DOCKER_HOST at a manager, or start test hosts with `make swarm-hosts HOSTS=3`"
            )
        self.registry_for(config)
        if not self.swarm_services(config.name) and not port_is_free(config.host, config.port):
            raise PortInUse(f"port {config.port} on {config.host} is already in use; pick another with `lab up --port N`")

    def registry_for(self, config: LabConfig) -> str:
        """Where the hosts pull the lab's images: --registry, else the test hosts' own."""
        if config.registry:
            return config.registry
        rows = self.docker.lab_containers(test_registry.OWNER)
        if any(row["name"] == test_registry.NAME and row["state"] == "running" for row in rows):
            return test_registry.ADDRESS
        raise ConfigError(
            "the swarm's hosts need a registry to pull the lab's images from: give --registry HOST:PORT, "
            "or start the test hosts' own with `make swarm-hosts`"
        )

    def nfs_client(self) -> tuple[str, str]:
        return "fuse", "swarm services"

    def prepare(self, plan: Plan) -> None:
        """The lab's network and volumes on the manager: one-off jobs (what the site is) run there."""
        Reconciler(self.docker, lambda line: None).prepare(plan)

    def apply(self, plan: Plan, request: ApplyRequest, progress: Progress) -> tuple[Plan, dict[str, str]]:
        """Push the images, write the stack and deploy it; swarm replaces what changed."""
        before = {name: labels.get(SPEC_LABEL) for name, labels in self._service_labels(plan.config.name).items()}
        source = self.registry_for(plan.config)
        path, hosts = write_stack(self, plan, source, request.workdir / f"{plan.config.name}-swarm", progress)
        progress(f"deploying stack {plan.config.name} over {', '.join(hosts) or 'the swarm'} (images from {source})")
        self.deploy_stack(str(path), plan.config.name)

        def action(spec) -> str:
            if spec.name not in before:
                return "created"
            return "kept" if before[spec.name] == service_spec(spec) else "updated"

        return plan, {spec.name: action(spec) for spec in plan.containers()}

    def wait_until_serving(self, plan: Plan, progress: Progress) -> None:
        """Until every node answers through nginx with its planned configuration and the one-off job has
        migrated the database and set the demo user."""
        timeout = READY_TIMEOUT
        wanted = {(spec.env["LAB_NODE"], node_config_id(spec.files[NODE_CONFIG_PATH])) for spec in plan.nodes}
        seen: set[tuple[str, str]] = set()
        deadline = time.monotonic() + timeout
        while seen != wanted and time.monotonic() < deadline:
            try:
                status, headers = fetch(plan.url + HEALTH)
                if status != 200:
                    raise OSError(f"nginx answered {status}")
                seen = (seen | {(headers["X-Lab-Node"], headers["X-Lab-Config-Id"])}) & wanted
            except (OSError, KeyError):
                time.sleep(0.2)
        missing = sorted(node for node, _ in wanted - seen)
        if missing:
            raise NotReady(f"{plan.config.name} stack", f"{', '.join(missing)} did not answer through nginx with the planned configuration in {timeout:.0f} s")
        progress(f"every node serves its planned configuration: {', '.join(sorted(node for node, _ in seen))}")
        while time.monotonic() < deadline:
            state = self.swarm_services(plan.config.name).get(plan.prepare.name, ("", "none", ""))[1]
            if state == "complete":
                return
            time.sleep(0.5)
        raise NotReady(plan.prepare.name, f"the one-off job did not complete within {timeout:.0f} s", self.member_logs(plan.config.name, plan.prepare.name))

    def reload_nginx(self, plan: Plan, progress: Progress) -> None:
        raise ConfigError("a swarm's nginx takes a new configuration with the stack: `lab switch` deploys it")

    def client_network(self, plan: Plan) -> str | None:
        """nginx is a service on the stack's overlay network: clients join it (it is attachable) and reach
        nginx by its name there. They share one subnet, so ip_hash sees one "address"."""
        return f"{plan.network}-overlay"

    def serving(self, lab: str) -> bool:
        return self.swarm_services(lab).get(f"{lab}-nginx", ("", "", ""))[1] == "running"

    def remove_lab(self, lab: str, keep_volumes: bool = False) -> dict[str, int]:
        """The stack, then the lab's volumes on every host whose engine is known (nothing when this
        endpoint manages no swarm, or the data is kept)."""
        removed = {"containers": 0, "networks": 0, "volumes": 0}
        if keep_volumes or not self.swarm_manager():
            return removed
        services = len(self.swarm_services(lab))
        # Client containers sit on the stack's network: they go first, or the network cannot.
        for row in self.docker.lab_containers(lab):
            if row["role"] == "client":
                self.docker.remove(row["name"], timeout=1)
                removed["containers"] += 1
        if services:
            self.remove_stack(lab)
            removed["containers"] += services
        for engine in self.host_engines().values():
            for key, count in engine.remove_lab(lab).items():
                removed[key] += count
        return removed

    def publish(self, tags: Sequence[str], registry: str, progress: Progress) -> None:
        for tag in tags:
            started = time.monotonic()
            self.docker.push(tag, registry)
            progress(f"pushed {tag} to {registry} in {time.monotonic() - started:.1f} s")

    # -- the members -------------------------------------------------------------------------------

    def members(self, lab: str) -> list[Member]:
        return [
            Member(name, role, state, host=host)
            for name, (host, state, role) in sorted(self.swarm_services(lab).items())
        ]

    def member_health(self, member: Member, check: Check | None) -> str:
        """Swarm's own view: a service whose newest task runs is "running"."""
        return "running" if member.state == "running" else "-"

    def member_logs(self, lab: str, member: str, tail: int = 100) -> str:
        """A service's log, from every task, through the manager."""
        part = member.removeprefix(f"{lab}-")
        with translated(f"reading the log of service {lab}_{part}"):
            try:
                service = self.client.services.get(f"{lab}_{part}")
            except docker.errors.NotFound:
                return ""
            return b"".join(service.logs(stdout=True, stderr=True, tail=tail)).decode(errors="replace")

    def follow_logs(self, lab: str, member: str, tail: int = 100) -> Iterator[str]:
        """A service's log as it is written, from every task, through the manager."""
        part = member.removeprefix(f"{lab}-")
        text = codecs.getincrementaldecoder("utf-8")(errors="replace")  # a character may span two chunks
        with translated(f"following the log of service {lab}_{part}"):
            service = self.client.services.get(f"{lab}_{part}")
            for chunk in service.logs(stdout=True, stderr=True, follow=True, tail=tail):
                yield text.decode(chunk)

    def lab_names(self) -> set[str]:
        """Every lab with a service on the swarm this endpoint manages (none when it manages none)."""
        with translated("listing the labs on the swarm"):
            if not self.swarm_manager():
                return set()
            services = self.client.services.list(filters={"label": LAB_LABEL})
        return {service.attrs["Spec"].get("Labels", {}).get(LAB_LABEL, "") for service in services} - {""}

    def member_events(self, lab: str) -> Iterator[dict]:
        with translated(f"following the events of lab {lab}"):
            return self.client.events(decode=True, filters={"type": "service", "label": f"{LAB_LABEL}={lab}"})

    def _service_of(self, member: str) -> tuple[str, str]:
        """(lab, swarm service name) of a member: the service's name is the stack's plus the member's part."""
        with translated(f"finding the service of {member}"):
            for service in self.client.services.list(filters={"label": LAB_LABEL}):
                lab = service.attrs["Spec"].get("Labels", {}).get(LAB_LABEL, "")
                if f"{lab}-{service.name.split('_', 1)[-1]}" == member:
                    return lab, service.name
        raise EngineError(f"no service of the lab's is {member}")

    def _task_container(self, member: str) -> tuple[DockerEngine, str]:
        """The engine of the host a service's running task is on, and the task's container there."""
        lab, service = self._service_of(member)
        host = self.swarm_placement(lab).get(member)
        engine = self.host_engines().get(host) if host else None
        if engine is None:
            raise EngineError(f"{member} runs on no host whose engine the lab can reach")
        with translated(f"finding the task of {member} on {host}"):
            found = engine.client.containers.list(filters={"label": f"com.docker.swarm.service.name={service}", "status": "running"})
        if not found:
            raise EngineError(f"{member} has no running task on {host}")
        return engine, found[0].name

    def exec_member(self, member: str, command: Sequence[str], user: str = "") -> tuple[int, str]:
        engine, container = self._task_container(member)
        return engine.exec(container, command, user=user)

    def stop_member(self, member: str, timeout: int = 5) -> None:
        """Stop the service's task: swarm starts a new one, as after a crash."""
        engine, container = self._task_container(member)
        engine.stop(container, timeout=timeout)

    def restart_member(self, member: str, timeout: int = 5) -> None:
        self._docker_cli(["service", "update", "--force", "--detach", self._service_of(member)[1]])

    def wait_for_member(self, member: str, check: Check | None, timeout: float = 60) -> None:
        """Until the service's newest task runs (swarm's own health, as `member_health` reads it)."""
        lab = self._service_of(member)[0]
        deadline = time.monotonic() + timeout
        while self.swarm_services(lab).get(member, ("", "none", ""))[1] != "running":
            if time.monotonic() > deadline:
                raise NotReady(member, f"its newest task did not run within {timeout:.0f} s", self.member_logs(lab, member))
            time.sleep(0.5)

    # -- hosts -------------------------------------------------------------------------------------

    def hosts(self) -> dict[str, str]:
        with translated("listing the swarm's nodes"):
            nodes = self.client.nodes.list()
        return {_host_label(node): node.attrs["Spec"].get("Availability", "?") for node in nodes}

    def set_host(self, host: str, availability: str) -> None:
        """Drain a swarm host (its tasks move to the others) or make it active again, by its host label."""
        with translated(f"setting host {host} to {availability}"):
            for node in self.client.nodes.list():
                spec = node.attrs["Spec"]
                if spec.get("Labels", {}).get(HOST_LABEL) == host:
                    node.update({**spec, "Availability": availability})
                    return
        raise EngineError(f"no swarm host labelled {HOST_LABEL}={host}")

    # -- the swarm, through the manager ------------------------------------------------------------

    def swarm_hosts(self) -> list[str]:
        """The swarm's ready, active hosts by their `django-lab.host` label (`make swarm-hosts` sets them),
        or [] when this engine manages no swarm."""
        with translated("listing the swarm's nodes"):
            try:
                nodes = self.client.nodes.list()
            except docker.errors.APIError:
                return []
        active = [n for n in nodes if n.attrs["Spec"].get("Availability") == "active" and n.attrs["Status"].get("State") == "ready"]
        return sorted({n.attrs["Spec"].get("Labels", {}).get(HOST_LABEL) for n in active} - {None})

    def swarm_manager(self) -> bool:
        """Whether this engine manages a swarm (services can be created through it)."""
        with translated("asking whether the engine manages a swarm"):
            return bool(self.client.info().get("Swarm", {}).get("ControlAvailable"))

    def deploy_stack(self, compose_file: str, name: str) -> None:
        """`docker stack deploy` (the docker CLI's; the Engine API has no stacks), on the same endpoint."""
        self._docker_cli(["stack", "deploy", "--resolve-image", "never", "--prune", "-c", compose_file, name])

    def remove_stack(self, name: str, timeout: float = 60) -> None:
        """`docker stack rm`, then wait until its tasks' containers and its network are gone here."""
        self._docker_cli(["stack", "rm", name])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with translated(f"waiting for stack {name} to go"):
                stack = {"label": f"com.docker.stack.namespace={name}"}
                left = self.client.containers.list(all=True, filters=stack, ignore_removed=True)
                networks = self.client.networks.list(filters={"label": f"com.docker.stack.namespace={name}"})
            if not left and not networks:
                return
            time.sleep(0.5)

    def _docker_cli(self, arguments: list[str]) -> str:
        if not shutil.which("docker"):
            raise EngineError("the docker CLI is needed for swarm stacks and is not on the PATH (Debian: docker.io)")
        base_url = self.docker.base_url
        environment = {**os.environ, "DOCKER_HOST": base_url} if base_url else None
        result = subprocess.run(["docker", *arguments], capture_output=True, text=True, timeout=300, env=environment)
        if result.returncode != 0:
            raise EngineError(f"docker {' '.join(arguments[:2])} failed: {(result.stderr or result.stdout).strip()[-1500:]}")
        return result.stdout

    def host_engines(self) -> dict[str, DockerEngine]:
        """Each swarm host's own engine, where `make swarm-hosts` named it (django-lab.engine)."""
        with translated("listing the swarm's nodes"):
            nodes = self.client.nodes.list()
        return {
            _host_label(node): DockerEngine(base_url=node.attrs["Spec"]["Labels"]["django-lab.engine"])
            for node in nodes
            if node.attrs["Spec"].get("Labels", {}).get("django-lab.engine")
        }

    def _service_labels(self, lab: str) -> dict[str, dict]:
        """Each service of lab `lab` by the lab's name for it: its deploy labels."""
        with translated(f"listing the swarm services of lab {lab}"):
            if not self.swarm_manager():
                return {}
            return {
                f"{lab}-{service.name.split('_', 1)[-1]}": service.attrs["Spec"].get("Labels", {})
                for service in self.client.services.list(filters={"label": f"{LAB_LABEL}={lab}"})
            }

    def swarm_services(self, lab: str) -> dict[str, tuple[str, str, str]]:
        """Each service of lab `lab`: name -> (host of its newest task, that task's state, role)."""
        with translated(f"listing the swarm services of lab {lab}"):
            if not self.swarm_manager():
                return {}
            hosts = {node.id: _host_label(node) for node in self.client.nodes.list()}
            found = {}
            for service in self.client.services.list(filters={"label": f"{LAB_LABEL}={lab}"}):
                tasks = sorted(service.tasks(), key=lambda t: t.get("CreatedAt", ""))
                newest = tasks[-1] if tasks else {}
                role = service.attrs["Spec"].get("Labels", {}).get(ROLE_LABEL, "?")
                name = f"{lab}-{service.name.split('_', 1)[-1]}"
                found[name] = (hosts.get(newest.get("NodeID"), "-"), newest.get("Status", {}).get("State", "none"), role)
        return found

    def swarm_placement(self, lab: str) -> dict[str, str]:
        """Where each running service of lab `lab` runs: service name -> host label (or node id)."""
        return {name: host for name, (host, state, _) in self.swarm_services(lab).items() if state == "running"}

    def push_image(self, tag: str, target: str) -> str:
        return self.docker.push(tag, target)
