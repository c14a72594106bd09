"""slow-store: the session store moved further away, as a managed store in another zone is: every round
trip to it through the lab's fault proxy takes longer, and each user's answers are timed before and after."""

from lab.studies.experiments.base import Case, Experiment, session_store
from lab.verdicts.rules import answered, each_user_slower_by

ADDED_MS = (0, 10, 50)  # round-trip times measured in turn; users are judged on the last against the first


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0.0


class SlowStore(Experiment):
    name = "slow-store"
    summary = "add 10 then 50 ms to every round trip to the session store; time each user's answers"
    cases = (Case("redis", "round_robin"), Case("db", "round_robin"))
    quick = ()
    seconds_per_step = 8

    def expect(self, case):
        store = session_store(case.backend)
        return (
            f"every user is at least {ADDED_MS[-1]} ms slower at the median with {store} {ADDED_MS[-1]} ms away, and no request fails",
            f"each request reads its session from {store}: at least one round trip, more for the save and the user",
        )

    def prepare(self, lab, case):
        lab.switch(backend=case.backend, balance=case.balance)
        lab.up(fault_proxy=True)
        lab.set_faults({})

    def measure(self, lab, clients, case, outcome):
        store = session_store(case.backend)
        runs, figures = {}, {}
        try:
            for added in ADDED_MS:
                lab.set_faults({store: {"rtt_ms": added}} if added else {})
                outcome.events.append((float(added), f"{store} round trip +{added} ms"))
                users = clients.run(requests_count=200, seconds=self.seconds_per_step, pause=0.05)
                times = [o.seconds for u in users for o in answered(u)]
                runs[added] = users
                figures[f"+{added}ms"] = {
                    "requests": len(times),
                    "p50_ms": round(percentile(times, 0.5) * 1000, 1),
                    "p95_ms": round(percentile(times, 0.95) * 1000, 1),
                }
        finally:
            lab.set_faults({})
        outcome.figures = {"store": store, **figures}
        outcome.observed = "; ".join(f"{key}: p50 {f['p50_ms']} ms, p95 {f['p95_ms']} ms" for key, f in figures.items())
        outcome.judge(each_user_slower_by(runs[ADDED_MS[0]], runs[ADDED_MS[-1]], ADDED_MS[-1] / 1000))
