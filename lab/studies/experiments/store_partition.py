"""store-partition: the network to one store cut for a few seconds under traffic, then healed, through
the lab's fault proxy. Nothing is restarted: the store keeps every session; what users see comes from the
timeouts on the way (the lab's RedisCache: socket_timeout 2 s; PostgreSQL: connect_timeout 3 s, none on
a connection already open)."""

import time

from lab.studies.experiments.base import Case, Experiment, Traffic, session_store, timeline
from lab.verdicts.rules import (
    anonymous_between,
    ended_logged_out,
    every_request_answered_in,
    failed_only_between,
    failures,
    logged_out_only_if,
    no_one_logged_out,
    waited_through,
)

REDIS_TIMEOUT = 2.0  # lab.model.backends.redis: socket_timeout
# Longer than the two Redis waits in a row of a request that meets the cut (its session read, then the
# check for a new session key), so the requests sent in its first seconds fail every time instead of
# only when one happened to be saving as the cut began.
CUT_SECONDS = 3 * REDIS_TIMEOUT


class StorePartition(Experiment):
    name = "store-partition"
    summary = f"cut the network to the session store for {CUT_SECONDS:g} s under traffic, then heal it"
    cases = (Case("redis", "round_robin"), Case("db", "round_robin"))
    quick = (Case("redis", "round_robin"),)

    def expect(self, case):
        if case.backend == "redis":
            return (
                "requests sent early in the cut fail after two 2 s socket timeouts; no user is logged out but "
                "one whose request was still waiting on Redis when the cut healed",
                "Django's cache session backend takes an unreadable session for an empty one; the page writes "
                "the session, which needs a new key: that check times out too (500), or, once Redis answers "
                "again, succeeds and the new empty session replaces the user's",
            )
        return (
            "no one is logged out and no request fails: requests during the cut wait for it to heal",
            "each node's connection to PostgreSQL is already open (CONN_MAX_AGE) and has no timeout: a query "
            "waits; only a new connection would fail, after connect_timeout",
        )

    def prepare(self, lab, case):
        lab.switch(backend=case.backend, balance=case.balance)
        lab.up(fault_proxy=True)
        lab.set_faults({})

    def measure(self, lab, clients, case, outcome):
        username, _ = lab.login()
        store = session_store(case.backend)
        with Traffic(clients, seconds=CUT_SECONDS + 10) as traffic:
            time.sleep(4)
            try:
                began = traffic.started + traffic.mark(f"{store} cut")
                lab.set_faults({store: {"cut": True}})
                time.sleep(CUT_SECONDS)
            finally:
                lab.set_faults({})
            healed = traffic.started + traffic.mark(f"{store} healed")
            users = traffic.users()
        failed = failures(users, after=began)
        slowest = max((o.seconds for u in users for o in u.observations if o.at >= began), default=0.0)
        out = [u.name for u in users if ended_logged_out(u, username)]
        outcome.figures = {
            "users": len(users),
            "cut_seconds": CUT_SECONDS,
            "failed_requests": len(failed),
            "failed_after_heal": len([o for o in failed if o.at > healed]),
            "logged_out": len(out),
            "slowest_request_s": round(slowest, 2),
        }
        outcome.observed = (
            f"{len(failed)} requests failed ({outcome.figures['failed_after_heal']} sent after the heal); "
            f"{len(out)} of {len(users)} users logged out; the slowest request took {slowest:.2f} s"
        )
        # Bounded either way: a request fails within its timeouts or waits only as long as the cut.
        bounded = every_request_answered_in(users, CUT_SECONDS + 2 * REDIS_TIMEOUT + 1, after=began - 1)
        if case.backend == "redis":
            straddled = lambda user: anonymous_between(user, username, began, healed + 2 * REDIS_TIMEOUT)  # noqa: E731
            logins = logged_out_only_if(users, username, straddled, "got an anonymous answer for a request that met the cut")
            outcome.judge(logins & failed_only_between(users, began, healed + REDIS_TIMEOUT) & bounded)
        else:
            outcome.judge(no_one_logged_out(users, username) & waited_through(users, began, healed) & bounded)
        outcome.events, outcome.timeline = traffic.events, timeline(users, username, traffic.started)
