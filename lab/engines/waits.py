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

from lab.engines import direct
from lab.engines.host import fetch
from lab.errors import NotReady


class ContainerRunner(Protocol):
    """What a check needs from an engine."""

    def exec(self, container: str, command: Sequence[str]) -> tuple[int, str]: ...

    def address(self, container: str, network: str) -> str: ...

    def status(self, container: str) -> tuple[str, int | None]: ...

    def logs(self, container: str, tail: int = 40) -> str: ...


class Check:
    """Answers "is it ready?" once."""

    description = "readiness check"
    interval = 0.1  # seconds between tries in the wait loop

    def passes(self, engine: ContainerRunner, container: str) -> bool:
        raise NotImplementedError("subclasses of Check must provide passes()")


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
        # nginx's own health answer, over https too (its certificate is the lab's own).
        return fetch(self.url, timeout=self.timeout)[0] == 200


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

    def passes(self, engine, container):
        if direct.unreachable():
            return self.fallback.passes(engine, container)
        address = engine.address(container, self.network)
        if not address:
            return False
        try:
            with urllib.request.urlopen(f"http://{address}:{self.port}/__lab__/health", timeout=1) as response:
                ok = response.status == 200 and response.headers.get("X-Lab-Config-Id") == self.config_id
        except urllib.error.HTTPError:
            return False
        except (urllib.error.URLError, OSError) as error:
            if direct.learn(error):
                return False  # routed here, nothing listens yet
            return self.fallback.passes(engine, container) if direct.unreachable() else False
        direct.learn(None)
        return ok


def wait_until_ready(
    engine: ContainerRunner, container: str, check: Check, timeout: float = 60.0, interval: float | None = None
) -> float:
    """Block until `check` passes; return the seconds it took, or raise NotReady with the logs."""
    started = time.monotonic()
    while True:
        state, exit_code = engine.status(container)
        if state in ("exited", "dead", "missing"):
            reason = f"it {state}" + (f" with code {exit_code}" if exit_code is not None else "")
            raise NotReady(container, reason, engine.logs(container, tail=60) if state != "missing" else "")
        if state == "running" and check.passes(engine, container):
            waited = time.monotonic() - started
            stopwatch = getattr(engine, "stopwatch", None)
            if stopwatch is not None:
                stopwatch.add("readiness wait (per container)", waited)
            return waited
        if time.monotonic() - started > timeout:
            raise NotReady(
                container, f"{check.description} did not pass within {timeout:.0f} s", engine.logs(container)
            )
        time.sleep(check.interval if interval is None else interval)
