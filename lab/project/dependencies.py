"""Dependencies: how a project keeps what it needs installed, and which of it the lab installs.

A lock is installed exactly as locked, exported by the project's own tool in the build stage (uv for
`uv.lock`, Poetry's export plugin for `poetry.lock`); `Pipfile.lock` is plain JSON and read here.
Without a lock: requirements files (with `-r` includes, or a `requirements/` folder), pyproject's
`[project]` dependencies with `[dependency-groups]` and extras, Poetry's `[tool.poetry]` tables, or a
`Pipfile`. Groups (`--group NAME`) name a dependency group, an extra, a Poetry group, a Pipfile
category or a file in `requirements/`. No Docker here.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from lab.errors import ConfigError
from lab.model.site import Dependencies  # the value a Site holds

# A requirements/ folder: the first of these is what production installs.
_PRODUCTION_FILES = ("production.txt", "prod.txt", "base.txt", "common.txt", "main.txt")


def _inline(path: Path, seen: set[Path]) -> list[str]:
    """A requirements file's lines with `-r other.txt` includes inlined; local paths and editables dropped."""
    if path in seen or not path.is_file():
        return []
    seen.add(path)
    lines = []
    text = path.read_text(errors="replace").replace("\\\n", " ")
    for raw in text.splitlines():
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


def _text(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def _requirements(source: str, lines: list[str], groups=(), other=()) -> Dependencies:
    return Dependencies("requirements", source, {"requirements.txt": _text(lines)}, tuple(groups), (), tuple(other))


def _load_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(errors="replace"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path} is not valid TOML: {error}") from None


def _unknown(groups: list[str], known: list[str], source: str) -> None:
    missing = [g for g in groups if g not in known]
    if missing:
        raise ConfigError(
            f"--group {missing[0]}: {source} has no such group; its groups: {', '.join(known) or 'none'}"
        )


# -- the kinds -----------------------------------------------------------------------------------------


def _pep735(groups_table: dict, name: str, seen: set[str] | None = None) -> list[str]:
    """A [dependency-groups] group's requirements, with `{include-group = ...}` followed."""
    seen = seen if seen is not None else set()
    if name in seen:
        return []
    seen.add(name)
    out = []
    for item in groups_table.get(name, []):
        if isinstance(item, dict) and "include-group" in item:
            out.extend(_pep735(groups_table, item["include-group"], seen))
        elif isinstance(item, str):
            out.append(item)
    return out


def _project_groups(data: dict) -> tuple[dict, dict]:
    """pyproject's dependency groups and extras, by name."""
    return data.get("dependency-groups", {}) or {}, data.get("project", {}).get("optional-dependencies", {}) or {}


def _poetry_groups(poetry: dict) -> dict[str, dict]:
    groups = {name: table.get("dependencies", {}) for name, table in (poetry.get("group") or {}).items()}
    if poetry.get("dev-dependencies"):
        groups.setdefault("dev", poetry["dev-dependencies"])
    return groups


def _caret(version: str, tilde: bool = False) -> str:
    parts = [int(p) for p in re.findall(r"\d+", version)][:3]
    if tilde:
        upper = [parts[0] + 1] if len(parts) == 1 else [parts[0], parts[1] + 1]
    else:
        first = next((i for i, p in enumerate(parts) if p != 0), len(parts) - 1)
        upper = parts[: first + 1]
        upper[-1] += 1
    return f">={version},<{'.'.join(map(str, upper))}"


def poetry_requirement(name: str, constraint) -> str | None:
    """One `[tool.poetry.dependencies]` entry as a requirement line (None for python and local paths)."""
    if name.lower() == "python":
        return None
    extras, markers = "", ""
    if isinstance(constraint, list):  # multiple constraints by marker: take the first
        constraint = constraint[0] if constraint else "*"
    if isinstance(constraint, dict):
        if "path" in constraint:
            return None
        if "git" in constraint:
            ref = constraint.get("rev") or constraint.get("tag") or constraint.get("branch")
            return f"{name} @ git+{constraint['git']}" + (f"@{ref}" if ref else "")
        if "url" in constraint:
            return f"{name} @ {constraint['url']}"
        extras = f"[{','.join(constraint['extras'])}]" if constraint.get("extras") else ""
        markers = constraint.get("markers", "")
        constraint = constraint.get("version", "*")
    constraint = str(constraint).strip()
    specs = []
    for part in [p.strip() for p in constraint.split(",") if p.strip()]:
        if part == "*":
            continue
        if part.startswith("^"):
            specs.append(_caret(part[1:]))
        elif part.startswith("~") and not part.startswith("~="):
            specs.append(_caret(part[1:], tilde=True))
        elif part[0].isdigit():
            specs.append(f"=={part}")
        else:
            specs.append(part)
    line = f"{name}{extras}{','.join(specs)}"
    return f"{line} ; {markers}" if markers else line


def pipfile_lock(path: Path, groups: list[str]) -> Dependencies:
    """Pipfile.lock as requirements, exactly its pins: `default`, plus `develop` or other categories."""
    try:
        data = json.loads(path.read_text())
    except ValueError as error:
        raise ConfigError(f"{path} is not valid JSON: {error}") from None
    known = ["dev", *[k for k in data if k not in ("_meta", "default", "develop")]]
    _unknown(groups, known, "Pipfile.lock")
    lines = []
    for section in ["default", *["develop" if g == "dev" else g for g in groups]]:
        for name, entry in (data.get(section) or {}).items():
            if "path" in entry or entry.get("editable"):
                continue
            extras = f"[{','.join(entry['extras'])}]" if entry.get("extras") else ""
            if "git" in entry:
                line = f"{name}{extras} @ git+{entry['git']}" + (f"@{entry['ref']}" if entry.get("ref") else "")
            else:
                line = f"{name}{extras}{entry.get('version', '')}"
            lines.append(f"{line} ; {entry['markers']}" if entry.get("markers") else line)
    other = [g for g in known if g not in groups]
    return Dependencies("requirements", "Pipfile.lock", {"requirements.txt": _text(lines)}, tuple(groups), (), tuple(other))


def pipfile(path: Path, groups: list[str]) -> Dependencies:
    """A Pipfile without its lock: [packages] (and chosen categories) as requirements."""
    data = _load_toml(path)
    known = ["dev", *[k for k in data if k not in ("source", "requires", "packages", "dev-packages", "scripts", "pipenv")]]
    _unknown(groups, known, "Pipfile")
    lines = []
    for section in ["packages", *["dev-packages" if g == "dev" else g for g in groups]]:
        for name, constraint in (data.get(section) or {}).items():
            constraint = "" if constraint == "*" else constraint
            if isinstance(constraint, dict):
                extras = f"[{','.join(constraint['extras'])}]" if constraint.get("extras") else ""
                version = "" if constraint.get("version", "*") == "*" else constraint.get("version", "")
                if "path" in constraint or constraint.get("editable"):
                    continue
                lines.append(f"{name}{extras}{version}")
            else:
                lines.append(f"{name}{constraint}")
    return _requirements("Pipfile", lines, groups, [g for g in known if g not in groups])


def _locked(tool: str, folder: Path, groups: list[str], group_names, extra_names) -> Dependencies:
    """A lock its tool exports in the build stage: the lock and pyproject.toml, with the chosen groups
    (dependency groups, or extras by the same flag)."""
    known = [*group_names, *[e for e in extra_names if e not in group_names]]
    _unknown(groups, known, "pyproject.toml")
    lock = f"{tool}.lock"
    return Dependencies(
        tool,
        lock,
        {"pyproject.toml": (folder / "pyproject.toml").read_bytes(), lock: (folder / lock).read_bytes()},
        tuple(g for g in groups if g in group_names),
        tuple(g for g in groups if g not in group_names),
        tuple(g for g in known if g not in groups),
    )


def from_folder(folder: Path, groups: tuple[str, ...] = (), given: str = "") -> Dependencies | None:
    """How the site at `folder` keeps its dependencies, with `groups` chosen; None when it declares none."""
    groups = list(dict.fromkeys(groups))
    if given:
        return _given_file(given, groups)
    pyproject_path = folder / "pyproject.toml"
    data = _load_toml(pyproject_path) if pyproject_path.is_file() else {}
    dependency_groups, extras_table = _project_groups(data)
    poetry = data.get("tool", {}).get("poetry", {})
    if (folder / "uv.lock").is_file() and data:
        return _locked("uv", folder, groups, dependency_groups, extras_table)
    if (folder / "poetry.lock").is_file() and data:
        poetry_groups = {**{name: {} for name in dependency_groups}, **_poetry_groups(poetry)}
        return _locked("poetry", folder, groups, poetry_groups, poetry.get("extras", {}) or extras_table)
    if (folder / "Pipfile.lock").is_file():
        return pipfile_lock(folder / "Pipfile.lock", groups)
    if (folder / "requirements.txt").is_file():
        return _requirements_txt(folder, groups)
    in_folder = _requirements_folder(folder, groups) if (folder / "requirements").is_dir() else None
    if in_folder is not None:
        return in_folder
    if data.get("project", {}).get("dependencies") is not None and "dependencies" not in data.get("project", {}).get("dynamic", []):
        return _project_dependencies(data, groups, dependency_groups, extras_table)
    if poetry.get("dependencies"):
        return _poetry_without_lock(poetry, groups)
    if (folder / "Pipfile").is_file():
        return pipfile(folder / "Pipfile", groups)
    if groups:
        raise ConfigError(f"--group {groups[0]}: the project declares no dependencies with groups")
    return None


def _given_file(given: str, groups: list[str]) -> Dependencies:
    """The file `--requirements` names (relative to where the command runs): a Pipfile.lock, else requirements."""
    path = Path(given).expanduser()
    path = path if path.is_absolute() else Path.cwd() / path
    if not path.is_file():
        raise ConfigError(f"--requirements {given!r}: no such file")
    if path.name == "Pipfile.lock":
        return pipfile_lock(path, groups)
    return _requirements(str(given), _inline(path.resolve(), set()))


def _requirements_txt(folder: Path, groups: list[str]) -> Dependencies:
    """requirements.txt, with the chosen groups' files (requirements-dev.txt, requirements/dev.txt) added;
    a file it includes already (-r) is no group of its own."""
    named = {_group_of(p): p for p in sorted(folder.glob("*.txt")) if p.name != "requirements.txt" and "requirements" in p.stem}
    if (folder / "requirements").is_dir():
        named.update({p.stem: p for p in sorted((folder / "requirements").glob("*.txt"))})
    included: set[Path] = set()
    lines = _inline((folder / "requirements.txt").resolve(), included)
    named = {group: path for group, path in named.items() if path.resolve() not in included}
    _unknown(groups, list(named), "the project's requirements files")
    for group in groups:
        lines += [line for line in _inline(named[group].resolve(), set(included)) if line not in lines]
    return _requirements("requirements.txt", lines, groups, [g for g in named if g not in groups])


def _requirements_folder(folder: Path, groups: list[str]) -> Dependencies | None:
    """requirements/ with a production file in it (_PRODUCTION_FILES), the chosen groups' files added;
    None when it has none."""
    files = {p.stem: p for p in sorted((folder / "requirements").glob("*.txt"))}
    main = next((files[Path(name).stem] for name in _PRODUCTION_FILES if Path(name).stem in files), None)
    if main is None:
        return None
    _unknown(groups, [g for g in files if files[g] != main], f"requirements/ ({', '.join(files)})")
    in_main: set[Path] = set()
    lines = _inline(main.resolve(), in_main)
    for group in groups:
        lines += [line for line in _inline(files[group].resolve(), set()) if line not in lines]
    # What production includes already (base.txt) is installed: no group to add.
    other = [g for g in files if files[g].resolve() not in in_main and g not in groups]
    return _requirements(f"requirements/{main.name}", lines, groups, other)


def _project_dependencies(data: dict, groups: list[str], dependency_groups: dict, extras_table: dict) -> Dependencies:
    """pyproject.toml's [project] dependencies, with the chosen dependency groups or extras added."""
    known = [*dependency_groups, *extras_table]
    _unknown(groups, known, "pyproject.toml")
    lines = list(data["project"].get("dependencies") or [])
    for group in groups:
        chosen = _pep735(dependency_groups, group) if group in dependency_groups else extras_table[group]
        lines += [line for line in chosen if line not in lines]
    return _requirements("pyproject.toml [project] dependencies", lines, groups, [g for g in known if g not in groups])


def _poetry_without_lock(poetry: dict, groups: list[str]) -> Dependencies:
    """[tool.poetry] dependencies with no poetry.lock, the chosen Poetry groups added, as requirements."""
    poetry_groups = _poetry_groups(poetry)
    _unknown(groups, list(poetry_groups), "pyproject.toml")
    entries = dict(poetry["dependencies"])
    for group in groups:
        entries.update(poetry_groups[group])
    lines = [line for name, c in entries.items() if (line := poetry_requirement(name, c))]
    return _requirements("pyproject.toml [tool.poetry] (no poetry.lock)", lines, groups,
                         [g for g in poetry_groups if g not in groups])


def _group_of(path: Path) -> str:
    """`requirements-dev.txt`, `dev-requirements.txt`, `requirements_dev.txt` -> `dev`."""
    stem = path.stem.replace("requirements", "").strip("-_.")
    return stem or path.stem


# -- which group has a module ---------------------------------------------------------------------------

# Import names that differ from their distribution's name, among the packages Django sites use.
_DISTRIBUTIONS = {
    "environ": "django-environ",
    "rest_framework": "djangorestframework",
    "debug_toolbar": "django-debug-toolbar",
    "corsheaders": "django-cors-headers",
    "crispy_forms": "django-crispy-forms",
    "dotenv": "python-dotenv",
    "PIL": "pillow",
    "yaml": "pyyaml",
    "decouple": "python-decouple",
    "storages": "django-storages",
    "anymail": "django-anymail",
    "allauth": "django-allauth",
    "silk": "django-silk",
    "widget_tweaks": "django-widget-tweaks",
    "compressor": "django-compressor",
    "sass_processor": "django-sass-processor",
    "celery": "celery",
    "sentry_sdk": "sentry-sdk",
    "psycopg2": "psycopg2-binary",
    "MySQLdb": "mysqlclient",
    "jwt": "pyjwt",
    "whitenoise": "whitenoise",
}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def distribution_of(module: str) -> set[str]:
    """Normalised distribution names that may provide the top-level `module`."""
    top = module.split(".")[0]
    names = {_normal(top), _normal("django-" + top), _normal(top.replace("django_", "django-"))}
    if top in _DISTRIBUTIONS:
        names.add(_normal(_DISTRIBUTIONS[top]))
    if top == "psycopg2":
        names.add("psycopg2")
    return names


def _name_of(line: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line)
    return _normal(match.group(1)) if match else ""


def where_module_is(folder: Path, module: str) -> str | None:
    """Which of the project's groups or files lists the distribution of `module`, as advice; None if none."""
    wanted = distribution_of(module)
    pyproject = folder / "pyproject.toml"
    data = _load_toml(pyproject) if pyproject.is_file() else {}
    dependency_groups, extras_table = _project_groups(data)
    for group in dependency_groups:
        if any(_name_of(line) in wanted for line in _pep735(dependency_groups, group)):
            return f"pyproject.toml's dependency group {group!r} lists it: add --group {group}"
    for extra, lines in extras_table.items():
        if any(_name_of(line) in wanted for line in lines):
            return f"pyproject.toml's extra {extra!r} lists it: add --group {extra}"
    for group, table in _poetry_groups(data.get("tool", {}).get("poetry", {})).items():
        if any(_normal(name) in wanted for name in table):
            return f"pyproject.toml's Poetry group {group!r} lists it: add --group {group}"
    pipfile_path = folder / "Pipfile"
    if pipfile_path.is_file():
        for category, table in _load_toml(pipfile_path).items():
            if category not in ("packages", "source", "requires") and isinstance(table, dict):
                if any(_normal(name) in wanted for name in table):
                    group = "dev" if category == "dev-packages" else category
                    return f"the Pipfile's [{category}] lists it: add --group {group}"
    candidates = sorted(folder.glob("*requirements*.txt")) + sorted(folder.glob("requirements/*.txt"))
    for path in candidates:
        if any(_name_of(line) in wanted for line in _inline(path.resolve(), set())):
            relative = path.relative_to(folder).as_posix()
            group = path.stem if path.parent.name == "requirements" else _group_of(path)
            return f"{relative} lists it: add --group {group}"
    return None


def pinned_django(folders: list[Path]) -> str | None:
    """The Django version a project pins or locks (`Django==6.0.2`, `django>=6.0,<6.1`'s floor, a lock's
    entry), read without choosing groups; None when it pins none."""
    patterns = [
        re.compile(r"^\s*django(?:\[[^\]]*\])?\s*(?:==|>=|~=)\s*([\d.]+)", re.I | re.M),  # requirements, PEP 621
        re.compile(r'name = "django"\nversion = "([\d.]+)"', re.I),  # uv.lock, poetry.lock
        re.compile(r'"django":\s*\{[^}]*"version":\s*"==([\d.]+)"', re.I),  # Pipfile.lock
        re.compile(r'^\s*django\s*=\s*"(?:\^|~|==|>=)?([\d.]+)', re.I | re.M),  # Poetry, Pipfile
    ]
    names = ("requirements.txt", "requirements/base.txt", "requirements/production.txt", "requirements/prod.txt",
             "uv.lock", "poetry.lock", "Pipfile.lock", "pyproject.toml", "Pipfile")
    for folder in folders:
        for name in names:
            path = folder / name
            if not path.is_file():
                continue
            text = path.read_text(errors="replace")
            for pattern in patterns:
                match = pattern.search(text)
                if match:
                    return match.group(1)
    return None
