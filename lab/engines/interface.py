"""LabEngine: the one interface a whole lab runs on. `LocalEngine` (containers on this machine's Docker
engine) and `SwarmEngine` (a stack of services over a swarm's hosts) implement it; `lab.engines.choice`
is the one place that reads which kind a lab asked for.

The `Lab` (lab.run.lab) sequences what every engine shares (images, what the site is, the plan, the
login page); an engine makes the plan real and answers about the lab's members wherever they run. An
engine holds its own connection (Docker's, for both real ones) and no caller reaches past it: images,
one-off jobs, nginx reloads and client containers (`clients()`, a narrow `ClientsPort`) are asked here.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, ClassVar, Iterable, Iterator, Sequence

from lab.engines.clients_port import ClientsPort
from lab.engines.stopwatch import Stopwatch
from lab.model.checks import Check
from lab.model.config import LabConfig
from lab.model.site import Site
from lab.model.plan import ContainerSpec, Plan

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Member:
    """One container or service of a lab, wherever it runs."""

    name: str
    role: str
    state: str  # "running", "exited", "complete", ...
    host: str = "this machine"
    image: str = ""
    id: str = ""
    labels: dict = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class ApplyRequest:
    """What an engine is told besides the plan: whether the site's database was migrated for this image
    before, what to call once it is, where the engine may write files, and how to plan again when a
    value is only known once a store runs (a kernel NFS client needs the NFS server's address)."""

    prepared: bool
    on_prepared: Callable[[], None]
    workdir: Path
    replan: Callable[[str], Plan]
    # Replace changed nodes one at a time, each drained from nginx first (lab deploy, switch --rolling).
    rolling: bool = False


class LabEngine(ABC):
    """Where a lab's plan runs. Capabilities are declared, not inferred from the engine's name."""

    kind: ClassVar[str]
    summary: ClassVar[str]  # one line for status output
    several_hosts: ClassVar[bool]  # nodes may run on hosts of their own (a "local" volume is per host)
    warms_nodes: ClassVar[bool]  # the lab can send first requests straight to each node before measuring
    stopwatch: Stopwatch  # what each kind of engine call cost, for `lab bench profile`

    @abstractmethod
    def describe(self) -> str:
        """One line naming the engine underneath (its version, system), for reports."""

    # -- images and one-off jobs -------------------------------------------------------------------

    @abstractmethod
    def build_images(
        self, config: LabConfig, keys: Iterable[str], progress: Progress, rebuild: bool = False, site: Site | None = None
    ) -> dict[str, str]:
        """Build whichever of the named images (and the images they are built from) are missing, or the
        named ones again without a cache (`rebuild`), for `site` as read (default: read from its folder);
        their tags by key."""

    @abstractmethod
    def image_mb(self, tag: str) -> float:
        """The size of image `tag`, in MB."""

    @abstractmethod
    def run_job(self, spec: ContainerSpec, network: str, timeout: float = 180) -> tuple[int, str]:
        """Run a one-off container (what the site is, a release step) to completion on the lab's
        network; (exit code, its last log lines)."""

    @abstractmethod
    def up_floor(self, plan: Plan) -> float:
        """Seconds from nothing to nginx answering through a node with plain calls and none of the lab's
        bookkeeping: the floor `lab bench profile` measures `up` against. The members are left for
        `remove_lab`."""

    # -- where virtual users run -------------------------------------------------------------------

    @abstractmethod
    def clients(self) -> ClientsPort:
        """Where client containers run (this machine) and what users need of them."""

    # -- making a plan real ------------------------------------------------------------------------

    @abstractmethod
    def refuse(self, config: LabConfig, previous: LabConfig | None) -> None:
        """Raise a LabError naming the cause and the fix when this engine cannot run `config`; called
        before anything is written."""

    @abstractmethod
    def nfs_client(self) -> tuple[str, str]:
        """("kernel" or "fuse", why) for nodes that mount the lab's NFS export."""

    @abstractmethod
    def prepare(self, plan: Plan) -> None:
        """The lab's network and volumes, so one-off jobs (what the site is) can run before `apply`."""

    @abstractmethod
    def apply(self, plan: Plan, request: ApplyRequest, progress: Progress) -> tuple[Plan, dict[str, str]]:
        """Make the lab match `plan`; return the plan as applied and each member's action
        ("created", "kept", "updated", "reloaded", ...)."""

    @abstractmethod
    def wait_until_serving(self, plan: Plan, progress: Progress) -> None:
        """Until nginx serves the planned configuration with every planned node behind it."""

    @abstractmethod
    def reload_nginx(self, plan: Plan, progress: Progress) -> None:
        """Hand the running nginx the plan's configuration, tested before the reload (a rejected one
        leaves the running one as it was: NginxConfigError)."""

    @abstractmethod
    def client_network(self, plan: Plan) -> str | None:
        """The network client containers (on this machine) join to reach nginx, or None: each client on a
        network of its own that nginx joins (so each has its own address, as users behind their own NAT)."""

    @abstractmethod
    def serving(self, lab: str) -> bool:
        """Whether the lab's nginx runs, so users may be on it now."""

    @abstractmethod
    def remove_lab(self, lab: str, keep_volumes: bool = False) -> dict[str, int]:
        """Remove every resource labelled as lab `lab` that this engine reaches; counts per kind."""

    @abstractmethod
    def publish(self, tags: Sequence[str], registry: str, progress: Progress) -> None:
        """Make images reachable by every host (push them to `registry`)."""

    # -- the members -------------------------------------------------------------------------------

    @abstractmethod
    def members(self, lab: str) -> list[Member]:
        """The lab's containers or services, each with its state and host, sorted by name."""

    @abstractmethod
    def member_health(self, member: Member, check: Check | None) -> str:
        """"healthy", "unhealthy", "running", "stale" or "-", by the plan's check where one is asked."""

    @abstractmethod
    def member_logs(self, lab: str, member: str, tail: int = 100) -> str:
        """A member's last log lines."""

    @abstractmethod
    def follow_logs(self, lab: str, member: str, tail: int = 100) -> Iterator[str]:
        """A member's last `tail` log lines, then its log as it is written (text as it comes), until the
        member stops or the caller does (`lab logs -f`; Ctrl-C)."""

    @abstractmethod
    def lab_names(self) -> set[str]:
        """The name of every lab with a member this engine reaches (`lab ls`)."""

    @abstractmethod
    def member_events(self, lab: str) -> Iterator[dict]:
        """The lab's member events as they happen (start, die, ...), as a closable stream."""

    @abstractmethod
    def exec_member(self, member: str, command: Sequence[str], user: str = "") -> tuple[int, str]:
        """Run a command in a running member; (exit code, output)."""

    @abstractmethod
    def stop_member(self, member: str, timeout: int = 5) -> None:
        """Stop a member (the engine may start it again: that is what a crash looks like)."""

    @abstractmethod
    def restart_member(self, member: str, timeout: int = 5) -> None:
        """Stop and start a member again."""

    @abstractmethod
    def wait_for_member(self, member: str, check: Check | None, timeout: float = 60) -> None:
        """Until a member runs and passes its readiness check (NotReady after `timeout` seconds)."""

    # -- hosts -------------------------------------------------------------------------------------

    @abstractmethod
    def hosts(self) -> dict[str, str]:
        """Each host the lab may run on, and its availability ("active", "drain")."""

    @abstractmethod
    def set_host(self, host: str, availability: str) -> None:
        """Drain a host (its members move to the others) or make it active again."""

    @abstractmethod
    def push_image(self, tag: str, target: str) -> str:
        """Push the image `tag` to `target` (a registry and path, HOST[:PORT]/PATH) as `target/tag`; return that
        reference (what a cluster's manifests name)."""
