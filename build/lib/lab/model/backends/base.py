"""SessionBackend: what one Django session set-up needs from the lab, declared, not run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

# Where a node keeps data of its own (a per-node volume) and where the shared-file volume is mounted.
NODE_DATA_DIR = "/var/lib/lab"
# The site's user in the node image: gunicorn, the client containers and NFS calls run as it.
SITE_UID = 1000
SHARED_SESSIONS_DIR = "/srv/shared-sessions"


@dataclass(frozen=True)
class NodeExtras:
    """What a backend adds to every node container beyond settings."""

    env: Mapping[str, str] = field(default_factory=dict)
    role: str = "node"  # the security profile (lab.security) the node runs under
    devices: tuple[str, ...] = ()
    nfs_mount_at: str | None = None  # mount an NFS volume here (the host kernel's client)
    user: str | None = None  # start as this user instead of the image's (root, to mount, then drop)


class SessionBackend:
    """One way to store Django sessions, as the lab runs it.

    Subclasses are declarations: a name, the Django settings they add, the stores they need, and
    whether users should stay logged in when nginx spreads their requests over every node.
    """

    name: str = ""
    summary: str = ""
    survives_round_robin: bool = False
    reason: str = ""
    stores: tuple[str, ...] = ()
    available: bool = True
    unavailable_reason: str = ""
    # Django management commands (argument lists) each node runs before it serves, e.g. to migrate
    # a database that only that node has.
    node_commands: tuple[tuple[str, ...], ...] = ()

    # -- what a backend must provide ---------------------------------------------------------------

    def settings(self, hosts: Mapping[str, str], passwords: Mapping[str, str] | None = None) -> dict:
        """Django settings this backend adds; `hosts` maps each of its stores to a host name, `passwords`
        to the lab's password for it (None: no password)."""
        raise NotImplementedError("subclasses of SessionBackend must provide a settings() method")

    def node_extras(self, hosts: Mapping[str, str], nfs_client: str) -> NodeExtras:
        """Environment, capabilities, devices or mounts every node needs; none by default."""
        return NodeExtras()

    def __repr__(self) -> str:
        return f"<SessionBackend {self.name}>"


# The lab's cache alias for sessions: a site's own caches ("default" among them) are left as they are.
SESSIONS_CACHE = "lab_sessions"


def cache_sessions(cache: dict, engine: str = "django.contrib.sessions.backends.cache") -> dict:
    """Settings for sessions kept in Django's cache framework, on the lab's own cache alias."""
    return {"SESSION_ENGINE": engine, "SESSION_CACHE_ALIAS": SESSIONS_CACHE, "CACHES": {SESSIONS_CACHE: cache}}
