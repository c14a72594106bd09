"""Readiness checks: small objects that say whether a container is ready, and one wait loop.

A check never raises for "not yet"; the wait loop turns a timeout or an exited container into
NotReady with the container's last log lines attached.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Protocol, Sequence

from .errors import NotReady


class ContainerRunner(Protocol):
    """What a check needs from an engine."""

    def exec(self, container: str, command: Sequence[str]) -> tuple[int, str]: ...

    def status(self, container: str) -> tuple[str, int | None]: ...

    def logs(self, container: str, tail: int = 40) -> str: ...


class Check:
    """Answers "is it ready?" once."""

    description = "readiness check"

    def passes(self, engine: ContainerRunner, container: str) -> bool:
        raise NotImplementedError("subclasses of Check must provide passes()")


@dataclass(frozen=True)
class ExecCheck(Check):
    """Ready when a command run inside the container exits 0."""

    command: tuple[str, ...]

    @property
    def description(self) -> str:
        return f"`{' '.join(self.command)}`"

    def passes(self, engine, container):
        code, _ = engine.exec(container, self.command)
        return code == 0


@dataclass(frozen=True)
class HttpCheck(Check):
    """Ready when a URL reached from this machine answers 200."""

    url: str
    timeout: float = 2.0

    @property
    def description(self) -> str:
        return f"GET {self.url}"

    def passes(self, engine, container):
        try:
            with urllib.request.urlopen(self.url, timeout=self.timeout) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False


def wait_until_ready(
    engine: ContainerRunner, container: str, check: Check, timeout: float = 60.0, interval: float = 0.2
) -> float:
    """Block until `check` passes; return the seconds it took, or raise NotReady with the logs."""
    started = time.monotonic()
    while True:
        state, exit_code = engine.status(container)
        if state in ("exited", "dead", "missing"):
            reason = f"it {state}" + (f" with code {exit_code}" if exit_code is not None else "")
            raise NotReady(container, reason, engine.logs(container, tail=60) if state != "missing" else "")
        if state == "running" and check.passes(engine, container):
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise NotReady(
                container, f"{check.description} did not pass within {timeout:.0f} s", engine.logs(container)
            )
        time.sleep(interval)
