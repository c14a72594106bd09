"""The environment a project declares for production: which settings it serves with.

Projects choose their settings in their deployment files, not in code: `ENV DJANGO_ENV=production` in
a Dockerfile, `DJANGO_SETTINGS_MODULE: config.settings.prod` under a service of a production compose
file, `DJANGO_CONFIGURATION=Production` (django-configurations), or a `.env` that manage.py and wsgi.py
load with python-dotenv. Only such choosing variables are read (DJANGO_*, *ENV, ENVIRONMENT,
*SETTINGS*), with literal values; secrets stay the user's to give with --env. No Docker here.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from lab.errors import ConfigError
from lab.project.env_file import parse
from lab.project.files import walk
from lab.project.recipes import is_development
from lab.project.site import project_folders

CHOOSING = re.compile(r"^(DJANGO_\w+|\w*_ENV|ENV|ENVIRONMENT|APP_ENV|\w*SETTINGS\w*)$")
# What the lab sets itself, or what is a secret or a place: never taken from the project's files.
NOT_CHOOSING = {"DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DJANGO_DEBUG", "DJANGO_ADMIN_URL", "DJANGO_READ_DOT_ENV_FILE"}


def _keep(key: str, value, read: frozenset[str] = frozenset()) -> bool:
    """A choosing variable (or one the settings read) with a literal value; a path is the author's image's, not the lab's."""
    value = str(value)
    chooses = bool(CHOOSING.match(key)) or key in read
    return chooses and key not in NOT_CHOOSING and bool(value) and "$" not in value and not value.startswith("/")


def read_by_settings(site: Path) -> frozenset[str]:
    """Variables the site's settings files name (`os.environ.get('IN_DOCKER')`): a flag a deployment file sets
    to pick settings (tabbycat's IN_DOCKER, ON_HEROKU) is one of them. The lab's own variables are not."""
    from lab.model.plan import LAB_ENVIRONMENT

    names: set[str] = set()
    for relative in walk(site):
        if relative.suffix == ".py" and ("settings" in relative.name or "settings" in relative.parent.name):
            names.update(re.findall(r"""["']([A-Z][A-Z0-9_]{2,})["']""", (site / relative).read_text(errors="replace")))
    return frozenset(names - set(LAB_ENVIRONMENT) - NOT_CHOOSING - {"SECRET_KEY", "DATABASE_URL", "DEBUG"})


def _dockerfile(path: Path) -> dict[str, str]:
    found = {}
    text = path.read_text(errors="replace").replace("\\\n", " ")
    for line in text.splitlines():
        match = re.match(r"\s*ENV\s+(.+)$", line, re.I)
        if not match:
            continue
        words = match.group(1).split()
        if words and "=" not in words[0] and len(words) >= 2:  # ENV KEY value
            found[words[0]] = " ".join(words[1:]).strip("\"'")
        else:
            for word in words:
                key, _, value = word.partition("=")
                found[key] = value.strip("\"'")
    return found


def _compose(path: Path) -> dict[str, str]:
    try:
        content = yaml.safe_load(path.read_text(errors="replace")) or {}
    except yaml.YAMLError:
        return {}
    found: dict[str, str] = {}
    for service in (content.get("services") or {}).values():
        if not isinstance(service, dict):
            continue
        build = service.get("build") if isinstance(service.get("build"), dict) else {}
        for table in (build.get("args"), service.get("environment")):
            if isinstance(table, dict):
                found.update({str(k): str(v) for k, v in table.items() if v is not None})
            elif isinstance(table, list):
                found.update(dict(str(item).partition("=")[::2] for item in table if "=" in str(item)))
    return found


_ENV_TABLES = {"env", "environment", "envs", "envvars", "env_vars", "variables", "vars"}


def _pairs(node, in_table: bool = False) -> dict[str, str]:
    """(name, literal value) pairs of a platform's app spec, wherever they sit: `- key: K / value: V` (App
    Platform, render.yaml), `- name: K / value: V` (Kubernetes), `env: {K: V}` or `env: {K: {value: V}}`
    (app.json, fly.toml)."""
    found: dict[str, str] = {}
    if isinstance(node, dict):
        key = node.get("key", node.get("name"))
        if isinstance(key, str) and isinstance(node.get("value"), (str, int, float, bool)):
            found[key] = str(node["value"])
        for name, value in node.items():
            table = str(name).lower() in _ENV_TABLES
            if table and isinstance(value, dict):
                for variable, entry in value.items():
                    literal = entry.get("value") if isinstance(entry, dict) else entry
                    if isinstance(literal, (str, int, float, bool)):
                        found[str(variable)] = str(literal)
            found.update(_pairs(value, table))
    elif isinstance(node, list):
        for item in node:
            found.update(_pairs(item, in_table))
    return found


def _platform_spec(path: Path) -> dict[str, str]:
    """The variables an app spec of a hosting platform sets (DigitalOcean, Render, Heroku, Fly.io, Kubernetes)."""
    import json
    import tomllib

    text = path.read_text(errors="replace")
    try:
        if path.suffix == ".json":
            data = json.loads(text)
        elif path.suffix == ".toml":
            data = tomllib.loads(text)
        else:
            data = list(yaml.safe_load_all(text))
    except (ValueError, yaml.YAMLError, tomllib.TOMLDecodeError):
        return {}
    return _pairs(data)


def _loads_dotenv(site: Path) -> bool:
    """Whether the project's entry points load its .env themselves (python-dotenv, django-environ)."""
    entries = [site / "manage.py", *(site / relative for relative in walk(site) if relative.name in ("wsgi.py", "asgi.py"))]
    return any(re.search(r"load_dotenv|read_dotenv|read_env\(", path.read_text(errors="replace")) for path in entries if path.is_file())


def declared_environment(site: Path) -> dict[str, tuple[str, str]]:
    """Variable -> (value, where it is declared), for the variables that choose the site's settings."""
    found: dict[str, tuple[str, str]] = {}
    read = read_by_settings(site)

    def take(values: dict[str, str], where: str) -> None:
        found.update({key: (value, where) for key, value in values.items() if _keep(key, value, read)})

    if _loads_dotenv(site) and (site / ".env").is_file():  # lowest: load_dotenv does not override
        try:
            take(dict(parse((site / ".env").read_text(errors="replace"))), ".env, which its wsgi.py or manage.py loads")
        except ConfigError:
            pass  # a .env the lab cannot read is the site's to read
    for folder in reversed(project_folders(site)):  # a hosting platform's app spec, below the image's own
        for relative in walk(folder):
            name, where = relative.name.lower(), relative.as_posix()
            spec = name in ("app.json", "fly.toml", "render.yaml") or (
                name.endswith((".yaml", ".yml")) and "compose" not in name and (relative.parts[0] in (".do", "deploy", "k8s", "kubernetes", "helm", ".platform") or "deploy" in name))
            if spec and not is_development(where):  # a platform's flags stay its own: only what chooses settings
                found.update({key: (value, where) for key, value in _platform_spec(folder / relative).items() if _keep(key, value)})
    for folder in reversed(project_folders(site)):
        for relative in walk(folder):
            name = relative.name.lower()
            where = (folder / relative).relative_to(folder).as_posix()
            if name.startswith("dockerfile") and not is_development(where):
                take(_dockerfile(folder / relative), where)
    for folder in reversed(project_folders(site)):
        for relative in walk(folder):
            name = relative.name.lower()
            if name.endswith((".yml", ".yaml")) and "compose" in name or name in ("production.yml", "prod.yml"):
                if "prod" in name:  # the production file's environment, not development's
                    take(_compose(folder / relative), (folder / relative).relative_to(folder).as_posix())
    return found
