import time

from lab.studies.experiments.base import Case, Experiment, Traffic, session_store, timeline
from lab.verdicts.rules import (
    anonymous_between,
    ended_logged_out,
    every_request_answered_in,
    everyone_logged_out,
    failures,
    logged_out_only_if,
    no_one_logged_out,
)



class StoreRestart(Experiment):
    name = "store-restart"
    summary = "restart the session store under traffic"
    cases = (
        Case("redis", "round_robin"),
        Case("redis", "round_robin", "aof"),
        Case("memcached", "round_robin"),
        Case("db", "round_robin"),
    )
    quick = (Case("redis", "round_robin"),)

    @staticmethod
    def survives(case) -> bool:
        """Whether the store keeps its sessions across a restart: the one fact the verdict follows from."""
        return case.backend == "db" or case.option == "aof"

    def expect(self, case):
        if case.backend == "redis" and case.option == "aof":
            return (
                "no one is logged out, but a user whose request found Redis still restarting",
                "Redis appends every write to a file on its volume and reloads it; but Django's cache backend "
                "takes an unreachable cache for an empty session and hands that request a new one",
            )
        if not self.survives(case):
            return "every user is logged out", f"{case.backend} keeps sessions in memory only"
        return "no one is logged out", "PostgreSQL keeps the session table on its volume"

    def prepare(self, lab, case):
        lab.switch(backend=case.backend, balance=case.balance)
        lab.up(redis_aof=case.option == "aof")

    def measure(self, lab, clients, case, outcome):
        username, _ = lab.login()
        store = session_store(case.backend)
        with Traffic(clients, seconds=10) as traffic:
            time.sleep(3)  # and so past Redis's one-second append fsync
            began = traffic.started + traffic.mark(f"{store} restarting")
            restart_seconds = lab.restart(store)
            ready = traffic.started + traffic.mark(f"{store} ready")
            users = traffic.users()
        out = [u.name for u in users if ended_logged_out(u, username)]
        during = [o for u in users for o in u.observations if began <= o.at <= ready]
        failed = failures(users, after=began)
        slowest = max((o.seconds for o in during), default=0.0)
        outcome.figures = {
            "users": len(users),
            "logged_out": len(out),
            "failed_requests": len(failed),
            "restart_seconds": round(restart_seconds, 2),
            "slowest_request_during_restart_s": round(slowest, 2),
        }
        outcome.observed = (
            f"{len(out)} of {len(users)} users logged out; {len(failed)} requests failed; "
            f"the slowest request during the restart took {slowest:.2f} s"
        )
        if not self.survives(case):
            logins = everyone_logged_out(users, username)
        elif case.backend == "redis":
            # Redis answers its readiness ping while it still loads the append-only file: allow 2 s more.
            in_restart = lambda user: anonymous_between(user, username, began, ready + 2)  # noqa: E731
            logins = logged_out_only_if(users, username, in_restart, "got an anonymous answer while Redis restarted")
        else:
            logins = no_one_logged_out(users, username)  # a database error is a failed request, not a new session
        # Bounded: a request during the restart fails or answers within the lab's timeouts, never hangs.
        outcome.judge(logins & every_request_answered_in(users, 10, after=began))
        outcome.events, outcome.timeline = traffic.events, timeline(users, username, traffic.started)
