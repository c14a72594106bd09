"""LocalEngine: a lab as containers on this machine's Docker engine (lab.engines.docker), reconciled
container by container (lab.engines.reconcile)."""

from __future__ import annotations

from typing import Iterator, Sequence

from lab.engines.docker import DockerEngine
from lab.engines.host import nfs_client, port_is_free
from lab.engines.interface import ApplyRequest, LabEngine, Member, Progress
from lab.engines.reconcile import Reconciler
from lab.errors import ConfigError, PortInUse
from lab.model.checks import Check
from lab.model.config import LabConfig
from lab.model.plan import Plan


def members_of(engine: DockerEngine, lab: str) -> list[Member]:
    """The lab's containers on one Docker engine, as members."""
    return [
        Member(row["name"], row["role"], row["state"], image=row["image"], id=row["id"], labels=row["labels"])
        for row in engine.lab_containers(lab)
    ]


class LocalEngine(DockerEngine, LabEngine):
    """Containers on one engine: every member on this machine."""

    kind = "local"
    summary = "containers on this machine's Docker engine"
    several_hosts = False
    warms_nodes = True

    @classmethod
    def over(cls, docker: DockerEngine) -> "LocalEngine":
        """This kind of engine on the connection (and stopwatch) of `docker`."""
        return cls(client=docker._client, stopwatch=docker.stopwatch, base_url=docker.base_url)

    def reconciler(self, progress: Progress = lambda line: None) -> Reconciler:
        return Reconciler(self, progress)

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

    def prepare(self, plan: Plan) -> None:
        self.reconciler().prepare(plan)

    def apply(self, plan: Plan, request: ApplyRequest, progress: Progress) -> tuple[Plan, dict[str, str]]:
        return self.reconciler(progress).apply(plan, request, self.nfs_client()[0])

    def wait_until_serving(self, plan: Plan, progress: Progress) -> None:
        self.reconciler(progress).wait_for_config(plan)

    def client_network(self, plan: Plan) -> str | None:
        return None

    def serving(self, lab: str) -> bool:
        return self.reconciler().serving(lab)

    def publish(self, tags: Sequence[str], registry: str, progress: Progress) -> None:
        for tag in tags:
            self.push(tag, registry)
            progress(f"pushed {tag} to {registry}")

    def members(self, lab: str) -> list[Member]:
        return members_of(self, lab)

    def member_health(self, member: Member, check: Check | None) -> str:
        """"healthy" or "unhealthy" by the member's readiness check; a member the plan has no check for
        is "running" (clients, jobs) or "stale" (left over from another plan)."""
        if member.state != "running":
            return "-"
        if check is None:
            return "running" if member.role in ("client", "job") else "stale"
        return "healthy" if self.passes(check, member.name) else "unhealthy"

    def member_logs(self, lab: str, member: str, tail: int = 100) -> str:
        return self.logs(member, tail=tail)

    def member_events(self, lab: str) -> Iterator[dict]:
        return self.events(lab)

    def exec_member(self, member: str, command: Sequence[str], user: str = "") -> tuple[int, str]:
        return self.exec(member, command, user=user)

    def stop_member(self, member: str, timeout: int = 5) -> None:
        self.stop(member, timeout=timeout)

    def restart_member(self, member: str, timeout: int = 5) -> None:
        self.restart(member, timeout=timeout)

    def hosts(self) -> dict[str, str]:
        return {"this machine": "active"}

    def set_host(self, host: str, availability: str) -> None:
        raise ConfigError("a lab on one engine has one host, which cannot be drained: `lab up --engine swarm` spreads it")
