"""LabConfig: what the user asked for, validated. The first stage of config -> plan -> engine."""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path

from .backends import BACKENDS
from .balance import BALANCE_MODES
from .errors import ConfigError
from .site import settings_module

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_SITE = PROJECT_ROOT / "sample_site"

MAX_NODES = 16
DEFAULT_DJANGO_VERSION = "6.1.3"
_LAB_NAME = re.compile(r"[a-z][a-z0-9-]{0,30}")
_DJANGO_VERSION = re.compile(r"\d+\.\d+(\.\d+)?")
_REGISTRY = re.compile(r"[A-Za-z0-9.-]+:\d{1,5}")
ENGINES = ("local", "swarm")


def check_name(name: str) -> str:
    """Return `name` if it is a valid lab name, else raise ConfigError. Checked before any file or
    container is named after it (it becomes a file name and every container's prefix)."""
    if not isinstance(name, str) or not _LAB_NAME.fullmatch(name):
        shown = repr(name) if len(str(name)) <= 40 else repr(str(name)[:40]) + f"... ({len(name)} characters)"
        raise ConfigError(
            f"invalid lab name {shown}: use 1-31 lowercase letters, digits or '-', starting with a letter"
        )
    return name


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


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach `host`."""
    return ipaddress.ip_address(host).is_loopback


@dataclass(frozen=True)
class LabConfig:
    """Everything that decides what a lab looks like; plain data, saved with the lab's state."""

    name: str = "djlab"
    nodes: int = 3
    backend: str = "redis"
    balance: str = "round_robin"
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 2
    django_version: str = DEFAULT_DJANGO_VERSION
    secret_key_per_node: bool = False
    site: str = str(SAMPLE_SITE)
    site_settings: str = ""  # the site's settings module; "" means: the one its manage.py names
    requirements: str = ""  # the site's requirements file; "" means: its requirements.txt or pyproject, if any
    base_suite: str = "trixie"
    engine: str = "local"  # "swarm": the lab as a stack of services on the swarm the Docker endpoint manages
    registry: str = ""  # where a swarm's hosts pull the lab's images (default: the test hosts' own)
    redis_aof: bool = False  # Redis appends every write to a file on its volume (survives a restart)
    memcached_mb: int = 64
    memcached_growth_factor: float = 1.25  # Memcached's slab size classes (its default)

    def __post_init__(self) -> None:
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
        if not 1 <= self.workers <= 16:
            raise ConfigError(f"workers must be between 1 and 16, not {self.workers}")
        if not 1.01 <= self.memcached_growth_factor <= 8:
            raise ConfigError(f"memcached growth factor must be between 1.01 and 8, not {self.memcached_growth_factor}")
        if not 1 <= self.memcached_mb <= 4096:
            raise ConfigError(f"memcached memory must be between 1 and 4096 MB, not {self.memcached_mb}")
        if self.engine not in ENGINES:
            raise ConfigError(f"unknown engine {self.engine!r}; valid: {', '.join(ENGINES)}")
        if self.registry and not _REGISTRY.fullmatch(self.registry):
            raise ConfigError(f"registry must look like HOST:PORT (e.g. 127.0.0.1:5000), not {self.registry!r}")
        if self.engine == "swarm" and self.backend == "nfs":
            raise ConfigError("backend nfs needs /dev/fuse in each node, which swarm services cannot have; pick another")
        if not 1 <= self.port <= 65535:
            raise ConfigError(f"port must be between 1 and 65535, not {self.port}")
        if not isinstance(self.django_version, str) or not _DJANGO_VERSION.fullmatch(self.django_version):
            raise ConfigError(f"django version must look like 6.1.3, not {self.django_version!r}")
        backend = BACKENDS[self.backend]
        if not backend.available:
            raise ConfigError(f"backend {self.backend!r} is not available yet: {backend.unavailable_reason}")
        site = Path(self.site).expanduser().resolve()
        if not (site / "manage.py").is_file():
            raise ConfigError(f"site {self.site!r} has no manage.py; point --site at a Django project folder")
        # Saved resolved: the lab's state and images name the same folder and module from anywhere.
        object.__setattr__(self, "site", str(site))
        object.__setattr__(self, "site_settings", settings_module(site, self.site_settings))

    def replace(self, **changes) -> "LabConfig":
        """Return a validated copy with some fields changed. Another site brings its own settings module
        and requirements unless they are given too."""
        if "site" in changes and Path(changes["site"]).expanduser().resolve() != Path(self.site):
            changes.setdefault("site_settings", "")
            changes.setdefault("requirements", "")
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
        """Where the user's browser reaches nginx."""
        return f"http://{self.host}:{self.port}/"
