"""Real projects as their authors publish them, brought up with `lab up` as a user runs it.

- wagtailsite: made by `wagtail start` (Wagtail 8), its Dockerfile says python:3.14; requirements.txt
  includes a production file with uWSGI (no wheel at all: it compiles in the build stage); production
  settings with ManifestStaticFilesStorage, chosen by DJANGO_SETTINGS_MODULE as a platform sets it;
  catch-all page URLs (so /accounts/login/ "resolves" to a 404 page); an image model.
- prodtemplate: shaped like cookiecutter-django: split settings (manage.py names local, wsgi.py
  production), uv.lock with a dev group, psycopg[c] (compiles against libpq), django-environ with a .env
  and required variables (DJANGO_ADMIN_URL, MAILGUN_*), REDIS_URL for its cache, allauth login by email,
  `__Secure-` cookies and HSTS (so nginx terminates https), compilemessages in its Dockerfile.
"""

import urllib.request

import pytest

from lab.studies.matrix import run_cell
from lab.studies.readiness import assess
from lab.traffic.evidence import VirtualUser, tls_context
from lab.verdicts.hazards import FOUND

from .conftest import NOTHING, free_port, run_lab
from .test_own_site import SITES

pytestmark = pytest.mark.integration


def on_nodes(lab, command: list[str]) -> list[tuple[int, str]]:
    return [lab.engine.docker.exec(node.name, command) for node in lab.plan().nodes]


def logged_in_user(lab, probe: str) -> VirtualUser:
    status = lab.status()
    ca = open(status["ca"]).read() if status.get("ca") else None
    user = VirtualUser(status["url"], login_path=lab.login_path(), probe=probe, ca=ca)
    user.login(*lab.login())
    return user


def kept_and_lost(lab, probe: str) -> None:
    """Redis keeps every user logged in across the nodes; a per-process cache loses them."""
    clients = lab.clients()
    clients.ensure()
    kept = run_cell(lab, clients, "redis", "round_robin", requests_count=10, probe=probe)
    assert kept.evidence_problem() is None, kept.evidence_problem()
    assert kept.observed_kept and len(kept.nodes_seen) >= 2, kept.summary()
    lost = run_cell(lab, clients, "locmem", "round_robin", requests_count=10, probe=probe)
    assert lost.evidence_problem() is None, lost.evidence_problem()
    assert not lost.observed_kept and lost.lost_details(), lost.summary()
    lab.switch(backend="redis")


# -- a Wagtail site -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wagtail(module_lab_factory, state_dir):
    lab = module_lab_factory("wagtail")
    code, out, err = run_lab(
        state_dir, "--name", lab.name, "up", "--site", str(SITES / "wagtailsite"), "--port", str(free_port()),
        "--env", "DJANGO_SETTINGS_MODULE=wagtailsite.settings.production",
    )
    assert code == 0, err
    assert "Dockerfile FROM python:3.14-slim-bookworm asks 3.14: 3.14 (Debian forky)" in out
    assert "settings wagtailsite.settings.production (DJANGO_SETTINGS_MODULE in the site's environment)" in out
    return lab


def test_wagtail_runs_as_written_with_uwsgi_built_and_its_own_admin_login(wagtail):
    facts = wagtail.site()
    assert facts["settings_module"] == "wagtailsite.settings.production" and facts["django"] == "6.1.3"
    assert wagtail.status()["python"] == "3.14"
    assert all(code == 0 for code, _ in on_nodes(wagtail, ["pip", "show", "--quiet", "uWSGI"]))  # compiled, installed
    # LOGIN_URL (/accounts/login/) is caught by the page tree and answers 404: users log in where editors do.
    assert wagtail.login_path() == "admin/login/" and facts["login_page_source"] == "Wagtail's admin login"


def test_every_admin_page_renders_on_every_node_with_its_static_manifest(wagtail):
    user = logged_in_user(wagtail, probe="admin/")
    served = {}
    for _ in range(6):
        status, headers, page = user._request("admin/pages/")
        served[headers.get("X-Lab-Node")] = status
    assert set(served.values()) == {200} and len(served) == 3, served  # no "Missing staticfiles manifest entry"
    stylesheet = page.split(b'href="/static/wagtailadmin/css/core.', 1)
    assert len(stylesheet) == 2, page[:400]  # the manifest's hashed name, collected before any node started


def test_wagtail_keeps_users_under_redis_and_loses_them_under_locmem(wagtail):
    kept_and_lost(wagtail, probe="/admin/")


def test_wagtails_readiness_finds_migrate_at_start_and_uploads_on_one_node(wagtail):
    findings, _ = assess(wagtail)
    # Wagtail keeps its sites' root paths in the default cache, a LocMemCache here.
    assert {f.key for f in findings if f.level == FOUND} == {
        "migrate_at_start", "media_on_node_disk", "health_check_by_address", "locmem_cache",
    }


# -- a production template ----------------------------------------------------------------------------


def test_without_its_environment_the_production_template_is_refused_in_one_line(engine, state_dir):
    name = "labtest-prodenv"
    code, _, err = run_lab(state_dir, "--name", name, "up", "--site", str(SITES / "prodtemplate"), "--port", str(free_port()))
    errors = [line for line in err.splitlines() if line.startswith("lab:")]
    assert code == 1 and len(errors) == 1, err
    assert "DJANGO_ADMIN_URL" in errors[0] and "config/settings/production.py:" in errors[0] and "--env" in errors[0]
    assert "Traceback" not in err  # the site's traceback only with LAB_DEBUG=1
    assert engine.lab_resources(name) == NOTHING
    assert not (state_dir / f"{name}.json").exists()


@pytest.fixture(scope="module")
def production(module_lab_factory, state_dir):
    lab = module_lab_factory("prod")
    env_file = SITES / "prodtemplate" / ".envs" / ".production" / ".django"
    code, out, err = run_lab(
        state_dir, "--name", lab.name, "up", "--site", str(SITES / "prodtemplate"), "--port", str(free_port()),
        "--env-file", str(env_file), "--env", "DJANGO_ADMIN_URL=control/",
    )
    assert code == 0, err
    assert "installs uv.lock exactly as locked; not dev (add one with --group NAME)" in out
    assert "https: nginx terminates TLS" in out and "__Secure-sessionid" in out
    assert "control/" not in out and "DJANGO_ADMIN_URL" in out  # the variable is named, its value is not
    return lab


def test_the_production_settings_run_unchanged_over_https(production):
    status, facts = production.status(), production.site()
    assert status["url"].startswith("https://") and status["ca"] and status["python"] == "3.14"
    overridden = {override["setting"] for override in facts["overrides"]}
    assert not overridden & {"SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "SESSION_COOKIE_NAME", "SECURE_HSTS_SECONDS"}
    assert facts["settings_module"] == "config.settings.production" and facts["session_cookie"] == "__Secure-sessionid"
    # psycopg's C implementation was compiled against libpq in the build stage, and runs on the node.
    assert on_nodes(production, ["python", "-c", "import psycopg; print(psycopg.pq.__impl__)"])[0] == (0, "c\n")
    # plain http to the https port is sent to https
    answer = urllib.request.urlopen(  # noqa: S310 (the lab's own address)
        urllib.request.Request(status["url"], method="HEAD"), context=tls_context(open(status["ca"]).read())
    )
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=60")


def test_the_env_file_is_handed_to_containers_and_never_built_into_an_image(production):
    image = production.plan().nodes[0].image
    inside = production.engine.docker.client.containers.run(
        image, ["sh", "-c", "ls -a /srv/site; ls /srv/site/locale/fr_FR/LC_MESSAGES /srv/site/prodtemplate/static/js"],
        remove=True, user="django",
    ).decode()
    assert ".env\n" not in inside and ".envs" not in inside
    assert "django.mo" in inside  # compilemessages, from the project's Dockerfile, ran in the build stage
    assert "project.js" in inside  # and so did its front-end build (npm ci, npm run build: esbuild)
    assert on_nodes(production, ["test", "-f", "/srv/site/.env"])[0][0] == 0  # where base.py reads it


def test_a_real_chromium_logs_in_over_https_and_stays_logged_in_across_nodes(production):
    from playwright.sync_api import sync_playwright

    status = production.status()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=chromium_path(), args=["--no-sandbox", f"--ignore-certificate-errors-spki-list={nginx_key(production)}"]
        )
        context = chromium.new_context(locale="fr-FR", extra_http_headers={"Accept-Language": "fr-FR"})
        page = context.new_page()
        page.goto(status["login_url"])
        page.fill("input[name=login]", status["username"])
        page.fill("input[name=password]", status["password"])
        page.click("button[type=submit]")
        page.wait_for_load_state()
        nodes = set()
        for _ in range(6):
            answer = page.goto(status["url"])
            nodes.add(answer.headers.get("x-lab-node"))
            # Logged in on every node, in French: the catalogue compilemessages built into the image.
            assert "Connecté en tant que demo@example.com" in page.inner_text("#signed-in-as")
        assert len(nodes) >= 2, nodes
        # The script its front-end build bundled ran in the browser: it marks the current page's link.
        assert page.get_attribute(".navbar-nav a.nav-link.active", "href") == "/"
        cookies = {cookie["name"]: cookie for cookie in context.cookies()}
        assert cookies["__Secure-sessionid"]["secure"] and cookies["__Secure-csrftoken"]["secure"]
        page.screenshot(path=str(production_screenshot()))
        chromium.close()


def chromium_path() -> str:
    from .conftest import CHROMIUM

    return CHROMIUM


def nginx_key(lab) -> str:
    """nginx's public key, which Chromium is told to trust: the test leaves the user's certificate store
    (Chromium's NSS database) alone, where a person imports the lab's CA that `lab status` names."""
    import base64
    import hashlib

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    certificate = x509.load_pem_x509_certificate((lab.states.tls_dir(lab.name) / "cert.pem").read_bytes())
    der = certificate.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def production_screenshot():
    from lab.reports.matrix import REPORTS

    REPORTS.mkdir(parents=True, exist_ok=True)
    return REPORTS / "production-template-login.png"


def test_the_production_template_keeps_users_under_redis_and_loses_them_under_locmem(production):
    kept_and_lost(production, probe="/")


def test_the_production_templates_readiness_finds_what_its_shape_brings(production):
    findings, seen = assess(production)
    # Its Redis cache: allauth's rate limits agree across machines, but they key on REMOTE_ADDR (nginx's).
    assert {f.key for f in findings if f.level == FOUND} == {"health_check_by_address", "client_address_behind_proxy"}
    assert seen.host_check["status"] == 400 and seen.first["caches"]["default"]["backend"].endswith("RedisCache")
    # cookiecutter-django's IGNORE_EXCEPTIONS: a note, since its sessions are in the database, not the cache.
    assert {f.key: f.level for f in findings}["cache_errors_hidden"] == "note"
