"""What the lab learns about a site as it brings it up, and says: which Python, dependencies, settings
and release steps it runs with (read from the folder), what Django answers about it (asked once per
site image in a one-off container, `lab_node.site_facts`), and where its login page is (asked of
nginx, as a browser would).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import urllib.parse
from typing import Callable

from lab.engines import job_output
from lab.engines.host import fetch_full
from lab.errors import SiteError
from lab.model.config import SAMPLE_SITE, LabConfig
from lab.model.site import Site
from lab.model.plan import LAB_ENVIRONMENT, SHARED_MEDIA_ROOT, Plan, facts_job
from lab.model.stores import POSTGRES_MAX_CONNECTIONS
from lab.run.load_errors import explain
from lab.traffic.evidence import login_form

Progress = Callable[[str], None]
# The fields of a configuration that change what is said about the site.
ABOUT_SITE = ("site", "site_settings", "requirements", "groups", "python", "build_packages", "env",
              "release_commands", "login_url", "https", "django_version", "shared_media", "scheduler")


def facts_key(plan: Plan, image: str) -> str:
    """What Django's answers about a site depend on: its image, settings module, environment, https."""
    config, site = plan.config, plan.site
    parts = [image, site.settings, sorted(config.site_environment(site).items()), config.https,
             sorted(site.env_files.items())]
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:12]


def describe(config: LabConfig, site: Site, previous: LabConfig | None, progress: Progress) -> None:
    """Say which Python, dependencies, settings and release steps the site runs with, and why; said
    when they change (not on every switch of backend or balance)."""
    if previous is not None and all(getattr(previous, key) == getattr(config, key) for key in ABOUT_SITE):
        return
    if config.site == str(SAMPLE_SITE):
        return
    dependencies = site.dependencies
    progress(f"site {config.site}")
    progress(f"  python   {site.interpreter.reason} (--python X.Y chooses)")
    progress(f"  installs {dependencies.describe().removeprefix('installs ') if dependencies else 'nothing: the project declares no dependencies'}")
    progress(f"  settings {site.settings} ({site.settings_why})")
    for key, (value, where) in sorted(site.declared_env.items()):
        if key not in dict(config.env):
            progress(f"  environment {key}={value} ({where}; --env {key}=... changes it)")
    if config.env:
        lab_owned = [key for key, _ in config.env if key in LAB_ENVIRONMENT]
        progress(
            f"  environment {', '.join(key for key, _ in config.env)} (values kept in the lab's state, not shown)"
            + (f"; the lab's own values win for {', '.join(lab_owned)}" if lab_owned else "")
        )
    for step in site.release_steps:  # what runs where: in the image's build, once per lab, or not at all
        label = {"build": "build", "build-js": "build", "skip": "skipped"}.get(step.action, "release")
        progress(f"  {label:8} {step}")
    if config.shared_media:
        progress(f"  media    MEDIA_ROOT={SHARED_MEDIA_ROOT} in the environment (--shared-media: the lab's NFS export, on every node)")
    if config.worker_count(site):
        command, where = site.worker_run
        progress(f"  workers  {config.worker_count(site)} worker machine(s) run `{command}` ({where}; --worker-machines N changes it)")
    if config.runs_scheduler(site):
        command, why = config.scheduler_run(site)
        progress(f"  jobs     one scheduler machine runs {command or 'the site'} ({why}); the nodes get no DJANGO_RUN_SCHEDULER")
    if config.pooler or config.max_connections:
        through = f"through {config.pooler} (--pooler)" if config.pooler else "directly"
        progress(f"  database the nodes reach PostgreSQL {through}; max_connections {config.max_connections or POSTGRES_MAX_CONNECTIONS}")


def ask(engine, plan: Plan, image: str, progress: Progress) -> dict:
    """Ask Django about the site once per site image (login pages, STATIC_URL, https, the lab's
    overrides), collecting its static files on the way, before any node starts."""
    started = time.monotonic()
    code, output = engine.run_job(facts_job(plan), plan.network, timeout=300)
    lines = output.strip().splitlines()
    try:
        facts = json.loads(lines[-1]) if code == 0 and lines else None
    except ValueError:
        facts = None
    if not isinstance(facts, dict):
        killed = code == 137 or job_output.OOM_MARK in output
        message = job_output.explain(facts_job(plan).name, code, output) if killed else explain(output, plan.config, plan.site)
        if os.environ.get("LAB_DEBUG"):
            message += "\n--- the site's output ---\n" + "\n".join(lines[-40:])
        raise SiteError(message)
    facts["image"] = image
    facts["key"] = facts_key(plan, image)
    progress(
        f"site {plan.config.site}: settings {facts['settings_module']}, Django {facts['django']}; "
        f"login as {facts['login_name']}"
        + (f"; static files at {facts['static_url']}" if facts.get("static_url") else "")
        + f" ({time.monotonic() - started:.1f} s)"
    )
    if facts.get("collected"):
        progress(f"  {facts['collected']}")
    if facts.get("https"):
        why = "; ".join(facts.get("https_reasons") or []) or "lab up --https"
        progress(f"  https: nginx terminates TLS ({why}); the site's security settings run as written")
    for override in facts.get("overrides", []):
        progress(f"  overrides {override['setting']} -> {override['value']} ({override['reason']})")
    return facts


def error_cause(headers: dict) -> str:
    """What a node said of its error page (lab_node.errors: X-Lab-Error), and where to read more."""
    cause = {key.lower(): value for key, value in headers.items()}.get("x-lab-error")
    node = {key.lower(): value for key, value in headers.items()}.get("x-lab-node", "node-1")
    return f" ({cause}; `lab logs {node}` shows the traceback)" if cause else ""


def find_login_page(plan: Plan, facts: dict) -> tuple[str, str]:
    """The site's login page through nginx, as (path, where it came from): a GET must find a form with a
    password field there. --login-url, else the page found before, else each page Django named in turn
    (LOGIN_URL, a CMS's admin, Django's admin). SiteError naming every answer when none has one."""
    config = plan.config
    if config.login_url:
        candidates = [[config.login_url, "--login-url"]]
    elif facts.get("login_page"):
        candidates = [[facts["login_page"], facts.get("login_page_source", "")]]
    else:
        candidates = facts.get("login_candidates") or [[facts.get("login_url") or "/accounts/login/", "LOGIN_URL"]]
    tried, failing = [], False
    for path, source in candidates:
        status, headers, body = fetch_full(plan.url + path.lstrip("/"), timeout=10.0)
        for _ in range(3):  # as a browser follows: LOGIN_URL "/login" to "/login/" (APPEND_SLASH), on the same site
            moved = _same_site_redirect(plan.url, status, headers)
            if not moved:
                break
            path = moved
            status, headers, body = fetch_full(plan.url + path.lstrip("/"), timeout=10.0)
        if status == 200 and login_form(body.decode(errors="replace")):
            return path, source
        failing = failing or status == 0 or status >= 500
        tried.append(f"{source} {path} answered {status or 'nothing'}" + ("" if status != 200 else " without a login form")
                     + error_cause(headers))
    raise NoLoginForm(
        f"no login page found through nginx: {'; '.join(tried)}. Say where users log in with `lab up --login-url /path/`",
        failing=failing or bool(config.login_url),
    )


def _same_site_redirect(base: str, status: int, headers: dict) -> str:
    """The path a redirect on the same site points to ("" for none, or for another site: an OIDC provider)."""
    location = {key.lower(): value for key, value in headers.items()}.get("location", "")
    if status not in (301, 302, 303, 307, 308) or not location:
        return ""
    absolute = urllib.parse.urljoin(base, location)
    here, there = urllib.parse.urlsplit(base), urllib.parse.urlsplit(absolute)
    if (there.scheme, there.netloc) != (here.scheme, here.netloc):
        return ""
    return there.path + (f"?{there.query}" if there.query else "")


class NoLoginForm(SiteError):
    """No page the lab tried holds a password form. `failing`: one answered an error (or --login-url was
    given), so the site is broken there; otherwise it logs users in some other way (an API, OIDC)."""

    def __init__(self, message: str, failing: bool):
        self.failing = failing
        super().__init__(message)
