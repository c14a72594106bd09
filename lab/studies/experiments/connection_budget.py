"""connection-budget: add nodes until PostgreSQL refuses connections, then the same through PgBouncer.

Each gunicorn worker keeps its database connection open (CONN_MAX_AGE), so a lab holds nodes x workers
connections. PostgreSQL's max_connections is set low here, as a managed database's plan sets it, so the
limit is reached with the few nodes a test machine runs.
"""

import re
import time

from lab.errors import LabError
from lab.studies.experiments.base import Case, Experiment
from lab.verdicts.rules import got_an_error, failed_only_past_the_budget, no_request_failed

MAX_CONNECTIONS = 10
WORKERS = 4
MOST_NODES = 3  # 3 x 4 = 12 worker connections: past 10
_REFUSED = re.compile(r"too many clients|remaining connection slots are reserved")


class ConnectionBudget(Experiment):
    name = "connection-budget"
    summary = "add nodes until PostgreSQL refuses connections; then the same through PgBouncer"
    cases = (Case("redis", "round_robin", "direct"), Case("redis", "round_robin", "pgbouncer"))
    quick = cases
    seconds_per_step = 8

    def expect(self, case):
        if case.option == "pgbouncer":
            return (
                "no user gets an error at any node count; PostgreSQL holds at most the pool's connections",
                "PgBouncer in transaction pooling: the nodes' connections share a pool smaller than max_connections",
            )
        return (
            f"no error while nodes x {WORKERS} workers fit in max_connections {MAX_CONNECTIONS}; errors once they do not",
            "each worker keeps its connection open (CONN_MAX_AGE), so the lab holds nodes x workers connections",
        )

    def prepare(self, lab, case):
        lab.switch(backend=case.backend, balance=case.balance, nodes=1, workers=WORKERS,
                   max_connections=MAX_CONNECTIONS, pooler="" if case.option == "direct" else case.option)

    def measure(self, lab, clients, case, outcome):
        database = f"{lab.name}-postgres"
        steps, rows = [], []
        started = time.time()
        for nodes in range(1, MOST_NODES + 1):
            outcome.events.append((round(time.time() - started, 2), f"{nodes} node(s)"))
            try:
                if nodes > 1:
                    lab.switch(nodes=nodes)
            except LabError as error:  # a new node's health check may itself be refused
                outcome.events.append((round(time.time() - started, 2), f"node-{nodes} not ready: {str(error)[:200]}"))
            before = _refusals(lab, database)
            users = clients.run(requests_count=400, seconds=self.seconds_per_step, pause=0.05)
            held = nodes * WORKERS
            within = held <= MAX_CONNECTIONS
            steps.append((within, users))
            rows.append({
                "nodes": nodes,
                "worker_connections": held,
                "max_connections": MAX_CONNECTIONS,
                "within_budget": within,
                "users": len(users),
                "users_with_errors": sum(got_an_error(u) for u in users),
                "failed_requests": sum(1 for u in users for o in u.observations if o.status != 200),
                "refused_in_postgres_log": _refusals(lab, database) - before,
                "server_connections": _server_connections(lab, database),
            })
            if case.option == "direct" and not within:
                break
        outcome.figures = {"steps": rows, "workers_per_node": WORKERS}
        outcome.observed = "; ".join(
            f"{row['nodes']} node(s), {row['worker_connections']} worker connections: {row['users_with_errors']} of "
            f"{row['users']} users with errors, PostgreSQL refused {row['refused_in_postgres_log']}, "
            f"{row['server_connections']} server connections"
            for row in rows
        )
        judged = no_request_failed(steps) if case.option == "pgbouncer" else failed_only_past_the_budget(steps)
        outcome.judge(judged)


def _refusals(lab, database: str) -> int:
    """How many connections PostgreSQL has refused for lack of slots (its log, since it started)."""
    return len(_REFUSED.findall(lab.engine.member_logs(lab.name, database, tail=5000)))


def _server_connections(lab, database: str) -> int | str:
    """Client connections PostgreSQL holds now (over its local socket; none is left when it is full)."""
    code, output = lab.engine.exec_member(
        database, ["psql", "-U", "lab", "lab", "-tAc", "select count(*) from pg_stat_activity where backend_type = 'client backend'"]
    )
    return int(output.strip()) - 1 if code == 0 and output.strip().isdigit() else "none free to ask"
