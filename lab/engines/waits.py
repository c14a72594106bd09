"""Asking the readiness checks of the plan (lab.model.checks) on a real engine, and one wait loop.

A check never raises for "not yet"; the wait loop turns a timeout or an exited container into
NotReady with the container's last log lines attached.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from typing import Protocol, Sequence

from lab.engines import direct
from lab.engines.host import fetch
from lab.errors import NotReady
from lab.model.checks import Check, ExecCheck, HttpCheck, NodeCheck


class ContainerRunner(Protocol):
    """What a check needs from an engine."""

    def exec(self, container: str, command: Sequence[str]) -> tuple[int, str]: ...

    def address(self, container: str, network: str) -> str: ...

    def status(self, container: str) -> tuple[str, int | None]: ...

    def logs(self, container: str, tail: int = 40) -> str: ...

    def passes(self, check: Check, container: str) -> bool: ...


def passes(check: Check, engine: ContainerRunner, container: str) -> bool:
    """Whether `check` passes for `container` now; never raises for "not yet"."""
    if isinstance(check, NodeCheck):
        return _node_passes(check, engine, container)
    if isinstance(check, ExecCheck):
        code, _ = engine.exec(container, check.command)
        return code == 0
    if isinstance(check, HttpCheck):
        # nginx's own health answer, over https too (its certificate is the lab's own).
        return fetch(check.url, timeout=check.timeout)[0] == 200
    raise NotImplementedError(f"no way to ask {type(check).__name__}")


def _node_passes(check: NodeCheck, engine: ContainerRunner, container: str) -> bool:
    if direct.unreachable():
        return passes(check.fallback, engine, container)
    address = engine.address(container, check.network)
    if not address:
        return False
    try:
        with urllib.request.urlopen(f"http://{address}:{check.port}/__lab__/health", timeout=1) as response:
            ok = response.status == 200 and response.headers.get("X-Lab-Config-Id") == check.config_id
    except urllib.error.HTTPError:
        return False
    except (urllib.error.URLError, OSError) as error:
        if direct.learn(error):
            return False  # routed here, nothing listens yet
        return passes(check.fallback, engine, container) if direct.unreachable() else False
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
            limit = engine.memory_killed(container) if exit_code == 137 and hasattr(engine, "memory_killed") else 0
            if limit:
                reason = (f"the kernel killed it: out of memory (limit {limit} MB); give each node more with "
                          "`lab up --node-memory MB`")
            raise NotReady(container, reason, engine.logs(container, tail=60) if state != "missing" else "")
        if state == "running" and engine.passes(check, container):
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
