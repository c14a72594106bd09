"""Watch: a live picture of users moving across nodes, built from the answers they get and the lab's events.

Plain data in (each answer a virtual user got, each event the engine or a switch made), plain data out
(a snapshot once a second for the views, a summary at the end). No Docker and no terminal here, so the
picture is unit-tested on made-up answers; lab.watch_feed brings the real ones.
"""

from __future__ import annotations

import bisect
import time
from collections import deque
from dataclasses import dataclass, field

IN, OUT, FAILED = "in", "out", "failed"  # logged in (coloured by node), logged out (a cross), no answer


@dataclass(frozen=True)
class Cell:
    """One answer as the views draw it."""

    at: float
    state: str
    node: str | None


@dataclass(frozen=True)
class Event:
    """Something that happened to the lab: a switch, a reload, a node stopped or started."""

    at: float
    kind: str
    text: str


@dataclass
class Watch:
    """The running picture: per user, the last answers; totals; the lab's events in order."""

    username: str
    users: list[str]
    lab_url: str = ""
    backend: str = ""
    balance: str = ""
    history: int = 120  # cells kept per user (views show as many as fit)
    started: float = field(default_factory=time.time)
    rows: dict[str, deque] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    answers: list[tuple[float, str]] = field(default_factory=list)  # (at, state) of every answer, for the summary
    nodes: set[str] = field(default_factory=set)
    logins: int = 0
    messages: int = 0  # WebSocket messages the chat users got (an ASGI site's channel layer)

    def __post_init__(self) -> None:
        for name in self.users:
            self.rows.setdefault(name, deque(maxlen=self.history))

    def add(self, item: dict) -> None:
        """One line of a client's stream: an answer, or a (re-)login."""
        name = item.get("name", "?")  # the virtual user; item["user"] is whom the node saw
        row = self.rows.setdefault(name, deque(maxlen=self.history))
        if item.get("kind") == "login":
            self.logins += 1
            return
        if item.get("kind") in ("message", "message-failed"):
            # A chat user's row: a cell per message it got, in the colour of the node that sent it.
            node = item.get("node") if item["kind"] == "message" else None
            if node:
                self.nodes.add(node)
                self.messages += 1
            row.append(Cell(float(item.get("at") or time.time()), IN if node else FAILED, node))
            return
        if item.get("kind") != "answer":
            return
        if item.get("status") != 200:
            state = FAILED
        else:
            state = IN if item.get("user") == self.username else OUT
        node = item.get("node")
        if node:
            self.nodes.add(node)
        cell = Cell(float(item.get("at") or time.time()), state, node)
        row.append(cell)
        self.answers.append((cell.at, state))

    def event(self, kind: str, text: str, at: float | None = None) -> None:
        """Mark an event; events stay in time order (sources report with different delays)."""
        bisect.insort(self.events, Event(at or time.time(), kind, text), key=lambda e: e.at)

    def set_lab(self, backend: str, balance: str, at: float | None = None) -> None:
        """The lab's configuration now; a change is a switch event."""
        if self.backend and (backend, balance) != (self.backend, self.balance):
            changes = [f"{what} {old} -> {new}" for what, old, new in (("backend", self.backend, backend), ("balance", self.balance, balance)) if old != new]
            self.event("switch", "switch: " + ", ".join(changes), at)
        self.backend, self.balance = backend, balance

    def rate(self, now: float | None = None, window: float = 2.0) -> float:
        """Answers per second over the last `window` seconds."""
        now = now or time.time()
        count = sum(1 for at, _ in reversed(self.answers[-2000:]) if now - at <= window)
        return round(count / window, 1)

    def totals(self) -> dict:
        states = [state for _, state in self.answers]
        return {
            "requests": len(states),
            "failures": states.count(FAILED),
            "logged_out": states.count(OUT),
            "logins": self.logins,
            "messages": self.messages,
        }

    def snapshot(self, now: float | None = None) -> dict:
        """What the views draw now: lab, rates, totals, each user's last cells, recent events."""
        now = now or time.time()
        return {
            "now": now,
            "lab_url": self.lab_url,
            "backend": self.backend,
            "balance": self.balance,
            "rate": self.rate(now),
            **self.totals(),
            "nodes": sorted(self.nodes),
            "users": {name: [[c.at, c.state, c.node] for c in row] for name, row in sorted(self.rows.items())},
            "events": [[e.at, e.kind, e.text] for e in self.events[-20:]],
        }

    def summary(self, window: float = 5.0) -> dict:
        """The run in numbers; per event, the answers in the `window` seconds before it and after it
        (logged out and failed among them)."""

        def count(start: float, end: float) -> dict:
            states = [state for at, state in self.answers if start <= at < end]
            return {"answers": len(states), "logged_out": states.count(OUT), "failed": states.count(FAILED)}

        return {
            "users": len(self.rows),
            **self.totals(),
            "nodes_seen": sorted(self.nodes),
            "backend": self.backend,
            "balance": self.balance,
            "seconds": round(time.time() - self.started, 1),
            "events": [
                {
                    "at": e.at,
                    "kind": e.kind,
                    "text": e.text,
                    "before": count(e.at - window, e.at),
                    "after": count(e.at, e.at + window),
                }
                for e in self.events
            ],
        }

    def paragraph(self) -> str:
        """The summary in one paragraph, for people."""
        s = self.summary()
        switches = [e for e in s["events"] if e["kind"] == "switch"]
        text = (
            f"{s['users']} users made {s['requests']} requests in {s['seconds']:.0f} s over {len(s['nodes_seen'])} nodes "
            f"({', '.join(s['nodes_seen']) or 'none'}); {s['logged_out']} answers found the user logged out, "
            f"{s['failures']} failed, and users logged in {s['logins']} times."
        )
        for event in switches:
            text += (
                f" {event['text']}: {event['before']['logged_out']} of {event['before']['answers']} answers logged out "
                f"in the 5 s before, {event['after']['logged_out']} of {event['after']['answers']} in the 5 s after."
            )
        return text
