"""What each container may do: its capabilities (each with the reason), memory and process limits, logs.

Every container the lab starts drops every capability, may not gain privileges (`no-new-privileges`),
and keeps a rotated json-file log; a profile adds back only what its role needs. This table is the one
place a reader checks what the lab grants; tests read each container's HostConfig against it.
"""

from __future__ import annotations

from dataclasses import dataclass

NO_NEW_PRIVILEGES = "no-new-privileges:true"
# Rotated logs: a chatty node cannot fill the disk, and `lab logs` still has recent lines.
LOG_CONFIG = {"type": "json-file", "config": {"max-size": "10m", "max-file": "3"}}


@dataclass(frozen=True)
class Profile:
    """One role's privileges and limits."""

    capabilities: tuple[str, ...]
    reason: str
    memory_mb: int
    pids: int


PROFILES: dict[str, Profile] = {
    "node": Profile((), "gunicorn runs as the site's user (uid 1000) and needs no capability", 1024, 256),
    "node-fuse": Profile(
        ("SYS_ADMIN", "SETUID", "SETGID"),
        "mounts the NFS export through FUSE as root at start (SYS_ADMIN: mount), then drops to the site's "
        "user with setpriv (SETUID, SETGID); gunicorn keeps no capability",
        1024,
        256,
    ),
    "nginx": Profile(
        ("SETUID", "SETGID", "CHOWN"),
        "the master starts as root and runs its workers as www-data (SETUID, SETGID), owning their temp "
        "folders (CHOWN; without it: chown(\"/var/lib/nginx/body\") failed); port 80 needs nothing, since "
        "Docker lets containers bind low ports",
        128,
        128,
    ),
    "postgres": Profile((), "runs as the postgres user from the start", 512, 256),
    "redis": Profile((), "runs as the redis user from the start", 256, 64),
    "memcached": Profile((), "runs as the memcache user from the start", 64, 64),  # plus its cache size
    "faults": Profile((), "the fault proxy runs as nobody from the start", 64, 64),
    "pgbouncer": Profile((), "runs as the postgres user from the start", 64, 64),
    "nfs": Profile(
        ("DAC_READ_SEARCH", "SETUID", "SETGID", "FOWNER"),
        "nfs-ganesha opens files by handle (DAC_READ_SEARCH), acts as each NFS client's user "
        "(SETUID, SETGID: setfsuid/setfsgid) and sets a file's mode for its owner (FOWNER: Django's "
        "FILE_UPLOAD_PERMISSIONS chmods every upload); measured: it serves with nothing else",
        256,
        256,
    ),
    "client": Profile((), "virtual users and wrk run as the site's user", 512, 256),
    # A release or facts job gets what a hosting platform's release machine gets (1-2 GB), never less than a
    # node: hundreds of migrations, or a project's own build command, load more than one request does.
    "job": Profile((), "migrations run as the site's user", 2048, 256),
}


def profile(name: str) -> Profile:
    """The profile of a role; a KeyError names a role the table forgot."""
    return PROFILES[name]
