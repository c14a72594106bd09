"""The lab as a tool installed into a project: what it finds in its package, the project it runs in,
its name from the project's folder, where it writes (only `.lab/`), and where each system keeps its
state. macOS and Windows cannot run here: their state folders are checked with the platform patched."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lab.model.config import SAMPLE_SITE, name_for
from lab.project.site import project_here
from lab.reports.places import compose_dir, reports_dir
from lab.resources import DOCKERFILES, NGINX, SETUP
from lab.run.state import default_directory

from .projects import make


def test_everything_it_runs_is_found_in_its_package():
    assert (DOCKERFILES / "node" / "Dockerfile").is_file() and (DOCKERFILES / "node" / "lab_node" / "settings.py").is_file()
    assert (NGINX / "Dockerfile").is_file() and (NGINX / "lab-nginx-start").is_file()
    assert (SAMPLE_SITE / "manage.py").is_file() and (SETUP / "ensure-engine.sh").is_file()


@pytest.mark.parametrize(
    "folder, name",
    [("mysite", "mysite"), ("My_Shop 2", "my-shop-2"), ("2024-blog", "lab-2024-blog"), ("x" * 40, "x" * 31), ("__", "lab")],
)
def test_the_lab_is_named_after_the_project_folder(folder, name):
    assert name_for(Path("/home/ada") / folder) == name


def test_commands_find_the_project_they_run_in(tmp_path):
    repo = make(tmp_path / "repo", {"mysite/manage.py": "", "mysite/blog/views.py": "", "README.md": ""})
    assert project_here(repo) == repo / "mysite"  # one folder down, from the repository's root
    assert project_here(repo / "mysite" / "blog") == repo / "mysite"  # anywhere below it
    assert project_here(make(tmp_path / "elsewhere", {"notes.txt": ""})) is None


def test_version_and_a_lab_named_after_the_folder_it_runs_in(tmp_path):
    site = make(tmp_path / "Shop", {"manage.py": ""})
    environment = {key: value for key, value in os.environ.items() if key != "LAB_NAME"}
    version = subprocess.run([sys.executable, "-m", "lab.cli", "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("lab 0.")
    helped = subprocess.run([sys.executable, "-m", "lab.cli", "--help"], cwd=site, capture_output=True, text=True,
                            env=environment, check=True)
    assert "(default shop:" in " ".join(helped.stdout.split())


def test_reports_of_a_project_go_to_its_dot_folder_that_git_ignores(tmp_path, monkeypatch):
    monkeypatch.delenv("LAB_REPORTS_DIR", raising=False)
    site = make(tmp_path / "mysite", {"manage.py": ""})
    assert reports_dir(str(site)) == site / ".lab" / "reports"
    assert (site / ".lab" / ".gitignore").read_text().splitlines()[-1] == "*"
    assert compose_dir(str(site), "mysite") == site / ".lab" / "compose" / "mysite"
    assert ".lab" not in str(reports_dir(str(SAMPLE_SITE)))  # the sample site's are the lab's own
    monkeypatch.setenv("LAB_REPORTS_DIR", str(tmp_path / "r"))
    assert reports_dir(str(site)) == tmp_path / "r"


@pytest.mark.parametrize(
    "system, ends",
    [
        ("linux", ".local/state/django-lab"),
        ("darwin", "Library/Application Support/django-lab"),
        ("win32", "AppData/Local/django-lab"),
    ],
)
def test_state_lives_where_each_system_keeps_it(system, ends, monkeypatch, tmp_path):
    import platformdirs.windows

    monkeypatch.delenv("LAB_STATE_DIR", raising=False)
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    # Windows asks the shell for its folders: here, as when that call fails, from the environment.
    monkeypatch.setattr(platformdirs.windows, "get_win_folder", lambda name: str(tmp_path / "AppData" / "Local"))
    assert default_directory(system).as_posix().endswith(ends)
    assert str(default_directory(system)).startswith(str(tmp_path))
