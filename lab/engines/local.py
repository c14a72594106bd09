"""LocalEngine: a lab as containers on this machine's Docker engine, reconciled container by container
(lab.engines.reconcile). It holds its connection (lab.engines.docker), which no one else reaches."""

from __future__ import annotations

from typing import Iterable, Iterator, Sequence

from lab.engines.clients_port import ClientsPort, DockerClients
from lab.engines.docker import DockerEngine
from lab.engines.floor import up_floor
from lab.engines.host import nfs_client, port_is_free
from lab.engines.images import ensure_images
from lab.engines.interface import ApplyRequest, LabEngine, Member, Progress
from lab.engines.reconcile import Reconciler
from lab.engines.waits import wait_until_ready
from lab.errors import ConfigError, PortInUse
from lab.model.checks import Check
from lab.model.config import LabConfig
from lab.model.site import Site
from lab.model.plan import ContainerSpec, Plan


def members_of(docker: DockerEngine, lab: str) -> list[Member]:
    """The lab's containers on one Docker engine, as members."""
    return [
        Member(row["name"], row["role"], row["state"], image=row["image"], id=row["id"], labels=row["labels"])
        for row in docker.lab_containers(lab)
    ]


class LocalEngine(LabEngine):
    """Containers on one engine: every member on this machine."""

    kind = "local"
    summary = "containers on this machine's Docker engine"
    several_hosts = False
    warms_nodes = True

    def __init__(self, docker: DockerEngine | None = None):
        self.docker = docker or DockerEngine()  # the connection; its calls cost what the stopwatch shows
        self.stopwatch = self.docker.stopwatch

    @classmethod
    def over(cls, docker: DockerEngine) -> "LocalEngine":
        """This kind of engine on the connection (and stopwatch) of `docker`."""
        return cls(docker)

    def reconciler(self, progress: Progress = lambda line: None) -> Reconciler:
        return Reconciler(self.docker, progress)

    def describe(self) -> str:
        return self.docker.describe()

    def refuse(self, config: LabConfig, previous: LabConfig | None) -> None:
        """Another program on the lab's port (the lab's own nginx may hold it)."""
        same_bind = previous is not None and (previous.host, previous.port) == (config.host, config.port)
        ours = same_bind and self.serving(config.name)
        if not ours and not port_is_free(config.host, config.port):
            raise PortInUse(
                f"port {config.port} on {config.host} is already in use by another program; "
                f"pick another with `lab up --port N` (or `make lab-up PORT=N`)"
            )

    def nfs_client(self) -> tuple[str, str]:
        return nfs_client()

    def build_images(
        self, config: LabConfig, keys: Iterable[str], progress: Progress, rebuild: bool = False, site: Site | None = None
    ) -> dict[str, str]:
        return ensure_images(self.docker, config, keys, progress, rebuild=rebuild, site=site)

    def image_mb(self, tag: str) -> float:
        return self.docker.image_mb(tag)

    def run_job(self, spec: ContainerSpec, network: str, timeout: float = 180) -> tuple[int, str]:
        return self.docker.run_job(spec, network, timeout=timeout)

    def up_floor(self, plan: Plan) -> float:
        return up_floor(self.docker, plan)

    def clients(self) -> ClientsPort:
        return DockerClients(self.docker)

    def prepare(self, plan: Plan) -> None:
        self.reconciler().prepare(plan)

    def apply(self, plan: Plan, request: ApplyRequest, progress: Progress) -> tuple[Plan, dict[str, str]]:
        return self.reconciler(progress).apply(plan, request, self.nfs_client()[0])

    def wait_until_serving(self, plan: Plan, progress: Progress) -> None:
        self.reconciler(progress).wait_for_config(plan)

    def reload_nginx(self, plan: Plan, progress: Progress) -> None:
        self.reconciler(progress).apply_nginx_conf(plan)

    def client_network(self, plan: Plan) -> str | None:
        return None

    def serving(self, lab: str) -> bool:
        return self.reconciler().serving(lab)

    def remove_lab(self, lab: str, keep_volumes: bool = False) -> dict[str, int]:
        return self.docker.remove_lab(lab, keep_volumes=keep_volumes)

    def publish(self, tags: Sequence[str], registry: str, progress: Progress) -> None:
        for tag in tags:
            self.docker.push(tag, registry)
            progress(f"pushed {tag} to {registry}")

    def members(self, lab: str) -> list[Member]:
        return members_of(self.docker, lab)

    def member_health(self, member: Member, check: Check | None) -> str:
        """"healthy" or "unhealthy" by the member's readiness check; a member the plan has no check for
        is "running" (clients, jobs) or "stale" (left over from another plan)."""
        if member.state != "running":
            return "-"
        if check is None:
            return "running" if member.role in ("client", "job") else "stale"
        return "healthy" if self.docker.passes(check, member.name) else "unhealthy"

    def member_logs(self, lab: str, member: str, tail: int = 100) -> str:
        return self.docker.logs(member, tail=tail)

    def follow_logs(self, lab: str, member: str, tail: int = 100) -> Iterator[str]:
        return self.docker.log_stream(member, tail=tail)

    def lab_names(self) -> set[str]:
        return self.docker.labs()

    def member_events(self, lab: str) -> Iterator[dict]:
        return self.docker.events(lab)

    def exec_member(self, member: str, command: Sequence[str], user: str = "") -> tuple[int, str]:
        return self.docker.exec(member, command, user=user)

    def stop_member(self, member: str, timeout: int = 5) -> None:
        self.docker.stop(member, timeout=timeout)

    def restart_member(self, member: str, timeout: int = 5) -> None:
        self.docker.restart(member, timeout=timeout)

    def wait_for_member(self, member: str, check: Check | None, timeout: float = 60) -> None:
        wait_until_ready(self.docker, member, check, timeout=timeout)

    def hosts(self) -> dict[str, str]:
        return {"this machine": "active"}

    def set_host(self, host: str, availability: str) -> None:
        raise ConfigError("a lab on one engine has one host, which cannot be drained: `lab up --engine swarm` spreads it")

    def push_image(self, tag: str, target: str) -> str:
        return self.docker.push(tag, target)
