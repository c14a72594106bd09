import time
from collections import Counter

from .base import Case, Experiment, Traffic, ended_logged_out, node_before, timeline


def node_after(user, moment: float) -> str | None:
    """The node that served most of the user's requests after `moment` (epoch)."""
    later = Counter(o.node for o in user.observations if o.at > moment and o.node)
    return later.most_common(1)[0][0] if later else None


class ScaleOut(Experiment):
    name = "scale-out"
    summary = "add a fourth node under a pinning balancer; count the users it moves"
    cases = (Case("redis", "ip_hash"), Case("redis", "cookie_hash"), Case("redis", "sticky"))
    quick = ()
    direct_clients, nat_users = 12, 12  # 13 client addresses, 24 users

    def expect(self, case):
        return {
            "ip_hash": ("many users move (nginx's ip_hash is not consistent)", "the hash is taken modulo the node count"),
            "cookie_hash": ("about 1 in 4 users move", "a consistent hash moves about 1/N of keys to the new node"),
            "sticky": ("no one moves", "the cookie names the node; only new users reach the new one"),
        }[case.balance]

    def prepare(self, lab, case):
        lab.switch(backend=case.backend, balance=case.balance, nodes=3)

    def measure(self, lab, clients, case, outcome):
        username, _ = lab.login()
        with Traffic(clients, seconds=12) as traffic:
            time.sleep(4)
            added = traffic.started + traffic.mark("node-4 added")
            lab.switch(nodes=4)
            reloaded = traffic.started + traffic.mark("nginx reloaded with 4 nodes")
            users = traffic.users()
        settled = reloaded + 0.5
        moved = [u for u in users if node_before(u, added) and node_after(u, settled) not in (None, node_before(u, added))]
        addresses = {u.address for u in users}
        moved_addresses = {u.address for u in moved}
        share = len(moved) / len(users) if users else 0.0
        outcome.figures = {
            "users": len(users),
            "client_addresses": len(addresses),
            "users_moved": len(moved),
            "share_moved": round(share, 2),
            "addresses_moved": len(moved_addresses),
            "consistent_hashing_promise": round(1 / 4, 2),
            "logged_out_here": sum(ended_logged_out(u, username) for u in users),
            "would_be_logged_out_with_a_per_node_store": len(moved),
        }
        outcome.observed = (
            f"{len(moved)} of {len(users)} users moved ({share:.0%}; {len(moved_addresses)} of {len(addresses)} "
            f"addresses); consistent hashing promises about 25%"
        )
        no_logouts = outcome.figures["logged_out_here"] == 0  # Redis is shared: moving costs nothing here
        if case.balance == "sticky":
            outcome.passed = no_logouts and not moved
        elif case.balance == "cookie_hash":
            outcome.passed = no_logouts and 0 < share <= 0.5
        else:
            outcome.passed = no_logouts and bool(moved)
        outcome.events, outcome.timeline = traffic.events, timeline(users, username, traffic.started)
