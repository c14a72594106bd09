"""Long work as the user sees it: a live view on a terminal (spinners, then one line per stage with its
time), plain lines in a log; the stages as the image builds tell them."""

import io
import re

import pytest
from rich.console import Console

from lab.engines.images import ensure_images
from lab.engines.stages import FAILED, FINISHED, LINE, STARTED, StageEvent, stage
from lab.errors import ImageBuildError
from lab.model.config import LabConfig
from lab.reports.progress import PlainProgress, TerminalProgress, duration, is_live_terminal, progress_for

TAG = "django-lab/node:0123456789ab"
# A node image's build as ensure_images tells it, then a plain line, then site-deps' build failing.
EVENTS = [
    StageEvent(f"building image {TAG}", "node image", STARTED),
    StageEvent("  [node] Step 3/9 : RUN apt-get update", "node image", LINE, summary="Step 3/9 : RUN apt-get update"),
    StageEvent(f"built {TAG} in 41 s", "node image", FINISHED, 41.2, TAG),
    "lab djlab: 2 nodes x 2 workers, [bold] backend db",
    StageEvent("building image django-lab/site-deps:abc", "site-deps image", STARTED),
    StageEvent("  [site-deps]   Building wheel for psycopg2 (pyproject.toml): started", "site-deps image", LINE,
               summary="  Building wheel for psycopg2 (pyproject.toml): started"),
    StageEvent("", "site-deps image", FAILED, 123.0),
]


class Clock:
    """The view's clock, moved on by the test: a second per event."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def terminal():
    clock = Clock()
    console = Console(record=True, force_terminal=True, width=100, file=io.StringIO(), color_system="standard")
    return console, TerminalProgress(console, clock=clock), clock


def test_on_a_terminal_a_stage_spins_with_its_latest_line_then_leaves_its_time():
    console, progress, clock = terminal()
    for event in EVENTS:
        progress(event)
        clock.now += 1
    text = console.export_text()
    # While it ran: the spinner row with the stage, its time so far and the build's latest line.
    assert "node image 1.0 s Step 3/9 : RUN apt-get update" in text
    assert "site-deps image 1.0 s Building wheel for psycopg2 (pyproject.toml): started" in text
    # Once ended: one line each, with the time it took (and, for a failure, what it was doing).
    assert f"✓ node image           41.2 s  {TAG}\n" in text
    assert "✗ site-deps image       2m03s  Building wheel for psycopg2 (pyproject.toml): started\n" in text
    # Other lines as they are (a build's `[...]` is not markup), and no build line printed for itself.
    assert "lab djlab: 2 nodes x 2 workers, [bold] backend db\n" in text
    assert "[node] Step" not in text and "\nbuilding image" not in text and "built django-lab" not in text
    written = console.file.getvalue()
    assert "\x1b[" in written and written.endswith("\n") and progress.live is None  # the display is gone
    assert written.rfind("\x1b[?25h") > written.rfind("\x1b[?25l")  # the cursor is back


def test_in_a_log_each_event_is_today_s_line_without_control_characters():
    out = io.StringIO()
    progress = PlainProgress(out)
    for event in EVENTS:
        progress(event)
    assert out.getvalue() == (
        f"building image {TAG}\n"
        "  [node] Step 3/9 : RUN apt-get update\n"
        f"built {TAG} in 41 s\n"
        "lab djlab: 2 nodes x 2 workers, [bold] backend db\n"
        "building image django-lab/site-deps:abc\n"
        "  [site-deps]   Building wheel for psycopg2 (pyproject.toml): started\n"
    )  # the failure says nothing here: the error that follows does
    assert "\x1b" not in out.getvalue() and "\r" not in out.getvalue()


class Stream(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize("tty, environ, live", [
    (True, {"TERM": "xterm-256color"}, True),
    (False, {"TERM": "xterm-256color"}, False),
    (True, {"TERM": "dumb"}, False),
    (True, {"TERM": "xterm", "NO_COLOR": ""}, False),
    (True, {"TERM": "xterm", "CI": "true"}, False),
])
def test_the_live_view_only_on_a_terminal_that_is_not_a_log(tty, environ, live):
    assert is_live_terminal(Stream(tty), environ) is live
    chosen = progress_for(Stream(tty), environ)
    assert isinstance(chosen, TerminalProgress if live else PlainProgress)


def test_stages_running_side_by_side_each_have_a_row_until_they_end():
    console, progress, clock = terminal()
    with stage(progress, "stores", detail="2 to start and see ready") as stores:
        clock.now += 1
        with stage(progress, "nodes", detail="3 to start and see ready"):
            clock.now += 1
            assert list(progress.running) == ["stores", "nodes"]
        assert list(progress.running) == ["stores"] and progress.live is not None
        stores.finish("stores ready in 2.0 s: postgres created", summary="postgres created")
    assert progress.running == {} and progress.live is None
    text = console.export_text()
    assert re.search(r"stores 1.0 s 2 to start and see ready\n\S nodes +0.0 s 3 to start and see ready", text)
    assert "✓ nodes" in text and "✓ stores" in text and "postgres created" in text
    assert "stores ready in 2.0 s" not in text  # the stage's own line says it, with its time


def test_a_stage_that_raises_is_failed_and_the_error_goes_on():
    said = []
    with pytest.raises(KeyboardInterrupt):
        with stage(said.append, "release job"):
            raise KeyboardInterrupt
    assert [(event.stage, event.kind, event) for event in said] == [("release job", STARTED, ""), ("release job", FAILED, "")]
    assert said[-1].seconds >= 0


def test_each_image_built_is_a_stage_with_the_build_s_lines():
    said = []

    class Engine:
        def image_exists(self, tag):
            return "base" in tag

        def build_image(self, tag, context, build_args, labels, on_line, no_cache=False):
            on_line("Step 1/2 : FROM base")
            if "postgres" in tag:
                raise ImageBuildError(f"building image {tag} failed: apt exited 100")

    tags = ensure_images(Engine(), LabConfig(name="t"), ["redis"], said.append)
    assert [(event.stage, event.kind) for event in said] == [
        ("redis image", STARTED), ("redis image", LINE), ("redis image", FINISHED)]
    assert said == [f"building image {tags['redis']}", "  [redis] Step 1/2 : FROM base",
                    f"built {tags['redis']} in 0 s"]  # the lines a log always had
    assert said[1].summary == "Step 1/2 : FROM base" and said[2].summary == tags["redis"]
    said.clear()
    with pytest.raises(ImageBuildError):
        ensure_images(Engine(), LabConfig(name="t"), ["postgres"], said.append)
    assert [(event.stage, event.kind) for event in said][-1] == ("postgres image", FAILED)


@pytest.mark.parametrize("seconds, shown", [(0.04, "0.0 s"), (41.25, "41.2 s"), (123, "2m03s"), (3725, "1h02m")])
def test_durations_read_at_a_glance(seconds, shown):
    assert duration(seconds) == shown
