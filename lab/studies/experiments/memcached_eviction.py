import time
from concurrent.futures import ThreadPoolExecutor

from lab.studies.experiments.base import Case, Experiment, timeline
from lab.verdicts.rules import Judgement, ended_logged_out, everyone_logged_out, no_one_logged_out

CAP_MB = 2
FLOOD = 8000


def memcached_stats(lab) -> dict[str, int]:
    """Memcached's own counters, read inside its container (no client tools there: bash's /dev/tcp)."""
    command = "exec 3<>/dev/tcp/127.0.0.1/11211; printf 'stats\\r\\nquit\\r\\n' >&3; cat <&3"
    _, output = lab.engine.exec_member(f"{lab.name}-memcached", ["bash", "-c", command])
    stats = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "STAT" and parts[2].isdigit():
            stats[parts[1]] = int(parts[2])
    return stats


class MemcachedEviction(Experiment):
    name = "memcached-eviction"
    summary = f"Memcached capped at {CAP_MB} MB while {FLOOD} new anonymous sessions arrive; who is evicted?"
    cases = (Case("memcached", "round_robin", "default slab classes"), Case("memcached", "round_robin", "one slab class"))
    # Growth factor 4 makes the classes 96, 384, 1536... bytes: anonymous and logged-in sessions share one.
    factors = {"default slab classes": 1.25, "one slab class": 4.0}
    quick = ()
    direct_clients, nat_users = 6, 3

    def expect(self, case):
        if case.option == "one slab class":
            return (
                "the logged-in users, idle while the new sessions arrived, are evicted and so logged out",
                "with every session in one slab class, Memcached drops the least recently used when the cap is full",
            )
        return (
            "the flood is evicted, the idle logged-in users are not",
            "Memcached evicts within a slab class; anonymous sessions are smaller and sit in another class "
            "than logged-in ones",
        )

    def prepare(self, lab, case):
        lab.switch(backend=case.backend, balance=case.balance)
        lab.up(memcached_mb=CAP_MB, memcached_growth_factor=self.factors[case.option])

    def measure(self, lab, clients, case, outcome):
        username, _ = lab.login()
        started = time.time()
        with ThreadPoolExecutor(max_workers=1) as pool:
            # Each user logs in, browses, stays away 25 s, and comes back; the flood comes meanwhile.
            users_future = pool.submit(clients.run, 5, 90, 0.05, 30)
            time.sleep(3)
            events = [(round(time.time() - started, 2), f"{FLOOD} anonymous visits begin")]
            flooded = clients.flood(FLOOD, seconds=25)
            events.append((round(time.time() - started, 2), f"flood done: {flooded['ok']} new sessions"))
            users = users_future.result(timeout=120)
        stats = memcached_stats(lab)
        out = sum(ended_logged_out(u, username) for u in users)
        per_item = stats.get("bytes", 0) / max(1, stats.get("curr_items", 1))
        outcome.figures = {
            "cap_bytes": stats.get("limit_maxbytes", 0),
            "sessions_created": flooded["ok"],
            "items_held": stats.get("curr_items", 0),
            "bytes_per_item": round(per_item),
            "sessions_that_fit_about": round(stats.get("limit_maxbytes", 0) / per_item) if per_item else 0,
            "evictions": stats.get("evictions", 0),
            "users": len(users),
            "users_logged_out": out,
        }
        outcome.observed = (
            f"{out} of {len(users)} returning users logged out; memcached evicted {stats.get('evictions', 0)} items "
            f"and holds {stats.get('curr_items', 0)} of about {per_item:.0f} bytes each"
        )
        evictions = stats.get("evictions", 0)
        cache_filled = Judgement(evictions > 0, f"memcached evicted {evictions} items")
        logins = everyone_logged_out(users, username) if case.option == "one slab class" else no_one_logged_out(users, username)
        outcome.judge(cache_filled & logins)
        outcome.events, outcome.timeline = events, timeline(users, username, started)
