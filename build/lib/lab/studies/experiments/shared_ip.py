from collections import Counter

from lab.studies.experiments.base import Case, Experiment, timeline
from lab.verdicts.rules import all_on_one_node, each_pinned_and_spread, each_saw_every_node, no_one_logged_out


class SharedIp(Experiment):
    name = "shared-ip"
    summary = "30 users behind one address (a NAT); how evenly do the nodes share them?"
    cases = (Case("redis", "ip_hash"), Case("redis", "round_robin"), Case("redis", "sticky"))
    quick = (Case("redis", "ip_hash"),)
    direct_clients, nat_users = 0, 30

    def expect(self, case):
        return {
            "ip_hash": ("all 30 users land on one node (skew 3.0)", "ip_hash sees one address, so one node"),
            "round_robin": ("every user is served by every node (skew near 1.0)", "every request goes to the next node"),
            "sticky": (
                "each user stays on one node, and the users cover every node",
                "each user gets a node cookie, handed out in turn",
            ),
        }[case.balance]

    def measure(self, lab, clients, case, outcome):
        username, _ = lab.login()
        users = clients.run(20, seconds=60)
        per_node = Counter(o.node for u in users for o in u.observations if o.node)
        nodes = lab.config().nodes
        mean = sum(per_node.values()) / nodes
        skew = max(per_node.values()) / mean if mean else 0.0
        outcome.figures = {
            "users": len(users),
            "addresses": len({u.address for u in users}),
            "requests_per_node": dict(sorted(per_node.items())),
            "skew_max_over_mean": round(skew, 2),
        }
        outcome.observed = f"requests per node {dict(sorted(per_node.items()))}: skew {skew:.2f}"
        spread = {
            "ip_hash": lambda: all_on_one_node(users),
            "round_robin": lambda: each_saw_every_node(users, nodes),
            "sticky": lambda: each_pinned_and_spread(users, nodes),
        }[case.balance]()
        outcome.judge(spread & no_one_logged_out(users, username))
        started = min((o.at for u in users for o in u.observations), default=0.0)
        outcome.timeline = timeline(users, username, started)
