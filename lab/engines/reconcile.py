"""Reconcile: make the containers of one engine match a plan, changing only what differs.

The engine compares each container with its spec by a fingerprint (kept, started, created, recreated);
a kept node whose configuration changed gets its files and a signal (reloaded). Run twice, `apply`
changes nothing the second time; run with another backend or balance mode, only what differs.

It needs a container engine (`ContainerEngine`): `DockerEngine` on this machine, or an in-memory one
in unit tests.
"""

from __future__ import annotations

import time
from typing import Callable, Iterable, Protocol, Sequence

from lab.engines import job_output
from lab.engines.host import fetch
from lab.engines.interface import ApplyRequest, Progress
from lab.engines.parallel import in_parallel
from lab.engines.stages import stage
from lab.engines.stopwatch import Stopwatch
from lab.engines.waits import wait_until_ready
from lab.errors import NginxConfigError, NotReady, SiteError
from lab.model.checks import Check
from lab.model.nginx_conf import CONF_PATH
from lab.model.plan import HEALTH, ContainerSpec, Plan, container_name, store_names
from lab.model.stores import APP_DATABASE

Fetch = Callable[..., tuple[int, dict]]
# How long a drained node keeps its in-flight requests before it is replaced: the lab's pages answer in
# milliseconds; a site with slow requests would need its longest (nginx's proxy_read_timeout bounds it).
DRAIN_SECONDS = 0.5
# What the lab says of migrations the nodes that still serve may trip on (fixed prose).
INCOMPATIBLE_SAID = "  migrations the previous version may trip on, applied while its nodes still serve: "
EXPAND_CONTRACT = " (expand/contract: first release code that no longer needs it, then the migration that drops it)"


class ContainerEngine(Protocol):  # pragma: no mutate block (signatures only)
    """What reconciling needs of an engine that runs containers (DockerEngine has it all)."""

    stopwatch: Stopwatch

    def ensure_network(self, name: str, labels: dict) -> None: ...
    def ensure_volume(self, name: str, labels: dict, driver_opts: dict | None = None) -> None: ...
    def ensure_container(self, spec: ContainerSpec, network: str) -> str: ...
    def matches(self, spec: ContainerSpec) -> bool: ...
    def passes(self, check: Check, container: str) -> bool: ...
    def status(self, container: str) -> tuple[str, int | None]: ...
    def address(self, container: str, network: str) -> str: ...
    def put_files(self, spec: ContainerSpec) -> None: ...
    def put_file(self, container: str, path: str, content: str) -> None: ...
    def signal(self, container: str, name: str) -> None: ...
    def exec(self, container: str, command: Sequence[str], env: dict | None = None, user: str = "") -> tuple[int, str]: ...
    def logs(self, container: str, tail: int = 40) -> str: ...
    def run_job(self, spec: ContainerSpec, network: str, timeout: float = 180) -> tuple[int, str]: ...
    def remove(self, container: str, timeout: int = 5) -> bool: ...
    def lab_containers(self, lab: str) -> list[dict]: ...


class Reconciler:
    """Applies plans on one container engine; `fetch` asks nginx over HTTP (what a browser would)."""

    def __init__(self, engine: ContainerEngine, progress: Progress, fetch: Fetch = fetch):
        self.engine = engine
        self.progress = progress
        self.fetch = fetch

    def prepare(self, plan: Plan) -> None:
        """The lab's network and volumes."""
        self.engine.ensure_network(plan.network, dict(plan.network_labels))
        self.ensure_volumes(plan)

    def ensure_volumes(self, plan: Plan) -> None:
        in_parallel(
            lambda volume: self.engine.ensure_volume(volume.name, dict(volume.labels), dict(volume.driver_opts)),
            plan.volumes,
        )

    def apply(self, plan: Plan, request: ApplyRequest, nfs_client: str) -> tuple[Plan, dict[str, str]]:
        """Stores and migrations, nodes, nginx, then what is no longer planned. Returns the plan as
        applied (a kernel NFS client learns the server's address once it runs) and each action."""
        config = plan.config
        self.ensure_volumes(plan)
        actions: dict[str, str] = {}
        planned = {"plan": plan}
        uses_nfs = "nfs" in store_names(config)
        # A new database container (or a new Django) needs migrations; a kept one with the same image does not.
        database = next(spec for spec in plan.stores if spec.name == f"{config.name}-{APP_DATABASE}")
        migrate = not request.prepared or not self.engine.matches(database)
        serving = self.serving(config.name)
        rolling = request.rolling and serving  # users are on the lab: nodes are replaced one at a time

        def stores_and_migrations() -> None:
            self.converge("stores", plan.stores, plan, actions)
            if nfs_client == "kernel" and uses_nfs:
                planned["plan"] = request.replan(self.engine.address(container_name(config.name, "nfs"), plan.network))
                self.ensure_volumes(planned["plan"])
            if migrate:
                self.run_prepare(plan)
                request.on_prepared()

        def nodes() -> None:
            if rolling:
                self.roll(planned["plan"], actions)
            else:
                self.converge("nodes", planned["plan"].nodes, planned["plan"], actions)
            members = planned["plan"].members()
            if members:  # workers and the scheduler after the nodes: they need what the nodes need, and take no traffic
                self.converge("members", members, planned["plan"], actions)

        if uses_nfs or (migrate and (serving or plan.release_commands)):
            # Nodes mount a store at start; or users are on the lab and new nodes must find migrated
            # tables; or the project's release steps may write what a node reads once, at start.
            stores_and_migrations()
            nodes()
        else:
            # Nodes need no store to boot: they load Django (a node's longest step) while the stores start
            # and migrations run. nginx lets users in only once both are done.
            in_parallel(lambda step: step(), [stores_and_migrations, nodes])
        plan = planned["plan"]
        if not serving:
            self.converge_nginx(plan, actions, reload=True)
        # Every node runs the new plan now, so stores it dropped have no client left: they go while
        # nginx is brought up to date. Dropped nodes go last, once nginx no longer sends anyone to them.
        nodes_changed = any(actions[node.name] != "kept" for node in plan.nodes)
        in_parallel(
            lambda step: step(),
            [
                lambda: self.remove_stale(plan, roles=("store", "job", "scheduler", "worker")),
                # A roll has just reloaded nginx with this plan's configuration; other changes need one.
                lambda: self.converge_nginx(plan, actions, reload=nodes_changed and not rolling) if serving else None,
            ],
        )
        self.remove_stale(plan, roles=("node",))
        return plan, actions

    def serving(self, lab: str) -> bool:
        """Whether the lab's nginx runs, so users may be on it now."""
        nginx = container_name(lab, "nginx")
        return any(row["name"] == nginx and row["state"] == "running" for row in self.engine.lab_containers(lab))

    def ensure(self, spec: ContainerSpec, network: str) -> str:
        """Make one container match its spec. A kept container that can reload its files (a node's
        config) and does not run the planned ones gets them and the signal: "reloaded", not recreated."""
        action = self.engine.ensure_container(spec, network)
        if action == "kept" and spec.reload_signal and spec.check and not self.engine.passes(spec.check, spec.name):
            self.engine.put_files(spec)
            self.engine.signal(spec.name, spec.reload_signal)
            action = "reloaded"
        return action

    def converge(self, what: str, specs: Iterable[ContainerSpec], plan: Plan, actions: dict) -> None:
        """Create, recreate or reload `specs` in parallel, then wait until every one is ready."""
        specs = list(specs)
        with stage(self.progress, what, detail=f"{len(specs)} to start and see ready") as converging:
            results = in_parallel(lambda spec: self.ensure(spec, plan.network), specs)
            actions.update({spec.name: action for spec, action in zip(specs, results)})
            in_parallel(lambda spec: wait_until_ready(self.engine, spec.name, spec.check, timeout=90), specs)
            summary = ", ".join(f"{spec.name.removeprefix(plan.config.name + '-')} {actions[spec.name]}" for spec in specs)
            converging.finish(f"{what} ready in {converging.seconds:.1f} s: {summary}", summary=summary)

    def roll(self, plan: Plan, actions: dict) -> None:
        """Replace the nodes that changed one at a time: nginx stops sending that node new requests (its
        in-flight ones finish: nginx's reload is graceful, and the node stops gracefully), the node is
        recreated or reloaded and judged ready, then nginx sends it traffic again. The reload that
        drains a node also puts the one replaced before it back, so one node at most is out at a time
        and each step costs one reload."""
        started = time.monotonic()
        rolled = False
        for node in plan.nodes:
            if self.engine.matches(node) and node.check and self.engine.passes(node.check, node.name):
                actions[node.name] = "kept"
                continue
            part = node.name.removeprefix(plan.config.name + "-")
            if self.engine.status(node.name)[0] == "missing":  # a new node: nginx sends it nothing yet
                actions[node.name] = self.ensure(node, plan.network)
                wait_until_ready(self.engine, node.name, node.check, timeout=90)
                continue
            drained = plan.drained(node.name)
            self.apply_nginx_conf(drained)
            self.wait_for_config(drained)
            time.sleep(DRAIN_SECONDS)  # in-flight requests finish on the old workers
            actions[node.name] = self.ensure(node, plan.network)
            wait_until_ready(self.engine, node.name, node.check, timeout=90)
            rolled = True
            self.progress(f"  {part} {actions[node.name]} and ready in {time.monotonic() - started:.1f} s")
        if rolled:  # the last one back
            self.apply_nginx_conf(plan)
            self.wait_for_config(plan)
        self.progress(f"nodes rolled in {time.monotonic() - started:.1f} s")

    def remove_stale(self, plan: Plan, roles: tuple[str, ...]) -> None:
        """Remove the lab's containers of these roles that the plan no longer has (volumes stay until down)."""
        wanted = {spec.name for spec in plan.containers()}
        stale = [
            row["name"]
            for row in self.engine.lab_containers(plan.config.name)
            if row["role"] in roles and row["name"] not in wanted
        ]
        in_parallel(lambda name: self.engine.remove(name, timeout=3), stale)
        if stale:
            self.progress(f"removed {', '.join(stale)}")

    def run_prepare(self, plan: Plan) -> None:
        """Migrate the shared database and set the demo user: a one-off job, so N nodes never race to migrate."""
        started = time.monotonic()
        with stage(self.progress, "release job", detail="migrations, the demo user, the release steps") as job:
            code, output = self.engine.run_job(plan.prepare, plan.network, timeout=900)
            if code != 0:
                job.fail()
        if code != 0:
            why = job_output.explain(plan.prepare.name, code, output)
            if "the release step `" in why:  # the project's own step: the user can change or replace it
                raise SiteError(why + "; change or replace it with --release-command CMD")
            raise NotReady(plan.prepare.name, why, output)
        ran = plan.release_commands
        incompatible = [line.split(": incompatible: ", 1)[1] for line in output.splitlines() if ": incompatible: " in line]
        if incompatible and self.serving(plan.config.name):
            self.progress(INCOMPATIBLE_SAID + "; ".join(incompatible) + EXPAND_CONTRACT)
        self.progress(
            f"database migrated{', ' + str(len(ran)) + ' release steps run' if ran else ''} and demo user set "
            f"in {time.monotonic() - started:.1f} s"
        )

    def converge_nginx(self, plan: Plan, actions: dict, reload: bool) -> None:
        """Start nginx, or reload it when its configuration or the nodes behind it changed."""
        started = time.monotonic()
        nginx = plan.nginx
        action = self.engine.ensure_container(nginx, plan.network)
        if action == "kept" and (reload or self.live_config_id(plan.url) != plan.nginx_config_id):
            self.apply_nginx_conf(plan)
            action = "reloaded"
        actions[nginx.name] = action
        wait_until_ready(self.engine, nginx.name, nginx.check, timeout=30)
        self.wait_for_config(plan)
        self.progress(f"nginx {action} in {time.monotonic() - started:.1f} s: {plan.url}")

    def apply_nginx_conf(self, plan: Plan) -> None:
        """Hand nginx a new configuration; it is tested (`nginx -t`, warnings fail) before the reload."""
        with self.engine.stopwatch.step("nginx reload"):
            self.engine.put_file(plan.nginx.name, CONF_PATH + ".next", plan.nginx_conf)
            code, output = self.engine.exec(plan.nginx.name, ["lab-nginx-apply"])
        if code != 0:
            raise NginxConfigError(f"nginx rejected the new configuration; the running one is unchanged:\n{output}")

    def live_config_id(self, url: str) -> str | None:
        """The X-Lab-Config nginx is serving now at `url`, or None when it does not answer."""
        return live_config_id(url, self.fetch)

    def wait_for_config(self, plan: Plan, timeout: float = 15) -> None:
        """Wait until nginx serves the planned configuration and a node answers through it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, _ = self.fetch(f"{plan.url}{HEALTH}")
            if self.live_config_id(plan.url) == plan.nginx_config_id and status == 200:
                return
            time.sleep(0.02)  # two local requests a try: cheap, and a reload lands within milliseconds
        raise NotReady(
            plan.nginx.name,
            f"nginx did not serve configuration {plan.nginx_config_id} with a healthy node within {timeout:.0f} s",
            self.engine.logs(plan.nginx.name),
        )


def live_config_id(url: str, fetch: Fetch = fetch) -> str | None:
    """The X-Lab-Config nginx is serving now at `url`, or None when it does not answer."""
    status, headers = fetch(f"{url}nginx-health")
    return headers.get("X-Lab-Config") if status == 200 else None
