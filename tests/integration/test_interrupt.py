"""Ctrl-C during `lab up`: it stops with exit 130 wherever it was, says what was left, and the next command
completes. How fast it stops is a figure, not a pass mark (printed here; a hang fails at the 30 s wait)."""

import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import pytest

from lab import Lab, LabConfig
from lab.engines.images import image_specs
from lab.run.state import StateStore

from .conftest import NOTHING, TEST_PREFIX, free_port

pytestmark = pytest.mark.integration

# (where to interrupt, the progress line that says `up` got there, extra options)
POINTS = [
    # Another Django release needs a new node image: the interrupt lands in its build.
    ("images", "building image django-lab/node:", ["--django-version", "5.2.8"]),
    ("stores", "lab ", []),
    ("migrations", "stores ready", []),
    ("nodes", "database migrated", []),
]


def interrupt_up(name, state_dir, trigger, options):
    """Start `lab up` as a user would, press Ctrl-C when `trigger` is printed; (seconds to exit, code, output)."""
    env = {**os.environ, "LAB_STATE_DIR": str(state_dir), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "lab.cli", "--name", name, "up", "--port", str(free_port()), *options]
    # Ctrl-C as in a terminal: a run started in the background by a shell inherits SIGINT ignored.
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    lines, seen = [], threading.Event()

    def read():
        for line in process.stdout:
            lines.append(line)
            if line.startswith(trigger):
                seen.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert seen.wait(120), f"`lab up` never printed {trigger!r}:\n{''.join(lines)}"
    pressed = time.monotonic()
    process.send_signal(signal.SIGINT)
    try:
        code = process.wait(timeout=30)
    finally:
        process.kill()
    stopped = time.monotonic() - pressed
    reader.join(5)
    return stopped, code, "".join(lines)


def forget_images(engine, config, keys) -> None:
    """Remove these images of `config` (the later-built first), so that `lab up` has to build them."""
    import docker.errors

    specs = image_specs(config)
    for key in keys:
        try:
            engine.client.images.remove(specs[key].tag, force=True)
        except docker.errors.ImageNotFound:
            pass


@pytest.mark.parametrize("point, trigger, options", POINTS, ids=[p[0] for p in POINTS])
def test_ctrl_c_stops_up_quickly_and_down_leaves_nothing(engine, state_dir, point, trigger, options):
    name = f"{TEST_PREFIX}int-{point}-{uuid.uuid4().hex[:4]}"
    lab = Lab(name, engine=engine, states=StateStore(state_dir))
    if point == "images":  # the build must be under way when Ctrl-C comes: no earlier run may have left its image
        forget_images(engine, LabConfig(django_version=options[-1]), ("site", "node"))
    try:
        seconds, code, output = interrupt_up(name, state_dir, trigger, options)
        assert code == 130, output
        print(f"`lab up` stopped {seconds:.1f} s after Ctrl-C during {point}")
        assert "lab: interrupted;" in output and "down` removes it" in output and "Traceback" not in output, output
    finally:
        lab.down()
    assert engine.lab_resources(name) == NOTHING


def test_after_ctrl_c_the_next_up_completes(engine, state_dir):
    name = f"{TEST_PREFIX}int-again-{uuid.uuid4().hex[:4]}"
    lab = Lab(name, engine=engine, states=StateStore(state_dir))
    try:
        _, code, output = interrupt_up(name, state_dir, "database migrated", [])
        assert code == 130, output
        result = lab.up(LabConfig(name=name, port=free_port()))
        assert lab.status()["running"], result.actions
    finally:
        lab.down()
    assert engine.lab_resources(name) == NOTHING
