import time

from lab.studies.experiments.base import Case, Experiment, Traffic, timeline
from lab.verdicts.rules import ended_logged_out, moved, moved_by_address, moved_only_to, no_one_logged_out, no_one_moved


class ScaleOut(Experiment):
    name = "scale-out"
    summary = "add a fourth node under a pinning balancer; count the users it moves"
    cases = (Case("redis", "ip_hash"), Case("redis", "cookie_hash"), Case("redis", "sticky"))
    quick = ()
    direct_clients, nat_users = 12, 12  # 13 client addresses, 24 users

    def expect(self, case):
        return {
            "ip_hash": (
                "users move, between old nodes too, and users behind one address move together",
                "nginx's ip_hash is not consistent (the hash is taken modulo the node count), and keys on the address",
            ),
            "cookie_hash": (
                "some users move (about 1 in 4), every one of them to the new node",
                "a consistent hash moves about 1/N of keys, and only to the new node",
            ),
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
        movers = [u for u in users if moved(u, added, settled)]
        addresses = {u.address for u in users}
        moved_addresses = {u.address for u in movers}
        share = len(movers) / len(users) if users else 0.0
        outcome.figures = {
            "users": len(users),
            "client_addresses": len(addresses),
            "users_moved": len(movers),
            "share_moved": round(share, 2),
            "addresses_moved": len(moved_addresses),
            "consistent_hashing_promise": round(1 / 4, 2),
            "logged_out_here": sum(ended_logged_out(u, username) for u in users),
            "would_be_logged_out_with_a_per_node_store": len(movers),
        }
        outcome.observed = (
            f"{len(movers)} of {len(users)} users moved ({share:.0%}; {len(moved_addresses)} of {len(addresses)} "
            f"addresses); consistent hashing promises about 25%"
        )
        # Redis is shared: moving costs nothing here, so no one may be logged out in any case.
        movement = {
            "sticky": lambda: no_one_moved(users, added, settled),
            "cookie_hash": lambda: moved_only_to(users, "node-4", added, settled),
            "ip_hash": lambda: moved_by_address(users, added, settled),
        }[case.balance]()
        outcome.judge(movement & no_one_logged_out(users, username))
        outcome.events, outcome.timeline = traffic.events, timeline(users, username, traffic.started)
