"""From finding to fix: a unified diff against the site's own files, one hunk per fixable finding.

The lab never applies it: `lab readiness --fix` writes it beside the report and prints the `git apply`
line and the `lab up` that runs the patched site. Each hunk starts with a comment naming the finding it
fixes and what provides the value it reads (the lab sets DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS and
DJANGO_DEBUG on every node, as a deployment's environment would). Settings are changed at the end of
the settings module the site runs, in its style: django-environ's `env(...)` where it uses it,
`os.environ` otherwise. A scheduler started in an AppConfig's ready() is guarded by DJANGO_RUN_SCHEDULER,
which only the lab's scheduler machine has (`lab up --scheduler`). A finding whose fix is not a line of
the site's (media on a storage that is not a folder, code that reads REMOTE_ADDR) is listed with the
reason it is not in the patch.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

from lab.project.schedulers import RUN_SCHEDULER, ReadyStart, ready_starts, scheduler_command
from lab.verdicts.hazards import FOUND, LOCMEM, Finding, Observed, client_address_apps

_ENVIRON = re.compile(r"^\s*env\s*=\s*environ\.Env\(|^\s*from environ import Env|^\s*env\s*=\s*Env\(", re.M)
# What tells an installed app that keys on the client's address to take it from the balancer's header.
_APP_CLIENT_ADDRESS = {
    "allauth": "ALLAUTH_TRUSTED_PROXY_COUNT = 1  # one proxy (the balancer) appends to X-Forwarded-For",
    "django_ratelimit": 'RATELIMIT_IP_META_KEY = "HTTP_X_REAL_IP"  # the client address the balancer sets',
}
_MIGRATE = r"(?:(?:python3?\s+)?(?:[\w.~/-]*/)?manage\.py|django-admin|python3?\s+-m\s+django)\s+migrate\b[^;&|\n\"']*?"
_MIGRATE_THEN = re.compile(_MIGRATE + r"\s*(?:&&|;)\s*")  # `migrate && gunicorn`: the migrate part
_THEN_MIGRATE = re.compile(r"\s*(?:&&|;)\s*" + _MIGRATE + r"(?=\s*(?:$|[\"']))")  # `collectstatic; migrate`
_ONLY_MIGRATE = re.compile(r"^\s*" + _MIGRATE + r"\s*(?:&&\s*)?\\?\s*$")  # a script's line of its own
REDIS_CLIENT = "redis==8.1.0"  # the client Django's RedisCache imports; the version the lab's nodes run
# The package a fix's settings import, added to a plain requirements file with the fix.
CLIENTS = {"locmem_cache": REDIS_CLIENT, "channels_in_memory": "channels-redis==4.2.1"}
_HIT = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): ")
_RELEASE_NOTE = ("lab readiness --fix: migrate_at_start: migrate once per release (a Procfile release: line, a "
                 "Kubernetes Job, a one-off task), not at every start of every machine")
_MIGRATE_IN_WEB = re.compile(r"^(?P<web>web:\s*)(?P<migrate>(python3?\s+)?(\./)?manage\.py\s+migrate\b[^&;]*?)\s*(&&|;)\s*(?P<rest>.+)$")


@dataclass
class Patch:
    """The diff, what it fixes, and what it leaves (with why)."""

    text: str = ""
    fixed: list[str] = field(default_factory=list)
    left: dict[str, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)  # what `lab up` needs to give the patched site


def settings_file(site: Path, module: str) -> Path | None:
    """The file of a dotted settings module inside the site folder (a module, or a package's __init__)."""
    base = site.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


class _Style:
    """How the settings file reads its environment."""

    def __init__(self, text: str):
        self.environ = bool(_ENVIRON.search(text))
        self.has_os = bool(re.search(r"^import os\b|^from os import|^import os,", text, re.M))
        self.defines_caches = bool(re.search(r"^CACHES\s*=", text, re.M))

    def required(self, name: str) -> str:
        return f'env("{name}")' if self.environ else f'os.environ["{name}"]'

    def flag(self, name: str) -> str:
        return f'env.bool("{name}", default=False)' if self.environ else f'os.environ.get("{name}", "") == "True"'

    def host_list(self, name: str) -> str:
        return f'env.list("{name}")' if self.environ else f'os.environ["{name}"].split(",")'


def _settings_lines(finding: Finding, seen: Observed, style: _Style) -> tuple[list[str], str] | str:
    """(lines to append, what provides what they read) for one finding, or why it has no settings fix."""
    key = finding.key
    if key == "secret_key_per_process":
        return [f"SECRET_KEY = {style.required('DJANGO_SECRET_KEY')}"], "DJANGO_SECRET_KEY: the lab sets it on every node (one secret)"
    if key == "debug_on":
        return [f"DEBUG = {style.flag('DJANGO_DEBUG')}"], "DJANGO_DEBUG: unset in the lab, so DEBUG is off"
    if key == "allowed_hosts_hardcoded":
        return [f"ALLOWED_HOSTS = {style.host_list('DJANGO_ALLOWED_HOSTS')}"], "DJANGO_ALLOWED_HOSTS: the lab sets its hosts"
    if key == "ssl_redirect_behind_proxy":
        return ['SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")'], "X-Forwarded-Proto: the lab's nginx sets it"
    if key == "health_check_by_address":
        return [
            "import socket  # noqa: E402",
            "",
            "ALLOWED_HOSTS = [*ALLOWED_HOSTS, socket.gethostbyname(socket.gethostname())]",
        ], "nothing to set: each machine adds its own address"
    if key == "client_address_behind_proxy":
        if seen.address_hits:
            return "the site's own code reads REMOTE_ADDR: take the client's address from X-Forwarded-For there"
        lines = [_APP_CLIENT_ADDRESS[app] for app in client_address_apps(seen)]
        return (lines, "X-Forwarded-For and X-Real-IP: the lab's nginx sets them") if lines else "no setting the lab knows fixes it"
    if key == "cache_errors_hidden":
        return ['SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"'], "nothing to set: sessions are kept in the database too"
    if key == "file_sessions_or_cache":
        caches = seen.first.get("caches", {}).values()
        if not any(entry.get("backend", "").endswith("FileBasedCache") for entry in caches):
            return ['SESSION_ENGINE = "django.contrib.sessions.backends.db"'], "nothing to set: the lab's PostgreSQL holds them"
        return "a FileBasedCache needs a shared cache (Redis, Memcached), which the lab does not give the site's own cache yet"
    if key == "media_on_node_disk":
        if "FileSystemStorage" not in str(seen.wrote.get("storage", "")):
            return "the default storage is not a folder on disk: point it at shared storage (django-storages)"
        return [f"MEDIA_ROOT = {style.required('MEDIA_ROOT')}"], (
            "MEDIA_ROOT: a folder every machine mounts (`lab up --shared-media`: the lab's NFS export); "
            "or django-storages with an object store"
        )
    if key == "locmem_cache":
        return _shared_cache_lines(seen, style)
    if key == "channels_in_memory":
        return _shared_channel_layer_lines(seen, style)
    return {
        "sqlite_database": "the lab already runs the site on its PostgreSQL; read DATABASES from DATABASE_URL in production",
    }.get(key, "no fix the lab can write")


def _shared_cache_lines(seen: Observed, style: _Style) -> tuple[list[str], str] | str:
    """locmem_cache: the default cache becomes Django's RedisCache on REDIS_URL, or why it cannot."""
    if seen.first.get("caches", {}).get("default", {}).get("backend") != LOCMEM:
        return "the local-memory cache in use is not the default alias: point that alias at a shared cache"
    redis = f'{{"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": {style.required("REDIS_URL")}}}'
    if style.defines_caches:
        line = f'CACHES["default"] = {redis}'
    elif set(seen.first.get("caches", {})) - {"default"}:
        line = f'CACHES = {{**CACHES, "default": {redis}}}'
    else:
        line = f'CACHES = {{"default": {redis}}}'
    return [line], "REDIS_URL: a Redis every machine reaches (the lab runs one when the settings read REDIS_URL); the site needs the redis package"


def _shared_channel_layer_lines(seen: Observed, style: _Style) -> tuple[list[str], str] | str:
    """channels_in_memory: each in-memory channel layer becomes channels_redis on REDIS_URL, or why none does."""
    aliases = [alias for alias, backend in seen.first.get("channel_layers", {}).items() if backend.endswith("InMemoryChannelLayer")]
    if not aliases:
        return "no in-memory channel layer in the settings: the layer the site uses is not shared"
    layer = ('{"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": ['
             + style.required("REDIS_URL") + "]}}")
    return [f"CHANNEL_LAYERS[{alias!r}] = {layer}" for alias in aliases], (
        "REDIS_URL: a Redis every machine reaches (the lab runs one when the settings read REDIS_URL); "
        "the site needs channels-redis"
    )


def _procfile_hunk(site: Path, finding: Finding) -> tuple[str, str, str] | None:
    """(relative path, old text, new text) moving `migrate` from a Procfile's web line to `release:`."""
    procfile = site / "Procfile"
    if not procfile.is_file() or not any(line.startswith("Procfile:") for line in finding.evidence):
        return None
    old = procfile.read_text()
    lines = []
    for line in old.splitlines():
        match = _MIGRATE_IN_WEB.match(line)
        if match:
            lines.append(f"release: {match['migrate'].strip()}")
            lines.append(f"{match['web']}{match['rest']}")
        else:
            lines.append(line)
    new = "\n".join(lines) + "\n"
    return ("Procfile", old, new) if new != old else None


def _start_command_hunks(site: Path, finding: Finding) -> tuple[list[tuple[str, str, str]], list[str]]:
    """(hunks, lines it could not rewrite): `migrate` taken out of each start command that runs it (a
    Dockerfile's CMD, an entrypoint or start script, a compose file's command), with a comment saying
    where it goes instead. A Procfile's web line is `_procfile_hunk`'s."""
    by_file: dict[str, list[int]] = {}
    for line in finding.evidence:
        match = _HIT.match(line)
        if match and Path(match["file"]).name != "Procfile":
            by_file.setdefault(match["file"], []).append(int(match["line"]))
    hunks, unhandled = [], []
    for relative, numbers in by_file.items():
        old = (site / relative).read_text()
        lines = old.splitlines()
        for number in sorted(numbers, reverse=True):
            line = lines[number - 1]
            if line.lstrip().upper().startswith("RUN "):
                unhandled.append(f"{relative}:{number}")  # at build time, not at start
                continue
            if _ONLY_MIGRATE.match(line):  # `true` keeps a script's block or `&& \` chain whole
                new = re.sub(_MIGRATE + r"[^;&|\\]*?(?=\s*(?:&&|\\|$))", "true", line, count=1)
            else:
                new = _MIGRATE_THEN.sub("", line, count=1)
                new = _THEN_MIGRATE.sub("", new, count=1) if new == line else new
                if new == line:
                    unhandled.append(f"{relative}:{number}")
                    continue
            indent = line[: len(line) - len(line.lstrip())]
            continued = number > 1 and lines[number - 2].rstrip().endswith("\\")
            note = [] if continued else [f"{indent}# {_RELEASE_NOTE}"]
            lines[number - 1 : number] = [*note, new]
        new_text = "\n".join(lines) + ("\n" if old.endswith("\n") else "")
        if new_text != old:
            hunks.append((relative, old, new_text))
    return hunks, unhandled


def _scheduler_hunks(site: Path) -> list[tuple[str, str, str]]:
    """(relative path, old text, new text) per file: each scheduler start in an AppConfig's ready() runs
    only where DJANGO_RUN_SCHEDULER is set, which the lab sets on its scheduler machine alone."""
    by_file: dict[str, list[ReadyStart]] = {}
    for start in ready_starts(site):
        if not start.guarded:
            by_file.setdefault(start.file, []).append(start)
    hunks = []
    for relative, starts in by_file.items():
        old = (site / relative).read_text()
        lines = old.splitlines()
        for start in sorted(starts, key=lambda s: s.line, reverse=True):
            indent = start.text[: len(start.text) - len(start.text.lstrip())]
            body = [f"    {line}" for line in lines[start.line - 1 : start.end_line]]
            lines[start.line - 1 : start.end_line] = [
                f'{indent}if os.environ.get("{RUN_SCHEDULER}"):  # lab readiness --fix: scheduled_jobs (one machine runs them)',
                *body,
            ]
        if not re.search(r"^import os\b|^from os import", old, re.M):
            first_import = next(
                (i for i, line in enumerate(lines) if line.startswith(("import ", "from ")) and "__future__" not in line), 0
            )
            lines.insert(first_import, "import os")
        hunks.append((relative, old, "\n".join(lines) + "\n"))
    return hunks


def _diff(relative: str, old: str, new: str) -> str:
    return "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True), f"a/{relative}", f"b/{relative}"))


def _requirement_hunk(site: Path, requirements: str, package: str) -> tuple[str, str, str] | str:
    """(relative path, old, new) adding `package` to the site's requirements file, or what to do instead."""
    name = package.split("==")[0]
    path = site / requirements if requirements else None
    if path is None or path.suffix != ".txt" or not path.is_file():
        return f"add {package} to the site's dependencies ({requirements or 'none declared'}): the lab's nodes have it, production needs it"
    old = path.read_text()
    if re.search(rf"^\s*{name}\b", old, re.M | re.I):
        return ""
    return requirements, old, old.rstrip("\n") + f"\n{package}  # lab readiness --fix: the shared store's client\n"


def plain_requirements(site) -> str:
    """The site's requirements file when it is a plain one the patch may add a line to ("" for a lock)."""
    dependencies = site.dependencies
    return dependencies.source if dependencies and dependencies.kind == "requirements" else ""


def build_patch(
    site: Path, settings_module: str, findings: list[Finding], seen: Observed, requirements: str = ""
) -> Patch:
    """The patch for every found hazard the lab knows a fix for; the others in `left`, with why.
    `requirements`: the site's plain requirements file, where a fix adds the package it needs."""
    patch = Patch()
    found = [f for f in findings if f.level == FOUND]
    path = settings_file(site, settings_module)
    old = path.read_text() if path else ""
    style = _Style(old)
    added: list[str] = []
    for finding in found:
        if finding.key == "scheduled_jobs":
            _fix_scheduled_jobs(patch, site, finding)
            continue
        if finding.key == "migrate_at_start":
            _fix_migrate_at_start(patch, site, finding)
            continue
        outcome = _settings_lines(finding, seen, style)
        if isinstance(outcome, str):
            patch.left[finding.key] = outcome
            continue
        if path is None:
            patch.left[finding.key] = f"the settings module {settings_module} is not a file in the site folder"
            continue
        lines, provided = outcome
        if "--shared-media" in provided:
            patch.options.append("--shared-media")
        if finding.key in CLIENTS:
            _add_client_package(patch, site, requirements, CLIENTS[finding.key])
        added += ["", f"# lab readiness --fix: {finding.key} ({finding.title}). Reads: {provided}.", *lines]
        patch.fixed.append(finding.key)
    if added:
        _put_settings_first(patch, site, path, old, style, added)
    return patch


def _add_hunks(patch: Patch, hunks: list[tuple[str, str, str]]) -> None:
    """Each (relative path, old text, new text) into the patch's diff and its list of files."""
    for hunk in hunks:
        patch.text += _diff(*hunk)
        patch.files.append(hunk[0])


def _fix_scheduled_jobs(patch: Patch, site: Path, finding: Finding) -> None:
    """Guard each scheduler start in an AppConfig's ready(); `lab up --scheduler` runs them on one machine."""
    hunks = _scheduler_hunks(site)
    _add_hunks(patch, hunks)
    command = scheduler_command(site)
    if hunks or command:
        patch.options.append("--scheduler")
    if hunks:
        patch.fixed.append(finding.key)
    else:
        patch.left[finding.key] = (
            f"no change of your files: `lab up --scheduler` runs `{command[0]}` on one machine ({command[1]})"
            if command else "no scheduler start the lab can guard (an AppConfig's ready()) nor a command that runs one"
        )


def _fix_migrate_at_start(patch: Patch, site: Path, finding: Finding) -> None:
    """Take `migrate` out of the start commands (a Procfile's web line goes to `release:`)."""
    hunks, unhandled = _start_command_hunks(site, finding)
    procfile = _procfile_hunk(site, finding)
    _add_hunks(patch, ([procfile] if procfile else []) + hunks)
    if unhandled:
        patch.left[finding.key] = f"a migrate the lab cannot take out of its command: {', '.join(unhandled)}"
    elif procfile or hunks:
        patch.fixed.append(finding.key)
    else:
        patch.left[finding.key] = "the start command is not one the lab can rewrite"


def _add_client_package(patch: Patch, site: Path, requirements: str, package: str) -> None:
    """The package a fix's settings import, added to the site's requirements, or what to do instead."""
    needed = _requirement_hunk(site, requirements, package)
    if isinstance(needed, tuple):
        _add_hunks(patch, [needed])
    elif needed:
        patch.left[f"{package.split('==')[0]} package"] = needed


def _put_settings_first(patch: Patch, site: Path, path: Path, old: str, style: _Style, added: list[str]) -> None:
    """The settings module's hunk, `added` at its end (with `import os` when they read it), first in the patch."""
    if not style.environ and not style.has_os and any("os.environ" in line for line in added):
        added = ["", "import os  # noqa: E402", *added]
    relative = path.relative_to(site).as_posix()
    patch.text = _diff(relative, old, old.rstrip("\n") + "\n" + "\n".join(added) + "\n") + patch.text
    patch.files.insert(0, relative)
