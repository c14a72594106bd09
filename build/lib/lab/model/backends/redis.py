from urllib.parse import quote

from lab.model.backends.base import SessionBackend, cache_sessions


def redis_cache(host: str, password: str | None = None) -> dict:
    """Django's built-in RedisCache on the lab's Redis, with timeouts so an outage fails fast."""
    credentials = f":{quote(password, safe='')}@" if password else ""
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://{credentials}{host}:6379/0",
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }


class Redis(SessionBackend):
    name = "redis"
    summary = "cache sessions on Django's built-in RedisCache"
    survives_round_robin = True
    reason = "every node talks to the same Redis server"
    stores = ("redis",)

    def settings(self, hosts, passwords=None):
        return cache_sessions(redis_cache(hosts["redis"], (passwords or {}).get("redis")))
