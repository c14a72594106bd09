"""LabConfig: what the user asked for, validated. The first stage of config -> (site) -> plan -> engine.

Plain data: validating it opens no file. What the project folder says is read apart, once per `up`, into a
Site (lab.project.read), and the checks that need the folder (a manage.py, the settings module, --python,
--group) are made there.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path

from lab.errors import ConfigError
from lab.model.backends import BACKENDS
from lab.model.balance import BALANCE_MODES
from lab.model.stores import POOLERS
from lab.model.site import Site, SiteChoices
from lab.resources import SAMPLE_SITE as SAMPLE_SITE_FOLDER

# This repository, when the lab runs from it (make lab-up, make test): reports and exported stacks of the
# sample site go there. An installed lab has none, and finds everything it runs in its package.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHECKOUT = PROJECT_ROOT if (PROJECT_ROOT / "pyproject.toml").is_file() and (PROJECT_ROOT / "tests").is_dir() else None
SAMPLE_SITE = SAMPLE_SITE_FOLDER.resolve()

MAX_NODES = 16
_LAB_NAME = re.compile(r"[a-z][a-z0-9-]{0,30}")
_DJANGO_VERSION = re.compile(r"\d+\.\d+(\.\d+)?")
_DEBIAN_PACKAGE = re.compile(r"[a-z0-9][a-z0-9+.-]+")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_REGISTRY = re.compile(r"[A-Za-z0-9.-]+:\d{1,5}")
_MODULE = re.compile(r"[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*")
ENGINES = ("local", "swarm")
CHANNEL_LAYERS = ("", "memory", "redis")


def check_name(name: str) -> str:
    """Return `name` if it is a valid lab name, else raise ConfigError. Checked before any file or
    container is named after it (it becomes a file name and every container's prefix)."""
    if not isinstance(name, str) or not _LAB_NAME.fullmatch(name):
        shown = repr(name) if len(str(name)) <= 40 else repr(str(name)[:40]) + f"... ({len(name)} characters)"
        raise ConfigError(
            f"invalid lab name {shown}: use 1-31 lowercase letters, digits or '-', starting with a letter"
        )
    return name


def name_for(folder: Path) -> str:
    """A lab name made from a project folder's name (`My_Shop 2` -> `my-shop-2`), so two projects get
    two labs without a flag."""
    # A folder named for its role in a repository (`src`, `backend`, `apps/api`) says little: its repository's
    # name goes first, so two projects' `src` folders make two labs.
    generic = {"src", "backend", "api", "app", "apps", "server", "django", "web", "site", "project", "python"}
    parts = [folder.name]
    for parent in folder.parents:
        if parts[0].lower() not in generic or not parent.name:
            break
        parts.insert(0, parent.name)
    name = re.sub(r"[^a-z0-9]+", "-", "-".join(parts).lower()).strip("-")
    if not name or not name[0].isalpha():
        name = f"lab-{name}".strip("-")
    return name[:31].rstrip("-") or "djlab"


def check_host(host: str) -> str:
    """Return `host` if nginx can publish on it (an IPv4 address), else raise ConfigError."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ConfigError(
            f"invalid --host {host!r}: give an IPv4 address of this machine, e.g. 127.0.0.1 (the default)"
        ) from None
    if address.version != 4:
        raise ConfigError(f"--host {host!r} is IPv6; the lab publishes on IPv4 only: use 127.0.0.1 (the default)")
    return host


def folder_path(folder: str) -> str:
    """`folder` as an absolute path, without asking the file system (a folder may be gone)."""
    return os.path.abspath(os.path.expanduser(str(folder)))


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach `host`."""
    return ipaddress.ip_address(host).is_loopback


@dataclass(frozen=True)
class LabConfig:
    """Everything the user decides about a lab; plain data, saved with the lab's state."""

    name: str = "djlab"
    nodes: int = 3
    backend: str = "redis"
    balance: str = "round_robin"
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 2
    node_memory: int = 1024  # MB each node may use (a large site's workers need more: --node-memory)
    django_version: str = ""  # "" means: the newest Django the site's interpreter runs (a site's pin wins)
    secret_key_per_node: bool = False
    site: str = str(SAMPLE_SITE)
    site_settings: str = ""  # the site's settings module; "" means: the one its manage.py names
    requirements: str = ""  # the site's requirements file; "" means: its lock, requirements or pyproject, if any
    groups: tuple[str, ...] = ()  # dependency groups, extras or requirements/ files installed as well
    python: str = ""  # "3.11": the interpreter; "" means: the closest to what the project declares
    build_packages: tuple[str, ...] = ()  # Debian packages the build stage adds (headers a requirement needs)
    # The site's own environment (--env, --env-file): kept in the lab's state, never printed in clear.
    env: tuple[tuple[str, str], ...] = ()
    release_commands: tuple[str, ...] | None = None  # None: the ones the project declares
    login_url: str = ""  # the page virtual users log in on; "" means: LOGIN_URL, else the admin's
    https: bool | None = None  # nginx terminates TLS; None means: when the site's settings demand https
    shared_media: bool = False  # MEDIA_ROOT on the lab's NFS export, mounted by every node
    # One machine runs the site's scheduled jobs: "project" (the scheduler process type the project declares,
    # `celery beat` in a Procfile or a production compose file, else none), "auto" (that, a Procfile's clock
    # line, a management command, else its own start-up with DJANGO_RUN_SCHEDULER=1), a command, or "" (none).
    scheduler: str = "project"
    # Machines that run the project's worker process type (`celery worker`, `rqworker`, ...): -1 means one
    # when the project declares a worker, else none.
    worker_machines: int = -1
    keep_static: bool = False  # nginx serves the previous version's static files too (a rolling deploy)
    release: str = ""  # a label built into the site's image (`lab deploy --release NAME`): a new one is a new version
    # The channel layer under test on an ASGI site (the matrix's other dimension): "" the site's own,
    # "memory" (InMemoryChannelLayer) or "redis" (channels_redis on the lab's Redis).
    channel_layer: str = ""
    fault_proxy: bool = False  # the nodes reach every store through the lab's fault proxy (`lab fault`)
    pooler: str = ""  # "pgbouncer": the nodes reach PostgreSQL through a connection pooler
    max_connections: int = 0  # PostgreSQL's max_connections (a managed database's limit); 0: the lab's 200
    base_suite: str = "trixie"
    engine: str = "local"  # "swarm": the lab as a stack of services on the swarm the Docker endpoint manages
    registry: str = ""  # where a swarm's hosts pull the lab's images (default: the test hosts' own)
    redis_aof: bool = False  # Redis appends every write to a file on its volume (survives a restart)
    memcached_mb: int = 64
    memcached_growth_factor: float = 1.25  # Memcached's slab size classes (its default)

    def __post_init__(self) -> None:
        # Saved as JSON lists; kept as tuples so a config stays hashable and compares equal.
        object.__setattr__(self, "groups", tuple(self.groups))
        object.__setattr__(self, "build_packages", tuple(self.build_packages))
        object.__setattr__(self, "env", tuple(tuple(pair) for pair in self.env))
        if self.release_commands is not None:
            object.__setattr__(self, "release_commands", tuple(self.release_commands))
        self.validate()

    def validate(self) -> None:
        """Raise ConfigError naming the first invalid field and the valid choices."""
        check_name(self.name)
        check_host(self.host)
        if self.backend not in BACKENDS:
            raise ConfigError(f"unknown backend {self.backend!r}; valid backends: {', '.join(BACKENDS)}")
        if self.balance not in BALANCE_MODES:
            raise ConfigError(f"unknown balance mode {self.balance!r}; valid modes: {', '.join(BALANCE_MODES)}")
        if not 1 <= self.nodes <= MAX_NODES:
            raise ConfigError(f"nodes must be between 1 and {MAX_NODES}, not {self.nodes}")
        if not -1 <= self.worker_machines <= MAX_NODES:
            raise ConfigError(f"worker machines must be between 0 and {MAX_NODES}, not {self.worker_machines}")
        if not 1 <= self.workers <= 16:
            raise ConfigError(f"workers must be between 1 and 16, not {self.workers}")
        if not 256 <= self.node_memory <= 16384:
            raise ConfigError(f"--node-memory must be between 256 and 16384 MB, not {self.node_memory}")
        if not 1.01 <= self.memcached_growth_factor <= 8:
            raise ConfigError(f"memcached growth factor must be between 1.01 and 8, not {self.memcached_growth_factor}")
        if not 1 <= self.memcached_mb <= 4096:
            raise ConfigError(f"memcached memory must be between 1 and 4096 MB, not {self.memcached_mb}")
        if self.channel_layer not in CHANNEL_LAYERS:
            raise ConfigError(f"unknown channel layer {self.channel_layer!r}; valid: memory, redis (or none: the site's own)")
        if self.pooler and self.pooler not in POOLERS:
            raise ConfigError(f"unknown pooler {self.pooler!r}; valid: {', '.join(POOLERS)}")
        if self.max_connections and not 3 <= self.max_connections <= 10_000:
            raise ConfigError(f"max connections must be between 3 and 10000 (0: the lab's 200), not {self.max_connections}")
        if self.engine not in ENGINES:
            raise ConfigError(f"unknown engine {self.engine!r}; valid: {', '.join(ENGINES)}")
        if self.registry and not _REGISTRY.fullmatch(self.registry):
            raise ConfigError(f"registry must look like HOST:PORT (e.g. 127.0.0.1:5000), not {self.registry!r}")
        if not 1 <= self.port <= 65535:
            raise ConfigError(f"port must be between 1 and 65535, not {self.port}")
        if not isinstance(self.django_version, str) or (
            self.django_version and not _DJANGO_VERSION.fullmatch(self.django_version)
        ):
            raise ConfigError(f"django version must look like 6.1.3, not {self.django_version!r}")
        for key, _ in self.env:
            if not _ENV_NAME.fullmatch(key):
                raise ConfigError(f"--env {key!r}: a variable name is letters, digits and '_', not starting with a digit")
        for package in self.build_packages:
            if not _DEBIAN_PACKAGE.fullmatch(package):
                raise ConfigError(f"--build-package {package!r} is not a Debian package name (e.g. libldap-dev)")
        if self.release and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", self.release):
            raise ConfigError(f"--release {self.release!r}: letters, digits, '.', '_' or '-', up to 64")
        if self.login_url and not self.login_url.startswith("/"):
            raise ConfigError(f"--login-url must be a path like /accounts/login/, not {self.login_url!r}")
        backend = BACKENDS[self.backend]
        if not backend.available:
            raise ConfigError(f"backend {self.backend!r} is not available yet: {backend.unavailable_reason}")
        if not isinstance(self.site, str) or not self.site:
            raise ConfigError("--site must name a Django project folder")
        if self.site_settings and not _MODULE.fullmatch(self.site_settings):
            raise ConfigError(f"--settings must be a dotted module name like mysite.settings, not {self.site_settings!r}")
        # Saved absolute: the lab's state names the same folder from anywhere (read_site finds its manage.py).
        object.__setattr__(self, "site", folder_path(self.site))

    @property
    def site_choices(self) -> SiteChoices:
        """The choices that steer how the site's folder is read (lab.project.read.read_site)."""
        return SiteChoices(self.site_settings, self.requirements, self.groups, self.python, self.env,
                           self.release_commands)

    def site_environment(self, site: Site) -> dict[str, str]:
        """The site's own environment: what it declares for production, then --env (which wins)."""
        return site.environment(self.env)

    def runs_scheduler(self, site: Site) -> bool:
        """Whether the lab runs a scheduler machine: asked for, or the project declares a scheduler process."""
        if self.scheduler == "project":
            return site.declares_scheduler
        return bool(self.scheduler)

    def scheduler_run(self, site: Site) -> tuple[str, str]:
        """(command, why) the scheduler machine runs: --scheduler CMD, else what the project runs (Site.scheduler_run)."""
        if self.scheduler not in ("auto", "project", ""):
            return self.scheduler, "--scheduler CMD"
        return site.scheduler_run

    def worker_count(self, site: Site) -> int:
        """How many worker machines run: --worker-machines, else one when the project declares a worker."""
        if self.worker_machines >= 0:
            return self.worker_machines if site.worker_run else 0
        return 1 if site.worker_run else 0

    def django_for(self, site: Site) -> str:
        """The Django the node image installs before the site's pins: --django-version, else the
        newest release the site's interpreter runs."""
        return self.django_version or site.interpreter.interpreter.django

    def replace(self, **changes) -> "LabConfig":
        """Return a validated copy with some fields changed. Another site brings its own settings module
        and requirements unless they are given too."""
        if "site" in changes and folder_path(changes["site"]) != self.site:
            for key, default in (("site_settings", ""), ("requirements", ""), ("groups", ()), ("python", ""),
                                 ("build_packages", ()), ("env", ()), ("release_commands", None), ("login_url", ""), ("https", None)):
                changes.setdefault(key, default)
        if "DJANGO_SETTINGS_MODULE" in dict(changes.get("env", ())) and "site_settings" not in changes:
            changes["site_settings"] = dict(changes["env"])["DJANGO_SETTINGS_MODULE"]
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """Plain JSON-able form, for the lab's state and `lab status --json`."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "LabConfig":
        """Rebuild a config saved by to_dict, ignoring keys this version does not know."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    @property
    def url(self) -> str:
        """Where the user's browser reaches nginx over plain http (see `url_for` when TLS may be on)."""
        return self.url_for(https=False)

    def url_for(self, https: bool) -> str:
        """Where the user's browser reaches nginx, over https when nginx terminates TLS."""
        return f"{'https' if https else 'http'}://{self.host}:{self.port}/"
