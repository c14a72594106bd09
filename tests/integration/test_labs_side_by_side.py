"""Two labs at once, the CLI end to end, and what a user sees when something is wrong."""

import json
import shutil
import socket

import pytest

from lab import LabConfig, NotReady, PortInUse
from lab.cli import main
from lab.engines.host import fetch
from lab.model.config import SAMPLE_SITE
from lab.model.plan import HEALTH

from .conftest import NOTHING, free_port

pytestmark = pytest.mark.integration


def test_two_labs_side_by_side_and_down_touches_only_its_own(lab_factory, engine, capsys, monkeypatch, state_dir):
    first, second = lab_factory("one"), lab_factory("two")
    monkeypatch.setenv("LAB_STATE_DIR", str(state_dir))
    port = free_port()
    assert main(["--name", first.name, "up", "--nodes", "1", "--backend", "signed_cookies", "--port", str(port)]) == 0
    out = capsys.readouterr().out
    assert f"http://127.0.0.1:{port}/" in out and "log in   demo / " in out
    second.up(LabConfig(name=second.name, nodes=2, backend="db", port=free_port()))
    capsys.readouterr()  # the second lab's progress lines

    assert main(["--name", first.name, "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert (status["backend"], status["nodes"], status["running"]) == ("signed_cookies", 1, True)

    bystander = engine.client.containers.run(
        second.plan().nodes[0].image, ["sleep", "60"], name=f"{second.name}-bystander", detach=True
    )
    try:
        assert main(["--name", first.name, "down"]) == 0
        assert engine.lab_resources(first.name) == NOTHING
        assert fetch(second.status()["url"] + HEALTH)[0] == 200
        assert len(engine.lab_resources(second.name)["containers"]) == 4
        bystander.reload()
        assert bystander.status == "running", "down removed a container that is not the lab's"
    finally:
        bystander.remove(force=True)


def test_a_taken_port_is_named_before_anything_starts(lab_factory, engine):
    lab = lab_factory("port")
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        with pytest.raises(PortInUse, match=f"port {port} .*--port"):
            lab.up(LabConfig(name=lab.name, port=port))
    assert engine.lab_resources(lab.name)["containers"] == []


def test_a_node_that_fails_to_start_shows_its_last_log_lines(lab_factory, tmp_path):
    site = tmp_path / "broken_site"
    shutil.copytree(SAMPLE_SITE, site, ignore=shutil.ignore_patterns("__pycache__"))
    with open(site / "labsite" / "settings.py", "a") as settings:
        settings.write(
            "\nimport os\nfrom django.core.exceptions import ImproperlyConfigured\n"
            "if os.environ.get('LAB_NODE', '').startswith('node-'):\n"
            "    raise ImproperlyConfigured('this node cannot start: broken on purpose')\n"
        )
    lab = lab_factory("broken")
    with pytest.raises(NotReady) as error:
        lab.up(LabConfig(name=lab.name, nodes=1, backend="db", port=free_port(), site=str(site)))
    assert "last log lines" in str(error.value)
    assert "node-1 is not ready: it exited" in str(error.value)
    # The traceback reaches the site's own line, so the user sees where their settings broke.
    assert 'labsite/settings.py", line' in str(error.value)
    assert "ImproperlyConfigured: this node cannot start: broken on purpose" in str(error.value)
