"""The lab's state keeps the Site its last `up` read and the image tags it applied: every later command plans
from them without reading the project folder, which may have changed, moved or gone. On the in-memory engine."""

import shutil
import sys

import pytest

from lab import LabConfig
from lab.engines.host import free_port
from lab.resources import SAMPLE_SITE
from lab.run.lab import Lab
from lab.run.state import StateStore

from .fake_engine import engine  # noqa: F401 (a fixture the tests ask for)


@pytest.fixture
def project(tmp_path):
    """A copy of the sample site, free to change and move."""
    return shutil.copytree(SAMPLE_SITE, tmp_path / "shop", ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3"))


def up(engine, tmp_path, project) -> Lab:
    lab = Lab("fake", engine=engine, states=StateStore(tmp_path / "state"))
    lab.up(LabConfig(name="fake", port=free_port(), site=str(project)))
    return lab


def test_the_state_keeps_the_site_and_the_tags_applied(engine, tmp_path, project):
    lab = up(engine, tmp_path, project)
    state = lab.states.load("fake")
    assert state.site.folder == str(project.resolve()) and state.site.settings == "labsite.settings"
    plan = lab.plan()
    assert plan.site == state.site
    assert plan.nodes[0].image == state.tags["site"] and plan.nginx.image == state.tags["nginx"]
    assert {spec.image for spec in plan.containers()} <= set(state.tags.values())


def test_the_plan_of_a_running_lab_reads_nothing_of_the_project(engine, tmp_path, project):
    lab = up(engine, tmp_path, project)
    lab.plan()  # imports done
    touched = []
    watching = [False]

    def hook(event, args):
        if watching[0] and event in ("open", "os.listdir", "os.scandir") and str(project) in str(args[0]):
            touched.append((event, args[0]))

    sys.addaudithook(hook)
    watching[0] = True
    try:
        lab.plan()
        lab.status()
    finally:
        watching[0] = False
    assert touched == []


def test_up_reads_the_site_again_and_saves_what_changed(engine, tmp_path, project):
    lab = up(engine, tmp_path, project)
    before = lab.states.load("fake")
    (project / "labsite" / "views.py").write_text((project / "labsite" / "views.py").read_text() + "\n# changed\n")
    lab.up()
    after = lab.states.load("fake")
    assert after.site.code_digest != before.site.code_digest and after.tags["site"] != before.tags["site"]
    assert lab.plan().nodes[0].image == after.tags["site"]


def test_a_moved_project_is_not_corrupt_and_the_lab_still_comes_down(engine, tmp_path, project):
    lab = up(engine, tmp_path, project)
    running = lab.plan()
    project.rename(tmp_path / "moved")
    again = Lab("fake", engine=engine, states=StateStore(tmp_path / "state"))  # a later command
    assert again.plan() == running  # what was built from it runs on
    status = again.status()
    assert status["site_note"] == (f"project folder {project.resolve()} is gone (moved?); "
                                   "the lab still runs what was built from it")
    assert status["running"]
    assert again.down()["state"] == 1 and again.config() is None


def test_a_present_project_gets_no_note(engine, tmp_path, project):
    assert up(engine, tmp_path, project).status()["site_note"] == ""


def test_lab_status_says_where_the_project_was(engine, tmp_path, project):
    from lab.cli.commands import format_status

    lab = up(engine, tmp_path, project)
    project.rename(tmp_path / "moved")
    shown = format_status(lab.status()).splitlines()
    assert f"project folder {project.resolve()} is gone (moved?); the lab still runs what was built from it" in shown
