"""Lab: one named lab on one engine. It turns a LabConfig into a plan and has the engine make it so.

`up` is a reconcile: run twice, it changes nothing the second time; run with another backend or
balance mode (that is all `switch` does), it changes only what differs.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from lab.engines.choice import Connection, connection, engine_for, every_engine
from lab.engines.host import fetch_full
from lab.engines.images import image_specs
from lab.engines.site_compose import site_compose_file
from lab.engines.kubernetes import OVERLAYS, KubernetesExport, KubernetesOptions, exported_images, kubernetes_export
from lab.engines.interface import ApplyRequest, LabEngine
from lab.engines.parallel import in_parallel
from lab.engines.reconcile import live_config_id
from lab.engines.stages import stage
from lab.engines.swarm import write_stack
from lab.errors import ConfigError, LabError, LabNotFound, SiteError
from lab.model.config import LabConfig, check_name
from lab.model.site import Site
from lab.model.plan import (FAULTS, Plan, build_plan, container_name, fronted_stores, image_keys, store_names,
                            version_of)
from lab.project.read import read_site
from lab.run import site_facts
from lab.run.build_errors import MissingHeaders, WrongPython, site_images
from lab.run.state import LabState, StateStore, new_key, new_secrets
from lab.run.tls import certificates
from lab.traffic.clients import DIRECT_CLIENTS, NAT_USERS, Clients
from lab.traffic.evidence import WHOAMI, LoginFailed, VirtualUser
from lab.traffic.login_form import demo_email, find_login_form

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
        engine: Connection | LabEngine | None = None,
        states: StateStore | None = None,
        progress: Progress | None = None,
    ):
        self.name = check_name(name)
        # The connection every kind of engine is made on (lab.engines.choice), or an engine given whole.
        self._connection = engine or connection()
        self.states = states or StateStore()
        self.progress = progress or (lambda line: None)
        self._lock = self.states.lock(name)

    @property
    def engine(self) -> LabEngine:
        """The engine the lab runs on (by its saved configuration; local for a new lab)."""
        return self.engine_of(self.config() or LabConfig(name=self.name))

    def engine_of(self, config: LabConfig) -> LabEngine:
        """The engine `config` asks for (lab.engines.choice reads which)."""
        return engine_for(config, self._connection)

    # -- bring up and change -----------------------------------------------------------------------

    def config(self) -> LabConfig | None:
        """The configuration this lab last ran with, if it is remembered."""
        state = self.states.load(self.name)
        return state.config if state else None

    def up(self, config: LabConfig | None = None, **changes) -> UpResult:
        """Bring the lab to `config` (default: its saved one, else the defaults) with `changes` applied."""
        with self._lock:
            return self._up(config, **changes)

    def _up(self, config: LabConfig | None = None, rolling: bool = False, **changes) -> UpResult:
        """The steps of `up`: refuse what cannot be, images, what the site is, the plan, apply, serving."""
        started = time.monotonic()
        state = self.states.load(self.name)
        previous = state.config if state else None
        config = (config or previous or LabConfig(name=self.name)).replace(**changes)
        if config.name != self.name:
            raise ConfigError(f"this lab is {self.name!r}, not {config.name!r}")
        # The project folder, read once for this `up` (its code may have changed since the last one).
        site = read_site(config.site, config.site_choices)
        config = dataclasses.replace(config, site=site.folder)  # its manage.py folder, as the state names it
        engine = self.engine_of(config)
        # Every refusal comes before the first write: a refused command leaves no state and no container.
        engine.refuse(config, previous)
        self.progress(
            f"lab {config.name}: {config.nodes} nodes x {config.workers} workers, "
            f"backend {config.backend}, balance {config.balance}"
        )
        site_facts.describe(config, site, previous, self.progress)
        # Images before the state: a site whose requirements do not build leaves nothing behind.
        config, site, tags = self._images(engine, config, site)
        client, why = engine.nfs_client()
        if "nfs" in store_names(config):
            self.progress(f"nfs client: {client}: {why}")
        state = self._learn_site(engine, config, site, state, tags, client)
        state = self._keep_static(config, state, tags["site"])
        self._refuse_channel_layer(config, state.site_facts or {})
        request = ApplyRequest(
            prepared=state.prepared_image == tags["site"],
            on_prepared=lambda: self.states.save(state.replace(prepared_image=tags["site"])),
            workdir=self.states.directory,
            replan=lambda address: self.build(config, state, tags, client, nfs_address=address),
            rolling=rolling,
        )
        plan, actions = engine.apply(self.build(config, state, tags, client), request, self.progress)
        with stage(self.progress, "serving", detail="nginx serves the new plan with a healthy node"):
            engine.wait_until_serving(plan, self.progress)
        self._check_login_page(plan, state)
        return UpResult(plan, actions, time.monotonic() - started)

    @staticmethod
    def _refuse_channel_layer(config: LabConfig, facts: dict) -> None:
        """A channel layer under test needs what the site installs (known once Django was asked)."""
        if not config.channel_layer:
            return
        if not facts.get("channels"):
            raise ConfigError("--channel-layer needs a site with Django Channels (channels is not installed)")
        if config.channel_layer == "redis" and not facts.get("channels_redis"):
            raise ConfigError(
                "--channel-layer redis needs channels-redis, which the site does not install: add it to its "
                "requirements (`lab readiness --fix` does, for a site on the in-memory layer), or test memory"
            )

    def _keep_static(self, config: LabConfig, state: LabState, site_image: str) -> LabState:
        """With --keep-static, nginx serves the previous version's static files after the current's: a
        page the old version served still finds its hashed files while (and after) the new one rolls out."""
        if not config.keep_static:
            kept: tuple[str, ...] = ()
        elif state.prepared_image and state.prepared_image != site_image:  # a new version: keep the one before
            kept = (version_of(state.prepared_image),)
        else:
            kept = state.static_kept
        if kept != state.static_kept:
            state = state.replace(static_kept=kept)
            self.states.save(state)
        return state

    def _images(self, engine: LabEngine, config: LabConfig, site: Site) -> tuple[LabConfig, Site, dict[str, str]]:
        """Every image the lab runs, built by the engine when missing; a site whose pins need the other
        Python as close to what it declares gets that one (the config says so from then on)."""
        with engine.stopwatch.step("images (check or build)"):
            for _ in range(4):  # each build may need one more thing: a header's package, the other Python
                try:
                    return config, site, site_images(engine, config, image_keys(config, site), self.progress, site)
                except MissingHeaders as error:
                    added = tuple(name for name in error.packages if name not in config.build_packages)
                    # What the project's own Dockerfile installs before pip (`apk add openldap-dev`).
                    self.progress(f"{error.needs}: the build stage adds Debian's {', '.join(added)} "
                                  f"(as `--build-package {' --build-package '.join(added)}` would) and builds again")
                    config = config.replace(build_packages=(*config.build_packages, *added))
                except WrongPython as error:
                    other = site.interpreter.as_close
                    if other is None or config.python:
                        raise
                    # What the project declares is as close to another Python: its pins may be for that one.
                    self.progress(f"{error}\n  {other.version} is as close to what the project asks: trying it")
                    config = config.replace(python=other.version)
                    site = read_site(config.site, config.site_choices)
            return config, site, site_images(engine, config, image_keys(config, site), self.progress, site)

    def _learn_site(
        self, engine: LabEngine, config: LabConfig, site: Site, state: LabState | None, tags: dict, client: str
    ) -> LabState:
        """The lab's network and volumes, and what Django says of the site image (once per image),
        saved with the lab's state, with the site as read and the images' tags. A site that does not load
        leaves nothing behind on a new lab."""
        fresh = state is None
        state = LabState(config, state.secrets, state.prepared_image, state.site_facts, site=site, tags=tags) if state else (
            LabState(config, new_secrets(), site=site, tags=tags)
        )
        plan = build_plan(config, state.secrets, tags, nfs_client=client, site=site)
        engine.prepare(plan)
        if (state.site_facts or {}).get("key") != site_facts.facts_key(plan, tags["site"]):
            try:
                with stage(self.progress, "site facts", detail="what Django says of the site's image"):
                    state = state.replace(site_facts=site_facts.ask(engine, plan, tags["site"], self.progress))
            except SiteError:
                if fresh:
                    self._remove_everywhere()
                raise
        self.states.save(state)
        return state

    def build(self, config: LabConfig, state: LabState, tags: dict, client: str, nfs_address: str | None = None) -> Plan:
        """The plan of `config` with what is known of the site (its facts) and, when nginx terminates
        https, the lab's certificate."""
        facts = state.site_facts or {}
        tls = None
        if facts.get("https"):
            made = self.certificates(config)
            tls = (made.cert, made.key)
        return build_plan(config, state.secrets, tags, nfs_client=client, nfs_address=nfs_address, facts=facts, tls=tls,
                          static_kept=state.static_kept, site=state.site)

    def certificates(self, config: LabConfig):
        """The lab's CA and nginx's certificate (made once; see lab.tls)."""
        names = [config.host] if config.host != "0.0.0.0" else []
        names = list(dict.fromkeys([*names, "127.0.0.1", "localhost", container_name(config.name, "nginx")]))
        return certificates(config.name, self.states.tls_dir(config.name), names)

    def switch(self, rolling: bool = False, **changes) -> UpResult:
        """Change a running lab's backend, balance mode, node count or keys; only what must change.
        `rolling`: the nodes that change do so one at a time, each drained from nginx first."""
        changes = {key: value for key, value in changes.items() if value is not None}
        if not changes:
            raise ConfigError("say what to switch: --backend, --balance, --nodes or --secret-key-per-node")
        with self._lock:
            state = self._state()
            return self._up(state.config, rolling=rolling, **changes)

    def deploy(self, release: str | None = None, keep_static: bool | None = None, **options) -> UpResult:
        """Roll out the site as its folder is now (its code read again, a new image when it changed):
        nodes replaced one at a time, each drained from nginx first, so no request is dropped.
        `release` labels the new version (a new label is a new image even when the code is the same);
        `options` are the project's options as its folder keeps them now ([tool.lab])."""
        with self._lock:
            state = self._state()
            changes = {key: value for key, value in (("release", release), ("keep_static", keep_static)) if value is not None}
            return self._up(state.config, rolling=True, **options, **changes)

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
        engine = self.engine_of(config)
        if not engine.warms_nodes:
            return
        count = requests_per_worker * config.workers
        # bash's /dev/tcp: no Python start per node; the kernel hands each connection to some worker.
        script = (
            f"for i in $(seq {count}); do for path in /{self.login_path()} /{WHOAMI}; do "
            "exec 3<>/dev/tcp/127.0.0.1/8000 && printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' \"$path\" >&3 "
            "&& cat <&3 >/dev/null; exec 3<&-; done; done"
        )
        in_parallel(lambda node: engine.exec_member(node.name, ["bash", "-c", script]), self.plan().nodes)

    def restart(self, part: str, timeout: int = 3) -> float:
        """Restart one of the lab's containers (`node-2`, `redis`, ...) and wait until it is ready again."""
        spec = {spec.name: spec for spec in self.plan().containers()}[f"{self.name}-{part}"]
        started = time.monotonic()
        engine = self.engine
        engine.restart_member(spec.name, timeout=timeout)
        engine.wait_for_member(spec.name, spec.check, timeout=60)
        return time.monotonic() - started

    def set_faults(self, faults: dict[str, dict]) -> None:
        """What the fault proxy does to each store now: {"redis": {"rtt_ms": 50, "kbps": 0, "cut": False}};
        a store not named passes untouched. Needs `lab up --fault-proxy`."""
        plan = self.plan()
        fronted = fronted_stores(plan.config, plan.site)
        if not fronted:
            raise ConfigError("this lab has no fault proxy: `lab up --fault-proxy` puts one between the nodes and the stores")
        unknown = sorted(set(faults) - set(fronted))
        if unknown:
            raise ConfigError(f"the fault proxy fronts {', '.join(fronted)}, not {', '.join(unknown)}")
        code, output = self.engine.exec_member(container_name(self.name, FAULTS), ["lab-faults-set", json.dumps(faults)])
        if code != 0:
            raise LabError(f"the fault proxy did not take the faults (exit {code}): {output[-300:]}")

    def _check_login_page(self, plan: Plan, state: LabState) -> None:
        """Readiness through nginx: the site's login page answers with a login form (found the first time)."""
        saved = self.states.load(self.name)
        facts = dict(saved.site_facts or {})
        try:
            path, source = site_facts.find_login_page(plan, facts)
        except site_facts.NoLoginForm as missing:
            if missing.failing:
                raise
            # An API, or a login elsewhere (OIDC, "log in with GitHub"): the site serves; what needs the demo
            # user's login (the matrix, experiments, the watch) says so when asked.
            self.progress(f"warning: {missing}; the nodes serve, but virtual users cannot log in until it is given")
            return
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
            facts.update(login_page=path, login_page_source=source, login_asks=login_asks(plan.url + path.lstrip("/")))
            self.states.save(saved.replace(site_facts=facts))
            self.progress(f"users log in at {path} ({source}): the demo user did, on {user.evidence.login_node}")

    def site(self) -> dict:
        """What Django said about the lab's site: login page and name, static URL, the lab's overrides."""
        facts = self._state().site_facts
        if not facts:
            raise LabNotFound(f"lab {self.name!r} has not been brought up yet; run `lab up`")
        return facts

    def url(self, config: LabConfig | None = None) -> str:
        """Where a browser reaches the lab: https when nginx terminates TLS for the site."""
        state = self.states.load(self.name)
        config = config or (state.config if state else LabConfig(name=self.name))
        https = config.https if config.https is not None else bool(((state and state.site_facts) or {}).get("https"))
        return config.url_for(https=https)

    def clients(self, direct: int = DIRECT_CLIENTS, nat_users: int = NAT_USERS) -> Clients:
        """The lab's client containers (made by `ensure`), on its engine's clients port, browsing as the demo user."""
        plan = self.plan()
        engine = self.engine_of(plan.config)
        ca = self.ca_path()
        return Clients(engine.clients(), plan, self.login(), self.login_path(), ca.read_text() if ca else None,
                       engine.client_network(plan), direct, nat_users)

    def apply_nginx_conf(self, plan: Plan) -> None:
        """Hand the lab's nginx a new configuration, tested before the reload (see lab.engines.reconcile)."""
        self.engine_of(plan.config).reload_nginx(plan, self.progress)

    def live_config_id(self, config: LabConfig, url: str | None = None) -> str | None:
        """The X-Lab-Config nginx is serving now (at `url`, default the lab's), or None when it does not answer."""
        return live_config_id(url or self.url(config))

    # -- inspect -----------------------------------------------------------------------------------

    def plan(self) -> Plan:
        """The plan the lab runs: its saved configuration, site and image tags (no folder is read, no image
        is built)."""
        state = self._state()
        tags = state.tags
        if state.site is None or tags is None:  # a state saved before the lab kept them: as it was then
            state = state.replace(site=self.project())
            tags = {key: spec.tag for key, spec in image_specs(state.config, state.site).items()}
        return self.build(state.config, state, tags, self.engine_of(state.config).nfs_client()[0])

    def project(self) -> Site:
        """The project folder as the lab's last `up` read it (read now for a state saved before it was kept)."""
        state = self._state()
        return state.site or read_site(state.config.site, state.config.site_choices)

    def _state(self) -> LabState:
        state = self.states.load(self.name)
        if state is None:
            raise LabNotFound(f"no lab named {self.name!r} on this machine; start one with `lab up`")
        return state

    def login(self) -> tuple[str, str]:
        """The demo user's login name (an email on a site that logs in by email) and password: what a person
        types in the login page's form (its email, where the form asks for one)."""
        state = self._state()
        facts = state.site_facts or {}
        name = facts.get("login_name", state.secrets.demo_user)
        return demo_email(name) if facts.get("login_asks") == "email" else name, state.secrets.demo_password

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
        """The lab's configuration, login, URL and each member's state, health and host."""
        state = self._state()
        plan = self.plan()
        engine = self.engine_of(state.config)
        checks = {spec.name: spec.check for spec in plan.containers()}
        members = engine.members(self.name)
        healths = in_parallel(lambda member: engine.member_health(member, checks.get(member.name)), members)
        containers = [
            {"name": m.name, "role": m.role, "state": m.state, "health": health, "image": m.image, "host": m.host}
            for m, health in zip(members, healths)
        ]
        config = state.config
        url = self.url(config)
        ca = self.ca_path()
        site = plan.site
        return {
            "name": config.name,
            "url": url,
            "ca": str(ca) if ca else None,
            "username": self.login()[0],
            "login_url": url + self.login_path(),
            "login_found": bool((state.site_facts or {}).get("login_page")),
            "site": config.site,
            # A project moved or removed since the last `up`: the lab runs what was built from it all the same.
            "site_note": "" if Path(site.folder).is_dir() else
            f"project folder {site.folder} is gone (moved?); the lab still runs what was built from it",
            "password": state.secrets.demo_password,
            "backend": config.backend,
            "balance": config.balance,
            "nodes": config.nodes,
            "workers": config.workers,
            "secret_key_per_node": config.secret_key_per_node,
            "django_version": (state.site_facts or {}).get("django") or config.django_for(site),
            "python": site.interpreter.interpreter.version,
            "engine": config.engine,
            "engine_summary": engine.summary,
            "several_hosts": engine.several_hosts,
            "nfs_client": engine.nfs_client()[0] if config.backend == "nfs" else None,
            "running": bool(containers) and all(c["health"] in ("healthy", "running") for c in containers),
            "containers": containers,
        }

    def logs(self, target: str, tail: int = 100) -> str:
        """The log of one of the lab's members: `nginx`, `node-2`, `redis` or a full name."""
        name = target if target.startswith(f"{self.name}-") else f"{self.name}-{target}"
        engine = self.engine
        known = [member.name for member in engine.members(self.name)]
        if name not in known:
            short = ", ".join(n.removeprefix(f"{self.name}-") for n in known) or "none: the lab is not running"
            raise ConfigError(f"lab {self.name!r} has no container {target!r}; its containers: {short}")
        return engine.member_logs(self.name, name, tail=tail)

    # -- beyond one machine ------------------------------------------------------------------------

    def export_compose(self, directory, registry: str | None = None, hosts: list[str] | None = None, **changes):
        """Write the lab's plan (with `changes`, e.g. another backend or port) as a compose file for
        `docker stack deploy`, pushing its images to `registry` first; return the file's path and the plan."""
        state = self._state()
        if not state.site_facts:
            raise LabNotFound(f"lab {self.name!r} has not been brought up yet; run `lab up` once first")
        config = state.config.replace(**changes)
        if config.site != state.config.site:
            raise ConfigError("an export runs the lab's own site; bring the lab up with --site first")
        site = self.project()
        tags = site_images(self.engine_of(config), config, image_keys(config, site), self.progress, site)
        plan = build_plan(config, state.secrets, tags, facts=state.site_facts, site=site)
        path, hosts = write_stack(self._connection, plan, registry, Path(directory), self.progress, hosts)
        spread = f" over {', '.join(hosts)}" if hosts else ""
        self.progress(f"wrote {path}: {len(plan.nodes)} nodes{spread}, backend {config.backend}, balance {config.balance}")
        return path, plan

    def export_kubernetes(self, directory, options: KubernetesOptions) -> KubernetesExport:
        """Write the site as the lab last ran it (its saved plan) as Kubernetes manifests under `directory`: the
        lab's backend and one overlay per backend a cluster can share; push the images first with a registry."""
        state = self._state()
        if not state.site_facts:
            raise LabNotFound(f"lab {self.name!r} has not been brought up yet; run `lab up` once first")
        config = state.config.replace(fault_proxy=False)  # the fault proxy is the lab's tool, not the site's
        site = self.project()
        client = self.engine_of(state.config).nfs_client()[0]
        lab_state = state.replace(site=site)

        def planned(changed: LabConfig) -> Plan:
            tags = {**{key: spec.tag for key, spec in image_specs(changed, site).items()}, **(state.tags or {})}
            return self.build(changed, lab_state, tags, client)

        plan = planned(config)
        overlays = {folder: planned(config.replace(backend=backend)) for folder, backend in OVERLAYS.items()}
        export = kubernetes_export(plan, overlays, options)
        if options.registry:
            engine = self.engine_of(config)
            for tag in exported_images(plan, options.external):
                engine.push_image(tag, options.registry)
                self.progress(f"pushed {tag} to {options.registry}")
        export.write(Path(directory))
        self.progress(f"wrote {directory}: {len(plan.nodes)} web pods, overlays {', '.join(overlays)}")
        return export

    def export_site_compose(self, directory) -> Path:
        """Write the site as the lab last ran it (its saved plan) as a compose file for docker-compose on one
        machine; return the file's path."""
        if not self._state().site_facts:
            raise LabNotFound(f"lab {self.name!r} has not been brought up yet; run `lab up` once first")
        path = site_compose_file(self.plan()).write(Path(directory))
        self.progress(f"wrote {path}: the site as lab {self.name} runs it")
        return path

    # -- take down ---------------------------------------------------------------------------------

    def down(self, keep_data: bool = False) -> dict[str, int]:
        """Remove everything labelled as this lab's (volumes and saved state too, unless `keep_data`).

        Works from the labels alone, so a lab whose state file is lost or unreadable still comes down.
        """
        with self._lock:
            removed = self._remove_everywhere(keep_data)
            forgot = False if keep_data else self.states.delete(self.name)
        removed["state"] = int(forgot)
        return removed

    def _remove_everywhere(self, keep_volumes: bool = False) -> dict[str, int]:
        """What every kind of engine holds of this lab, by its labels alone (the lab's kind may be forgotten)."""
        removed = {"containers": 0, "networks": 0, "volumes": 0}
        for engine in every_engine(self._connection):
            for key, count in engine.remove_lab(self.name, keep_volumes=keep_volumes).items():
                removed[key] += count
        return removed


def login_asks(url: str) -> str:
    """What the login page's form asks for who logs in: "email" or "name" ("" when it cannot be read)."""
    status, _, body = fetch_full(url, timeout=10.0)
    form = find_login_form(body.decode(errors="replace")) if status == 200 else None
    identity = form.identity if form is not None else None
    return identity[1] if identity else ""
