"""What the user sees of long work (image builds, the release job, nodes coming up): a live view on a
terminal, plain lines everywhere else.

The layers below hand progress on as lines; some belong to a stage (lab.engines.stages.StageEvent). On a
terminal, each running stage is a spinner with its latest line, shortened, and its time so far; a stage
that ends leaves one line with the time it took ("✓ node image  41.2 s  django-lab/node:…"); every other
line is printed as it comes. Where the output is not a terminal, or TERM=dumb, or NO_COLOR or CI is set (a
CI log, a pipe), each line is printed as it comes, with no control characters: what a log can keep.
"""

from __future__ import annotations

import atexit
import functools
import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import Callable, Mapping, TextIO

from lab.engines.stages import FAILED, FINISHED, LINE, STARTED, StageEvent

DETAIL_CHARACTERS = 120  # a stage's latest line beside its spinner, at most (the terminal may cut it shorter)


def duration(seconds: float) -> str:
    """`41.2 s` under a minute, `2m03s` under an hour, `1h02m` past it."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{rest:02d}s"
    return f"{minutes // 60}h{minutes % 60:02d}m"


def shortened(line: str, limit: int = DETAIL_CHARACTERS) -> str:
    """A line of a build's output as one short line: spaces collapsed, the end cut off."""
    text = " ".join(line.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def is_live_terminal(stream: TextIO, environ: Mapping[str, str]) -> bool:
    """Whether `stream` is a terminal that can take a live view (not a dumb one, not a CI's log)."""
    if environ.get("TERM") == "dumb" or "NO_COLOR" in environ or environ.get("CI"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class PlainProgress:
    """Each line as it comes, on `file` (stdout at the time of each line when not given)."""

    def __init__(self, file: TextIO | None = None):
        self.file = file

    def __call__(self, line: str) -> None:
        if isinstance(line, StageEvent) and not line:
            return  # an event that only moves a terminal's spinner
        print(line, file=self.file or sys.stdout, flush=True)


@dataclass
class _Running:
    """A stage on screen: when it started (by the view's clock) and its latest line."""

    started: float
    detail: str = ""


class TerminalProgress:
    """The live view on a rich Console: a spinner per running stage, one line per stage that ended."""

    def __init__(self, console, clock: Callable[[], float] = time.monotonic, refresh_per_second: float = 8):
        self.console = console
        self.clock = clock
        self.refresh_per_second = refresh_per_second
        # Replaced, never changed in place: the display's own thread reads it while the stages run.
        self.running: dict[str, _Running] = {}
        self.live = None
        self.lock = threading.RLock()  # stores and nodes come up in parallel threads

    def __call__(self, line: str) -> None:
        with self.lock:
            if isinstance(line, StageEvent):
                self._stage_event(line)
            elif line:
                self.console.out(line, highlight=False)  # as it is: no markup read into a build's `[...]`
            else:
                self.console.out("")
            if self.live is not None:
                self.live.refresh()

    def close(self) -> None:
        """Take the spinners away (the lines of ended stages stay)."""
        with self.lock:
            if self.live is not None:
                self.live.stop()
                self.live = None

    def _stage_event(self, event: StageEvent) -> None:
        if event.kind == STARTED:
            self.running = {**self.running, event.stage: _Running(self.clock(), shortened(event.summary or event))}
            self._show()
        elif event.kind == LINE:
            if event.stage not in self.running:  # a line of a stage not said to start: it runs from now
                self.running = {**self.running, event.stage: _Running(self.clock())}
            self.running[event.stage].detail = shortened(event.summary or event)
            self._show()
        elif event.kind in (FINISHED, FAILED):
            running = self.running.get(event.stage)
            self.running = {name: other for name, other in self.running.items() if name != event.stage}
            seconds = event.seconds if event.seconds is not None else (self.clock() - running.started if running else 0.0)
            if not self.running:
                self.close()
            elif self.live is not None:
                self.live.refresh()  # the ended stage's spinner goes before its line is printed above the others
            self.console.print(self._ended_line(event, seconds, running), highlight=False)

    def _ended_line(self, event: StageEvent, seconds: float, running: _Running | None):
        from rich.text import Text

        mark, style = ("✓", "green") if event.kind == FINISHED else ("✗", "red")
        summary = event.summary or (running.detail if event.kind == FAILED and running else "")
        return Text.assemble((mark, f"bold {style}"), " ", (f"{event.stage:<18}", "bold"), " ",
                             (f"{duration(seconds):>8}", style), *(("  ", (shortened(summary), "dim")) if summary else ()))

    def _show(self) -> None:
        if self.live is not None:
            return
        from rich.live import Live

        self.live = Live(console=self.console, get_renderable=self._rows, transient=True,
                         refresh_per_second=self.refresh_per_second)
        self.live.start()
        atexit.register(self.close)  # an error that ends the program with a stage open: the cursor comes back

    def _rows(self):
        from rich.spinner import Spinner
        from rich.table import Table

        rows = Table.grid(padding=(0, 1))
        rows.add_column(no_wrap=True)
        rows.add_column(no_wrap=True, style="bold")
        rows.add_column(no_wrap=True, justify="right", style="cyan")
        rows.add_column(no_wrap=True, overflow="ellipsis", style="dim", ratio=1)
        now = self.clock()
        for name, running in self.running.items():
            rows.add_row(Spinner("dots", style="cyan"), name, duration(now - running.started), running.detail)
        return rows


def progress_for(stream: TextIO | None = None, environ: Mapping[str, str] | None = None) -> Callable[[str], None]:
    """Progress on `stream` (stdout): the live view on a terminal that takes one, plain lines elsewhere."""
    environ = os.environ if environ is None else environ
    if not is_live_terminal(stream or sys.stdout, environ):
        return PlainProgress(stream)
    from rich.console import Console

    return TerminalProgress(Console(file=stream, highlight=False))


@functools.cache
def on_stdout() -> Callable[[str], None]:
    """This process's progress on its stdout, made at its first line (one live view for every command)."""
    return progress_for()
