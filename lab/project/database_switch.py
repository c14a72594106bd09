"""The settings' own switch to PostgreSQL: a variable the settings read, whose value picks the database engine
(`DB = os.getenv("DB", "sqlite")` ... `if DB == "postgres":`). The lab runs PostgreSQL for every site; set to
that value, the settings agree with the database the nodes use, and what follows from the engine in the site's
own code (linkding's `USE_SQLITE` and its `enable_wal` release step) agrees too."""

from __future__ import annotations

import re
from pathlib import Path

from lab.project.files import walk

_READ = r"""os\.(?:getenv|environ\.get)\(\s*["'](\w+)["']"""
# NAME = os.getenv("VAR", ...) : the variable's value kept under a name the settings compare later
_ASSIGNED = re.compile(rf"^\s*(\w+)\s*=\s*(?:str\()?{_READ}", re.M)
_POSTGRES = r"""["'](postgres(?:ql)?|psql|pg)["']"""


def _reading(variable: str) -> str:
    """`os.getenv("DB")` or `os.environ.get("DB", "sqlite")`, as a pattern."""
    return r"os\.(?:getenv|environ\.get)\(\s*[\"']" + re.escape(variable) + r"[\"'][^)]*\)"


def database_switch(site: Path) -> dict[str, tuple[str, str]]:
    """Variable -> (the value that picks PostgreSQL, where the settings compare it)."""
    found: dict[str, tuple[str, str]] = {}
    for relative in walk(site):
        if relative.suffix != ".py" or not ("settings" in relative.name or "settings" in relative.parent.name):
            continue
        text = (site / relative).read_text(errors="replace")
        names = {name: variable for name, variable in _ASSIGNED.findall(text)}
        direct = set(re.findall(_READ, text))
        compared = [(variable, _reading(variable)) for variable in sorted(direct)]
        compared += [(variable, rf"\b{re.escape(name)}\b") for name, variable in names.items()]
        for variable, reading in compared:
            match = re.search(rf"{reading}\s*(?:==\s*{_POSTGRES}|in\s*[\[(][^\])]*?{_POSTGRES})", text)
            if match and variable not in found:
                line = text.count("\n", 0, match.start()) + 1
                found[variable] = (match.group(match.lastindex), f"{relative.as_posix()}:{line}")
    return found
