"""Where a site's scheduled jobs start, read from its files: the command a scheduler machine would run
(a Procfile's clock line, a management command that runs a scheduler), and the calls in an AppConfig's
ready() that start one in every process that loads Django, which `lab readiness --fix` can guard.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

# The variable a guarded start reads, and that the lab sets on its scheduler machine only (defined with the Site).
from lab.model.site import RUN_SCHEDULER  # noqa: F401
from lab.project.site import files_matching

_CLOCK_LINE = re.compile(r"^\s*(clock|beat|scheduler)\s*:\s*(?P<command>.+)$")
_SCHEDULER_CODE = re.compile(r"BlockingScheduler|BackgroundScheduler|schedule\.every|\.run_pending\(")


@dataclass(frozen=True)
class ReadyStart:
    """A statement in an AppConfig's ready() that starts a scheduler."""

    file: str  # relative to the site folder
    line: int
    end_line: int
    text: str
    guarded: bool  # already under `if os.environ.get(RUN_SCHEDULER)`


def scheduler_command(folder: Path) -> tuple[str, str] | None:
    """(command, where it was found) for a machine that runs the site's scheduler, if the site has one."""
    procfile = folder / "Procfile"
    if procfile.is_file():
        for line in procfile.read_text(errors="replace").splitlines():
            match = _CLOCK_LINE.match(line)
            if match:
                return match["command"].strip(), f"Procfile: {line.strip()}"
    for path in files_matching(folder, ("*.py",)):
        if path.parent.name != "commands" or path.parent.parent.name != "management" or path.name.startswith("_"):
            continue
        text = path.read_text(errors="replace")
        if "schedul" in path.stem.lower() or _SCHEDULER_CODE.search(text):
            return f"python manage.py {path.stem}", f"{path.relative_to(folder).as_posix()}: a management command that runs a scheduler"
    return None


def _called_name(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return f"{_called_name(node.value)}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else ""


def _starts_scheduler(statement: ast.stmt) -> bool:
    if not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)):
        return False
    name = _called_name(statement.value.func).lower()
    return "schedul" in name or name.endswith("start") or ".start" in name


def ready_starts(folder: Path) -> list[ReadyStart]:
    """Calls in an AppConfig's ready() that start a scheduler, in files whose app uses one."""
    found = []
    for path in files_matching(folder, ("*.py",)):
        text = path.read_text(errors="replace")
        if "def ready" not in text:
            continue
        app_text = "".join(p.read_text(errors="replace") for p in path.parent.glob("*.py"))
        if not _SCHEDULER_CODE.search(app_text) and "apscheduler" not in app_text:
            continue
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        lines = text.splitlines()
        for function in ast.walk(tree):
            if not (isinstance(function, ast.FunctionDef) and function.name == "ready"):
                continue
            for statement in ast.walk(function):
                for child in getattr(statement, "body", []):
                    if _starts_scheduler(child):
                        guarded = isinstance(statement, ast.If) and RUN_SCHEDULER in ast.unparse(statement.test)
                        found.append(ReadyStart(path.relative_to(folder).as_posix(), child.lineno, child.end_lineno,
                                                lines[child.lineno - 1], guarded))
    return found
