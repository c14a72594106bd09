"""What one virtual user saw, and the rule that reads it: logged in, then every answer showed the user with a
session counter rising by exactly one.

Standard library only: the file also runs in client containers, beside evidence.py (as lab_observations.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields


@dataclass(frozen=True)
class Observation:
    """One request of the lab's /__lab__/whoami as the user saw it."""

    index: int
    status: int
    user: str | None
    node: str | None
    session: str | None
    counter: int | None
    seconds: float
    error: str | None = None
    at: float = 0.0  # when it was sent (epoch seconds), to line requests up with what happened to the lab
    version: str | None = None  # the site's version that answered (X-Lab-Version): a rolling deploy has two


@dataclass
class UserEvidence:
    """Everything one virtual user saw: the login, then each /__lab__/whoami answer."""

    name: str
    client: str = ""  # the container the user ran in ("" for this machine)
    address: str = ""  # the client's address as nginx sees it
    login_node: str | None = None  # where the login happened, so where a per-node store keeps the session
    logged_in: bool = False
    login_error: str | None = None
    observations: list[Observation] = field(default_factory=list)

    @property
    def nodes_seen(self) -> list[str]:
        """Distinct nodes that answered this user after login, in order of first appearance."""
        return list(dict.fromkeys(o.node for o in self.observations if o.node))

    def first_failure(self, username: str) -> Observation | None:
        """The first request that did not show the user, or whose counter did not rise by exactly one."""
        previous = None
        for observation in self.observations:
            if observation.status != 200 or observation.user != username:
                return observation
            if previous is not None and observation.counter != previous + 1:
                return observation
            previous = observation.counter
        return None

    def kept(self, username: str) -> bool:
        """Logged in, then every request showed the user with a counter rising by one."""
        return self.logged_in and bool(self.observations) and self.first_failure(username) is None

    def to_dict(self) -> dict:
        return {**asdict(self), "nodes_seen": self.nodes_seen}

    @classmethod
    def from_dict(cls, data: dict) -> "UserEvidence":
        known = {f.name for f in fields(cls)}
        evidence = cls(**{k: v for k, v in data.items() if k in known and k != "observations"})
        evidence.observations = [Observation(**o) for o in data.get("observations", [])]
        return evidence
