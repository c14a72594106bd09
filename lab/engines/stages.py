"""Stages of a long step (an image build, the release job, nodes coming up), told as they go.

Engines and the Lab hand progress to a callable that takes a line (`Progress`). A stage's events are
lines too: `StageEvent` is a `str`, so any such callable (print, a list's append) gets the line it always
got, while the terminal view (lab.reports.progress) also reads which stage an event belongs to, to draw
one spinner per running stage and its time once it ends. An event whose text is empty says nothing to
a log: it only moves the terminal's spinner.
"""

from __future__ import annotations

import contextlib
import time
from typing import Callable, Iterator

STARTED, LINE, FINISHED, FAILED = "started", "line", "finished", "failed"


class StageEvent(str):
    """A line of progress that belongs to a stage: `stage` (its name, as the user reads it: "node image"),
    `kind` (started, line, finished, failed), `seconds` (how long the stage took, when it ended) and
    `summary` (what the terminal says beside the spinner or, once the stage ended, beside its time)."""

    stage: str
    kind: str
    seconds: float | None
    summary: str

    def __new__(cls, text: str, stage: str, kind: str, seconds: float | None = None, summary: str = "") -> StageEvent:
        event = super().__new__(cls, text)
        event.stage, event.kind, event.seconds, event.summary = stage, kind, seconds, summary
        return event


class Stage:
    """One stage as it runs: says it started, hands on its lines, says how long it took.

        stage = Stage(progress, "node image", f"building image {tag}")
        stage.line("Step 3/9 : RUN apt-get ..."); stage.finish(f"built {tag} in 41 s", summary=tag)
    """

    def __init__(self, progress: Callable[[str], None], name: str, text: str = "", prefix: str = "", detail: str = ""):
        self.progress, self.name, self.prefix = progress, name, prefix  # prefix: before each line, in a log
        self.started = time.monotonic()
        self.ended = False
        progress(StageEvent(text, name, STARTED, summary=detail))  # detail: beside the spinner until a line comes

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started

    def line(self, text: str) -> None:
        """A line of the stage's own output (a build step's), as it comes: in a log after the prefix;
        on a terminal, as it is (the summary), beside the stage's spinner."""
        self.progress(StageEvent(self.prefix + text, self.name, LINE, summary=text))

    def finish(self, text: str = "", summary: str = "") -> None:
        self.ended = True
        self.progress(StageEvent(text, self.name, FINISHED, self.seconds, summary))

    def fail(self, text: str = "") -> None:
        """The stage stopped on an error (the error itself is the caller's to raise and tell)."""
        self.ended = True
        self.progress(StageEvent(text, self.name, FAILED, self.seconds))


@contextlib.contextmanager
def stage(
    progress: Callable[[str], None], name: str, text: str = "", prefix: str = "", detail: str = ""
) -> Iterator[Stage]:
    """A stage around a block: failed when the block raises (Ctrl-C too), finished when it ends without
    saying so itself."""
    current = Stage(progress, name, text, prefix, detail)
    try:
        yield current
    except BaseException:
        current.fail()
        raise
    if not current.ended:
        current.finish()
