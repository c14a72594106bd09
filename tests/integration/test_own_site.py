"""Your own Django project in the lab: fixture sites of different shapes under tests/sites/, each run on
real nodes, logged in through its own login page, and given its readiness report.

- tutorial: configured from the environment (dj-database-url, python-dotenv), WhiteNoise with manifest
  static files, its own pins (Django 5.1, gunicorn 23, psycopg2-binary 2.9.9, which has no wheel for
  Python 3.13), `runtime.txt` asking Python 3.10, `migrate` in its Procfile, HTTPS forced (so nginx
  terminates https and the redirect runs as written).
- emailsite: a custom user model that logs in by email, SQLite, DEBUG on, one hard-coded host, a
  SECRET_KEY made up per process when the variable is missing; a Poetry project with its poetry.lock.
- uploads: files saved on the node's disk, file sessions, a login rate limit in the local-memory
  cache, a nightly job in the settings; a Pipenv project with its Pipfile.lock.
- allauthsite: django-allauth logging in by email (its form's field is `login`), exact pins in its
  pyproject (cffi 1.15.1, which has no wheel for 3.12 or 3.13), a Dockerfile FROM python:3.12, SQLite.
- broken: pycups, which ships no wheel and needs CUPS's headers, which the build stage lacks (a header the lab
  knows, as python-ldap's lber.h, it adds itself).
"""

import http.cookiejar
import json
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from lab import LabConfig, cli
from lab.model.config import SAMPLE_SITE
from lab.studies.matrix import run_cell, run_matrix
from lab.studies.readiness import assess
from lab.traffic.evidence import VirtualUser, tls_context
from lab.traffic.websocket import WebSocket
from lab.verdicts.hazards import FOUND

from .conftest import free_port

pytestmark = pytest.mark.integration
SITES = Path(__file__).resolve().parent.parent / "sites"


def found(lab) -> set[str]:
    findings, _ = assess(lab)
    return {finding.key for finding in findings if finding.level == FOUND}


@pytest.fixture(scope="module")
def tutorial(module_lab_factory):
    lab = module_lab_factory("tutorial")
    lab.up(LabConfig(name=lab.name, site=str(SITES / "tutorial"), nodes=3, port=free_port()))
    return lab


def test_the_site_runs_its_own_pins_and_settings_module(tutorial):
    facts = tutorial.site()
    assert facts["django"] == "5.1.4" and facts["settings_module"] == "tutorial.settings"
    assert facts["login_url"] == "/accounts/login/" and facts["static_url"] == "/static/"
    assert tutorial.status()["python"] == "3.11"  # runtime.txt asks 3.10; Debian has 3.11, where 2.9.9 has a wheel
    overridden = {override["setting"] for override in facts["overrides"]}
    assert {"DATABASES['default']", "STATIC_ROOT", "SESSION_ENGINE"} <= overridden
    assert "ALLOWED_HOSTS" not in overridden  # the site reads them from DJANGO_ALLOWED_HOSTS, which the lab set
    # SECURE_SSL_REDIRECT asks for https: nginx terminates it, and the redirect runs as the site wrote it.
    assert facts["https"] and "SECURE_SSL_REDIRECT" not in overridden
    assert tutorial.status()["url"].startswith("https://")
    assert tutorial._state().secrets.redis_password not in json.dumps(facts)  # store URLs shown without passwords


def test_a_second_up_with_nothing_changed_changes_nothing(tutorial):
    assert tutorial.up().changed == []


def test_users_log_in_through_the_sites_page_keep_it_under_redis_and_lose_it_under_locmem(tutorial):
    clients = tutorial.clients()
    clients.ensure()
    kept = run_cell(tutorial, clients, "redis", "round_robin", requests_count=12, probe="/")
    assert kept.evidence_problem() is None, kept.evidence_problem()
    assert kept.observed_kept and len(kept.nodes_seen) == 3, kept.summary()
    lost = run_cell(tutorial, clients, "locmem", "round_robin", requests_count=12, probe="/")
    assert lost.evidence_problem() is None, lost.evidence_problem()
    assert not lost.observed_kept and lost.lost_details(), lost.summary()
    tutorial.switch(backend="redis")


def test_static_files_are_collected_once_and_served_by_nginx(tutorial):
    status = tutorial.status()
    user = VirtualUser(status["url"], login_path=tutorial.login_path(), probe="/")
    user.login(status["username"], status["password"])
    _, headers, page = user._request("")
    assert headers.get("X-Lab-Node")  # the page came from a node
    stylesheet = re.search(rb'href="(/static/notes/style\.[0-9a-f]{12}\.css)"', page)
    assert stylesheet, page[:300]  # the manifest's hashed name: collectstatic ran
    address = status["url"].rstrip("/") + stylesheet.group(1).decode()
    with urllib.request.urlopen(address, context=tls_context(open(status["ca"]).read())) as answer:
        assert answer.status == 200 and "X-Lab-Node" not in answer.headers  # nginx answered, no node
        assert answer.headers["Content-Type"] == "text/css"  # what a browser takes a stylesheet as


def test_the_tutorials_readiness_report_finds_what_it_plants(tutorial):
    findings, seen = assess(tutorial)
    levels = {finding.key: finding.level for finding in findings}
    assert {key for key, level in levels.items() if level == FOUND} == {
        "migrate_at_start", "ssl_redirect_behind_proxy", "health_check_by_address", "scheduled_jobs",
    }
    # Its APScheduler, started in NotesConfig.ready(), seen running on every node, not just in its files.
    assert {machine for machine, answer in seen.schedulers.items() if any(s["running"] for s in answer["schedulers"])} == {
        f"node-{index}" for index in range(1, seen.nodes + 1)
    }
    assert seen.host_check["status"] == 400  # Django's DisallowedHost, for the node's own address
    assert levels["conn_max_age"] == "note"  # dj-database-url's conn_max_age=600
    assert any("SECURE_" in line for line in seen.deploy_check)  # Django's own check ran on the site's settings


def test_lab_matrix_quick_on_the_site_writes_its_report(tutorial, state_dir, monkeypatch, capsys):
    monkeypatch.setenv("LAB_STATE_DIR", str(state_dir))
    code = cli.main(["--name", tutorial.name, "matrix", "--quick", "--probe", "/"])
    output = capsys.readouterr()
    assert code == 0, output.err
    report = (SITES / "tutorial" / ".lab" / "reports" / "latest.md").read_text()  # in the project's dot-folder
    assert str(SITES / "tutorial") in report and "asks `/`" in report
    assert f"report: {SITES / 'tutorial' / '.lab' / 'reports'}" in output.err + output.out


def test_readiness_probes_run_as_the_site_user_on_any_backend(tutorial):
    tutorial.switch(backend="nfs")  # nfs nodes start as root to mount, then serve as the site's user
    _, seen = assess(tutorial)
    assert seen.wrote["media"]["error"] is None, seen.wrote  # the probe could write where the site writes
    assert seen.read["media_exists"] is False  # ... on node-1's disk only


@pytest.mark.parametrize(
    "site, planted",
    [
        ("emailsite", {"secret_key_per_process", "sqlite_database", "debug_on", "allowed_hosts_hardcoded", "health_check_by_address"}),
        # Its settings add the machine's own address to ALLOWED_HOSTS: health checks by address pass.
        ("uploads", {"locmem_cache", "media_on_node_disk", "file_sessions_or_cache", "scheduled_jobs", "client_address_behind_proxy"}),
        # django-allauth's rate limits: in the default LocMemCache, keyed on REMOTE_ADDR (nginx's address).
        ("allauthsite", {"sqlite_database", "health_check_by_address", "locmem_cache", "client_address_behind_proxy"}),
        (None, {"sqlite_database", "debug_on", "allowed_hosts_hardcoded", "health_check_by_address"}),  # the lab's own sample site
    ],
)
def test_readiness_finds_what_each_site_plants_and_nothing_else(site, planted, lab_factory):
    lab = lab_factory(site or "sample")
    folder = SITES / site if site else SAMPLE_SITE
    lab.up(LabConfig(name=lab.name, site=str(folder), nodes=2, port=free_port()))
    # A user logs in through the site's own login page and is known on the page it lands on.
    status, facts = lab.status(), lab.site()
    user = VirtualUser(status["url"], login_path=lab.login_path(), probe=facts["login_redirect_url"] or "/")
    user.login(*lab.login())
    assert {o.user for o in user.browse(4).observations} == {status["username"]}
    if site == "allauthsite":
        assert status["username"] == "demo@example.com" and lab.login_path() == "accounts/login/"
    findings, seen = assess(lab)
    assert {finding.key for finding in findings if finding.level == FOUND} == planted
    # Through nginx, a node sees nginx's address as REMOTE_ADDR and the client's in X-Forwarded-For.
    assert seen.client_view["remote_addr"] and seen.client_view["remote_addr"] != seen.client_view["forwarded_for"]
    assert (seen.host_check["status"] == 400) == ("health_check_by_address" in planted), seen.host_check
    memo = next(f for f in findings if f.key == "state_per_process")
    assert (memo.level, memo.evidence) == (("note", ["gallery/views.py:24: @lru_cache(maxsize=None)"]) if site == "uploads" else ("ok", memo.evidence))


def test_the_email_login_site_makes_its_demo_user_by_email_and_staff(lab_factory):
    lab = lab_factory("email")
    lab.up(LabConfig(name=lab.name, site=str(SITES / "emailsite"), nodes=2, port=free_port()))
    assert lab.login()[0] == "demo@example.com" and lab.login_path() == "login/"  # LOGIN_URL = "login", a URL name
    admin = VirtualUser(lab.status()["url"], login_path="admin/login/", probe="admin/")
    admin.login(*lab.login())  # only staff may log in to the admin
    assert [o.status for o in admin.browse(2).observations] == [200, 200]


def test_a_requirement_that_cannot_build_fails_in_one_line_and_leaves_nothing(engine, state_dir, monkeypatch, capsys):
    monkeypatch.setenv("LAB_STATE_DIR", str(state_dir))
    name = "labtest-broken"
    code = cli.main(["--name", name, "up", "--site", str(SITES / "broken"), "--port", str(free_port())])
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("lab:")]
    assert code == 1
    assert len(errors) == 1, errors
    assert "building pycups 2.0.4 failed: fatal error: cups/http.h: No such file or directory" in errors[0]
    assert "with `lab up --build-package NAME`, or remove pycups" in errors[0]  # the fix for that package
    assert engine.lab_resources(name) == {"containers": [], "networks": [], "volumes": []}
    assert not (state_dir / f"{name}.json").exists()


def test_readiness_baseline_passes_on_known_hazards_and_fails_on_a_new_one(tutorial, state_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LAB_STATE_DIR", str(state_dir))
    baseline = tmp_path / "readiness-baseline.json"
    assert cli.main(["--name", tutorial.name, "readiness", "--save-baseline", str(baseline)]) == 0
    assert "migrate_at_start" in json.loads(baseline.read_text())["found"]
    assert cli.main(["--name", tutorial.name, "readiness", "--baseline", str(baseline)]) == 0
    assert "no hazard found that the baseline does not list" in capsys.readouterr().out
    # As a CI step pipes it to jq: stdout is the report's JSON alone, the rest goes to stderr.
    assert cli.main(["--name", tutorial.name, "readiness", "--json", "--baseline", str(baseline)]) == 0
    output = capsys.readouterr()
    assert "migrate_at_start" in {f["key"] for f in json.loads(output.out)["findings"]}
    assert "probing the site" in output.err and "no hazard found that the baseline" in output.err
    known = json.loads(baseline.read_text())
    del known["found"]["migrate_at_start"]  # as if the hazard came with a later change
    baseline.write_text(json.dumps(known))
    assert cli.main(["--name", tutorial.name, "readiness", "--baseline", str(baseline)]) == 1
    output = capsys.readouterr()
    assert "new since the baseline: migrate_at_start" in output.out and "1 hazard(s) found" in output.err


@pytest.mark.parametrize(
    "site, fixable, options",
    [
        # Its APScheduler, started in an AppConfig's ready(): guarded, then run by `--scheduler` alone.
        ("tutorial", {"migrate_at_start", "ssl_redirect_behind_proxy", "health_check_by_address", "scheduled_jobs"}, ()),
        ("emailsite", {"secret_key_per_process", "debug_on", "allowed_hosts_hardcoded", "health_check_by_address"}, ()),
        # allauth's rate limits: counted in Redis from REDIS_URL (the lab runs one), keyed on X-Forwarded-For.
        ("allauthsite", {"health_check_by_address", "locmem_cache", "client_address_behind_proxy"}, ()),
        # `wagtail start`'s Dockerfile CMD migrates; uploads need --shared-media; Wagtail caches in LocMem.
        ("wagtailsite", {"migrate_at_start", "media_on_node_disk", "health_check_by_address", "locmem_cache"},
         ("--env", "DJANGO_SETTINGS_MODULE=wagtailsite.settings.production")),
        # Split settings on django-environ: the hunks go to production.py, as env(...) calls.
        ("prodtemplate", {"health_check_by_address", "client_address_behind_proxy"},
         ("--env-file", ".envs/.production/.django", "--env", "DJANGO_ADMIN_URL=control/")),
    ],
)
def test_readiness_fix_writes_a_patch_that_the_same_lab_proves_fixed(site, fixable, options, lab_factory, state_dir, tmp_path, monkeypatch, capsys):
    folder = tmp_path / site
    shutil.copytree(SITES / site, folder, ignore=shutil.ignore_patterns(".lab", ".ruff_cache"))
    lab = lab_factory(site[:6])
    monkeypatch.setenv("LAB_STATE_DIR", str(state_dir))
    monkeypatch.chdir(folder)  # as a user runs it: in the project, which `lab up` serves
    assert cli.main(["--name", lab.name, "up", "--nodes", "2", "--port", str(free_port()), *options]) == 0
    capsys.readouterr()
    assert cli.main(["--name", lab.name, "readiness", "--fix"]) == 0
    output = capsys.readouterr().out
    patch = folder / ".lab" / "reports" / f"readiness-fix-{lab.name}.patch"
    assert f"git apply {patch}" in output and f"lab --name {lab.name} up" in output
    before = {f.key for f in assess(lab)[0] if f.level == FOUND}
    assert fixable <= before
    subprocess.run(["git", "apply", str(patch)], cwd=folder, check=True, capture_output=True)
    # The `lab up` it printed (with the options the patch names): the site's files are read again, a new
    # code layer, the same lab.
    run_it = next(line for line in output.splitlines() if line.strip().startswith("run it")).split("   (")[0]
    assert cli.main(run_it.split()[run_it.split().index("--name"):]) == 0
    after = {f.key: f.level for f in assess(lab)[0]}
    assert {key for key in fixable if after[key] != "ok"} == set(), after
    assert {key for key, level in after.items() if level == FOUND} == before - fixable  # what is left, left


def test_chat_users_get_each_others_messages_across_nodes_only_once_the_fix_shares_the_layer(
    lab_factory, state_dir, tmp_path, monkeypatch, capsys
):
    """The Channels tutorial on its in-memory layer, served by ASGI workers behind nginx's WebSocket proxy:
    each chat user gets only its own process's messages; after `lab readiness --fix` (channels_redis on
    the Redis the lab runs once the settings read REDIS_URL), every user gets every message."""
    from lab.studies.experiments import EXPERIMENTS
    from lab.studies.experiments.base import Case

    folder = tmp_path / "chatsite"
    shutil.copytree(SITES / "chatsite", folder, ignore=shutil.ignore_patterns(".lab"))
    lab = lab_factory("chat")
    monkeypatch.setenv("LAB_STATE_DIR", str(state_dir))
    monkeypatch.chdir(folder)
    assert cli.main(["--name", lab.name, "up", "--nodes", "3", "--port", str(free_port())]) == 0
    # The site's own WebSocket handshake (101) names the node that accepted it, as every other answer does.
    chat = "ws://" + lab.url().split("://", 1)[1] + "ws/chat/lobby/"
    with WebSocket.connect(chat, headers={"Origin": lab.url().rstrip("/")}) as socket:
        assert re.fullmatch(r"node-\d", socket.headers.get("x-lab-node", "")), socket.headers
        assert socket.headers.get("x-lab-config-id"), socket.headers
    experiment = EXPERIMENTS["channels-across-nodes"]
    before = experiment.run(lab, Case("redis", "round_robin"))
    assert before.passed and before.figures["channel_layer"] == "channels.layers.InMemoryChannelLayer", before
    assert before.figures["processes"] >= 2 and before.figures["messages_delivered"] < before.figures["deliveries_if_shared"]
    capsys.readouterr()
    assert cli.main(["--name", lab.name, "readiness", "--fix"]) == 0
    output = capsys.readouterr().out
    fixable = {"channels_in_memory", "debug_on", "allowed_hosts_hardcoded", "health_check_by_address"}
    fixed = next(line for line in output.splitlines() if line.startswith("patch: ")).split(" fixes ")[1].split(" in ")[0]
    assert set(fixed.split(", ")) == fixable
    subprocess.run(["git", "apply", str(folder / ".lab" / "reports" / f"readiness-fix-{lab.name}.patch")], cwd=folder, check=True)
    assert cli.main(["--name", lab.name, "up"]) == 0
    after = {f.key: f.level for f in assess(lab)[0]}
    assert {key for key in fixable if after[key] != "ok"} == set(), after
    shared = experiment.run(lab, Case("redis", "round_robin"))
    assert shared.passed and shared.figures["channel_layer"] == "channels_redis.core.RedisChannelLayer", shared
    assert shared.figures["messages_delivered"] == shared.figures["deliveries_if_shared"]
    # The matrix's other dimension on an ASGI site: the lab's own choice of layer, each judged per user.
    layers = {row["layer"]: row for row in run_matrix(lab, quick=True)["channels"]}
    assert layers["memory"]["passed"] and layers["memory"]["delivered"] < layers["memory"]["possible"], layers
    assert layers["redis"]["passed"] and layers["redis"]["delivered"] == layers["redis"]["possible"], layers
    assert lab.config().channel_layer == ""  # put back: the site's own


def upload_and_fetch(url: str, login: tuple[str, str], tries: int = 8, logs=lambda: "") -> dict[int, int]:
    """Log in through the uploads site's own form, upload a photo through nginx, then ask nginx for it
    `tries` times (round robin: every node); how often each status came back."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(url + "accounts/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"username": login[0], "password": login[1], "csrfmiddlewaretoken": token}).encode()
    opener.open(urllib.request.Request(url + "accounts/login/", form))
    csrf = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
    name = f"photo-{uuid.uuid4().hex[:8]}.txt"
    boundary = "lab" + uuid.uuid4().hex
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="{name}"\r\n'
        f"Content-Type: text/plain\r\n\r\na photo\r\n--{boundary}--\r\n"
    ).encode()
    request = urllib.request.Request(url, body, {"Content-Type": f"multipart/form-data; boundary={boundary}", "X-CSRFToken": csrf})
    try:
        assert name.removesuffix(".txt") in opener.open(request).read().decode()
    except urllib.error.HTTPError as error:
        raise AssertionError(f"the upload answered {error.code}:\n{logs()}") from None
    statuses: dict[int, int] = {}
    for _ in range(tries):
        try:
            status = opener.open(f"{url}media/photos/{name}").status
        except urllib.error.HTTPError as error:
            status = error.code
        statuses[status] = statuses.get(status, 0) + 1
    return statuses


def test_shared_media_serves_an_upload_from_every_node_where_one_disk_did_not(lab_factory, state_dir, tmp_path, monkeypatch, capsys):
    folder = tmp_path / "uploads"
    shutil.copytree(SITES / "uploads", folder, ignore=shutil.ignore_patterns(".lab"))
    lab = lab_factory("media")
    lab.up(LabConfig(name=lab.name, site=str(folder), nodes=2, port=free_port()))
    logs = lambda: lab.logs("node-1", tail=40) + lab.logs("node-2", tail=40)  # noqa: E731
    before = upload_and_fetch(lab.url(), lab.login(), logs=logs)
    assert before.get(200) and before.get(404), before  # there on the node that saved it, 404 on the other
    monkeypatch.setenv("LAB_STATE_DIR", str(state_dir))
    assert cli.main(["--name", lab.name, "readiness", "--fix"]) == 0
    output = capsys.readouterr().out
    assert f"lab --name {lab.name} up --shared-media" in output
    subprocess.run(["git", "apply", str(folder / ".lab" / "reports" / f"readiness-fix-{lab.name}.patch")], cwd=folder, check=True)
    lab.up(shared_media=True)
    after = upload_and_fetch(lab.url(), lab.login(), logs=logs)
    assert after == {200: 8}, after
    findings = {f.key: f.level for f in assess(lab)[0]}
    assert findings["media_on_node_disk"] == "ok" and findings["locmem_cache"] == "ok" and findings["file_sessions_or_cache"] == "ok"


def _stylesheet(url: str, ca: str) -> str:
    """The hashed stylesheet the tutorial's login page links (WhiteNoise's manifest names)."""
    with urllib.request.urlopen(url + "accounts/login/", context=tls_context(ca)) as answer:
        return re.search(r'href="(/static/notes/style\.[0-9a-f]+\.css)"', answer.read().decode()).group(1)


def _status(url: str, ca: str) -> int:
    try:
        with urllib.request.urlopen(url, context=tls_context(ca)) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_deploy_serves_the_old_versions_hashed_static_files_only_with_keep_static(lab_factory, state_dir, tmp_path, monkeypatch):
    """A page the old version served asks for its own hashed stylesheet after the new version is out: a
    404 when each version's collected files replace the last's, a 200 with --keep-static."""
    folder = tmp_path / "tutorial"
    shutil.copytree(SITES / "tutorial", folder, ignore=shutil.ignore_patterns(".lab"))
    lab = lab_factory("static")
    lab.up(LabConfig(name=lab.name, site=str(folder), nodes=2, port=free_port()))
    status = lab.status()
    url, ca = status["url"], open(status["ca"]).read()
    css = folder / "notes" / "static" / "notes" / "style.css"

    first = _stylesheet(url, ca)
    css.write_text(css.read_text() + "\nbody { margin: 1px; }\n")
    lab.deploy()
    second = _stylesheet(url, ca)
    assert second != first and _status(url.rstrip("/") + second, ca) == 200
    assert _status(url.rstrip("/") + first, ca) == 404  # the old page's stylesheet: gone with its version

    css.write_text(css.read_text() + "\nbody { margin: 2px; }\n")
    lab.deploy(keep_static=True)
    third = _stylesheet(url, ca)
    assert third not in (first, second) and _status(url.rstrip("/") + third, ca) == 200
    assert _status(url.rstrip("/") + second, ca) == 200  # kept: the version before this one


MODEL = '''from django.conf import settings
from django.db import models


class Photo(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    image = models.FileField(upload_to="photos/")
{fields}'''
MIGRATION = '''from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("gallery", "{previous}")]
    operations = [{operations}]
'''


def _release(folder: Path, name: str, previous: str, operations: str, fields: str) -> None:
    """A new version of the uploads site: its Photo model and one migration."""
    (folder / "gallery" / "models.py").write_text(MODEL.format(fields=fields))
    (folder / "gallery" / "migrations" / f"{name}.py").write_text(MIGRATION.format(previous=previous, operations=operations))


def _deploy_under_traffic(lab, clients) -> tuple[int, list[str], int]:
    """Users browse the photos page (a query of Photo) while `lab deploy` rolls: failed requests, what the
    deploy said, and how the page answered at the one moment the release's migrations had run and every
    node still ran the previous version (asked from the deploy's own progress line, so no timing decides)."""
    said: list[str] = []
    between = VirtualUser(lab.url(), name="between", probe="/")
    between.login(*lab.login())
    answers: list[int] = []

    def progress(line: str) -> None:
        said.append(line)
        if line.startswith("database migrated"):  # printed after the migrations, before any node is replaced
            answers.append(between.whoami().status)

    lab.progress = progress
    with ThreadPoolExecutor(1) as pool:
        browsing = pool.submit(clients.run, 10_000, 25, 0.05, 0.0, "/")
        time.sleep(2)
        lab.deploy()
        users = browsing.result(timeout=90)
    assert len(answers) == 1, said
    return sum(1 for u in users for o in u.observations if o.status != 200), said, answers[0]


def test_a_migration_that_drops_a_column_fails_the_old_nodes_mid_deploy_and_expand_contract_does_not(
    lab_factory, tmp_path
):
    folder = tmp_path / "uploads"
    shutil.copytree(SITES / "uploads", folder, ignore=shutil.ignore_patterns(".lab"))
    two_fields = '    caption = models.CharField(max_length=80, default="")\n    title = models.CharField(max_length=80, default="")\n'
    _release(folder, "0002_caption_title", "0001_initial",
             'migrations.AddField("photo", "caption", models.CharField(max_length=80, default="")), '
             'migrations.AddField("photo", "title", models.CharField(max_length=80, default=""))', two_fields)
    lab = lab_factory("migr")
    lab.up(LabConfig(name=lab.name, site=str(folder), nodes=2, port=free_port()))
    clients = lab.clients(direct=4, nat_users=0)
    clients.ensure()

    # Dropped in one release: the migration runs before the old nodes are replaced, and they still read it.
    _release(folder, "0003_drop_caption", "0002_caption_title", 'migrations.RemoveField("photo", "caption")',
             '    title = models.CharField(max_length=80, default="")\n')
    failed, said, between = _deploy_under_traffic(lab, clients)
    print(f"dropped in one release: {failed} failed requests under traffic")
    assert between == 500, "the old nodes read a column the release dropped, so the page fails until they are replaced"
    assert any("Remove field caption from photo" in line and "expand/contract" in line for line in said), said

    # Expand/contract: first a release whose code no longer reads the column (the database keeps it)...
    _release(folder, "0004_forget_title", "0003_drop_caption",
             'migrations.SeparateDatabaseAndState(state_operations=[migrations.RemoveField("photo", "title")])', "")
    forgot, _, between = _deploy_under_traffic(lab, clients)
    print(f"expand (code stops reading it): {forgot} failed requests")
    assert forgot == 0 and between == 200
    # ...then the release that drops it, when no node reads it any more.
    _release(folder, "0005_drop_title", "0004_forget_title",
             'migrations.RunSQL("ALTER TABLE gallery_photo DROP COLUMN title", migrations.RunSQL.noop)', "")
    contracted, _, between = _deploy_under_traffic(lab, clients)
    print(f"contract (the column dropped): {contracted} failed requests")
    assert contracted == 0 and between == 200
