"""Which of a project's files enter its image: the code, as `docker build` would send it.

The project's `.dockerignore` is honoured (Docker's rules: `**`, `!` exceptions, the last match wins).
Whatever it says, some things never enter an image: virtualenvs (any folder with a `pyvenv.cfg`, or
named venv/.venv/env), `node_modules`, `.git`, caches, uploaded media, and `.env` files, which hold
secrets: the lab hands a `.env` to each container at run time instead, where the project reads it. A
local database (`db.sqlite3`, `*.db`) stays out too, unless the repository tracks it: a file git tracks
is part of the project (a committed search index the site reads), whatever its name. No Docker here.
"""

from __future__ import annotations

import fnmatch
import functools
import os
import re
import subprocess
from pathlib import Path
from typing import Iterator

# Folder names never copied, wherever they are.
NEVER_DIRS = {".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".tox", ".nox", ".pytest_cache",
              ".mypy_cache", ".ruff_cache", ".lab", ".idea", ".vscode", ".envs"}
# Top-level folders that hold what a running site made: uploads and collected static files.
NEVER_TOP = {"media", "mediafiles", "staticfiles"}
NEVER_FILES = re.compile(r"(\.pyc|\.pyo|\.sqlite3|\.sqlite3-journal|\.db|~)$|^(\.env|\.DS_Store)$")
ENV_FILE = ".env"


def _is_virtualenv(path: Path) -> bool:
    return (path / "pyvenv.cfg").is_file() or (path / "bin" / "activate").is_file() and (path / "lib").is_dir()


def _tree(folder: Path) -> Iterator[tuple[Path, list[str]]]:
    """(folder, its file names) for every folder of the project, without the folders never copied."""
    for root, dirs, files in os.walk(folder):
        here = Path(root)
        relative_root = here.relative_to(folder)
        dirs[:] = sorted(
            d for d in dirs
            if d not in NEVER_DIRS
            and not (relative_root == Path(".") and d in NEVER_TOP)
            and not _is_virtualenv(here / d)
            and not (here / d).is_symlink()
        )
        yield here, sorted(files)


def tracked(folder: Path) -> frozenset[str]:
    """The files git tracks under `folder` (relative paths), or none when it is no git work tree."""
    index = next((parent / ".git" / "index" for parent in (folder, *folder.parents) if (parent / ".git").exists()), None)
    if index is None:
        return frozenset()
    return _tracked(str(folder), index.stat().st_mtime_ns if index.is_file() else 0)


@functools.lru_cache(maxsize=32)
def _tracked(folder: str, index_changed: int) -> frozenset[str]:
    try:
        listed = subprocess.run(["git", "-C", folder, "ls-files", "-z"], capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    return frozenset(name for name in listed.stdout.decode(errors="replace").split("\0") if name) if listed.returncode == 0 else frozenset()


def walk(folder: Path) -> Iterator[Path]:
    """Every project file that could enter an image (before .dockerignore), as paths relative to `folder`."""
    committed = None
    for here, files in _tree(folder):
        for name in files:
            path = here / name
            if path.is_symlink() or not path.is_file():
                continue
            if NEVER_FILES.search(name):
                if committed is None:
                    committed = tracked(folder)
                if name == ENV_FILE or path.relative_to(folder).as_posix() not in committed:
                    continue
            yield path.relative_to(folder)


def _pattern(line: str) -> re.Pattern:
    """A .dockerignore pattern as a regular expression over a slash-separated relative path."""
    out = ""
    index = 0
    while index < len(line):
        char = line[index]
        if line.startswith("**", index):
            out += ".*"
            index += 2
            if line.startswith("/", index):
                out += "(?:/|)"
                index += 1
            continue
        if char == "*":
            out += "[^/]*"
        elif char == "?":
            out += "[^/]"
        elif char == "[":
            end = line.find("]", index)
            if end == -1:
                out += re.escape(char)
            else:
                out += "[" + line[index + 1 : end].replace("!", "^", 1) + "]"
                index = end
        else:
            out += re.escape(char)
        index += 1
    return re.compile(out + r"(?:/.*)?\Z")


def dockerignore(folder: Path) -> list[tuple[bool, re.Pattern]]:
    """(is an exception, pattern) for each rule of the project's .dockerignore, in order."""
    path = folder / ".dockerignore"
    if not path.is_file():
        return []
    rules = []
    for raw in path.read_text(errors="replace").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exception = line.startswith("!")
        line = os.path.normpath(line.lstrip("!").strip()).lstrip("/")
        if line in (".", ""):
            continue
        rules.append((exception, _pattern(line)))
    return rules


def ignored(relative: str, rules: list[tuple[bool, re.Pattern]]) -> bool:
    """Whether .dockerignore leaves `relative` out: the last rule that matches decides."""
    verdict = False
    for exception, pattern in rules:
        if pattern.match(relative):
            verdict = not exception
    return verdict


def code_files(folder: Path) -> list[tuple[str, Path]]:
    """(path in the image's site folder, file on disk) for the project's code, sorted."""
    rules = dockerignore(folder)
    # .dockerignore itself and the Dockerfile matter to no node; they may stay, as docker build keeps them.
    return [
        (relative.as_posix(), folder / relative)
        for relative in walk(folder)
        if not ignored(relative.as_posix(), rules)
    ]


def env_files(folder: Path) -> dict[str, str]:
    """The project's `.env` files by relative path: handed to each container at run time, never built in."""
    return {
        (here / ENV_FILE).relative_to(folder).as_posix(): (here / ENV_FILE).read_text(errors="replace")
        for here, files in _tree(folder)
        if ENV_FILE in files and (here / ENV_FILE).is_file()
    }


def matches(name: str, patterns: tuple[str, ...]) -> bool:
    """Whether a file name matches one of the glob patterns."""
    return any(fnmatch.fnmatch(name, pattern) for pattern in patterns)
