"""The environment variables a settings module cannot do without, read from its code: the settings module and
the project's modules it imports (`from .base import *`), each call that reads a variable with no default.

`os.environ["X"]`, django-environ's `env("X")`, `env.str("X")`, `env.list("X")`, `env.db()` (DATABASE_URL) and
python-decouple's `config("X")` without `default=`: a deployment must set each. Asked once a settings module
failed for a missing variable, so the lab names them all at once rather than one per `lab up`. No Docker here.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

_ENVIRON_READERS = {"env", "config", "Env", "environ"}
_CAST_METHODS = {"str", "bool", "int", "float", "list", "tuple", "dict", "json", "url", "db", "db_url", "cache",
                 "cache_url", "email", "email_url", "search_url", "path", "bytes", "parse_value"}
_DEFAULT_NAMES = {"db": "DATABASE_URL", "db_url": "DATABASE_URL", "cache": "CACHE_URL", "cache_url": "CACHE_URL",
                  "email": "EMAIL_URL", "email_url": "EMAIL_URL", "search_url": "SEARCH_URL"}


@dataclass(frozen=True)
class Required:
    """A variable the settings read without a default, and where."""

    name: str
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.name} ({self.file}:{self.line})"


def _module_file(folder: Path, module: str) -> Path | None:
    relative = Path(*module.split("."))
    for candidate in (folder / relative.with_suffix(".py"), folder / relative / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported(folder: Path, path: Path, tree: ast.AST) -> list[Path]:
    """The project's own modules a settings file imports (relative or by the project's package names)."""
    package = path.parent.relative_to(folder).parts
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1] if node.level > 1 else package
                module = ".".join([*base, *(node.module.split(".") if node.module else [])])
                names = [module] if node.module else [f"{module}.{alias.name}" for alias in node.names]
            else:
                names = [node.module or ""] + [f"{node.module}.{alias.name}" for alias in node.names]
            found += [f for f in (_module_file(folder, name) for name in names if name) if f is not None]
        elif isinstance(node, ast.Import):
            found += [f for f in (_module_file(folder, alias.name) for alias in node.names) if f is not None]
    return found


def _string(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _reads(tree: ast.AST) -> list[tuple[str, int]]:
    """(variable, line) of every read without a default in one module."""
    found = []
    for node in ast.walk(tree):
        # os.environ["X"]
        if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "environ"
                and isinstance(node.ctx, ast.Load) and _string(node.slice)):
            found.append((_string(node.slice), node.lineno))
            continue
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        name = function.id if isinstance(function, ast.Name) else None
        method = function.attr if isinstance(function, ast.Attribute) else None
        reader = name in _ENVIRON_READERS or (
            method in _CAST_METHODS and isinstance(function.value, ast.Name) and function.value.id in _ENVIRON_READERS)
        if not reader or any(keyword.arg == "default" for keyword in node.keywords):
            continue
        # A default given by position: env.str("X", "x") and config("X", "x") take it second, env("X", cast, "x") third.
        if len(node.args) >= (3 if name in ("env", "Env", "environ") and method is None else 2):
            continue
        variable = _string(node.args[0]) if node.args else _DEFAULT_NAMES.get(method or "")
        if variable and variable.isupper():
            found.append((variable, node.lineno))
    return sorted(found, key=lambda read: read[1])


def settings_chain(folder: Path, settings_module: str) -> list[Path]:
    """The settings module's files in the order they load: its packages' __init__, then each project module
    it imports (`from .base import *`) before the module that imports it, once each."""
    start = _module_file(folder, settings_module)
    if start is None:
        return []
    chain: list[Path] = []
    seen: set[Path] = set()

    def visit(path: Path) -> None:
        if path in seen:
            return
        seen.add(path)
        try:
            tree = ast.parse(path.read_text(errors="replace"))
        except SyntaxError:
            chain.append(path)
            return
        for module in _imported(folder, path, tree):
            visit(module)
        chain.append(path)

    parts = settings_module.split(".")
    for depth in range(1, len(parts)):  # its packages load first (a package's __init__ may read one too)
        package = _module_file(folder, ".".join(parts[:depth]))
        if package is not None and package.name == "__init__.py":
            visit(package)
    visit(start)
    return chain


def required_variables(folder: Path, settings_module: str) -> list[Required]:
    """Every variable the settings module and the project modules it imports read without a default, in the
    order the modules load (the module's imports first), once each."""
    found: dict[str, Required] = {}
    for path in settings_chain(folder, settings_module):
        try:
            tree = ast.parse(path.read_text(errors="replace"))
        except SyntaxError:
            continue
        for variable, line in _reads(tree):
            found.setdefault(variable, Required(variable, path.relative_to(folder).as_posix(), line))
    return list(found.values())


def off_value(folder: Path) -> str:
    """How the project's settings read DEBUG's "off": "0" where they read it as a number (`int(os.environ[
    'DEBUG'])`, tabbycat), else "False" (what `== "True"`, strtobool, django-environ and healthchecks' strict
    envbool, which refuses "0", all take for off)."""
    from lab.project.files import walk

    numeric = re.compile(r"int\(\s*(?:os\.environ|os\.getenv|environ|getenv)\W[^)]*DEBUG")
    for relative in walk(folder):
        if relative.suffix == ".py" and "settings" in relative.as_posix():
            if numeric.search((folder / relative).read_text(errors="replace")):
                return "0"
    return "False"
