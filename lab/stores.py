"""Stores: the services nodes share (the app database, Redis, Memcached), declared as data.

PostgreSQL is always there: it holds the site's users, as a real multi-machine site's database does.
Session backends name the other stores they need.
"""

from __future__ import annotations

from dataclasses import dataclass

from .readiness import Check, ExecCheck

# The app database's credentials. The store is reachable only on the lab's own network.
DB_NAME = "lab"
DB_USER = "lab"
DB_PASSWORD = "lab"


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
        ),
        Store(
            name="redis",
            image="redis",
            port=6379,
            data_dir="/var/lib/redis",
            command=(
                "redis-server", "--bind", "0.0.0.0", "--protected-mode", "no",
                "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis",
            ),
            check=ExecCheck(("redis-cli", "ping")),
            summary="Redis without persistence",
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
    )
}

APP_DATABASE = "postgres"


def database_settings(host: str) -> dict:
    """Django's default database on the lab's PostgreSQL."""
    return {
        "DATABASES": {
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "HOST": host,
                "PORT": STORES[APP_DATABASE].port,
                "NAME": DB_NAME,
                "USER": DB_USER,
                "PASSWORD": DB_PASSWORD,
                "CONN_MAX_AGE": 60,
                "OPTIONS": {"connect_timeout": 3},
            }
        }
    }
