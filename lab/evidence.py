"""Evidence: what a user saw. A virtual user logs in through nginx like a browser and records every answer.

This stage only observes: it reads a URL and a login, never the lab's internals.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field

import requests

_CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass(frozen=True)
class Observation:
    """One request as the user saw it."""

    index: int
    status: int
    user: str | None
    node: str | None
    session: str | None
    counter: int | None
    seconds: float
    error: str | None = None


@dataclass
class UserEvidence:
    """Everything one virtual user saw: the login, then each /whoami answer."""

    name: str
    login_node: str | None = None
    logged_in: bool = False
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


class LoginFailed(Exception):
    """The login form did not log the user in."""


class VirtualUser:
    """A client with its own cookie jar, talking to the lab through nginx."""

    def __init__(self, base_url: str, name: str = "user", timeout: float = 10.0):
        self.base_url = base_url.rstrip("/") + "/"
        self.http = requests.Session()
        self.timeout = timeout
        self.evidence = UserEvidence(name)

    def login(self, username: str, password: str) -> None:
        """Load the login page, post the form with its CSRF token, and check the user is logged in."""
        page = self.http.get(self.base_url + "accounts/login/", timeout=self.timeout)
        page.raise_for_status()
        match = _CSRF_FIELD.search(page.text)
        if not match:
            raise LoginFailed(f"no CSRF token in the login page (status {page.status_code})")
        answer = self.http.post(
            self.base_url + "accounts/login/",
            data={"username": username, "password": password, "csrfmiddlewaretoken": match.group(1)},
            headers={"Referer": self.base_url + "accounts/login/"},
            allow_redirects=False,
            timeout=self.timeout,
        )
        self.evidence.login_node = answer.headers.get("X-Lab-Node")
        if answer.status_code != 302:
            raise LoginFailed(f"login answered {answer.status_code} from {self.evidence.login_node}, not a redirect")
        self.evidence.logged_in = True

    def whoami(self) -> Observation:
        """One /whoami request, recorded."""
        index = len(self.evidence.observations)
        started = time.monotonic()
        try:
            answer = self.http.get(self.base_url + "whoami", timeout=self.timeout)
            body = answer.json() if answer.headers.get("Content-Type", "").startswith("application/json") else {}
            observation = Observation(
                index,
                answer.status_code,
                body.get("user"),
                answer.headers.get("X-Lab-Node") or body.get("node"),
                body.get("session"),
                body.get("counter"),
                time.monotonic() - started,
            )
        except requests.RequestException as error:
            observation = Observation(index, 0, None, None, None, None, time.monotonic() - started, str(error))
        self.evidence.observations.append(observation)
        return observation

    def browse(self, requests_count: int, deadline: float | None = None) -> UserEvidence:
        """Make up to `requests_count` /whoami requests, stopping at `deadline` (time.monotonic())."""
        for _ in range(requests_count):
            if deadline is not None and time.monotonic() > deadline:
                break
            self.whoami()
        return self.evidence
