from lab.model.backends.base import SessionBackend, cache_sessions


class Memcached(SessionBackend):
    name = "memcached"
    summary = "cache sessions on PyMemcacheCache"
    survives_round_robin = True
    reason = "every node talks to the same Memcached server"
    stores = ("memcached",)

    def settings(self, hosts, passwords=None):
        return cache_sessions(
            {
                "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
                "LOCATION": f"{hosts['memcached']}:11211",
                "OPTIONS": {"connect_timeout": 2, "timeout": 2},
            }
        )
