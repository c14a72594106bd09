"""The plan: every container, volume and network a lab should have, as plain data.

Built from a LabConfig, the Site it was read into (lab.model.site), the lab's secrets and the image tags; no
Docker and no project folder here, so it is unit-tested
directly. The engine compares a plan with what runs and changes only the difference: each container
carries a fingerprint of its spec, and a container whose fingerprint changed is recreated.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Mapping, Sequence
from urllib.parse import quote

from lab.model.backends import BACKENDS, NODE_DATA_DIR, SHARED_SESSIONS_DIR
from lab.model.backends.nfs import NFS_SESSIONS_DIR
from lab.model.balance import BALANCE_MODES, SESSION_COOKIE
from lab.model.checks import Check, ExecCheck, HttpCheck, NodeCheck
from lab.model.config import LabConfig
from lab.model.nginx_conf import CONF_PATH, TLS_DIR, Frontend, config_id, render
from lab.model.security import profile
from lab.model.site import RUN_SCHEDULER, Site
from lab.model.stores import (APP_DATABASE, DB_NAME, DB_USER, POOLERS, POSTGRES_MAX_CONNECTIONS, STORES, database_settings,
                              pool_size, store_command)

LABEL = "django-lab"
LAB_LABEL = f"{LABEL}.lab"
ROLE_LABEL = f"{LABEL}.role"
NODE_LABEL = f"{LABEL}.node"
SPEC_LABEL = f"{LABEL}.spec"
NODE_PORT = 8000
HEALTH = "__lab__/health"  # a node's health check (lab_node.middleware), under the lab's reserved prefix
# What the lab decides for a node (settings, keys, commands), as a file the node reads at each start.
NODE_CONFIG_PATH = "/etc/lab/node.json"
# Where the site's static files are collected (once per lab), which nginx serves at STATIC_URL.
STATIC_ROOT = "/srv/static"


def limits(profile_name: str, extra_memory_mb: int = 0) -> dict:
    """ContainerSpec fields from a security profile: its capabilities, memory and process limits."""
    chosen = profile(profile_name)
    return {"cap_add": chosen.capabilities, "memory_mb": chosen.memory_mb + extra_memory_mb, "pids_limit": chosen.pids}


def job_limits(config: LabConfig) -> dict:
    """A one-off job's limits (the release, the site's facts): the job profile's memory, never less than a node's."""
    chosen = limits("job")
    return {**chosen, "memory_mb": max(chosen["memory_mb"], config.node_memory)}


def labels(lab: str, role: str, **extra: str) -> dict[str, str]:
    """The labels that mark a resource as this lab's; `lab down` removes by them."""
    return {LAB_LABEL: lab, ROLE_LABEL: role, **{f"{LABEL}.{key}": value for key, value in extra.items()}}


@dataclass(frozen=True)
class Secrets:
    """What a lab keeps private and stable across `up`s: Django's keys and the demo login."""

    secret_key: str
    node_secret_keys: tuple[str, ...]
    demo_user: str
    demo_password: str
    secret_key_fallbacks: tuple[str, ...] = ()  # earlier keys, still accepted after a rotation
    db_password: str = ""  # PostgreSQL's password for the lab's user
    redis_password: str = ""

    def store_passwords(self) -> dict[str, str]:
        """The lab's password per store that takes one."""
        return {"postgres": self.db_password, "pgbouncer": self.db_password, "redis": self.redis_password}


@dataclass(frozen=True)
class Mount:
    volume: str
    target: str


@dataclass(frozen=True)
class ContainerSpec:
    """One container as it should be. `files` are written before first start and never force a
    recreation (nginx.conf changes by reload)."""

    name: str
    role: str
    image: str
    labels: Mapping[str, str]
    env: Mapping[str, str] = field(default_factory=dict)
    command: tuple[str, ...] | None = None
    mounts: tuple[Mount, ...] = ()
    ports: Mapping[int, tuple[str, int]] = field(default_factory=dict)
    check: Check | None = None
    stop_timeout: int = 5
    files: Mapping[str, str] = field(default_factory=dict)
    # Only what a container needs (lab.security); every capability else is dropped, nothing is privileged.
    cap_add: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()
    security_opt: tuple[str, ...] = ()
    memory_mb: int = 256
    pids_limit: int = 128
    user: str | None = None  # None: the image's own user
    # When only `files` changed: write them again and send this signal (the process reloads them)
    # instead of recreating the container. None: files are written before the first start only.
    reload_signal: str | None = None
    # Other names it answers to on the lab's network (a store by its name in the project's compose file).
    aliases: tuple[str, ...] = ()

    def fingerprint(self) -> str:
        """A hash of everything that needs a new container when it changes."""
        identity = [
            self.image,
            sorted(self.labels.items()),
            sorted(self.env.items()),
            self.command,
            [(m.volume, m.target) for m in self.mounts],
            sorted((port, list(bind)) for port, bind in self.ports.items()),
            [list(self.cap_add), list(self.devices), list(self.security_opt)],
            [self.memory_mb, self.pids_limit, self.user],
        ]
        if self.aliases:  # only then: a container without any keeps the fingerprint it had
            identity.append(list(self.aliases))
        return hashlib.sha256(json.dumps(identity).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class VolumeSpec:
    name: str
    labels: Mapping[str, str]
    driver_opts: Mapping[str, str] = field(default_factory=dict)  # e.g. an NFS mount for the kernel client


@dataclass(frozen=True)
class Plan:
    """Everything one lab should be, in the order it is brought up."""

    config: LabConfig
    network: str
    network_labels: Mapping[str, str]
    volumes: tuple[VolumeSpec, ...]
    stores: tuple[ContainerSpec, ...]
    prepare: ContainerSpec
    nodes: tuple[ContainerSpec, ...]
    nginx: ContainerSpec
    nginx_conf: str
    nginx_config_id: str
    frontend: Frontend | None = None  # what nginx's configuration was rendered for (to drain a node)
    scheduler: ContainerSpec | None = None  # the one machine that runs the site's scheduled jobs (--scheduler)
    workers: tuple[ContainerSpec, ...] = ()  # machines that run the project's worker process (--worker-machines)
    client_image: str = ""  # the lab's node image without the site: clients need Python, not the site
    url: str = ""  # where a browser reaches nginx: https when nginx terminates TLS
    site: Site | None = None  # what the project folder said when the plan's images were built

    @property
    def nginx_url(self) -> str:
        """nginx's URL on the lab's networks, as the client containers reach it."""
        return f"{self.url.split(':', 1)[0]}://{self.nginx.name}/"

    def drained(self, node: str) -> "Plan":
        """This plan with nginx sending no new request to `node` (a rolling deploy replaces it)."""
        conf, conf_id = nginx_configuration(self.config, self.nodes, self.frontend, drained=(node,))
        return dataclasses.replace(self, nginx_conf=conf, nginx_config_id=conf_id)

    def containers(self) -> tuple[ContainerSpec, ...]:
        """The long-running containers (not the one-off prepare job)."""
        return (*self.stores, *self.nodes, *self.members(), self.nginx)

    def members(self) -> tuple[ContainerSpec, ...]:
        """The machines beside the nodes that run the site without taking traffic: workers, the scheduler."""
        return (*self.workers, *((self.scheduler,) if self.scheduler else ()))

    @property
    def release_commands(self) -> list[str]:
        """The project's own release steps the prepare job runs once per lab."""
        return json.loads(self.prepare.files[NODE_CONFIG_PATH]).get("release_commands", [])


def nginx_configuration(
    config: LabConfig, nodes: Sequence[ContainerSpec], frontend: Frontend | None, drained: Sequence[str] = ()
) -> tuple[str, str]:
    """nginx.conf balancing `nodes` as `config` says, and its id; `drained` nodes take no new request."""
    mode = BALANCE_MODES[config.balance]
    servers = [f"{node.name}:{NODE_PORT}" for node in nodes]
    down = [f"{name}:{NODE_PORT}" for name in drained]
    return render(servers, mode, frontend, static_root=STATIC_ROOT, drained=down), config_id(servers, mode, frontend, down)


def container_name(lab: str, part: str) -> str:
    """`<lab>-nginx`, `<lab>-node-2`, `<lab>-redis`: also the host name on the lab network."""
    return f"{lab}-{part}"


def version_of(site_image: str) -> str:
    """The site's version as every answer names it (X-Lab-Version): its image's tag."""
    return site_image.rsplit(":", 1)[-1]


def redis_credentials(password: str) -> str:
    """The part of a Redis URL before its host: the lab's password, or nothing when Redis takes none."""
    return f":{quote(password, safe='')}@" if password else ""


def channel_layers(layer: str, hosts: Mapping[str, str], passwords: Mapping[str, str]) -> dict:
    """CHANNEL_LAYERS for the layer under test: one per process, or channels_redis on the lab's Redis
    (database 2: apart from the sessions and the site's own data)."""
    if layer == "memory":
        return {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    location = f"redis://{redis_credentials(passwords['redis'])}{hosts['redis']}:6379/2"
    return {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [location]}}}


def node_name(lab: str, index: int) -> str:
    return container_name(lab, f"node-{index}")


def store_names(config: LabConfig, site: Site | None = None) -> tuple[str, ...]:
    """The app database first, then the stores the session backend needs, then those the site's own
    settings read (REDIS_URL), which stay whatever the backend. Without the site: the stores the
    configuration alone asks for (enough to tell whether NFS is among them)."""
    needed = [APP_DATABASE, *((config.pooler,) if config.pooler else ()), *BACKENDS[config.backend].stores,
              *(("redis",) if config.channel_layer == "redis" else ()),
              *(site.stores if site else ()), *(("nfs",) if config.shared_media else ())]
    return tuple(dict.fromkeys(needed))


def needs_release_image(site: Site) -> bool:
    """The release job runs in the release image when the project has release steps of its own, or a front end:
    collectstatic may call its Node.js tools (django-pipeline's terser, django-compressor's filters)."""
    return any(step.action in ("run", "build-js") for step in site.release_steps)


def image_keys(config: LabConfig, site: Site) -> tuple[str, ...]:
    """Image keys this configuration runs."""
    release = ("release",) if needs_release_image(site) else ()
    return ("site", *release, "nginx", *(STORES[name].image for name in store_names(config, site)),
            *(("faults",) if config.fault_proxy else ()))


FAULTS = "faults"  # the fault proxy: its container's part of the name, its security profile, its image


def fronted_stores(config: LabConfig, site: Site) -> tuple[str, ...]:
    """The stores the nodes reach through the fault proxy: every one they talk to over TCP but NFS
    (which the nodes mount)."""
    return tuple(name for name in store_names(config, site) if name != "nfs") if config.fault_proxy else ()


@dataclass(frozen=True)
class SiteContext:
    """What every node's config tells the site besides settings: the environment a site configured from
    it reads, the hosts and origins the lab is reached by, and why each setting is overridden."""

    environment: Mapping[str, str] = field(default_factory=dict)
    hosts: tuple[str, ...] = ()
    origins: tuple[str, ...] = ()
    reasons: Mapping[str, str] = field(default_factory=dict)
    own_environment: Mapping[str, str] = field(default_factory=dict)  # the site's --env, --env-file
    https: bool | str = False  # "auto": the site's settings decide (the first job, before facts are known)
    static_root: str = STATIC_ROOT  # where this version's static files are collected: a folder per version


def node_config(
    settings: dict,
    secret_key: str,
    fallbacks: tuple[str, ...] = (),
    commands: tuple[tuple[str, ...], ...] = (),
    demo: tuple[str, str] | None = None,
    site: SiteContext | None = None,
    release_commands: tuple[str, ...] = (),
    release_sources: tuple[str, ...] = (),
) -> str:
    """The node's config file (lab_node.settings reads it): Django settings, keys, start-up commands."""
    site = site or SiteContext()
    environment = {**site.environment, "DJANGO_SECRET_KEY": secret_key, "SECRET_KEY": secret_key}
    content = {
        "settings": settings,
        "secret_key": secret_key,
        "secret_key_fallbacks": list(fallbacks),
        "commands": [list(command) for command in commands],
        # The lab's own variables win over the site's (--env): they point at the lab's database, Redis
        # and hosts, which several nodes must share (an env file's REDIS_URL=redis://redis/ would not).
        "environment": {**site.own_environment, **environment},
        "hosts": list(site.hosts),
        "origins": list(site.origins),
        "reasons": dict(site.reasons),
        "static_root": site.static_root,
        "https": site.https,
    }
    if demo:
        content["demo_user"], content["demo_password"] = demo
    if release_commands:
        content["release_commands"] = list(release_commands)
        content["release_sources"] = list(release_sources)  # where each was found, for its failure's message
    return json.dumps(content, sort_keys=True)


def node_config_id(config_file: str) -> str:
    """The id a node answers with (X-Lab-Config-Id) once it runs `config_file`."""
    return hashlib.sha256(config_file.encode()).hexdigest()[:12]


def nfs_volume_options(address: str) -> dict[str, str]:
    """A local volume the host kernel mounts over NFSv4.1; `soft` so an outage fails instead of hanging."""
    return {
        "type": "nfs",
        "o": f"addr={address},vers=4.1,port=2049,soft,timeo=30,retrans=2",
        "device": ":/export",
    }


# Variables the lab sets for every site (a site configured from its environment finds the lab's there).
DATABASE_PART_NAMES = {"POSTGRES_": {"NAME": "DB"}, "DB_": {}, "DATABASE_": {}, "DJANGO_DATABASE_": {}}
SHARED_MEDIA_ROOT = f"{NFS_SESSIONS_DIR}/media"  # on the export every node mounts for --shared-media
REDIS_DATABASES = {"CELERY_BROKER_URL": 2, "BROKER_URL": 2, "RQ_REDIS_URL": 2, "CELERY_RESULT_BACKEND": 3}
LAB_ENVIRONMENT = ("DATABASE_URL", "REDIS_URL", *REDIS_DATABASES, "DJANGO_SECRET_KEY", "SECRET_KEY", "DJANGO_ALLOWED_HOSTS",
                   "ALLOWED_HOSTS", "DJANGO_DEBUG", "DEBUG",
                   *(f"{prefix}{names.get(part, part)}" for prefix, names in DATABASE_PART_NAMES.items()
                     for part in ("HOST", "PORT", "NAME", "USER", "PASSWORD")))


def site_context(
    config: LabConfig, site: Site, hosts: Mapping[str, str], passwords: Mapping[str, str], https: bool | str = False
) -> SiteContext:
    """The environment, hosts and reasons every node's config carries for the site."""
    database = hosts[APP_DATABASE]
    environment = {
        "DATABASE_URL": f"postgres://{DB_USER}:{quote(passwords['postgres'], safe='')}@{database}:5432/{DB_NAME}",
        # Off, as the site's settings read a flag (lab.project.required_env.off_value: "False", or "0" for int());
        # the user's own --env DEBUG=... wins here, unlike the database's and Redis's addresses.
        "DJANGO_DEBUG": dict(config.env).get("DJANGO_DEBUG", site.debug_off),
        "DEBUG": dict(config.env).get("DEBUG", site.debug_off),
    }
    # The same database by its parts, under the names settings commonly read (cookiecutter-django and
    # wemake's POSTGRES_*, tutorials' DB_*): a site that reads them finds the lab's database.
    for prefix, names in DATABASE_PART_NAMES.items():
        parts = {"HOST": database, "PORT": "5432", "NAME": DB_NAME, "USER": DB_USER, "PASSWORD": passwords["postgres"]}
        environment.update({f"{prefix}{names.get(part, part)}": value for part, value in parts.items()})
    if config.shared_media:  # on the NFS export every node mounts (sessions, when nfs is the backend, at its root)
        environment["MEDIA_ROOT"] = SHARED_MEDIA_ROOT
    if "redis" in hosts:  # database 1: the site's own data apart from the lab's sessions (database 0)
        redis = f"redis://{redis_credentials(passwords['redis'])}{hosts['redis']}:6379"
        environment["REDIS_URL"] = f"{redis}/1"
        # A task queue's broker (database 2) and results (3) on the same Redis, where the settings read them.
        for variable in site.redis_variables:
            database = REDIS_DATABASES.get(variable)
            if database is not None:
                environment[variable] = f"{redis}/{database}"
    nginx = container_name(config.name, "nginx")
    names = ["*"] if config.host == "0.0.0.0" else list(dict.fromkeys([config.host, "127.0.0.1", "localhost"]))
    lab_hosts = tuple(dict.fromkeys([*names, nginx]))
    environment["DJANGO_ALLOWED_HOSTS"] = environment["ALLOWED_HOSTS"] = ",".join(lab_hosts)
    schemes = ["https", "http"] if https else ["http"]
    origins = tuple(
        dict.fromkeys(
            [f"{scheme}://{host}:{config.port}" for scheme in schemes for host in names if host != "*"]
            + [f"{scheme}://{nginx}" for scheme in schemes]
        )
    )
    backend = f"the session backend under test ({config.backend})"
    reasons = {
        "DATABASES": "several nodes need one shared database: the lab's PostgreSQL"
        + (f", through {config.pooler} (--pooler: transaction pooling, so no server-side cursors)" if config.pooler else ""),
        "SESSION_ENGINE": backend,
        "SESSION_CACHE_ALIAS": backend,
        "SESSION_FILE_PATH": backend,
        "CACHES": f"{backend}, on the lab's own alias",
        "CHANNEL_LAYERS": f"the channel layer under test ({config.channel_layer})",
    }
    return SiteContext(environment, lab_hosts, origins, reasons, config.site_environment(site), https)


def facts_job(plan: "Plan") -> ContainerSpec:
    """A one-off container that asks Django about the site (lab_node.site_facts), configured as node-1."""
    node = plan.nodes[0]
    return dataclasses.replace(
        node,
        name=container_name(plan.config.name, "facts"),
        role="job",
        labels=labels(plan.config.name, "job"),
        # Static files are collected here, before any node starts (see lab_node.site_facts), in the release
        # job's image when there is one: a front end's tools (Node.js) may be what collectstatic calls.
        image=plan.prepare.image,
        command=("python", "-m", "lab_node.site_facts", "--collect"),
        env={**node.env, "LAB_NODE": "facts"},
        mounts=plan.prepare.mounts,
        check=None,
        reload_signal=None,
        devices=(),
        user=None,
        **job_limits(plan.config),
    )


class _Planner:
    """The parts of one plan, each built from what the lab knows: the config, what the site's folder said,
    its secrets and images, what Django said about the site (facts), nginx's certificate."""

    def __init__(self, config, site, secrets, tags, facts, tls, static_kept=()):
        self.config, self.project, self.secrets, self.tags, self.facts, self.tls = config, site, secrets, tags, facts, tls
        self.static_kept = tuple(static_kept)
        self.lab = config.name
        self.network = container_name(self.lab, "net")
        self.volumes: list[VolumeSpec] = []
        self.passwords = secrets.store_passwords()
        if site.store_aliases.get("redis"):
            # Settings written for the project's compose file reach its `redis` without a password: the lab's Redis
            # takes none then (it is on the lab's network only), and the lab's own clients send none.
            self.passwords = {**self.passwords, "redis": ""}
        self.hosts = {name: container_name(self.lab, name) for name in store_names(config, site)}
        self.database = database_settings(self.hosts[APP_DATABASE], secrets.db_password)
        # What the nodes reach: every store through the fault proxy when there is one (same ports).
        fronted = fronted_stores(config, site)
        self.node_hosts = {name: container_name(self.lab, FAULTS) if name in fronted else host for name, host in self.hosts.items()}
        # The nodes reach the database through the pooler when there is one; the release job goes direct.
        pooler = config.pooler
        self.node_database = database_settings(
            self.node_hosts[pooler if pooler else APP_DATABASE], secrets.db_password, pooler
        )
        self.site_env = {"LAB_SITE_SETTINGS": site.settings}
        https = config.https if config.https is not None else facts.get("https", "auto")
        self.version = version_of(tags["site"])
        self.site = dataclasses.replace(
            site_context(config, site, self.node_hosts, self.passwords, https), static_root=f"{STATIC_ROOT}/{self.version}"
        )
        # The project's .env files, where it reads them: handed in at start, never built into an image.
        self.dotenv = {f"/srv/site/{path}": text for path, text in site.env_files.items()}

    def volume(self, part: str, role: str = "data", driver_opts: Mapping[str, str] | None = None) -> str:
        name = container_name(self.lab, part)
        self.volumes.append(VolumeSpec(name, labels(self.lab, role), dict(driver_opts or {})))
        return name

    def stores(self) -> list[ContainerSpec]:
        config, specs = self.config, []
        for store_name in store_names(config, self.project):
            store = STORES[store_name]
            mounts = (Mount(self.volume(f"{store_name}-data"), store.data_dir),) if store.data_dir else ()
            cache_mb = config.memcached_mb if store_name == "memcached" else 0
            env = {store.password_env: self.passwords[store_name]} if store.password_env else {}
            aliases = self.project.store_aliases.get(store_name, ())
            if aliases and store_name == "redis":
                env["LAB_REDIS_OPEN"] = "1"  # no password (see __init__): the settings' `redis:6379` connects
            if store_name in POOLERS:
                max_connections = config.max_connections or POSTGRES_MAX_CONNECTIONS
                env.update(LAB_DB_HOST=self.hosts[APP_DATABASE], LAB_POOL_SIZE=str(pool_size(max_connections)))
            specs.append(
                ContainerSpec(
                    name=container_name(self.lab, store_name),
                    role="store",
                    image=self.tags[store.image],
                    labels=labels(self.lab, "store", store=store_name),
                    command=store_command(store, config.redis_aof, config.memcached_mb, config.memcached_growth_factor,
                                          config.max_connections),
                    env=env,
                    mounts=mounts,
                    check=store.check,
                    security_opt=store.security_opt,
                    aliases=aliases,
                    **limits(store_name, extra_memory_mb=cache_mb),
                )
            )
        return specs

    def faults(self) -> ContainerSpec:
        """The fault proxy: a route per fronted store, on that store's own port, to the store."""
        routes = [f"{name}={STORES[name].port}:{self.hosts[name]}:{STORES[name].port}" for name in fronted_stores(self.config, self.project)]
        ports = " ".join(f"exec {3 + i}<>/dev/tcp/127.0.0.1/{STORES[name].port} &&"
                         for i, name in enumerate(fronted_stores(self.config, self.project)))
        return ContainerSpec(
            name=container_name(self.lab, FAULTS),
            role="store",  # beside the stores it fronts: brought up and removed with them
            image=self.tags[FAULTS],
            labels=labels(self.lab, "store", store=FAULTS),
            command=("lab-faults", *routes),
            check=ExecCheck(("bash", "-c", f"{ports} true")),
            stop_timeout=2,
            **limits(FAULTS),
        )

    def prepare(self, static: tuple[Mount, ...]) -> ContainerSpec:
        """The one-off job that migrates, runs the project's release steps and sets the demo user."""
        release = [step for step in self.project.release_steps if step.action == "run"]
        config_file = node_config(
            self.database,
            self.secrets.secret_key,
            demo=(self.facts.get("login_name", self.secrets.demo_user), self.secrets.demo_password),
            site=self.site,
            release_commands=tuple(step.command for step in release),
            release_sources=tuple(step.where for step in release),
        )
        return ContainerSpec(
            name=container_name(self.lab, "prepare"),
            role="job",
            # The project's own release steps run where gettext, Node.js and --build-package are (the release image).
            image=self.tags["release"] if needs_release_image(self.project) and "release" in self.tags else self.tags["site"],
            labels=labels(self.lab, "job"),
            env={**self.site_env, "LAB_NODE": "prepare"},
            command=("django-admin", "lab_prepare"),
            mounts=static,
            files={NODE_CONFIG_PATH: config_file, **self.dotenv},
            **job_limits(self.config),
        )

    def nodes(self, static: tuple[Mount, ...], nfs_client: str, nfs_address: str | None) -> list[ContainerSpec]:
        config, secrets = self.config, self.secrets
        backend = BACKENDS[config.backend]
        backend_settings = backend.settings(self.node_hosts, self.passwords)
        node_settings = {**self.node_database, **backend_settings}
        if "DATABASES" in backend_settings:  # a backend adds databases; the shared one stays "default"
            node_settings["DATABASES"] = {**self.node_database["DATABASES"], **backend_settings["DATABASES"]}
        if config.channel_layer:
            node_settings["CHANNEL_LAYERS"] = channel_layers(config.channel_layer, self.node_hosts, self.passwords)
        # Every node mounts the shared folder, whatever the backend: then a switch to or from shared_file
        # changes only the node's config file, not its container.
        shared = self.volume("shared-sessions")
        extras = backend.node_extras(self.hosts, nfs_client)
        if config.shared_media and "nfs" not in backend.stores:
            extras = BACKENDS["nfs"].node_extras(self.hosts, nfs_client)  # the export, for the site's media
        nfs_volume = None
        if extras.nfs_mount_at and nfs_address:
            # Named after the address, so a server that moved gets a new volume (and new nodes).
            tag = hashlib.sha256(nfs_address.encode()).hexdigest()[:6]
            nfs_volume = self.volume(f"nfs-mount-{tag}", driver_opts=nfs_volume_options(nfs_address))
        specs = []
        for index in range(1, config.nodes + 1):
            mounts = [Mount(self.volume(f"node-{index}-data"), NODE_DATA_DIR), *static, Mount(shared, SHARED_SESSIONS_DIR)]
            if nfs_volume:
                mounts.append(Mount(nfs_volume, extras.nfs_mount_at))
            env = {**self.site_env, "LAB_NODE": f"node-{index}", "LAB_WORKERS": str(config.workers),
                   "LAB_VERSION": version_of(self.tags["site"]), **extras.env}
            if self.facts.get("asgi_application"):  # ASGI workers (uvicorn's), for its WebSockets
                env["LAB_ASGI"] = "1"
            secret_key = secrets.node_secret_keys[index - 1] if config.secret_key_per_node else secrets.secret_key
            config_file = node_config(
                node_settings, secret_key, secrets.secret_key_fallbacks, backend.node_commands, site=self.site
            )
            if self.dotenv:  # a changed .env reaches running nodes by reload, like a changed configuration
                digest = hashlib.sha256(json.dumps(self.dotenv, sort_keys=True).encode()).hexdigest()[:12]
                config_file = config_file[:-1] + f', "env_files": "{digest}"}}'
            specs.append(
                ContainerSpec(
                    name=node_name(self.lab, index),
                    role="node",
                    image=self.tags["site"],
                    labels=labels(self.lab, "node", node=str(index)),
                    env=env,
                    mounts=tuple(mounts),
                    # Healthy, and running this very configuration (the node answers with its id).
                    check=NodeCheck(
                        network=self.network,
                        port=NODE_PORT,
                        config_id=node_config_id(config_file),
                        fallback=ExecCheck(("lab-health", node_config_id(config_file))),
                    ),
                    stop_timeout=3,
                    files={NODE_CONFIG_PATH: config_file, **self.dotenv},
                    reload_signal="HUP",
                    devices=extras.devices,
                    user=extras.user,
                    **{**limits(extras.role), "memory_mb": config.node_memory + 64 * max(0, config.workers - 2)},
                )
            )
        return specs

    def scheduler(self, node: ContainerSpec) -> ContainerSpec:
        """The scheduler machine: node-1's image and settings, no traffic, DJANGO_RUN_SCHEDULER=1, running
        the site's scheduler (lab_node's lab_scheduler)."""
        content = json.loads(node.files[NODE_CONFIG_PATH])
        content["environment"][RUN_SCHEDULER] = "1"
        content["scheduler_command"] = self.config.scheduler_run(self.project)[0]
        config_file = json.dumps(content, sort_keys=True)
        in_process = not content["scheduler_command"]
        return dataclasses.replace(
            node,
            name=container_name(self.lab, "scheduler"),
            role="scheduler",
            labels=labels(self.lab, "scheduler"),
            command=("django-admin", "lab_scheduler"),
            # Its files never reload it: their digest is in its spec, so a change recreates it.
            env={**node.env, "LAB_NODE": "scheduler", "LAB_CONFIG_DIGEST": node_config_id(config_file)},
            mounts=tuple(m for m in node.mounts if m.target in (STATIC_ROOT, SHARED_SESSIONS_DIR)),
            files={**node.files, NODE_CONFIG_PATH: config_file},
            # In process, it answers the lab's probe on port 8000; a command of the site's is ready once it runs.
            check=ExecCheck(("bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8000") if in_process else ("true",)),
            reload_signal=None,
            devices=(),
            user=None,
            **limits("job"),
        )

    def workers(self, node: ContainerSpec) -> list[ContainerSpec]:
        """The worker machines: node-1's image and settings, no traffic, each running the project's worker
        process type (its command as the project declares it, lab_node's lab_member)."""
        command, where = self.project.worker_run or ("", "")
        content = json.loads(node.files[NODE_CONFIG_PATH])
        content["member_command"] = command
        config_file = json.dumps(content, sort_keys=True)
        return [
            dataclasses.replace(
                node,
                name=container_name(self.lab, f"worker-{index}"),
                role="worker",
                labels=labels(self.lab, "worker", process=where.rsplit("(", 1)[-1].rstrip(")") or "worker"),
                command=("django-admin", "lab_member"),
                # Its files never reload it: their digest is in its spec, so a change recreates it.
                env={**node.env, "LAB_NODE": f"worker-{index}", "LAB_CONFIG_DIGEST": node_config_id(config_file)},
                mounts=tuple(m for m in node.mounts if m.target in (STATIC_ROOT, SHARED_SESSIONS_DIR)),
                files={**node.files, NODE_CONFIG_PATH: config_file},
                # A worker takes no request: ready once it still runs a few seconds after its start (one that
                # cannot import the site or reach its broker's host exits by then, and its log says why).
                check=ExecCheck(("sleep", "3")),
                reload_signal=None,
                devices=(),
                user=None,
                **limits("node"),
            )
            for index in range(1, self.config.worker_count(self.project) + 1)
        ]

    def frontend(self) -> Frontend:
        cookie = self.facts.get("session_cookie") or SESSION_COOKIE
        return Frontend(self.facts.get("static_url"), tls=self.tls is not None, session_cookie=cookie,
                        websockets=bool(self.facts.get("asgi_application")),
                        static_versions=tuple(dict.fromkeys([self.version, *self.static_kept])))

    def nginx(
        self, nodes: list[ContainerSpec], static: tuple[Mount, ...], frontend: Frontend
    ) -> tuple[ContainerSpec, str, str]:
        """nginx's container, its configuration and that configuration's id."""
        config = self.config
        nginx_conf, nginx_config_id = nginx_configuration(config, nodes, frontend)
        url = config.url_for(https=frontend.tls)
        tls_files = {f"{TLS_DIR}/cert.pem": self.tls[0], f"{TLS_DIR}/key.pem": self.tls[1]} if self.tls else {}
        spec = ContainerSpec(
            name=container_name(self.lab, "nginx"),
            role="nginx",
            image=self.tags["nginx"],
            labels=labels(self.lab, "nginx"),
            ports={frontend.port: (config.host, config.port)},
            mounts=static,
            check=HttpCheck(f"{url}nginx-health"),
            stop_timeout=3,
            files={CONF_PATH: nginx_conf, **tls_files},
            **limits("nginx"),
        )
        return spec, nginx_conf, nginx_config_id


def build_plan(
    config: LabConfig,
    secrets: Secrets,
    tags: Mapping[str, str],
    nfs_client: str = "fuse",
    nfs_address: str | None = None,
    facts: Mapping | None = None,
    tls: tuple[str, str] | None = None,
    static_kept: tuple[str, ...] = (),
    site: Site | None = None,
) -> Plan:
    """Describe the lab for `config`; `tags` maps image keys to built image tags.

    With the kernel NFS client the nodes mount a volume that names the server's address, which
    is known only once the server runs: plan once without it, then again with it. `facts` are what
    Django said about the site (lab_node.site_facts): the demo user's login name, STATIC_URL, whether
    it needs https. `tls` is nginx's certificate and key (PEM) when it terminates https. `static_kept`: the
    earlier versions whose static files nginx still serves (--keep-static). `site` is what the project folder
    said (lab.project.read); without it, a site that declares nothing, on the configuration's settings module
    (else the sample site's).
    """
    site = site or Site.unread(config.site, config.site_settings or "labsite.settings")
    parts = _Planner(config, site, secrets, tags, facts or {}, tls, static_kept)
    stores = parts.stores() + ([parts.faults()] if config.fault_proxy else [])
    # The one volume of collected static files (the first job fills it; nginx serves it at STATIC_URL).
    static = (Mount(parts.volume("static"), STATIC_ROOT),)
    prepare = parts.prepare(static)
    nodes = parts.nodes(static, nfs_client, nfs_address)
    frontend = parts.frontend()
    nginx, nginx_conf, nginx_config_id = parts.nginx(nodes, static, frontend)
    scheduler = parts.scheduler(nodes[0]) if config.runs_scheduler(site) else None
    workers = tuple(parts.workers(nodes[0])) if config.worker_count(site) else ()
    return Plan(
        config=config,
        network=parts.network,
        network_labels=labels(config.name, "network"),
        volumes=tuple(parts.volumes),
        stores=tuple(stores),
        prepare=prepare,
        nodes=tuple(nodes),
        nginx=nginx,
        nginx_conf=nginx_conf,
        nginx_config_id=nginx_config_id,
        frontend=frontend,
        scheduler=scheduler,
        workers=workers,
        client_image=tags.get("node", ""),
        url=config.url_for(https=tls is not None),
        site=site,
    )
