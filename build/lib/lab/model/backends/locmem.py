from lab.model.backends.base import SessionBackend, cache_sessions


class Locmem(SessionBackend):
    name = "locmem"
    summary = "cache sessions on LocMemCache"
    survives_round_robin = False
    reason = "the cache lives in one worker process: other nodes, and other workers of the same node, miss it"

    def settings(self, hosts, passwords=None):
        return cache_sessions({"BACKEND": "django.core.cache.backends.locmem.LocMemCache"})
