"""What every failure experiment shares: background traffic, a per-second timeline, and the outcome.

An experiment disturbs a running lab while virtual users browse it, then judges what the users saw.
Each states its expectation per case with a reason; `Experiment.run` always tries to put the lab back
as it found it, and says so when it could not.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

from lab.errors import LabError
from lab.model.backends import BACKENDS
from lab.model.stores import APP_DATABASE
from lab.run.lab import Lab
from lab.traffic.clients import Clients
from lab.traffic.observations import UserEvidence
from lab.verdicts.rules import Judgement


@dataclass(frozen=True)
class Case:
    """One run of an experiment: a backend and a balancing mode (and options some experiments need)."""

    backend: str
    balance: str
    option: str = ""

    @property
    def label(self) -> str:
        return f"{self.backend}/{self.balance}" + (f"/{self.option}" if self.option else "")


@dataclass
class Outcome:
    """One case, measured: the expectation, the figures, and whether they agree."""

    experiment: str
    case: str
    expected: str
    reason: str
    observed: str = ""
    passed: bool = False
    figures: dict = field(default_factory=dict)
    events: list[tuple[float, str]] = field(default_factory=list)
    timeline: list[dict] = field(default_factory=list)
    restored: str = "yes"
    seconds: float = 0.0
    why: str = ""  # the rule's explanation: which users broke it, or what held

    def judge(self, judgement: Judgement) -> None:
        """Record a rule's verdict (lab.rules) as this case's."""
        self.passed, self.why = judgement.passed, judgement.why

    def to_dict(self) -> dict:
        return asdict(self)


class Traffic:
    """Virtual users that log in, then browse at a steady pace in the background for `seconds`."""

    def __init__(self, clients: Clients, seconds: float, pause: float = 0.1):
        self.clients, self.seconds, self.pause = clients, seconds, pause
        self.events: list[tuple[float, str]] = []
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._future: Future | None = None
        self.started = 0.0

    def __enter__(self) -> "Traffic":
        self.started = time.time()
        # The count bound is generous; time ends the run. Either way it stops by itself.
        self._future = self._pool.submit(self.clients.run, 10_000, self.seconds, self.pause)
        return self

    def __exit__(self, *exc) -> None:
        self._pool.shutdown(wait=True)

    def mark(self, label: str) -> float:
        """Record that something happened now; return its time since the traffic started."""
        at = time.time() - self.started
        self.events.append((round(at, 2), label))
        return at

    def users(self) -> list[UserEvidence]:
        """Wait for the traffic to end and return what every user saw."""
        return self._future.result(timeout=self.seconds + 60)


def session_store(backend: str) -> str:
    """The store a backend keeps its sessions in: its own (Redis, Memcached), else the app database."""
    stores = BACKENDS[backend].stores
    return stores[0] if stores else APP_DATABASE


def timeline(users: list[UserEvidence], username: str, started: float) -> list[dict]:
    """Per second since `started`: requests sent, failed requests, and requests that found the user logged out."""
    bins: dict[int, dict] = {}
    for user in users:
        seen = False
        for o in user.observations:
            second = int(o.at - started)
            row = bins.setdefault(second, {"second": second, "requests": 0, "failures": 0, "logouts": 0})
            row["requests"] += 1
            if o.status != 200:
                row["failures"] += 1
            elif o.user == username:
                seen = True
            elif seen:
                row["logouts"] += 1
    return [bins[second] for second in sorted(bins) if second >= 0]


class Experiment:
    """A named disturbance with its cases; subclasses provide `expect` and `measure`."""

    name = ""
    summary = ""
    cases: tuple[Case, ...] = ()
    quick: tuple[Case, ...] = ()  # what `make test` runs
    several_hosts = False  # whether the lab must run on several hosts (an engine that has them: a swarm)
    needs_channels = False  # whether the site must be an ASGI site with Django Channels
    needs_workers = False  # whether the site must have a worker process type (a Celery worker)
    direct_clients, nat_users = 6, 3

    def expect(self, case: Case) -> tuple[str, str]:
        """(what should happen, why) for this case."""
        raise NotImplementedError("subclasses of Experiment must provide expect()")

    def measure(self, lab: Lab, clients: Clients, case: Case, outcome: Outcome) -> None:
        """Disturb the lab under traffic; fill in outcome.observed, figures, passed, events and timeline."""
        raise NotImplementedError("subclasses of Experiment must provide measure()")

    def prepare(self, lab: Lab, case: Case) -> None:
        """Bring the lab to the case's configuration (default: its backend and balance mode)."""
        lab.switch(backend=case.backend, balance=case.balance)

    def run(self, lab: Lab, case: Case) -> Outcome:
        """Run one case and put the lab back as it was."""
        expected, reason = self.expect(case)
        outcome = Outcome(self.name, case.label, expected, reason)
        before = lab.config()
        started = time.monotonic()
        try:
            self.prepare(lab, case)
            clients = lab.clients(self.direct_clients, self.nat_users)
            clients.ensure()
            self.measure(lab, clients, case, outcome)
        finally:
            try:
                lab.up(before)
            except LabError as error:
                outcome.restored = f"no: {error}"
            outcome.seconds = round(time.monotonic() - started, 1)
        return outcome
