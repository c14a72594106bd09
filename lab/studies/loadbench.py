"""The load benchmark: what each session backend and balancing mode costs, measured side by side.

Logged-in users (their cookies taken from real logins) load `/` through nginx from every client
container at once with wrk, so every request reads and writes the session. Absolute figures move
from run to run on a shared machine, so the ratios measured in the same run are the point:
each backend against signed_cookies (no store), nginx against one node directly, and the load
generator against a static nginx answer (it must drive at least 3x what the cluster serves).
"""

from __future__ import annotations

import json
import time

from lab.engines.parallel import in_parallel
from lab.errors import EngineError, LabError
from lab.model.backends import BACKENDS
from lab.model.balance import BALANCE_MODES
from lab.resources import LOAD_SCRIPT
from lab.engines.clients_port import ClientsPort
from lab.run.lab import Lab
from lab.traffic.clients import ClientGroup, Clients, run_job

LUA = LOAD_SCRIPT
LUA_IN_CONTAINER = "/tmp/lab_load.lua"
COOKIES_IN_CONTAINER = "/tmp/lab_cookies.txt"
USERS_PER_CLIENT = 4


class BenchRefused(LabError):
    """A figure would stand on answers that are not 2xx."""


def _wrk(port: ClientsPort, container: str, url: str, seconds: float, connections: int, host: str = "", proto: str = "") -> dict:
    """wrk from a client container; `host` and `proto` are sent as Host and X-Forwarded-Proto (as nginx
    sends them). A figure does not stand on answers that are not 2xx: BenchRefused names them."""
    command = [
        "wrk", "--threads", "1", "--connections", str(connections), "--duration", f"{seconds:g}s",
        "--timeout", "10s", "--script", LUA_IN_CONTAINER, url, "--", COOKIES_IN_CONTAINER, host, proto,
    ]
    code, output = port.exec(container, command)
    line = next((l for l in output.splitlines() if l.startswith("LABJSON ")), None)
    if code != 0 or line is None:
        raise EngineError(f"wrk in {container} failed (exit {code}):\n{output[-1500:]}")
    result = json.loads(line.removeprefix("LABJSON "))
    statuses = result.get("statuses") or {}
    if statuses:
        answers = ", ".join(f"{count} x {status}" for status, count in sorted(statuses.items()))
        raise BenchRefused(
            f"no figure from {url}: {sum(statuses.values())} of {result['requests']} answers were not 2xx ({answers}); "
            f"`lab logs node-1` shows why (a 400 is usually ALLOWED_HOSTS, a 3xx a redirect to log in or to https)"
        )
    return result


def merged_percentiles(parts: list[dict], percents=(50, 95, 99)) -> dict[str, float]:
    """Percentiles of the merged latency distribution of clients that ran at once (0.1 ms buckets)."""
    histogram: dict[int, int] = {}
    for part in parts:
        for bucket, count in part["latency_0.1ms"].items():
            histogram[int(bucket)] = histogram.get(int(bucket), 0) + count
    total = sum(histogram.values())
    found = {}
    for percent in percents:
        needed, seen = total * percent / 100, 0
        for bucket in sorted(histogram):
            seen += histogram[bucket]
            if seen >= needed:
                found[f"p{percent}_ms"] = round((bucket + 0.5) / 10, 2)  # the bucket's middle
                break
        else:
            found[f"p{percent}_ms"] = 0.0
    return found


def combine(parts: list[dict]) -> dict:
    """One figure for clients that ran at once: rates add up; percentiles come from the merged distribution."""
    nodes: dict[str, int] = {}
    for part in parts:
        for node, count in part["nodes"].items():
            nodes[node] = nodes.get(node, 0) + count
    served = sum(count for node, count in nodes.items() if node.startswith("node-")) or 1
    return {
        "requests_per_s": round(sum(p["requests"] / p["seconds"] for p in parts), 1),
        **merged_percentiles(parts),
        "errors": sum(p["errors"] + p["non_2xx"] for p in parts),
        "node_share": {n: round(c / served, 3) for n, c in sorted(nodes.items()) if n.startswith("node-")},
        # Backends that lose the login under this balancing serve most requests to an anonymous visitor.
        "logged_in_share": round(1 - nodes.get("anonymous", 0) / served, 3),
    }


class LoadBench:
    """Drives one running lab from its client containers (one direct user each, no shared address):
    the lab is switched from cell to cell; everything else goes through the clients' port."""

    def __init__(self, lab: Lab, seconds: float, connections: int = 4, clients: Clients | None = None):
        self.lab, self.seconds, self.connections = lab, seconds, connections
        self.clients = clients or lab.clients(nat_users=0)
        self.port = self.clients.port
        self.nginx = self.clients.url

    def _prepare(self) -> None:
        self.clients.ensure()
        script = LUA.read_text()
        in_parallel(lambda g: self.port.put_file(g.container.name, LUA_IN_CONTAINER, script), self.clients.groups)

    def _log_in(self, group: ClientGroup) -> None:
        """Real logins through nginx, from this client's own address; their cookies go to wrk."""
        username, password = self.clients.login
        job = {
            "cookies": True,
            "url": self.nginx,
            "ca": self.clients.ca,
            "username": username,
            "password": password,
            "count": USERS_PER_CLIENT,
            "login_path": self.clients.login_path,
        }
        code, output = run_job(self.port, group, job)
        if code != 0:
            raise EngineError(f"logging load users in from {group.container.name} failed:\n{output[-1500:]}")
        cookies = json.loads(output.strip().splitlines()[-1])
        self.port.put_file(group.container.name, COOKIES_IN_CONTAINER, "\n".join(cookies) + "\n")

    def cell(self, backend: str, balance: str, path: str = "") -> dict:
        """Switch to (backend, balance), log users in, and load it from every client at once."""
        self.lab.switch(backend=backend, balance=balance)
        self._prepare()
        in_parallel(self._log_in, self.clients.groups)
        parts = in_parallel(
            lambda g: _wrk(self.port, g.container.name, self.nginx + path, self.seconds, self.connections),
            self.clients.groups,
        )
        return {"backend": backend, "balance": balance, **combine(parts)}

    def static_capacity(self) -> dict:
        """The generator against nginx's own static answer: what the clients can drive at most."""
        parts = in_parallel(
            lambda g: _wrk(self.port, g.container.name, self.nginx + "nginx-health", self.seconds, self.connections),
            self.clients.groups,
        )
        return combine(parts)

    def balancer_cost(self) -> dict:
        """One connection from one client: through nginx, and straight to node-1 (on the lab network) with
        the headers nginx would send it (Host, X-Forwarded-Proto), so both are the same page, answered 2xx."""
        client = self.clients.groups[0].container.name
        plan = self.lab.plan()
        self.port.attach(plan.network, client)
        through = _wrk(self.port, client, self.nginx, self.seconds, 1)
        host, proto = plan.nginx.name, self.nginx.split(":", 1)[0]
        direct = _wrk(self.port, client, f"http://{plan.nodes[0].name}:8000/", self.seconds, 1, host=host, proto=proto)
        return {
            "through_nginx_p50_ms": round(through["p50_ms"], 2),
            "direct_to_node_p50_ms": round(direct["p50_ms"], 2),
            "nginx_adds_ms": round(through["p50_ms"] - direct["p50_ms"], 2),
        }


def run(lab: Lab, quick: bool, progress=lambda line: None) -> dict:
    """The whole benchmark on a running lab; returns every figure (see report_lines)."""
    started = time.monotonic()
    bench = LoadBench(lab, seconds=3 if quick else 8)
    available = [name for name, b in BACKENDS.items() if b.available]
    backends = ["signed_cookies", "redis", "db", "nfs"] if quick else available
    modes = [] if quick else list(BALANCE_MODES)
    results = {"backends": [], "modes": []}
    for backend in backends:
        results["backends"].append(bench.cell(backend, "round_robin"))
        progress(f"  {backend}: {results['backends'][-1]['requests_per_s']} req/s")
    for mode in modes:
        results["modes"].append(bench.cell("redis", mode))
        progress(f"  redis/{mode}: {results['modes'][-1]['requests_per_s']} req/s")
    results["balancer"] = bench.balancer_cost()
    results["generator"] = bench.static_capacity()
    best = max(r["requests_per_s"] for r in results["backends"] + results["modes"])
    results["generator"]["times_cluster_best"] = round(results["generator"]["requests_per_s"] / best, 1)
    baseline = next(r for r in results["backends"] if r["backend"] == "signed_cookies")["requests_per_s"]
    for row in results["backends"]:
        row["vs_signed_cookies"] = round(row["requests_per_s"] / baseline, 2)
    config = lab.config()
    results["meta"] = {
        "quick": quick,
        "seconds_per_cell": bench.seconds,
        "clients": len(bench.clients.groups),
        "connections_per_client": bench.connections,
        "users": len(bench.clients.groups) * USERS_PER_CLIENT,
        "nodes": config.nodes,
        "workers": config.workers,
        "total_seconds": round(time.monotonic() - started, 1),
    }
    return results
