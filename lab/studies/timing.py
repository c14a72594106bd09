"""What every benchmark of the lab's own steps shares: timing an action, and confirming from outside
the lab's code that nginx answers."""

from __future__ import annotations

import time
import urllib.request

from lab.errors import LabError
from lab.model.plan import HEALTH


def timed(action) -> float:
    """Seconds `action()` took."""
    started = time.monotonic()
    action()
    return time.monotonic() - started


def first_healthy(url: str) -> None:
    """Confirm, from outside the lab's own code, that nginx answers a node's health check with 200."""
    with urllib.request.urlopen(url + HEALTH, timeout=5) as answer:
        if answer.status != 200:
            raise LabError(f"{url}{HEALTH} answered {answer.status}")
