"""A `.env` file read as django-environ and python-dotenv read it: KEY=VALUE lines for `lab up --env-file`.

`export KEY=VALUE`, single and double quotes (double quotes take \\n escapes and ${OTHER} from lines
above), comments after a space, blank lines. No Docker here.
"""

from __future__ import annotations

import re
from pathlib import Path

from lab.errors import ConfigError

_LINE = re.compile(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)\s*$")
_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _value(raw: str, known: dict[str, str]) -> str:
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] == "'":
        return raw[1:-1]
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        text = raw[1:-1].replace("\\n", "\n").replace('\\"', '"')
        return _REFERENCE.sub(lambda m: known.get(m.group(1), ""), text)
    raw = re.split(r"\s+#", raw, maxsplit=1)[0].strip()
    return _REFERENCE.sub(lambda m: known.get(m.group(1), ""), raw)


def parse(text: str, source: str = ".env") -> list[tuple[str, str]]:
    """(key, value) pairs in file order; a line that is not KEY=VALUE is an error naming it."""
    pairs: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line)
        if not match:
            raise ConfigError(f"{source}:{number}: not a KEY=VALUE line: {line.strip()[:60]!r}")
        pairs[match.group(1)] = _value(match.group(2), pairs)
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
