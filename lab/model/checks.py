"""Readiness checks as data: what says that a container is ready. The plan gives each container one;
lab.engines.waits asks them (and waits) on a real engine.
"""

from __future__ import annotations

from dataclasses import dataclass


class Check:
    """Answers "is it ready?"; `interval` is the wait loop's pause between tries."""

    description = "readiness check"
    interval = 0.1  # seconds


@dataclass(frozen=True)
class ExecCheck(Check):
    """Ready when a command run inside the container exits 0."""

    command: tuple[str, ...]
    # Each try starts a process in the container (measured: about 0.1 s of the engine's CPU), so
    # polling fast competes with the very start it waits for.
    interval = 0.25

    @property
    def description(self) -> str:
        return f"`{' '.join(self.command)}`"


@dataclass(frozen=True)
class HttpCheck(Check):
    """Ready when a URL reached from this machine answers 200."""

    url: str
    timeout: float = 2.0

    @property
    def description(self) -> str:
        return f"GET {self.url}"


@dataclass(frozen=True)
class NodeCheck(Check):
    """Ready when a node answers /__lab__/health with 200 and the given configuration id (X-Lab-Config-Id).

    Asked straight over the lab's network from this machine, which costs the engine nothing; where
    this machine cannot reach containers (a VM-based engine), `fallback` runs inside the container.
    """

    network: str
    port: int
    config_id: str
    fallback: ExecCheck
    interval = 0.05

    @property
    def description(self) -> str:
        return f"/__lab__/health with configuration {self.config_id}"

    @property
    def command(self) -> tuple[str, ...]:
        return self.fallback.command
