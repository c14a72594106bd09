"""Stores: the services nodes share (the app database, Redis, Memcached), declared as data.

PostgreSQL is always there: it holds the site's users, as a real multi-machine site's database does.
Session backends name the other stores they need.
"""

from __future__ import annotations

from dataclasses import dataclass

from lab.model.checks import Check, ExecCheck

# The app database's name and user; its password is the lab's own (in the lab's state), and
# PostgreSQL admits only the lab's network.
DB_NAME = "lab"
DB_USER = "lab"


@dataclass(frozen=True)
class Store:
    """One shared service container: its image, command, data directory and readiness check."""

    name: str
    image: str  # image key in lab.images
    port: int
    check: Check
    data_dir: str | None = None  # kept on a lab volume when set
    command: tuple[str, ...] | None = None
    summary: str = ""
    security_opt: tuple[str, ...] = ()
    # The environment variable that hands the store the lab's password for it (None: no password).
    password_env: str | None = None


STORES: dict[str, Store] = {
    store.name: store
    for store in (
        Store(
            name="postgres",
            image="postgres",
            port=5432,
            data_dir="/var/lib/postgresql/data",
            check=ExecCheck(("pg_isready", "--quiet", "--host", "127.0.0.1", "--username", DB_USER)),
            summary="PostgreSQL: the site's database (users; db and cached_db sessions)",
            password_env="LAB_DB_PASSWORD",
        ),
        Store(
            name="redis",
            image="redis",
            port=6379,
            data_dir="/var/lib/redis",
            # Persistence flags come from store_command: none by default, append-only with --redis-aof.
            # lab-redis-start hands redis-server the lab's password on stdin, never on a command line.
            command=("lab-redis-start", "--bind", "0.0.0.0", "--protected-mode", "no", "--save", "", "--dir", "/var/lib/redis"),
            check=ExecCheck(("bash", "-c", '[ -z "$LAB_REDIS_PASSWORD" ] || export REDISCLI_AUTH="$LAB_REDIS_PASSWORD"; '
                                           'redis-cli ping | grep -qx PONG')),
            summary="Redis without persistence, with the lab's password",
            password_env="LAB_REDIS_PASSWORD",
        ),
        Store(
            name="memcached",
            image="memcached",
            port=11211,
            command=("memcached", "--memory-limit=64", "--port=11211", "--listen=0.0.0.0"),
            # No client tools in the image: bash's /dev/tcp proves the port accepts connections.
            check=ExecCheck(("bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/11211")),
            summary="Memcached, 64 MB",
        ),
        Store(
            name="nfs",
            image="nfs",
            port=2049,
            data_dir="/export",
            # Ready when both the NFS and the (pinned) mountd ports accept connections.
            check=ExecCheck(("bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/2049 && exec 4<>/dev/tcp/127.0.0.1/20048")),
            summary="nfs-ganesha: an NFS server in user space exporting /export",
            # ganesha opens files by handle (open_by_handle_at), which Docker's seccomp profile refuses;
            # its capabilities are in lab.security. Never --privileged.
            security_opt=("seccomp=unconfined",),
        ),
        Store(
            name="pgbouncer",
            image="pgbouncer",
            port=6432,
            command=("lab-pgbouncer-start",),
            check=ExecCheck(("bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/6432")),
            summary="PgBouncer in transaction pooling, in front of PostgreSQL (--pooler pgbouncer)",
            password_env="LAB_DB_PASSWORD",
        ),
    )
}

POOLERS = ("pgbouncer",)
POSTGRES_MAX_CONNECTIONS = 200  # the lab's cluster (init-cluster), unless --max-connections says otherwise


def pool_size(max_connections: int) -> int:
    """PgBouncer's server connections: 20, or fewer when PostgreSQL allows few (room for a maintenance session)."""
    return max(1, min(20, max_connections - 2))

NFS_EXPORT = "/export"
NFS_MOUNT_PORT = 20048

APP_DATABASE = "postgres"


def store_command(
    store: Store, redis_aof: bool = False, memcached_mb: int = 64, memcached_growth_factor: float = 1.25,
    max_connections: int = 0,
) -> tuple[str, ...] | None:
    """The store's command with the lab's options: Redis persistence, Memcached's memory cap, PostgreSQL's
    max_connections (0: the cluster's own)."""
    command = store.command
    if store.name == "postgres" and max_connections:
        command = ("lab-postgres-start", "-c", f"max_connections={max_connections}")
    if store.name == "redis":
        command += ("--appendonly", "yes", "--appendfsync", "everysec") if redis_aof else ("--appendonly", "no")
    if store.name == "memcached":
        command = tuple(f"--memory-limit={memcached_mb}" if part.startswith("--memory-limit=") else part for part in command)
        if memcached_growth_factor != 1.25:
            command += (f"--slab-growth-factor={memcached_growth_factor}",)
        if memcached_mb < 2:  # memcached refuses an item limit above half its memory (1 MB by default)
            command += ("--max-item-size=512k",)
    return command


def database_settings(host: str, password: str, pooler: str = "") -> dict:
    """Django's default database on the lab's PostgreSQL, with the lab's password; through the pooler
    at `host` when there is one."""
    default = {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": host,
        "PORT": STORES[pooler or APP_DATABASE].port,
        "NAME": DB_NAME,
        "USER": DB_USER,
        "PASSWORD": password,
        "CONN_MAX_AGE": 60,
        "OPTIONS": {"connect_timeout": 3},
    }
    if pooler:
        # In transaction pooling a cursor cannot outlive its transaction's server connection (Django's
        # "Transaction pooling and server-side cursors").
        default["DISABLE_SERVER_SIDE_CURSORS"] = True
    return {"DATABASES": {"default": default}}
