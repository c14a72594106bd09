"""The options a team keeps in its project: `[tool.lab]` in the project's pyproject.toml, or `lab.toml` beside
manage.py (the same keys at its top level). Found where the project's other files are (lab.project.site's
project_folders: the manage.py folder, then the repository root around it), read with tomllib and handed on
as plain data (lab.model.options.FileTable), checked by the model; `lab up --save` writes it with tomlkit,
keeping its comments and layout.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from lab.errors import ConfigError
from lab.model.options import BY_KEY, FILE, OPTIONS, FileTable, Sourced, file_values
from lab.project.site import project_folders

LAB_TOML = "lab.toml"


def shown(path: Path) -> str:
    """A path as a person reads it: relative to where the command runs, when it is below."""
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(path)


def _parse(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:  # its message names the line and column, or the end
        raise ConfigError(f"{shown(path)}: not valid TOML: {error}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{shown(path)}: cannot be read: {error}") from None


def _lab_table(path: Path) -> dict | None:
    """A pyproject.toml's [tool.lab], or None when it has none."""
    tool = _parse(path).get("tool", {})
    table = tool.get("lab") if isinstance(tool, dict) else None
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"{shown(path)}: tool.lab must be a table ([tool.lab]), not {table!r}")
    return table


def find_options(site: str | Path) -> FileTable | None:
    """The project's options table, checked (lab.model.options.file_values), or None when it keeps none."""
    site = Path(site)
    found = [(path, table) for path in (folder / "pyproject.toml" for folder in project_folders(site))
             if path.is_file() and (table := _lab_table(path)) is not None][:1]
    own = site / LAB_TOML
    if own.is_file():
        if found:
            raise ConfigError(f"the project keeps its lab options twice: {shown(found[0][0])} [tool.lab] and "
                              f"{shown(own)}; keep one")
        found = [(own, _parse(own))]
    if not found:
        return None
    path, values = found[0]
    table = FileTable(dict(values), shown(path), "" if path.name == LAB_TOML else "[tool.lab]", str(path.parent))
    file_values(table)  # an unknown key, a wrong type or a secret's value is refused now
    return table


def save_target(site: str | Path) -> Path:
    """The file `lab up --save` writes: the one that keeps the options, else the project's pyproject.toml
    (the manage.py folder's, else its repository's), else a lab.toml beside manage.py."""
    site = Path(site)
    kept = find_options(site)
    if kept is not None:
        return Path(kept.folder) / (LAB_TOML if not kept.table else "pyproject.toml")
    pyprojects = [folder / "pyproject.toml" for folder in project_folders(site) if (folder / "pyproject.toml").is_file()]
    return pyprojects[0] if pyprojects else site / LAB_TOML


def save_options(path: Path, values: dict[str, Any]) -> list[str]:
    """Write `values` (by option key) into `path`'s options table, keeping the rest of the file as it is; a key
    the file spells otherwise (`worker_machines`, `group`) keeps its spelling. Returns `key = value` lines."""
    import tomlkit

    document = tomlkit.parse(path.read_text()) if path.is_file() else tomlkit.document()
    if path.name == LAB_TOML:
        table = document
    else:
        tool = document.get("tool")
        if tool is None:
            tool = tomlkit.table(is_super_table=True)
            document.append("tool", tool)
        if "lab" not in tool:
            tool.append("lab", tomlkit.table())
        table = tool["lab"]
    written = []
    for option in OPTIONS:
        if option.key not in values:
            continue
        spelled = next((name for name in table if name in option.spellings()), option.key)
        table[spelled] = values[option.key]
        written.append(f"{spelled} = {tomlkit.item(values[option.key]).as_string()}")
    path.write_text(tomlkit.dumps(document))
    return written


def relative_env_file(path: str, folder: str) -> str:
    """An env file's path as the options file keeps it: relative to that file's folder when below it."""
    try:
        return Path(path).resolve().relative_to(Path(folder).resolve()).as_posix()
    except ValueError:
        return str(Path(path).resolve())


def env_file_paths(merged: dict[str, Sourced], table: FileTable | None) -> tuple[str, ...]:
    """The env files the options name: the file's found from its folder, a flag's from where the command runs."""
    sourced = merged.get("env-files")
    if sourced is None:
        return ()
    folder = Path(table.folder) if sourced.source == FILE and table else Path.cwd()
    return tuple(str(folder / name) for name in BY_KEY["env-files"].convert(sourced.value))
