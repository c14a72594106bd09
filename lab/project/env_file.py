"""A `.env` file read by python-dotenv's parser: KEY=VALUE lines for `lab up --env-file`.

`export KEY=VALUE`, single and double quotes (a quoted value may span lines: a PEM key), escapes in
double quotes, comments after a space, blank lines. `${OTHER}` (and `${OTHER:-default}`) takes the value
of a line above, in unquoted and double-quoted values; single quotes keep it as written, as django-environ
does. Never this machine's environment: the site gets what the file says, wherever `lab up` runs.
No Docker here.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from dotenv.parser import parse_stream
from dotenv.variables import parse_variables

from lab.errors import ConfigError

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_SINGLE_QUOTED = re.compile(r"\s*(?:export\s+)?[^=]*=\s*'")


def parse(text: str, source: str = ".env") -> list[tuple[str, str]]:
    """(key, value) pairs in file order; a line that is not KEY=VALUE is an error naming it."""
    pairs: dict[str, str] = {}
    for binding in parse_stream(io.StringIO(text)):
        statement = binding.original.string
        if binding.key is None and not binding.error:  # a blank line or a comment
            continue
        if binding.error or binding.value is None or not _KEY.fullmatch(binding.key or ""):
            # The statement may start with the blank lines before it: the line named is its first with text.
            line = binding.original.line + statement[:len(statement) - len(statement.lstrip())].count("\n")
            first = (statement.strip().splitlines() or [""])[0]
            raise ConfigError(f"{source}:{line}: not a KEY=VALUE line: {first.strip()[:60]!r}")
        value = binding.value
        if not _SINGLE_QUOTED.match(statement):
            value = "".join(atom.resolve(pairs) for atom in parse_variables(value))
        pairs[binding.key] = value
    return list(pairs.items())


def read(path: str) -> list[tuple[str, str]]:
    """The pairs of the env file at `path` (relative to the current folder)."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise ConfigError(f"--env-file {path!r}: no such file")
    return parse(file.read_text(errors="replace"), str(path))


def pair(text: str) -> tuple[str, str]:
    """`KEY=VALUE` from the command line."""
    key, separator, value = text.partition("=")
    if not separator or not key:
        raise ConfigError(f"--env {text.split('=')[0]!r}: give KEY=VALUE")
    return key.strip(), value
