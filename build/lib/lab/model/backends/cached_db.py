from lab.model.backends.base import SessionBackend, cache_sessions
from lab.model.backends.redis import redis_cache


class CachedDb(SessionBackend):
    name = "cached_db"
    summary = "cached_db sessions: Redis in front of PostgreSQL"
    survives_round_robin = True
    reason = "reads come from the shared Redis and fall back to the shared database"
    stores = ("redis",)

    def settings(self, hosts, passwords=None):
        return cache_sessions(
            redis_cache(hosts["redis"], (passwords or {}).get("redis")),
            engine="django.contrib.sessions.backends.cached_db",
        )
