import time

from lab.model.backends import BACKENDS
from lab.studies.experiments.base import Case, Experiment, Traffic, timeline
from lab.verdicts.rules import (
    Judgement,
    ended_logged_out,
    failures,
    logged_out_exactly_when,
    no_one_logged_out,
    node_before,
)


class NodeDown(Experiment):
    name = "node-down"
    summary = "stop node-1 mid-session; nginx fails its users over to the other nodes"
    cases = (Case("redis", "sticky"), Case("local_file", "sticky"), Case("redis", "round_robin"))
    quick = (Case("local_file", "sticky"),)

    def expect(self, case):
        if BACKENDS[case.backend].survives_round_robin:
            return "no one is logged out", "the sessions live in a store every remaining node reads"
        return (
            "exactly the users bound to node-1 are logged out",
            "their sessions were files on node-1's volume; the node that takes them over has none",
        )

    def measure(self, lab, clients, case, outcome):
        username, _ = lab.login()
        with Traffic(clients, seconds=10) as traffic:
            time.sleep(3)
            stopped = traffic.started + traffic.mark("node-1 stopped (killed)")
            lab.engine.stop_member(f"{lab.name}-node-1", timeout=0)
            users = traffic.users()
        bound = sorted(u.name for u in users if node_before(u, stopped) == "node-1")
        out = sorted(u.name for u in users if ended_logged_out(u, username))
        failed = failures(users, after=stopped)
        after = [o for u in users for o in u.observations if o.at >= stopped]
        outcome.figures = {
            "users": len(users),
            "bound_to_node_1": len(bound),
            "logged_out": len(out),
            "failed_requests": len(failed),
            "seconds_until_no_failure": round(max((o.at for o in failed), default=stopped) - stopped, 2),
            "slowest_request_after_stop_s": round(max((o.seconds for o in after), default=0), 2),
        }
        outcome.observed = (
            f"{len(out)} of {len(users)} users logged out ({len(bound)} were on node-1); "
            f"{len(failed)} requests failed while nginx failed over"
        )
        if BACKENDS[case.backend].survives_round_robin:
            someone_moved = Judgement(bool(bound), f"{len(bound)} users were on node-1 and had to move")
            outcome.judge(no_one_logged_out(users, username) & someone_moved)
        else:
            on_node_1 = lambda user: node_before(user, stopped) == "node-1"  # noqa: E731
            outcome.judge(logged_out_exactly_when(users, username, on_node_1, "were on node-1 when it stopped"))
        outcome.events, outcome.timeline = traffic.events, timeline(users, username, traffic.started)
