"""Site: a Django project folder on this machine, as the lab reads it before anything runs.

Where its settings module is (manage.py, or what the user says), what it needs installed (a
requirements file, or a pyproject's dependencies, with `-r` includes inlined), and what its files say
about running on several machines (migrate at every start, scheduled jobs, code that uses the cache).
No Docker here: what Django itself says about the site is asked on the nodes (lab_node.site_facts).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError

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


def settings_module(folder: Path, given: str = "") -> str:
    """The site's settings module: `given`, else the one manage.py names."""
    if given:
        if not _MODULE.fullmatch(given):
            raise ConfigError(f"--settings must be a dotted module name like mysite.settings, not {given!r}")
        relative = Path(*given.split("."))
        if not ((folder / relative).with_suffix(".py").is_file() or (folder / relative / "__init__.py").is_file()):
            raise ConfigError(f"settings module {given!r} is not in {folder} (no {relative}.py there)")
        return given
    manage = folder / "manage.py"
    match = _SETTINGS_IN_MANAGE.search(manage.read_text(errors="replace")) if manage.is_file() else None
    if not match:
        raise ConfigError(
            f"cannot tell the settings module of {folder}: manage.py does not set DJANGO_SETTINGS_MODULE; "
            "say it with --settings mysite.settings"
        )
    return match.group(1)


def _inline(path: Path, seen: set[Path]) -> list[str]:
    """A requirements file's lines with `-r other.txt` includes inlined; local paths and editables dropped."""
    if path in seen:
        return []
    seen.add(path)
    lines = []
    for raw in path.read_text(errors="replace").splitlines():
        line = raw.split(" #")[0].strip()
        if not line or line.startswith("#"):
            continue
        include = re.match(r"(-r|--requirement)\s*=?\s*(\S+)", line)
        if include:
            lines.extend(_inline((path.parent / include.group(2)).resolve(), seen))
        elif line.startswith(("-e", "--editable", ".", "/", "file:")) or line.startswith(("-c", "--constraint")):
            continue  # the site's own code is copied in; a local package or constraints file is not reachable
        else:
            lines.append(line)
    return lines


def requirements(folder: Path, given: str = "") -> str | None:
    """What the site needs installed, as one requirements text, or None when it declares nothing."""
    if given:
        path = Path(given).expanduser()
        path = path if path.is_absolute() else Path.cwd() / path
        if not path.is_file():
            raise ConfigError(f"--requirements {given!r}: no such file")
        return "\n".join(_inline(path.resolve(), set())) + "\n"
    for name in ("requirements.txt", "requirements/production.txt", "requirements/base.txt"):
        if (folder / name).is_file():
            return "\n".join(_inline((folder / name).resolve(), set())) + "\n"
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file():
        try:
            dependencies = tomllib.loads(pyproject.read_text()).get("project", {}).get("dependencies", [])
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{pyproject} is not valid TOML: {error}") from None
        if dependencies:
            return "\n".join(dependencies) + "\n"
    return None


def _files(folder: Path, patterns: tuple[str, ...]) -> list[Path]:
    found = {
        path
        for pattern in patterns
        for path in folder.rglob(pattern)
        if path.is_file() and not (set(path.relative_to(folder).parts) & _SKIPPED_DIRS)
    }
    return sorted(found)


def _grep(folder: Path, patterns: tuple[str, ...], line_pattern: re.Pattern, keep=lambda line: True) -> list[Hit]:
    hits = []
    for path in _files(folder, patterns):
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if line_pattern.search(line) and keep(line):
                hits.append(Hit(path.relative_to(folder).as_posix(), number, line))
    return hits


def migrate_at_start(folder: Path) -> list[Hit]:
    """Start-up commands that run `migrate` (each node would, at once); a Procfile `release:` runs once."""
    start_files = ("Procfile", "Dockerfile*", "*.sh", "docker-compose*.yml", "compose*.yml", "entrypoint*", "start*")
    return _grep(
        folder,
        start_files,
        re.compile(r"\bmigrate\b"),
        keep=lambda line: not line.lstrip().startswith(("#", "release:")),
    )


def scheduled_jobs(folder: Path) -> list[Hit]:
    """In-process schedulers and clock processes, which every node would run."""
    code = _grep(
        folder,
        ("*.py",),
        re.compile(r"BackgroundScheduler|BlockingScheduler|apscheduler|schedule\.every|CRONJOBS|CELERY_?BEAT_SCHEDULE"),
        keep=lambda line: not line.lstrip().startswith("#"),
    )
    processes = _grep(folder, ("Procfile",), re.compile(r"^\s*(clock|beat|scheduler)\s*:|celery.*\bbeat\b"))
    return code + processes


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
