"""A project's recipes for running it: Dockerfiles, compose files, Procfiles, platform files, start scripts and
app-server configurations, wherever they are (`docker/`, `deploy/`, `compose/production/django/`), and which
of them are for development.

A recipe is for development when its name or a folder on its path says so (`Dockerfile-dev`,
`docker-compose.local.yml`, `compose/local/...`, `.devcontainer/`) or, for a compose file, when it serves with
`runserver`. When a project has a production recipe, its development ones are not read for what it runs:
they download tools, mount the code and run servers a deployment never runs. No Docker here.
"""

from __future__ import annotations

import re
from pathlib import Path

from lab.project.files import matches, walk

RECIPES = ("Procfile", "Procfile.*", "Dockerfile*", "*.dockerfile", "*.Dockerfile", "docker-compose*.yml", "docker-compose*.yaml",
           "compose*.yml", "compose*.yaml", "app.json", "render.yaml", "fly.toml", "heroku.yml", "*.ini")
# A word in a name or folder that marks a recipe for development, tests or CI.
_DEVELOPMENT = re.compile(r"(?:^|[-_./])(dev|devel|develop|development|local|test|tests|testing|ci|debug|devcontainer|vagrant|demo)"
                          r"(?:$|[-_./])", re.I)
_NOT_SCANNED = {".git", "node_modules", "__pycache__", ".venv", "venv", ".tox", "static", "staticfiles", "media"}


def is_development(relative: str) -> bool:
    """Whether a recipe's path marks it for development (`compose/local/django/Dockerfile`, `Dockerfile.dev`,
    `docker-compose.override.yml`, Docker's convention for a developer's overrides)."""
    path = Path(relative)
    if path.name.startswith("docker-compose.override") or path.name.startswith("compose.override"):
        return True
    return any(_DEVELOPMENT.search(part) for part in path.parts)


def serves_with_runserver(path: Path, root: Path | None = None) -> bool:
    """A recipe that serves with Django's development server: a compose file's command, or a Dockerfile's CMD or
    ENTRYPOINT, or the script it names (pontoon's docker/Dockerfile runs server_run.sh: migrate, runserver)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return False
    if "runserver" in text:
        return True
    if not path.name.lower().startswith("dockerfile"):
        return False
    for line in text.splitlines():
        if re.match(r"\s*(CMD|ENTRYPOINT)\b", line, re.I):
            names = {Path(word).name for word in re.findall(r"[\w./-]+\.sh|/[\w./-]+", line)}
            for relative in walk(root or path.parent):
                if relative.name in names and "runserver" in ((root or path.parent) / relative).read_text(errors="replace"):
                    return True
    return False


def recipes(folder: Path) -> list[Path]:
    """Every recipe under `folder` (relative paths), development ones included."""
    found = []
    for relative in walk(folder):
        if set(relative.parts) & _NOT_SCANNED:
            continue
        if matches(relative.name, RECIPES) and (relative.suffix != ".ini" or _is_app_server_ini(folder / relative)):
            found.append(relative)
    return found


def _is_app_server_ini(path: Path) -> bool:
    try:
        head = path.read_text(errors="replace")[:4000]
    except OSError:
        return False
    return bool(re.search(r"^\s*\[uwsgi\]", head, re.M))


def development_recipes(folder: Path) -> set[Path]:
    """The recipes not to read for what the project runs: its development ones, when it has a production one."""
    every = recipes(folder)
    development = {path for path in every if is_development(path.as_posix())
                   or (matches(path.name, ("*compose*.yml", "*compose*.yaml", "Dockerfile*")) and serves_with_runserver(folder / path, folder))}
    production = [path for path in every if path not in development]
    return development if production else set()


def has_production_recipe(folder: Path) -> bool:
    """Whether the project has a recipe that is not for development: then its development files are not read."""
    development = development_recipes(folder)
    return any(path not in development and not is_development(path.as_posix()) for path in recipes(folder))


def production_compose_services(folder: Path) -> list[tuple[Path, str, dict]]:
    """(compose file, service name, service) of each service in the folder's compose files that are not for
    development, in the order found; a file that is not YAML is skipped."""
    import yaml

    skipped = development_recipes(folder)
    found = []
    for relative in recipes(folder):
        if relative in skipped or not re.search(r"compose.*\.ya?ml$", relative.name):
            continue
        try:
            data = yaml.safe_load((folder / relative).read_text(errors="replace")) or {}
        except yaml.YAMLError:
            continue
        services = data.get("services") if isinstance(data, dict) else None
        found += [(relative, str(name), service) for name, service in (services or {}).items() if isinstance(service, dict)]
    return found
