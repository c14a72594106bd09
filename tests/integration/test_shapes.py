"""Project shapes met on public projects, each a fixture in tests/sites/ brought up as typed in its folder
(a git clone of it, as a user has): it runs, or `lab up` refuses it in one line that names the cause.

- uwsgisite (healthchecks' shape): Python only in docker/Dockerfile; pure-Python psycopg pinned; uWSGI's
  ini migrates at start and attaches a daemon; a login form that asks for an email; a committed SQLite index.
- cookiesite (cookiecutter-django's shape): Celery worker and beat as Procfile process types, run as lab
  members; split settings whose running module is local.py; a development Dockerfile that downloads.
- pipenvsite: a Pipfile.lock whose develop pins disagree with default; the admin at /api/admin/; a
  DatabaseCache table only its Makefile creates.
- poetrysite: its own `manage.py build` compiles translations at release; a migration that needs 770 MB.
- tailwindsite: a Dockerfile RUN line that downloads a CSS tool this machine cannot reach.
"""

import re
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from lab import cli
from lab.studies.experiments import EXPERIMENTS
from lab.studies.experiments.base import Case
from lab.studies.readiness import assess
from lab.verdicts.hazards import FOUND, NOTE, OK

from .conftest import free_port

pytestmark = pytest.mark.integration
SITES = Path(__file__).resolve().parents[1] / "sites"


def cloned(name: str, tmp_path: Path) -> Path:
    """The fixture as a user's clone of it: its own git repository, every file committed."""
    folder = tmp_path / name
    shutil.copytree(SITES / name, folder, ignore=shutil.ignore_patterns(".lab", "__pycache__"))
    for command in (["init", "-q"], ["add", "-A"], ["-c", "user.email=lab@example.com", "-c", "user.name=lab", "commit", "-qm", "clone"]):
        subprocess.run(["git", *command], cwd=folder, check=True)
    return folder


def up_as_typed(lab, folder, monkeypatch, state_dir, capsys, *options) -> tuple[int, str]:
    """`lab up` in the project's folder, as a user types it; (exit code, what it printed)."""
    monkeypatch.setenv("LAB_STATE_DIR", str(state_dir))
    monkeypatch.chdir(folder)
    capsys.readouterr()
    code = cli.main(["--name", lab.name, "up", "--port", str(free_port()), *options])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=20) as answer:
            return answer.status, dict(answer.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def levels(lab) -> tuple[dict, dict]:
    findings = assess(lab)[0]
    return {f.key: f.level for f in findings}, {f.key: f.evidence for f in findings}


def test_uwsgisite_runs_as_written_with_its_data_file_and_email_login(lab_factory, state_dir, tmp_path, monkeypatch, capsys):
    lab = lab_factory("uwsgi")
    code, out = up_as_typed(lab, cloned("uwsgisite", tmp_path), monkeypatch, state_dir, capsys)
    assert code == 0, out
    assert "docker/Dockerfile FROM python:3.14-slim-trixie asks 3.14: 3.14 (Debian forky)" in out, out
    # The site's pure-Python psycopg 3.3.4 with the lab's binary build at the same version (not 3.3.9 beside it).
    code, said = lab.engine.exec_member(f"{lab.name}-node-1", ["python", "-c",
                                        "import psycopg; print(psycopg.__version__, psycopg.pq.__impl__)"], user="django")
    assert said.split()[-2:] == ["3.3.4", "binary"], said
    assert "users log in at /accounts/login/ (LOGIN_URL): the demo user did" in out  # its password form asks for an email
    assert "log in   demo@example.com / " in out, out  # what a person types in that form
    # Its settings' own switch to PostgreSQL (`if os.getenv("DB") == "postgres"`), set as the lab's database is.
    assert "environment DB=postgres (mysite/settings.py:106: the settings' own switch to PostgreSQL" in out, out
    # The committed search index reached every node's image.
    nodes = {}
    for _ in range(6):
        status, headers = get(lab.url() + "docs/search/?q=grace")
        nodes[headers.get("X-Lab-Node")] = status
    assert set(nodes.values()) == {200} and len(nodes) == 3, nodes
    found, evidence = levels(lab)
    # SQLite unless DB=postgres: a note that every machine must get the switch the lab set
    assert found["sqlite_database"] == NOTE
    assert evidence["sqlite_database"][0].startswith("SQLite unless DB=postgres (mysite/settings.py:106)")
    assert found["migrate_at_start"] == FOUND and any("docker/uwsgi.ini" in line and "migrate" in line for line in evidence["migrate_at_start"])
    assert found["scheduled_jobs"] == FOUND and "attach-daemon = ./manage.py sendalerts" in evidence["scheduled_jobs"][0]
    assert found["client_address_behind_proxy"] == OK  # it reads X-Forwarded-For first


def test_cookiesite_runs_its_worker_and_beat_as_members_and_judges_the_settings_that_run(
    lab_factory, state_dir, tmp_path, monkeypatch, capsys
):
    lab = lab_factory("cookie")
    code, out = up_as_typed(lab, cloned("cookiesite", tmp_path), monkeypatch, state_dir, capsys, "--worker-machines", "2")
    assert code == 0, out
    assert "tailwind_download" not in out  # its development Dockerfile is not read: a production one exists
    assert "login as demo@example.com" in out  # USERNAME_FIELD is the email
    roles = {row["name"].removeprefix(lab.name + "-"): row["role"] for row in lab.status()["containers"]}
    assert (roles["worker-1"], roles["worker-2"], roles["scheduler"]) == ("worker", "worker", "scheduler"), roles
    outcome = EXPERIMENTS["worker-down"].run(lab, Case("redis", "round_robin"))
    assert outcome.passed, outcome.why
    assert set(outcome.figures["machines"]) == {"worker-1", "worker-2"}, outcome.figures
    found, evidence = levels(lab)
    assert found["allowed_hosts_hardcoded"] == FOUND
    assert any(line.startswith("config/settings/local.py:") for line in evidence["allowed_hosts_hardcoded"])
    assert not any("production.py" in line for lines in evidence.values() for line in lines), evidence
    assert found["scheduled_jobs"] == OK and found["migrate_at_start"] == OK  # beat runs once; local's migrate is development


def test_pipenvsite_runs_with_its_cache_table_and_names_the_cause_of_an_error_page(
    lab_factory, state_dir, tmp_path, monkeypatch, capsys
):
    lab = lab_factory("pipenv")
    folder = cloned("pipenvsite", tmp_path)
    code, out = up_as_typed(lab, folder, monkeypatch, state_dir, capsys)
    assert code == 0, out
    assert "users log in at /api/admin/login/ (the admin's login)" in out, out  # the GitHub button page has no form
    # Every page's menu reads the DatabaseCache, the error page's too: without its table, the node names the
    # cause of the 500 whose error page failed as well.
    lab.engine.exec_member(f"{lab.name}-node-1", ["python", "-c",
        "import django; django.setup(); from django.db import connection; connection.cursor().execute('DROP TABLE site_cache')"],
        user="django")
    causes = {get(lab.url() + "api/admin/login/")[1].get("X-Lab-Error", "") for _ in range(3)}
    assert any(re.search(r"site_cache.*does not exist", cause) for cause in causes), causes
    logs = "".join(lab.engine.member_logs(lab.name, f"{lab.name}-node-{n}", tail=400) for n in (1, 2, 3))
    assert "the site's error page failed too: ProgrammingError" in logs, logs[-2000:]
    # Its lock's develop section pins sqlparse differently: pip's own reason, in one line.
    code, out = up_as_typed(lab, folder, monkeypatch, state_dir, capsys, "--group", "dev")
    assert code == 1
    assert "pip cannot install the site's requirements (Pipfile.lock) together: sqlparse==0.4.4 and sqlparse==0.6.1 conflict" in out, out


def test_poetrysite_runs_its_own_build_at_release_where_gettext_is(lab_factory, state_dir, tmp_path, monkeypatch, capsys):
    lab = lab_factory("poetry")
    code, out = up_as_typed(lab, cloned("poetrysite", tmp_path), monkeypatch, state_dir, capsys)
    assert code == 0, out
    assert "release  `python manage.py build` (Procfile:1 (release))" in out
    assert "database migrated, 1 release steps run" in out  # its 770 MB migration fits the release job


def test_tailwindsite_is_refused_in_one_line_naming_the_build_step_and_the_download(
    lab_factory, state_dir, tmp_path, monkeypatch, capsys
):
    lab = lab_factory("tailwind")
    code, out = up_as_typed(lab, cloned("tailwindsite", tmp_path), monkeypatch, state_dir, capsys)
    assert code == 1
    error = next(line for line in out.splitlines() if line.startswith("lab: error:"))
    assert "the build step `python manage.py tailwind install` (Dockerfile:" in error
    assert "a download from github.com failed" in error and "migrations" not in error
