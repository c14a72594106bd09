"""Stopwatch: where a lab's time goes, step by step (container stop, create, start, readiness, ...).

The engine and the Lab time their steps into the stopwatch they are given; the benchmark prints the
totals as a profile. Steps of parallel threads add up, so a step's total is busy time, and the
longest single run of a step is given beside it (what the wall clock waited for at most).
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass
from typing import Iterator


@dataclass
class StepTime:
    """One step's figures: how often, in all, and the longest single run, in seconds."""

    count: int = 0
    total: float = 0.0
    longest: float = 0.0


class Stopwatch:
    """Accumulates time per named step; safe to use from several threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.steps: dict[str, StepTime] = {}

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time the body as one run of step `name` (also when it raises)."""
        started = time.monotonic()
        try:
            yield
        finally:
            self.add(name, time.monotonic() - started)

    def add(self, name: str, seconds: float) -> None:
        """Count one run of step `name` that took `seconds`."""
        with self._lock:
            figures = self.steps.setdefault(name, StepTime())
            figures.count += 1
            figures.total += seconds
            figures.longest = max(figures.longest, seconds)

    def take(self) -> dict[str, StepTime]:
        """The figures so far, and start again from nothing."""
        with self._lock:
            steps, self.steps = self.steps, {}
        return steps
