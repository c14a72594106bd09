"""The package as it is published: the sdist and the wheel `python -m build` makes from this repository pass
`twine check --strict` (the metadata and README as PyPI renders them), hold what the lab runs and the
files a release carries, and install the way the README says (the wheel, the sdist, a git URL), each into
a fresh virtualenv whose `lab` answers --version and --help.

The three installs download the lab's dependencies from PyPI (pip's cache makes a second run quicker);
they run side by side, since each mostly waits on the network and on building the package."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from .documentation import ROOT

# A copy of the repository (mutmut's mutants/ folder) is no checkout to build a release from.
pytestmark = pytest.mark.skipif(not (ROOT / ".git").exists(), reason="builds the package from a git checkout")

NAME = "django_multinode_lab"
QUIET_PIP = {"PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}


def version() -> str:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def copy_of_the_sources(destination: Path) -> Path:
    """The files git would commit (tracked, and new ones it does not ignore), as they are now: setuptools
    writes build/ and *.egg-info beside the sources, so the build runs in a copy."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout
    for name in listed.splitlines():
        if (ROOT / name).is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, destination / name)
    return destination


@dataclass(frozen=True)
class Built:
    sdist: Path
    wheel: Path


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Built:
    """`python -m build` as a release is made: in an isolated environment with the build-system's setuptools."""
    place = tmp_path_factory.mktemp("package")
    source = copy_of_the_sources(place / "source")
    dist = place / "dist"
    build = subprocess.run([sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", str(dist), str(source)],
                           capture_output=True, text=True, env={**os.environ, **QUIET_PIP})
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    return Built(sdist=dist / f"{NAME}-{version()}.tar.gz", wheel=dist / f"{NAME}-{version()}-py3-none-any.whl")


def test_twine_check_passes_on_the_sdist_and_the_wheel(built):
    check = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", str(built.sdist), str(built.wheel)],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count("PASSED") == 2, check.stdout


def test_the_wheel_holds_what_the_lab_runs_and_its_license(built):
    names = set(zipfile.ZipFile(built.wheel).namelist())
    for needed in ("lab/dockerfiles/node/Dockerfile", "lab/dockerfiles/node/lab_node/settings.py", "lab/nginx/Dockerfile",
                   "lab/sample_site/manage.py", "lab/setup/ensure-engine.sh", "lab/traffic/load.lua",
                   f"{NAME}-{version()}.dist-info/licenses/LICENSE"):
        assert needed in names, f"the wheel does not hold {needed}"
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]


def test_the_wheel_says_its_license_readme_and_where_the_project_lives(built):
    wheel = zipfile.ZipFile(built.wheel)
    metadata = wheel.read(f"{NAME}-{version()}.dist-info/METADATA").decode()
    assert "License-Expression: BSD-3-Clause" in metadata
    assert "Description-Content-Type: text/markdown" in metadata
    for url in ("Documentation", "Changelog", "Source"):
        assert f"Project-URL: {url}, https://" in metadata, url
    assert "Requires-Dist: docker<8,>=7.1" in metadata  # ranges, not pins: the lab shares a project's virtualenv


def test_the_sdist_holds_the_license_readme_and_changelog(built):
    top = f"{NAME}-{version()}"
    names = set(tarfile.open(built.sdist).getnames())
    for needed in ("LICENSE", "README.md", "CHANGELOG.md", "pyproject.toml", "lab/cli/__init__.py",
                   "nginx/Dockerfile", "sample_site/manage.py"):
        assert f"{top}/{needed}" in names, f"the sdist does not hold {needed}"


# The README's install lines, each into a fresh virtualenv (not the test's: nothing comes from it).


def git_url_of_a_clean_clone(destination: Path) -> str:
    """A clone of the repository's last commit, as a git URL at that commit: what a git URL installs, without
    files not committed. The commit by its hash: pip before 24 takes `@HEAD` for a branch of that name."""
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(destination)], check=True, capture_output=True)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=destination, capture_output=True, text=True,
                            check=True).stdout.strip()
    return f"git+file://{destination}@{commit}"


@dataclass
class Install:
    venv: Path
    process: subprocess.Popen

    def lab(self, *arguments: str, cwd: Path) -> subprocess.CompletedProcess:
        output, _ = self.process.communicate(timeout=600)
        assert self.process.returncode == 0, output[-4000:]
        environment = {key: value for key, value in os.environ.items() if key not in ("LAB_NAME", "VIRTUAL_ENV")}
        return subprocess.run([str(self.venv / "bin" / "lab"), *arguments], cwd=cwd, env=environment,
                              capture_output=True, text=True, timeout=60)


def start_install(venv: Path, requirement: str) -> Install:
    """`python -m venv`, then `pip install REQUIREMENT`, in the background."""
    script = f"{sys.executable!s} -m venv {venv!s} && {venv / 'bin' / 'pip'!s} install --quiet '{requirement}'"
    process = subprocess.Popen(["bash", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, **QUIET_PIP})
    return Install(venv, process)


@pytest.fixture(scope="module")
def installs(built, tmp_path_factory) -> dict[str, Install]:
    place = tmp_path_factory.mktemp("installs")
    git_url = git_url_of_a_clean_clone(place / "clone")
    started = {
        "wheel": start_install(place / "wheel", str(built.wheel)),
        "sdist": start_install(place / "sdist", str(built.sdist)),
        "git": start_install(place / "git", git_url),
    }
    yield started
    for install in started.values():
        if install.process.poll() is None:
            install.process.kill()
            install.process.wait()


@pytest.mark.timeout(900)
@pytest.mark.parametrize("kind", ["wheel", "sdist", "git"])
def test_the_installed_lab_answers_version_and_help(kind, installs, tmp_path):
    install = installs[kind]
    shown = install.lab("--version", cwd=tmp_path)
    assert shown.returncode == 0 and shown.stdout.strip() == f"lab {version()}", shown.stdout + shown.stderr
    helped = install.lab("--help", cwd=tmp_path)
    assert helped.returncode == 0 and helped.stdout.lower().startswith("usage: lab"), helped.stdout + helped.stderr
    assert "exit" in helped.stdout  # the exit codes a CI job gates on
