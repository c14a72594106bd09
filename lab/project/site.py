"""Site: a Django project folder on this machine, as the lab reads it before anything runs.

Where its settings module is (manage.py, or what the user says), what it needs installed (a
requirements file, or a pyproject's dependencies, with `-r` includes inlined), and what its files say
about running on several machines (migrate at every start, scheduled jobs, code that uses the cache).
No Docker here: what Django itself says about the site is asked on the nodes (lab_node.site_facts).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from lab.errors import ConfigError
from lab.project.files import NEVER_DIRS, matches, walk

_SETTINGS_IN_MANAGE = re.compile(r"""DJANGO_SETTINGS_MODULE["']\s*,\s*["']([\w.]+)["']""")
_MODULE = re.compile(r"[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*")
_SKIPPED_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", "static", "staticfiles", "media", ".tox"}


@dataclass(frozen=True)
class Hit:
    """A line of the site's files that shows something, as evidence: where, and what it says."""

    file: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.text.strip()[:120]}"


# Files that say what a project needs or runs, which tutorials keep at their repository's root.
PROJECT_FILES = ("requirements.txt", "requirements", "pyproject.toml", "Pipfile", "Pipfile.lock", "uv.lock",
                 "poetry.lock", "runtime.txt", ".python-version", "Procfile", "Dockerfile")


def project_folders(site: Path) -> list[Path]:
    """Where a project keeps what is not code: the manage.py folder, then the repository around it, where
    tutorials keep requirements.txt, runtime.txt and the Procfile (`repo/mysite/manage.py`). A parent
    counts only when this is the one Django project in it, up to two levels or its `.git`."""
    folders = [site]
    for parent in list(site.parents)[:2]:
        if not any((parent / name).exists() for name in (*PROJECT_FILES, ".git")):
            break
        if find_manage_py(parent) != site:
            break  # another project lives beside this one (or the parent is a project itself)
        folders.append(parent)
        if (parent / ".git").exists():
            break
    return folders


def find_manage_py(folder: Path, depth: int = 3) -> Path | None:
    """The folder that holds the project's manage.py: `folder` itself, or the only one below it (three
    levels at most, not in virtualenvs, node_modules or hidden folders)."""
    if (folder / "manage.py").is_file():
        # A manage.py that links to the real one (tabbycat's, in its tabbycat/ folder): the project is there.
        return (folder / "manage.py").resolve().parent if (folder / "manage.py").is_symlink() else folder
    found = []
    for root, dirs, files in os.walk(folder):
        here = Path(root)
        if len(here.relative_to(folder).parts) >= depth:
            dirs[:] = []
        dirs[:] = [d for d in dirs if d not in NEVER_DIRS and not d.startswith(".") and not (here / d / "pyvenv.cfg").exists()]
        if "manage.py" in files:
            found.append(here)
            dirs[:] = []
        if len(found) > 1:
            return None
    return found[0] if len(found) == 1 else None


def project_here(start: Path) -> Path | None:
    """The Django project a command run in `start` is about: the one below it (manage.py there or at
    most three levels down, and only one), else the nearest folder above that holds manage.py."""
    found = find_manage_py(start)
    if found is not None:
        return found
    return next((parent for parent in start.parents if (parent / "manage.py").is_file()), None)


def _declared_settings(path: Path) -> str | None:
    match = _SETTINGS_IN_MANAGE.search(path.read_text(errors="replace")) if path.is_file() else None
    return match.group(1) if match else None


def _exists(folder: Path, module: str) -> bool:
    relative = Path(*module.split("."))
    return (folder / relative).with_suffix(".py").is_file() or (folder / relative / "__init__.py").is_file()


def _served_wsgi(folder: Path) -> Path | None:
    """The WSGI module the site's server loads: the one its Procfile or start script hands gunicorn
    (`gunicorn config.wsgi`), else the only wsgi.py that names a settings module."""
    starts = ("Procfile", "Dockerfile*", "start*", "*.sh", "entrypoint*")
    for hit in _grep(folder, starts, re.compile(r"\b(gunicorn|uwsgi)\b")):
        match = re.search(r"\b([A-Za-z_][\w.]*)\.wsgi\b", hit.text) or re.search(r"--module[= ]([\w.]+)", hit.text)
        if match:
            path = folder / Path(*match.group(1).split(".")) / "wsgi.py"
            if _declared_settings(path):
                return path
    found = [path for path in files_matching(folder, ("wsgi.py",)) if _declared_settings(path)]
    return found[0] if len(found) == 1 else None


def settings_choice(folder: Path, given: str = "") -> tuple[str, str]:
    """The site's settings module and where it comes from: `given` (--settings), else the one its WSGI
    module names (what production serves with), else the one manage.py names."""
    if given:
        if not _MODULE.fullmatch(given):
            raise ConfigError(f"--settings must be a dotted module name like mysite.settings, not {given!r}")
        if not _exists(folder, given):
            raise ConfigError(f"settings module {given!r} is not in {folder} (no {Path(*given.split('.'))}.py there)")
        return given, "--settings"
    manage = _declared_settings(folder / "manage.py")
    from lab.project.recipes import development_recipes

    skipped = {folder / path for path in development_recipes(folder)}
    for dockerfile in files_matching(folder, ("Dockerfile*",)):
        if dockerfile in skipped:
            continue
        match = re.search(r"^\s*ENV\s+.*\bDJANGO_SETTINGS_MODULE[= ]\"?([\w.]+)", dockerfile.read_text(errors="replace"), re.M)
        if match and _exists(folder, match.group(1)):
            where = dockerfile.relative_to(folder).as_posix()
            return match.group(1), f"{where} sets DJANGO_SETTINGS_MODULE" + (
                f"; manage.py names {manage}" if manage and manage != match.group(1) else ""
            )
    wsgi = _served_wsgi(folder)
    served = _declared_settings(wsgi) if wsgi else None
    if served and _exists(folder, served):
        why = f"{wsgi.relative_to(folder).as_posix()}, what the site's WSGI server loads"
        return served, why + (f"; manage.py names {manage}" if manage and manage != served else "")
    if not manage:
        candidates = settings_candidates(folder)
        raise ConfigError(
            f"cannot tell the settings module of {folder}: manage.py does not set DJANGO_SETTINGS_MODULE, and no "
            "deployment file of the project does; say it with --settings "
            + (f"{candidates[0]} (its settings modules: {', '.join(candidates[:8])})" if candidates else "mysite.settings")
        )
    return manage, "manage.py"


def settings_candidates(folder: Path) -> list[str]:
    """Modules that look like the project's settings (`pkg/settings.py`, `pkg/settings/*.py`), production-like first."""
    found = []
    for relative in walk(folder):
        parts = relative.with_suffix("").parts
        if relative.suffix != ".py" or len(parts) < 2 or not all(p.isidentifier() for p in parts) or set(parts) & _SKIPPED_DIRS:
            continue
        if parts[-1] == "settings" or (parts[-2] == "settings" and parts[-1] != "__init__"):
            found.append(".".join(parts))
    rank = lambda module: (not re.search(r"prod|base|common|settings$", module.rsplit(".", 1)[-1]), module)  # noqa: E731
    return sorted(found, key=rank)


def settings_module(folder: Path, given: str = "") -> str:
    """The site's settings module (see settings_choice)."""
    return settings_choice(folder, given)[0]


# Variables a site reads to reach Redis: its own URL, and a task queue's broker and results (Celery, RQ).
REDIS_VARIABLES = ("REDIS_URL", "CELERY_BROKER_URL", "BROKER_URL", "CELERY_RESULT_BACKEND", "RQ_REDIS_URL")


def redis_variables(folder: Path) -> dict[str, Hit]:
    """The Redis variables the site's code reads from the environment, each with where."""
    pattern = re.compile(r"""["'](%s)["']""" % "|".join(REDIS_VARIABLES))
    found: dict[str, Hit] = {}
    for hit in _grep(folder, ("*.py",), pattern, keep=lambda line: not line.lstrip().startswith("#")):
        for name in pattern.findall(hit.text):
            found.setdefault(name, hit)
    return found


def needed_stores(folder: Path) -> dict[str, Hit]:
    """Stores the site's code reads from the environment, so it needs them whatever the session backend:
    Redis when it reads REDIS_URL or a broker's URL (a cache, Celery, RQ, channels)."""
    hits = redis_variables(folder)
    return {"redis": next(iter(hits.values()))} if hits else {}


def files_matching(folder: Path, patterns: tuple[str, ...]) -> list[Path]:
    """The project's files whose names match `patterns`, not in virtualenvs, caches or collected static."""
    return [
        folder / relative
        for relative in walk(folder)
        if matches(relative.name, patterns) and not (set(relative.parts) & _SKIPPED_DIRS)
    ]


def _grep(folder: Path, patterns: tuple[str, ...], line_pattern: re.Pattern, keep=lambda line: True) -> list[Hit]:
    hits = []
    for path in files_matching(folder, patterns):
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if line_pattern.search(line) and keep(line):
                hits.append(Hit(path.relative_to(folder).as_posix(), number, line))
    return hits


# Where hosts name a command that runs once per deploy, not on every machine's start: Render's build and
# pre-deploy commands, Fly.io's release_command, Heroku's app.json postdeploy, Railway's preDeployCommand.
_ONCE_PER_DEPLOY = re.compile(
    r"""(buildCommand|preDeployCommand|release_command|postdeploy)["']?\s*[:=]\s*["']?(?P<command>[^"'\n]+)"""
)


def once_per_deploy_scripts(folder: Path) -> set[str]:
    """Scripts a deployment file runs once per deploy (`buildCommand: ./build.sh` in render.yaml)."""
    scripts = set()
    for hit in _grep(folder, ("render.yaml", "fly.toml", "app.json", "railway.json", "railway.toml"), _ONCE_PER_DEPLOY):
        for word in _ONCE_PER_DEPLOY.search(hit.text)["command"].split():
            if word.endswith(".sh") or "/" in word:
                scripts.add(Path(word).name)
    return scripts


def _production(folder: Path, hits: list[Hit]) -> list[Hit]:
    """The hits not in a development recipe, when the project has a production one (lab.project.recipes)."""
    from lab.project.recipes import has_production_recipe, is_development

    if not has_production_recipe(folder):
        return hits
    return [hit for hit in hits if not is_development(hit.file)]


def condition_at(path: Path, line: int) -> str:
    """The shell `if` a script's line is inside ("" for none): `if [ "$1" = '/venv/bin/uwsgi' ]`."""
    if path.suffix in (".py", ".yml", ".yaml", ".ini", ".toml", ".json") or path.name.startswith(("Dockerfile", "Procfile")):
        return ""
    opened: list[str] = []
    for number, text in enumerate(path.read_text(errors="replace").splitlines()[: line - 1], 1):
        stripped = text.strip()
        if re.match(r"^if\s", stripped):
            opened.append(stripped.removeprefix("if ").removesuffix("; then").removesuffix(";then").strip())
        elif stripped in ("fi", "fi;") or stripped.startswith("fi "):
            opened = opened[:-1]
        elif opened and re.match(r"^elif\s", stripped):  # another branch: its own condition
            opened[-1] = stripped.removeprefix("elif ").removesuffix("; then").removesuffix(";then").strip()
        elif opened and stripped in ("else", "else;"):
            opened[-1] = f"not ({opened[-1]})"
    return opened[-1] if opened else ""


def migrate_at_start(folder: Path) -> list[Hit]:
    """Start-up commands that run `migrate` (each node would, at once), an app server's configuration among
    them (uWSGI's `hook-pre-app = exec:./manage.py migrate`); a Procfile `release:` runs once, and so does a
    script a deployment file names as its build or release command."""
    start_files = ("Procfile", "Dockerfile*", "*.sh", "docker-compose*.yml", "compose*.yml", "entrypoint*", "start*", "*.ini")
    from lab.project.processes import one_off_scripts

    once, jobs = once_per_deploy_scripts(folder), one_off_scripts(folder)
    hits = _production(folder, [
        hit
        for hit in _grep(
            folder,
            start_files,
            re.compile(r"\bmigrate\b"),
            keep=lambda line: not line.lstrip().startswith(("#", ";", "release:")),
        )
        if Path(hit.file).name not in once and (folder / hit.file).resolve() not in jobs
        and (not hit.file.endswith(".ini") or _UWSGI_COMMAND.search(hit.text))
        and not _ONE_OFF_CONTAINER.search(hit.text) and not serves_runserver(folder / hit.file)
    ])
    # A migrate inside a condition runs only when it holds: the evidence says which.
    return [Hit(hit.file, hit.line, f"{hit.text.strip()}   (only if {condition})") if (condition := condition_at(folder / hit.file, hit.line))
            else hit for hit in hits]


# `docker compose run --rm web python manage.py migrate` in a deploy script: a container of its own, once.
_ONE_OFF_CONTAINER = re.compile(r"\brun\s+(?:-\S+\s+)*--rm\b")


def serves_runserver(script: Path) -> bool:
    """A start script whose server is Django's development server: a development recipe, whatever its name."""
    from lab.project.processes import _script_command

    if script.suffix not in ("", ".sh") or script.name.startswith(("Dockerfile", "Procfile")) or not script.is_file():
        return False
    return "runserver" in _script_command(script)


# uWSGI runs these in every instance: a hook before the app loads, a daemon beside the workers, a cron.
_UWSGI_COMMAND = re.compile(r"^\s*(hook-[\w-]+|exec-[\w-]+|(smart-)?attach-daemon2?|legion-[\w-]+|unique-cron|cron2?)\s*=")
_UWSGI_JOB = re.compile(r"^\s*((smart-)?attach-daemon2?|unique-cron|cron2?)\s*=.*(manage\.py|django-admin|celery)")


def scheduled_jobs(folder: Path) -> list[Hit]:
    """In-process schedulers, which every process that loads them runs: scheduler code, and what runs beside
    every instance of a process (jobs_in_every_instance). A scheduler process of its own (a Procfile's
    `beat:`/`clock:`, a compose service) runs once and is no hit."""
    code = _grep(
        folder,
        ("*.py",),
        re.compile(r"BackgroundScheduler|BlockingScheduler|apscheduler|schedule\.every|CRONJOBS|CELERY_?BEAT_SCHEDULE"),
        keep=lambda line: not line.lstrip().startswith("#"),
    )
    return code + jobs_in_every_instance(folder)


def jobs_in_every_instance(folder: Path) -> list[Hit]:
    """Jobs that run beside every instance of a process: a Celery beat inside every worker (`-B`), management
    commands an app server attaches to each of its instances (uWSGI's attach-daemon, its crons)."""
    in_workers = _grep(folder, ("Procfile", "*compose*.yml", "*compose*.yaml", "*.sh", "start*"),
                       re.compile(r"celery\b.*\bworker\b.*(\s-B\b|--beat\b)"))
    attached = _grep(folder, ("*.ini",), _UWSGI_JOB, keep=lambda line: not line.lstrip().startswith((";", "#")))
    return _production(folder, in_workers + attached)


def cache_users(folder: Path) -> list[Hit]:
    """Code that keeps something in Django's cache: rate limits, cached pages, counters."""
    return _grep(
        folder,
        ("*.py",),
        re.compile(r"from django\.core\.cache import|\bcaches\[|cache_page|@ratelimit|django_ratelimit|cache\.(incr|add|set)\("),
        keep=lambda line: not line.lstrip().startswith("#"),
    )


def uploads(folder: Path) -> list[Hit]:
    """Code that stores files: file fields, default_storage, request.FILES."""
    return _grep(
        folder,
        ("*.py",),
        re.compile(r"\b(FileField|ImageField)\(|default_storage|request\.FILES"),
        keep=lambda line: not line.lstrip().startswith("#") and "migrations" not in line,
    )


def allowed_hosts(folder: Path) -> list[Hit]:
    """Where the settings assign ALLOWED_HOSTS, each assignment whole (a list over several lines), to tell
    a list in the code from one read from the environment."""
    hits = []
    for hit in _grep(folder, ("*.py",), re.compile(r"^\s*ALLOWED_HOSTS\s*(\+)?=|ALLOWED_HOSTS\.(append|extend)"),
                     keep=lambda line: not line.lstrip().startswith("#")):
        lines = (folder / hit.file).read_text(errors="replace").splitlines()[hit.line - 1 : hit.line + 11]
        text, depth = "", 0
        for line in lines:
            text += " " + line.strip()
            depth += line.count("[") + line.count("(") - line.count("]") - line.count(")")
            if depth <= 0:
                break
        hits.append(Hit(hit.file, hit.line, text.strip()))
    return hits


def client_address_readers(folder: Path) -> list[Hit]:
    """Code that reads the client's address from REMOTE_ADDR: behind a balancer, that is the balancer's. A line
    that reads a forwarding header first (`META.get("HTTP_X_FORWARDED_FOR", META["REMOTE_ADDR"])`) takes
    REMOTE_ADDR only without a balancer, and is no hit."""
    hits = _grep(
        folder,
        ("*.py",),
        re.compile(r"""["']REMOTE_ADDR["']"""),  # the key read, not the word in a docstring
        keep=lambda line: not line.lstrip().startswith("#") and not re.search(_FORWARDING, line),
    )
    return [hit for hit in hits if not _after_a_forwarding_header(folder / hit.file, hit.line) and not _test_code(hit.file)]


def _test_code(relative: str) -> bool:
    """A test module's line (`request.META.pop('REMOTE_ADDR')` in tests/test_request.py) is not the site's behaviour."""
    parts = Path(relative).parts
    return "tests" in parts or "test" in parts or Path(relative).name.startswith(("test_", "tests.")) or relative.endswith("_test.py")


_FORWARDING = r"X_FORWARDED_FOR|X_REAL_IP|FORWARDED"


def _after_a_forwarding_header(path: Path, line: int) -> bool:
    """REMOTE_ADDR as the fallback of a forwarding header read just before it: `x = META.get("HTTP_X_FORWARDED_FOR")
    ... else: META.get("REMOTE_ADDR")`, or the last of django-ipware's META_PRECEDENCE_ORDER (shynet's settings)."""
    lines = path.read_text(errors="replace").splitlines()
    before = lines[max(0, line - 12) : line - 1]
    return any(re.search(_FORWARDING, text) and not text.lstrip().startswith("#") for text in before)


def process_state(folder: Path) -> list[Hit]:
    """State kept in one process: memoised functions (lru_cache, cache) and module globals rebound at run
    time (`global NAME`); over data that changes, each machine serves its own copy."""
    return _grep(
        folder,
        ("*.py",),
        re.compile(r"^\s*@(functools\.)?(lru_cache|cache)\b|^\s+global\s+\w+"),
        keep=lambda line: not line.lstrip().startswith("#"),
    )
