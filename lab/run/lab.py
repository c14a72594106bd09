"""Lab: one named lab on one engine. It turns a LabConfig into a plan and has the engine make it so.

`up` is a reconcile: run twice, it changes nothing the second time; run with another backend or
balance mode (that is all `switch` does), it changes only what differs.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from lab.engines.docker import DockerEngine
from lab.engines.host import fetch, nfs_client, port_is_free
from lab.engines.images import image_specs
from lab.engines.parallel import in_parallel
from lab.engines.waits import passes, wait_until_ready
from lab.errors import ConfigError, LabNotFound, NginxConfigError, NotReady, PortInUse, SiteError
from lab.model.config import LabConfig, check_name
from lab.model.nginx_conf import CONF_PATH
from lab.model.plan import HEALTH, ContainerSpec, Plan, build_plan, container_name, image_keys, store_names
from lab.model.stores import APP_DATABASE
from lab.run import site_facts
from lab.run.build_errors import WrongPython, site_images
from lab.run.state import LabState, StateStore, new_key, new_secrets
from lab.run.tls import certificates
from lab.traffic.evidence import WHOAMI, LoginFailed, VirtualUser

Progress = Callable[[str], None]


@dataclass(frozen=True)
class UpResult:
    """What `up` did: the plan it made real, each container's action, and how long it took."""

    plan: Plan
    actions: dict[str, str]
    seconds: float

    @property
    def changed(self) -> list[str]:
        return [name for name, action in self.actions.items() if action != "kept"]


class Lab:
    """A named lab: `up`, `switch`, `status`, `logs`, `down`."""

    def __init__(
        self,
        name: str = "djlab",
        engine: DockerEngine | None = None,
        states: StateStore | None = None,
        progress: Progress | None = None,
    ):
        self.name = check_name(name)
        self.engine = engine or DockerEngine()
        self.states = states or StateStore()
        self.progress = progress or (lambda line: None)
        self._lock = self.states.lock(name)

    # -- bring up and change -----------------------------------------------------------------------

    def config(self) -> LabConfig | None:
        """The configuration this lab last ran with, if it is remembered."""
        state = self.states.load(self.name)
        return state.config if state else None

    def up(self, config: LabConfig | None = None, **changes) -> UpResult:
        """Bring the lab to `config` (default: its saved one, else the defaults) with `changes` applied."""
        with self._lock:
            return self._up(config, **changes)

    def _up(self, config: LabConfig | None = None, **changes) -> UpResult:
        """The steps of `up`: refuse what cannot be, images, what the site is, the containers, readiness."""
        started = time.monotonic()
        state = self.states.load(self.name)
        config = (config or (state.config if state else LabConfig(name=self.name))).replace(**changes)
        if config.name != self.name:
            raise ConfigError(f"this lab is {self.name!r}, not {config.name!r}")
        if config.engine == "swarm":
            return self._up_swarm(config, state, started)
        # Every refusal comes before the first write: a refused command leaves no state and no container.
        self._check_port(config, state.config if state else None)
        self.progress(
            f"lab {config.name}: {config.nodes} nodes x {config.workers} workers, "
            f"backend {config.backend}, balance {config.balance}"
        )
        site_facts.describe(config, state.config if state else None, self.progress)
        # Images before the state: a site whose requirements do not build leaves nothing behind.
        config, tags = self._images(config)
        client, why = nfs_client()
        if "nfs" in store_names(config):
            self.progress(f"nfs client: {client}: {why}")
        state = self._learn_site(config, state, tags, client)
        plan, actions = self._apply(self.build(config, state, tags, client), state, tags, client)
        self._check_login_page(plan, state)
        return UpResult(plan, actions, time.monotonic() - started)

    def _images(self, config: LabConfig) -> tuple[LabConfig, dict[str, str]]:
        """Every image the lab runs, built when missing; a site whose pins need the other Python as
        close to what it declares gets that one (the config says so from then on)."""
        with self.engine.stopwatch.step("images (check or build)"):
            try:
                return config, site_images(self.engine, config, image_keys(config), self.progress)
            except WrongPython as error:
                other = config.interpreter_choice.as_close
                if other is None or config.python:
                    raise
                # What the project declares is as close to another Python: its pins may be for that one.
                self.progress(f"{error}\n  {other.version} is as close to what the project asks: trying it")
                config = config.replace(python=other.version)
                return config, site_images(self.engine, config, image_keys(config), self.progress)

    def _learn_site(self, config: LabConfig, state: LabState | None, tags: dict, client: str) -> LabState:
        """The lab's network and volumes, and what Django says of the site image (once per image),
        saved with the lab's state. A site that does not load leaves nothing behind on a new lab."""
        fresh = state is None
        state = LabState(config, state.secrets, state.prepared_image, state.site_facts) if state else LabState(
            config, new_secrets()
        )
        plan = build_plan(config, state.secrets, tags, nfs_client=client)
        self.engine.ensure_network(plan.network, dict(plan.network_labels))
        self._ensure_volumes(plan)
        if (state.site_facts or {}).get("key") != site_facts.facts_key(plan, tags["site"]):
            try:
                state = state.replace(site_facts=site_facts.ask(self.engine, plan, tags["site"], self.progress))
            except SiteError:
                if fresh:
                    self.engine.remove_lab(self.name)
                raise
        self.states.save(state)
        return state

    def _apply(self, plan: Plan, state: LabState, tags: dict, client: str) -> tuple[Plan, dict[str, str]]:
        """Make the containers match `plan`: stores and migrations, nodes, nginx, then what is no longer
        planned. Returns the plan as applied (with a kernel NFS client it learns the server's address)."""
        config = plan.config
        self._ensure_volumes(plan)
        actions: dict[str, str] = {}
        planned = {"plan": plan}
        uses_nfs = "nfs" in store_names(config)
        # A new database container (or a new Django) needs migrations; a kept one with the same image does not.
        database = next(spec for spec in plan.stores if spec.name == f"{config.name}-{APP_DATABASE}")
        migrate = state.prepared_image != tags["site"] or not self.engine.matches(database)

        def stores_and_migrations() -> None:
            self._converge("stores", plan.stores, plan, actions)
            if client == "kernel" and uses_nfs:
                address = self.engine.address(container_name(config.name, "nfs"), plan.network)
                planned["plan"] = self.build(config, state, tags, client, nfs_address=address)
                self._ensure_volumes(planned["plan"])
            if migrate:
                self._prepare(plan)
                self.states.save(state.replace(prepared_image=tags["site"]))

        def nodes() -> None:
            self._converge("nodes", planned["plan"].nodes, planned["plan"], actions)

        serving = self._serving(config)
        if uses_nfs or (migrate and (serving or site_facts.release_commands(plan))):
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
            self._converge_nginx(plan, actions, reload=True)
        # Every node runs the new plan now, so stores it dropped have no client left: they go while
        # nginx is brought up to date. Dropped nodes go last, once nginx no longer sends anyone to them.
        nodes_changed = any(actions[node.name] != "kept" for node in plan.nodes)
        in_parallel(
            lambda step: step(),
            [
                lambda: self._remove_stale(plan, roles=("store", "job")),
                lambda: self._converge_nginx(plan, actions, reload=nodes_changed) if serving else None,
            ],
        )
        self._remove_stale(plan, roles=("node",))
        return plan, actions

    def build(self, config: LabConfig, state: LabState, tags: dict, client: str, nfs_address: str | None = None) -> Plan:
        """The plan of `config` with what is known of the site (its facts) and, when nginx terminates
        https, the lab's certificate."""
        facts = state.site_facts or {}
        tls = None
        if facts.get("https"):
            made = self.certificates(config)
            tls = (made.cert, made.key)
        return build_plan(config, state.secrets, tags, nfs_client=client, nfs_address=nfs_address, facts=facts, tls=tls)

    def certificates(self, config: LabConfig):
        """The lab's CA and nginx's certificate (made once; see lab.tls)."""
        names = [config.host] if config.host != "0.0.0.0" else []
        names = list(dict.fromkeys([*names, "127.0.0.1", "localhost", container_name(config.name, "nginx")]))
        return certificates(config.name, self.states.tls_dir(config.name), names)

    def _up_swarm(self, config: LabConfig, state: LabState | None, started: float) -> UpResult:
        from lab.run import swarm

        before = set(self.engine.swarm_services(self.name))
        previous = {spec.name: (spec.fingerprint(), dict(spec.files)) for spec in self.plan().containers()} if state else {}
        state = LabState(config, state.secrets, state.prepared_image, state.site_facts) if state else LabState(
            config, new_secrets()
        )
        self.states.save(state)
        state, plan, _ = swarm.up(self, config, state)
        self.states.save(state.replace(config=config))

        def action(spec: ContainerSpec) -> str:
            if spec.name not in before:
                return "created"
            return "kept" if previous.get(spec.name) == (spec.fingerprint(), dict(spec.files)) else "updated"

        return UpResult(plan, {spec.name: action(spec) for spec in plan.containers()}, time.monotonic() - started)

    def switch(self, **changes) -> UpResult:
        """Change a running lab's backend, balance mode, node count or keys; only what must change."""
        changes = {key: value for key, value in changes.items() if value is not None}
        if not changes:
            raise ConfigError("say what to switch: --backend, --balance, --nodes or --secret-key-per-node")
        with self._lock:
            state = self._state()
            return self._up(state.config, **changes)

    def rotate_secret_key(self) -> UpResult:
        """Give every node a new SECRET_KEY and keep the old one in SECRET_KEY_FALLBACKS: no one is logged out."""
        with self._lock:
            state = self._state()
            old = state.secrets
            rotated = dataclasses.replace(
                old, secret_key=new_key(), secret_key_fallbacks=(old.secret_key, *old.secret_key_fallbacks)[:3]
            )
            self.states.save(state.replace(secrets=rotated))
            self.progress("SECRET_KEY rotated; the previous key stays in SECRET_KEY_FALLBACKS")
            return self._up(state.config)

    def warm_up(self, requests_per_worker: int = 3) -> None:
        """A few anonymous requests straight to every node's workers (a login page and a session),
        so their first-request costs (imports, connections) are paid before anything is measured."""
        config = self.config()
        if config.engine == "swarm":
            return  # the nodes are services on other hosts: their first requests are part of the figures
        count = requests_per_worker * config.workers
        # bash's /dev/tcp: no Python start per node; the kernel hands each connection to some worker.
        script = (
            f"for i in $(seq {count}); do for path in /{self.login_path()} /{WHOAMI}; do "
            "exec 3<>/dev/tcp/127.0.0.1/8000 && printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' \"$path\" >&3 "
            "&& cat <&3 >/dev/null; exec 3<&-; done; done"
        )
        in_parallel(lambda node: self.engine.exec(node.name, ["bash", "-c", script]), self.plan().nodes)

    def restart(self, part: str, timeout: int = 3) -> float:
        """Restart one of the lab's containers (`node-2`, `redis`, ...) and wait until it is ready again."""
        spec = {spec.name: spec for spec in self.plan().containers()}[f"{self.name}-{part}"]
        started = time.monotonic()
        self.engine.restart(spec.name, timeout=timeout)
        wait_until_ready(self.engine, spec.name, spec.check, timeout=60)
        return time.monotonic() - started

    def _ensure_volumes(self, plan: Plan) -> None:
        in_parallel(
            lambda volume: self.engine.ensure_volume(volume.name, dict(volume.labels), dict(volume.driver_opts)),
            plan.volumes,
        )

    def _check_port(self, config: LabConfig, previous: LabConfig | None) -> None:
        """Fail before creating anything when another program holds the lab's port."""
        same_bind = previous is not None and (previous.host, previous.port) == (config.host, config.port)
        ours = same_bind and self._serving(config)
        if not ours and not port_is_free(config.host, config.port):
            raise PortInUse(
                f"port {config.port} on {config.host} is already in use by another program; "
                f"pick another with `lab up --port N` (or `make lab-up PORT=N`)"
            )

    def _serving(self, config: LabConfig) -> bool:
        """Whether the lab's nginx runs, so users may be on it now."""
        nginx = f"{config.name}-nginx"
        return any(row["name"] == nginx and row["state"] == "running" for row in self.engine.lab_containers(self.name))

    def _ensure(self, spec: ContainerSpec, network: str) -> str:
        """Make one container match its spec. A kept container that can reload its files (a node's
        config) and does not run the planned ones gets them and the signal: "reloaded", not recreated."""
        action = self.engine.ensure_container(spec, network)
        if action == "kept" and spec.reload_signal and spec.check and not passes(spec.check, self.engine, spec.name):
            self.engine.put_files(spec)
            self.engine.signal(spec.name, spec.reload_signal)
            action = "reloaded"
        return action

    def _converge(self, what: str, specs: Iterable[ContainerSpec], plan: Plan, actions: dict) -> None:
        """Create, recreate or reload `specs` in parallel, then wait until every one is ready."""
        specs = list(specs)
        started = time.monotonic()
        results = in_parallel(lambda spec: self._ensure(spec, plan.network), specs)
        actions.update({spec.name: action for spec, action in zip(specs, results)})
        in_parallel(lambda spec: wait_until_ready(self.engine, spec.name, spec.check, timeout=90), specs)
        summary = ", ".join(f"{spec.name.removeprefix(plan.config.name + '-')} {actions[spec.name]}" for spec in specs)
        self.progress(f"{what} ready in {time.monotonic() - started:.1f} s: {summary}")

    def _remove_stale(self, plan: Plan, roles: tuple[str, ...]) -> None:
        """Remove the lab's containers of these roles that the plan no longer has (volumes stay until down)."""
        wanted = {spec.name for spec in plan.containers()}
        stale = [
            row["name"]
            for row in self.engine.lab_containers(self.name)
            if row["role"] in roles and row["name"] not in wanted
        ]
        in_parallel(lambda name: self.engine.remove(name, timeout=3), stale)
        if stale:
            self.progress(f"removed {', '.join(stale)}")

    def _ask_site(self, plan: Plan, image: str) -> dict:
        """What Django says about the site (see lab.site_facts.ask)."""
        return site_facts.ask(self.engine, plan, image, self.progress)

    def _check_login_page(self, plan: Plan, state: LabState) -> None:
        """Readiness through nginx: the site's login page answers with a login form (found the first time)."""
        saved = self.states.load(self.name)
        facts = dict(saved.site_facts or {})
        path, source = site_facts.find_login_page(plan, facts)
        if (path, source) != (facts.get("login_page"), facts.get("login_page_source")):
            # Found: the demo user logs in there once, as a person would, and the site knows them after.
            user = VirtualUser(plan.url, name="readiness", login_path=path, probe=path)
            try:
                user.login(facts.get("login_name", state.secrets.demo_user), state.secrets.demo_password)
            except (LoginFailed, OSError) as error:
                raise SiteError(
                    f"the login page {path} ({source}) has a form, but the demo user could not log in there: {error}; "
                    "`lab logs node-1` shows the site's side (say another page with --login-url)"
                ) from None
            facts.update(login_page=path, login_page_source=source)
            self.states.save(saved.replace(site_facts=facts))
            self.progress(f"users log in at {path} ({source}): the demo user did, on {user.evidence.login_node}")

    def site(self) -> dict:
        """What Django said about the lab's site: login page and name, static URL, the lab's overrides."""
        facts = self._state().site_facts
        if not facts:
            raise LabNotFound(f"lab {self.name!r} has not been brought up yet; run `lab up`")
        return facts

    def _prepare(self, plan: Plan) -> None:
        """Migrate the shared database and set the demo user: a one-off job, so N nodes never race to migrate."""
        started = time.monotonic()
        code, output = self.engine.run_job(plan.prepare, plan.network, timeout=900)
        if code != 0:
            failed = [line.split(": error: ", 1)[1] for line in output.splitlines() if line.startswith("lab-release: error: ")]
            if failed:
                raise SiteError(failed[-1] + "; change or replace it with --release-command CMD")
            raise NotReady(plan.prepare.name, f"migrations failed with exit code {code}", output)
        ran = site_facts.release_commands(plan)
        self.progress(
            f"database migrated{', ' + str(len(ran)) + ' release steps run' if ran else ''} and demo user set "
            f"in {time.monotonic() - started:.1f} s"
        )

    def _converge_nginx(self, plan: Plan, actions: dict, reload: bool) -> None:
        """Start nginx, or reload it when its configuration or the nodes behind it changed."""
        started = time.monotonic()
        nginx = plan.nginx
        action = self.engine.ensure_container(nginx, plan.network)
        if action == "kept" and (reload or self.live_config_id(plan.config, plan.url) != plan.nginx_config_id):
            self.apply_nginx_conf(plan)
            action = "reloaded"
        actions[nginx.name] = action
        wait_until_ready(self.engine, nginx.name, nginx.check, timeout=30)
        self._wait_for_config(plan)
        self.progress(f"nginx {action} in {time.monotonic() - started:.1f} s: {plan.url}")

    def apply_nginx_conf(self, plan: Plan) -> None:
        """Hand nginx a new configuration; it is tested (`nginx -t`, warnings fail) before the reload."""
        with self.engine.stopwatch.step("nginx reload"):
            self.engine.put_file(plan.nginx.name, CONF_PATH + ".next", plan.nginx_conf)
            code, output = self.engine.exec(plan.nginx.name, ["lab-nginx-apply"])
        if code != 0:
            raise NginxConfigError(f"nginx rejected the new configuration; the running one is unchanged:\n{output}")

    def live_config_id(self, config: LabConfig, url: str | None = None) -> str | None:
        """The X-Lab-Config nginx is serving now (at `url`, default the lab's), or None when it does not answer."""
        status, headers = fetch(f"{url or self.url(config)}nginx-health")
        return headers.get("X-Lab-Config") if status == 200 else None

    def url(self, config: LabConfig | None = None) -> str:
        """Where a browser reaches the lab: https when nginx terminates TLS for the site."""
        state = self.states.load(self.name)
        config = config or (state.config if state else LabConfig(name=self.name))
        https = config.https if config.https is not None else bool(((state and state.site_facts) or {}).get("https"))
        return config.url_for(https=https)

    def _wait_for_config(self, plan: Plan, timeout: float = 15) -> None:
        """Wait until nginx serves the planned configuration and a node answers through it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, _ = fetch(f"{plan.url}{HEALTH}")
            if self.live_config_id(plan.config, plan.url) == plan.nginx_config_id and status == 200:
                return
            time.sleep(0.02)  # two local requests a try: cheap, and a reload lands within milliseconds
        raise NotReady(
            plan.nginx.name,
            f"nginx did not serve configuration {plan.nginx_config_id} with a healthy node within {timeout:.0f} s",
            self.engine.logs(plan.nginx.name),
        )

    # -- inspect -----------------------------------------------------------------------------------

    def plan(self) -> Plan:
        """The plan of the lab's saved configuration (no image is built)."""
        state = self._state()
        tags = {key: spec.tag for key, spec in image_specs(state.config).items()}
        return self.build(state.config, state, tags, nfs_client()[0])

    def _state(self) -> LabState:
        state = self.states.load(self.name)
        if state is None:
            raise LabNotFound(f"no lab named {self.name!r} on this machine; start one with `lab up`")
        return state

    def login(self) -> tuple[str, str]:
        """The demo user's login name (an email on a site that logs in by email) and password."""
        state = self._state()
        facts = state.site_facts or {}
        return facts.get("login_name", state.secrets.demo_user), state.secrets.demo_password

    def login_path(self) -> str:
        """The site's login page, without the leading slash: the one a GET found a login form on
        (--login-url, else LOGIN_URL, else the admin's)."""
        facts = self._state().site_facts or {}
        return (facts.get("login_page") or facts.get("login_url") or "/accounts/login/").lstrip("/")

    def ca_path(self) -> Path | None:
        """The lab's CA certificate, to trust its https (None when nginx serves plain http)."""
        state = self._state()
        if not (state.site_facts or {}).get("https") and not state.config.https:
            return None
        path = self.states.tls_dir(self.name) / "ca.pem"
        return path if path.is_file() else None

    def status(self) -> dict:
        """The lab's configuration, login, URL and each container's state and health."""
        state = self._state()
        plan = self.plan()
        checks = {spec.name: spec.check for spec in plan.containers()}
        rows = self.engine.lab_containers(self.name)
        if state.config.engine == "swarm":
            from lab.run import swarm

            rows = swarm.status_rows(self)
            checks = {}

        def health(row: dict) -> str:
            check = checks.get(row["name"])
            if row["state"] != "running":
                return "-"
            if check is None:  # clients and jobs have no check; a node or store without one is left over
                return "running" if row["role"] in ("client", "job") else "stale"
            return "healthy" if passes(check, self.engine, row["name"]) else "unhealthy"

        healths = [row["health"] for row in rows] if state.config.engine == "swarm" else in_parallel(health, rows)
        containers = [
            {"name": row["name"], "role": row["role"], "state": row["state"], "health": h,
             "image": row.get("image", ""), "host": row.get("host", "this machine")}
            for row, h in zip(rows, healths)
        ]
        config = state.config
        url = self.url(config)
        ca = self.ca_path()
        return {
            "name": config.name,
            "url": url,
            "ca": str(ca) if ca else None,
            "username": self.login()[0],
            "login_url": url + self.login_path(),
            "site": config.site,
            "password": state.secrets.demo_password,
            "backend": config.backend,
            "balance": config.balance,
            "nodes": config.nodes,
            "workers": config.workers,
            "secret_key_per_node": config.secret_key_per_node,
            "django_version": (state.site_facts or {}).get("django") or config.effective_django_version,
            "python": config.interpreter_choice.interpreter.version,
            "engine": config.engine,
            "nfs_client": nfs_client()[0] if config.backend == "nfs" else None,
            "running": bool(containers) and all(c["health"] in ("healthy", "running") for c in containers),
            "containers": containers,
        }

    def logs(self, target: str, tail: int = 100) -> str:
        """The log of one of the lab's containers: `nginx`, `node-2`, `redis` or a full name."""
        name = target if target.startswith(f"{self.name}-") else f"{self.name}-{target}"
        config = self.config()
        if config is not None and config.engine == "swarm":
            services = self.engine.swarm_services(self.name)
            if name not in services:
                short = ", ".join(n.removeprefix(f"{self.name}-") for n in services) or "none: the stack is not deployed"
                raise ConfigError(f"lab {self.name!r} has no service {target!r}; its services: {short}")
            return self.engine.service_logs(self.name, name.removeprefix(f"{self.name}-"), tail=tail)
        known = [row["name"] for row in self.engine.lab_containers(self.name)]
        if name not in known:
            short = ", ".join(n.removeprefix(f"{self.name}-") for n in known) or "none: the lab is not running"
            raise ConfigError(f"lab {self.name!r} has no container {target!r}; its containers: {short}")
        return self.engine.logs(name, tail=tail)

    # -- beyond one machine ------------------------------------------------------------------------

    def export_compose(self, directory, registry: str | None = None, hosts: list[str] | None = None, **changes):
        """Write the lab's plan (with `changes`, e.g. another backend or port) as a compose file for
        `docker stack deploy`, pushing its images to `registry` first; return the file's path and the plan."""
        from lab.run.swarm import write_stack

        state = self._state()
        if not state.site_facts:
            raise LabNotFound(f"lab {self.name!r} has not been brought up yet; run `lab up` once first")
        config = state.config.replace(**changes)
        if config.site != state.config.site:
            raise ConfigError("an export runs the lab's own site; bring the lab up with --site first")
        tags = site_images(self.engine, config, image_keys(config), self.progress)
        plan = build_plan(config, state.secrets, tags, facts=state.site_facts)
        path, hosts = write_stack(self, plan, registry, directory, hosts)
        spread = f" over {', '.join(hosts)}" if hosts else ""
        self.progress(f"wrote {path}: {len(plan.nodes)} nodes{spread}, backend {config.backend}, balance {config.balance}")
        return path, plan

    # -- take down ---------------------------------------------------------------------------------

    def down(self, keep_data: bool = False) -> dict[str, int]:
        """Remove everything labelled as this lab's (volumes and saved state too, unless `keep_data`).

        Works from the labels alone, so a lab whose state file is lost or unreadable still comes down.
        """
        with self._lock:
            from lab.run import swarm

            stack = swarm.down(self) if not keep_data else {"containers": 0, "networks": 0, "volumes": 0}
            removed = self.engine.remove_lab(self.name, keep_volumes=keep_data)
            removed = {key: removed[key] + stack[key] for key in removed}
            forgot = False if keep_data else self.states.delete(self.name)
        removed["state"] = int(forgot)
        return removed

