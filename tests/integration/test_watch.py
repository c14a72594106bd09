"""`lab watch` on a live lab: users browse while the backend switches from redis to locmem; the summary
shows no logged-out answers before the switch, some after, and the switch marked between them."""

import json
import os
import subprocess
import sys
import time

import pytest

from lab import LabConfig

from .conftest import free_port

pytestmark = pytest.mark.integration


def test_watch_sees_users_logged_out_the_moment_the_backend_switches(lab_factory, state_dir):
    lab = lab_factory("watch")
    lab.up(LabConfig(name=lab.name, nodes=3, backend="redis", port=free_port()))
    watch = subprocess.Popen(
        [sys.executable, "-m", "lab.cli", "--name", lab.name, "watch", "--seconds", "24", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "LAB_STATE_DIR": str(state_dir)},
    )
    try:
        line = watch.stderr.readline()  # printed once the first answers arrive
        assert "users are browsing" in line, line + watch.stderr.read()
        time.sleep(5)
        switch_began = time.time()
        lab.switch(backend="locmem")
        switch_ended = time.time()
        output, errors = watch.communicate(timeout=60)
    finally:
        watch.kill()
    assert watch.returncode == 0, errors
    summary = json.loads(output)
    switch = next(e for e in summary["events"] if e["kind"] == "switch")
    assert switch["text"] == "switch: backend redis -> locmem"
    # Marked when the switch began, not when it ended: the mark lies between its start and its first change.
    assert switch_began - 0.01 <= switch["at"] <= switch_ended, (switch_began, switch["at"], switch_ended)
    assert all(e["at"] >= switch["at"] for e in summary["events"] if e["kind"] == "reload"), summary["events"]
    assert switch["before"]["answers"] > 20 and switch["before"]["logged_out"] == 0, switch
    assert switch["after"]["logged_out"] > 0, switch
    assert summary["users"] == 9 and summary["nodes_seen"] == ["node-1", "node-2", "node-3"]
    reloads = [e for e in summary["events"] if e["kind"] == "reload"]
    assert len(reloads) == 3  # each node got its new configuration by a HUP, seen in Docker's events
