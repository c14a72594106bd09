"""The matrix's verdicts: every session backend under every balancing mode, expected against observed.

EXPECTED is the one table of what should happen, each cell with its reason; a CellResult judges one
cell from every user's evidence, and says when that evidence cannot carry a verdict.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from lab.model.backends import BACKENDS
from lab.model.balance import BALANCE_MODES
from lab.traffic.observations import UserEvidence

KEPT, LOST = True, False

# Why a per-node store survives or not, by balancing mode (nodes run several gunicorn workers).
_PER_NODE = {
    "round_robin": (LOST, "requests rotate over the nodes; the session exists on one of them"),
    "least_conn": (LOST, "requests go wherever fewest are active; the session exists on one node"),
    "ip_hash": (KEPT, "each client address is pinned to one node, which holds its session"),
    "cookie_hash": (LOST, "login rotates the session key, so the hash (and the node) changes after login"),
    "sticky": (KEPT, "nginx's cookie pins the user to the node that served the login page"),
}
_SHARED = {mode: (KEPT, reason) for mode, reason in {
    "round_robin": "every node reads the same store",
    "least_conn": "every node reads the same store",
    "ip_hash": "pinned, and the store is shared anyway",
    "cookie_hash": "the node changes after login, but every node reads the same store",
    "sticky": "pinned, and the store is shared anyway",
}.items()}
_LOCMEM = {
    mode: (LOST, f"LocMemCache lives in one worker process, and each node runs several workers{extra}")
    for mode, extra in {
        "round_robin": "; requests also rotate over nodes",
        "least_conn": "; requests also move between nodes",
        "ip_hash": ": pinning a node does not pin a worker",
        "cookie_hash": "; the node also changes after login",
        "sticky": ": pinning a node does not pin a worker",
    }.items()
}
_COOKIES = {mode: (KEPT, "the session travels in a signed cookie every node can verify") for mode in BALANCE_MODES}


@dataclass(frozen=True)
class Expectation:
    kept: bool
    reason: str


EXPECTED: dict[tuple[str, str], Expectation] = {
    (backend, mode): Expectation(*verdict)
    for backend, table in {
        "local_file": _PER_NODE,
        "shared_file": _SHARED,
        "nfs": _SHARED,
        "db": _SHARED,
        "sqlite": _PER_NODE,
        "locmem": _LOCMEM,
        "redis": _SHARED,
        "memcached": _SHARED,
        "cached_db": _SHARED,
        "signed_cookies": _COOKIES,
    }.items()
    for mode, verdict in table.items()
}

# A few cells that tell the story, for the quick run `make test` does.
QUICK_CELLS = [
    ("redis", "round_robin"),
    ("local_file", "round_robin"),
    ("local_file", "ip_hash"),
    ("local_file", "cookie_hash"),
    ("locmem", "sticky"),
    ("signed_cookies", "least_conn"),
    ("nfs", "round_robin"),
]


def all_cells() -> list[tuple[str, str]]:
    """Every (backend, mode), backend by backend, so a run switches backends as few times as it can."""
    return [(backend, mode) for backend in BACKENDS for mode in BALANCE_MODES]


def expected(backend: str, balance: str, several_hosts: bool = False) -> Expectation:
    """The cell's expected verdict. With nodes on hosts of their own (a swarm), each host's local volume is
    its own: shared_file is then a per-node store (and NFS, the database, Redis and Memcached stay shared)."""
    if several_hosts and backend == "shared_file":
        kept, reason = _PER_NODE[balance]
        return Expectation(kept, f"on several hosts the 'shared' volume is local to each host: {reason}")
    return EXPECTED[(backend, balance)]


@dataclass
class CellResult:
    """One cell, observed: every user's evidence, and what it adds up to."""

    backend: str
    balance: str
    username: str
    users: list[UserEvidence]
    seconds: float
    switch_seconds: float
    several_hosts: bool = False
    expected: Expectation = field(init=False)

    def __post_init__(self) -> None:
        self.expected = expected(self.backend, self.balance, self.several_hosts)

    @property
    def kept_users(self) -> list[UserEvidence]:
        return [user for user in self.users if user.kept(self.username)]

    @property
    def observed_kept(self) -> bool:
        return bool(self.users) and len(self.kept_users) == len(self.users)

    @property
    def requests(self) -> int:
        return sum(len(user.observations) for user in self.users)

    @property
    def requests_logged_in(self) -> int:
        return sum(1 for user in self.users for o in user.observations if o.user == self.username)

    @property
    def nodes_seen(self) -> list[str]:
        return sorted({node for user in self.users for node in user.nodes_seen})

    def latency_ms(self) -> dict[str, float]:
        """Median and 95th percentile of the answered requests' times, in milliseconds."""
        times = sorted(o.seconds * 1000 for user in self.users for o in user.observations if o.status == 200)
        if not times:
            return {"median": 0.0, "p95": 0.0}
        return {"median": round(times[len(times) // 2], 2), "p95": round(times[math.ceil(len(times) * 0.95) - 1], 2)}

    def evidence_problem(self) -> str | None:
        """Why the observation cannot carry a verdict, or None when it can."""
        if not self.users:
            return "no virtual user reported back"
        failed = [user for user in self.users if not user.logged_in]
        if failed:
            names = ", ".join(user.name for user in failed)
            return f"no verdict: login failed for {names}: {failed[0].login_error}"
        errors = [o for user in self.users for o in user.observations if o.status == 0 or o.status >= 400]
        if errors:
            statuses = sorted({str(o.status or o.error or "no answer") for o in errors})
            return (
                f"no verdict: the page users browse answered errors ({', '.join(statuses)}) to {len(errors)} of "
                f"{self.requests} requests, so whether they stayed logged in cannot be read; pick another with --probe PATH"
            )
        if not BALANCE_MODES[self.balance].pins_users and self.observed_kept:
            single = [user.name for user in self.kept_users if len(user.nodes_seen) < 2]
            # round_robin rotates every request, so any user on one node means the spread failed.
            # least_conn follows load: with many users at once, one user may stay on the least busy
            # node by chance, so a few may; most users, and all users together, must see several.
            allowed = 0 if self.balance == "round_robin" else len(self.users) // 3
            if len(single) > allowed or len(self.nodes_seen) < 2:
                return (
                    f"not evidence: under {self.balance} users {', '.join(single) or '(all)'} saw one node only "
                    f"(nodes seen: {', '.join(self.nodes_seen)}), so keeping the login proves nothing"
                )
        return None

    @property
    def passed(self) -> bool:
        return self.observed_kept == self.expected.kept and self.evidence_problem() is None

    def lost_details(self) -> list[dict]:
        """Per lost user: the first failing request, the node it hit, and where the session was made."""
        details = []
        for user in self.users:
            failure = user.first_failure(self.username)
            if user.logged_in and failure is not None:
                details.append(
                    {
                        "user": user.name,
                        "request": failure.index,
                        "hit": failure.node,
                        "session_made_on": user.login_node,
                        "saw": failure.user or "anonymous",
                        "status": failure.status,
                    }
                )
        return details

    def summary(self) -> str:
        verdict = "kept" if self.observed_kept else "lost"
        return (f"{verdict} ({len(self.kept_users)} of {len(self.users)} users stayed logged in), "
                f"nodes {','.join(self.nodes_seen) or '-'}")

    def to_dict(self) -> dict:
        return {
            "backend": self.backend,
            "balance": self.balance,
            "username": self.username,
            "expected": "kept" if self.expected.kept else "lost",
            "reason": self.expected.reason,
            "observed": "kept" if self.observed_kept else "lost",
            "passed": self.passed,
            "evidence_problem": self.evidence_problem(),
            "users_kept": len(self.kept_users),
            "users": len(self.users),
            "requests_logged_in": self.requests_logged_in,
            "requests": self.requests,
            "nodes_seen": self.nodes_seen,
            "latency_ms": self.latency_ms(),
            "seconds": round(self.seconds, 2),
            "switch_seconds": round(self.switch_seconds, 2),
            "lost": self.lost_details(),
            "user_evidence": [user.to_dict() for user in self.users],
        }
