"""The lab as a user installs it: a wheel built from this repository, installed into a new virtualenv
outside it, run in a copy of a project's folder with no --site and no --name."""

import json
import os
import shutil
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import pytest

from lab.traffic.evidence import VirtualUser

from .conftest import NOTHING, TEST_PREFIX, free_port
from .test_own_site import SITES

pytestmark = pytest.mark.integration
REPOSITORY = Path(__file__).resolve().parents[2]


def files_in(folder: Path) -> set[str]:
    return {path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()}


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The `lab` command of a wheel built from the repository, in a virtualenv of its own."""
    place = tmp_path_factory.mktemp("installed")
    # Built from the repository's tracked files, in a copy: setuptools writes build/ beside the sources.
    source = place / "source"
    tracked = subprocess.run(["git", "ls-files"], cwd=REPOSITORY, capture_output=True, text=True, check=True).stdout
    for name in tracked.splitlines():
        if (REPOSITORY / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPOSITORY / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(place / "dist"),
                    str(source)], check=True)
    wheel = next((place / "dist").glob("django_multinode_lab-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    print(f"wheel {wheel.name}: {wheel.stat().st_size / 1000:.0f} kB, {len(names)} files")
    for needed in ("lab/nginx/Dockerfile", "lab/sample_site/manage.py", "lab/dockerfiles/node/Dockerfile",
                   "lab/dockerfiles/node/lab_node/settings.py", "lab/setup/ensure-engine.sh", "lab/traffic/load.lua"):
        assert needed in names, f"the wheel does not hold {needed}"
    subprocess.run([sys.executable, "-m", "venv", str(place / "venv")], check=True)
    subprocess.run([str(place / "venv" / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", str(wheel)],
                   check=True)
    return place / "venv" / "bin" / "lab"


def run(lab: Path, project: Path, state_dir, *arguments: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if key not in ("LAB_NAME", "LAB_REPORTS_DIR")}
    environment["LAB_STATE_DIR"] = str(state_dir)
    done = subprocess.run([str(lab), *arguments], cwd=project, env=environment, capture_output=True, text=True,
                          timeout=900)
    print(done.stdout[-3000:], done.stderr[-3000:])
    return done


def test_installed_lab_runs_the_project_it_is_run_in_and_leaves_only_its_dot_folder(installed, engine, state_dir, tmp_path):
    name = f"{TEST_PREFIX}shop-{uuid.uuid4().hex[:4]}"
    project = tmp_path / name
    shutil.copytree(SITES / "tutorial", project, ignore=shutil.ignore_patterns(".lab", "__pycache__"))
    before = files_in(project)
    try:
        assert run(installed, project, state_dir, "--version").stdout.startswith("lab 0.")
        up = run(installed, project / "notes", state_dir, "up", "--port", str(free_port()))  # from a folder below it
        assert up.returncode == 0, up.stderr
        assert f"the Django project here: {project} (its manage.py)" in up.stdout
        assert f"Lab {name} is up" in up.stdout  # named after the project's folder
        status = json.loads(run(installed, project, state_dir, "status", "--json").stdout)
        assert status["site"] == str(project) and status["url"].startswith("https://")
        user = VirtualUser(status["url"], login_path=status["login_url"].split("/", 3)[3], probe="/",
                           ca=Path(status["ca"]).read_text())
        user.login(status["username"], status["password"])  # through the project's own login page
        seen = user.browse(6).observations
        assert {o.user for o in seen} == {status["username"]} and len({o.node for o in seen}) >= 2
        readiness = run(installed, project, state_dir, "readiness")
        assert readiness.returncode == 0 and f"report: {project / '.lab' / 'reports'}" in readiness.stdout
        down = run(installed, project, state_dir, "down")
        assert down.returncode == 0, down.stderr
    finally:
        run(installed, project, state_dir, "down")
    assert engine.lab_resources(name) == NOTHING
    new = files_in(project) - before
    assert new and all(path.startswith(".lab/") for path in new), sorted(new)
    assert ".lab/.gitignore" in new
