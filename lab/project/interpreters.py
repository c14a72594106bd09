"""Which Python a site's nodes run: the one the project declares, or the closest Debian's archive has.

Images are built on a debootstrapped Debian base (no registry answers here), so the interpreters are
Debian's: each release ships one or two. A project says its Python in `runtime.txt` (Heroku),
`.python-version` (pyenv, uv), pyproject's `requires-python`, or its Dockerfile's `FROM python:X.Y`.
No Docker here: plain reading of the folder, unit-tested.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from lab.errors import ConfigError
from lab.model.site import Choice, Interpreter  # the values a Site holds


# Read off deb.debian.org's Packages indexes (2026-11): bullseye 3.9, bookworm 3.11, trixie 3.13,
# forky 3.14 (and 3.15, too new for most packages). No Debian release ships 3.10 or 3.12.
INTERPRETERS = {
    "3.11": Interpreter("3.11", "bookworm", "5.2.19"),
    "3.13": Interpreter("3.13", "trixie", "6.1.3"),
    "3.14": Interpreter("3.14", "forky", "6.1.3"),
}
DEFAULT = INTERPRETERS["3.13"]
_VERSION = re.compile(r"(?<![\d.])3\.(\d{1,2})(?:\.\d+)?")


@dataclass(frozen=True)
class Declared:
    """What a project says of its Python: where, the text, and the versions it admits."""

    source: str  # "runtime.txt", "pyproject.toml requires-python", ...
    text: str
    wanted: tuple[int, int] | None  # the one version it names, when it names one
    specifier: SpecifierSet | None = None  # a range, e.g. ">=3.10,<3.13"

    def admits(self, interpreter: Interpreter) -> bool:
        if self.specifier is not None:
            # Its first release or a later one (">=3.13.2" admits 3.13); neither is a prerelease.
            return self.specifier.contains(Version(interpreter.version + ".0")) or self.specifier.contains(
                Version(interpreter.version + ".99")
            )
        return True  # pragma: no mutate (admitting none falls back to all alike)


def _named(text: str) -> tuple[int, int] | None:
    match = _VERSION.search(text)
    return (3, int(match.group(1))) if match else None


def declared(folder: Path) -> Declared | None:
    """The Python the project declares, from the first file that says one."""
    runtime = folder / "runtime.txt"
    if runtime.is_file():
        text = runtime.read_text(errors="replace").strip()
        if _named(text):
            return Declared("runtime.txt", text, _named(text))
    version_file = folder / ".python-version"
    if version_file.is_file():
        text = next((line.strip() for line in version_file.read_text(errors="replace").splitlines() if line.strip()), "")
        if _named(text):
            return Declared(".python-version", text, _named(text))
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(errors="replace"))
        except tomllib.TOMLDecodeError:
            data = {}
        text = data.get("project", {}).get("requires-python") or ""
        poetry = data.get("tool", {}).get("poetry", {}).get("dependencies", {}).get("python")
        if text:
            return _from_specifier("pyproject.toml requires-python", text)
        if isinstance(poetry, str) and poetry.strip() not in ("", "*"):
            declared_range = _from_specifier("pyproject.toml [tool.poetry.dependencies] python", _poetry_range(poetry))
            return Declared(declared_range.source, poetry.strip(), declared_range.wanted, declared_range.specifier)
    pipfile = folder / "Pipfile"
    if pipfile.is_file():
        try:
            wanted = tomllib.loads(pipfile.read_text(errors="replace")).get("requires", {})
        except tomllib.TOMLDecodeError:
            wanted = {}
        text = str(wanted.get("python_full_version") or wanted.get("python_version") or "")
        if _named(text):
            return Declared("Pipfile [requires]", text, _named(text))
    for dockerfile in _dockerfiles(folder):
        for line in dockerfile.read_text(errors="replace").splitlines():
            match = re.match(r"\s*FROM\s+(?:--platform=\S+\s+)?(?:docker\.io/)?(?:library/)?python:(\S+)", line, re.I)
            if match and _named(match.group(1)):
                where = dockerfile.relative_to(folder).as_posix()
                return Declared(f"{where} FROM python:{match.group(1)}", match.group(0).strip(), _named(match.group(1)))
    return None


def _dockerfiles(folder: Path) -> list[Path]:
    """The project's production Dockerfiles, wherever they are (`docker/Dockerfile`, `compose/production/...`),
    the top-level ones first; development ones only when there is no other (lab.project.recipes)."""
    from lab.project.recipes import development_recipes, recipes

    skipped = development_recipes(folder)
    found = [folder / relative for relative in recipes(folder)
             if relative.name.lower().startswith("dockerfile") and relative not in skipped]
    return sorted(found, key=lambda path: (len(path.relative_to(folder).parts), path.as_posix()))


def _poetry_range(constraint: str) -> str:
    """Poetry's `^3.11` / `~3.11` / `3.11.*` as a PEP 440 specifier (`~=3.11` is PEP 440's already)."""
    constraint = constraint.strip()
    if constraint.startswith("^") or (constraint.startswith("~") and not constraint.startswith("~=")):
        release = [int(part) for part in constraint.lstrip("^~").split(".") if part.isdigit()]
        tilde_minor = constraint.startswith("~") and len(release) > 1  # ~3 is >=3,<4, as ^3
        upper = (release[0], release[1] + 1) if tilde_minor else (release[0] + 1, 0)
        return f">={'.'.join(map(str, release))},<{upper[0]}.{upper[1]}"
    return constraint if constraint[0] in "<>=!~" else f"=={constraint}"


def _from_specifier(source: str, text: str) -> Declared:
    try:
        specifier = SpecifierSet(",".join(part.strip() for part in text.replace("||", ",").split(",")))
    except InvalidSpecifier:
        return Declared(source, text, _named(text))
    # "==3.12.*" names one version; ">=3.10" names its floor, which is what the author tested with.
    pinned = [s for s in specifier if s.operator in ("==", "~=", "===")]
    floors = [s for s in specifier if s.operator in (">=", ">")]
    named = _named((pinned or floors or [text])[0].version if (pinned or floors) else text)
    return Declared(source, text, named, specifier)


def choose(folders: Path | list[Path], given: str = "") -> Choice:
    """The interpreter a site runs: `given` (--python X.Y) exactly, else the closest to what it declares
    (in the first of `folders` that declares one: the project's, then its repository's)."""
    if given:
        if given not in INTERPRETERS:
            raise ConfigError(
                f"--python {given!r}: the lab runs the Pythons Debian's archive ships: {', '.join(INTERPRETERS)}"
            )
        return Choice(INTERPRETERS[given], f"--python {given}")
    folders = [folders] if isinstance(folders, Path) else folders
    said = next((found for found in map(declared, folders) if found is not None), None)
    if said is None:
        return Choice(DEFAULT, f"the project declares no Python; the lab's default is {DEFAULT}")
    candidates = [i for i in INTERPRETERS.values() if said.admits(i)] or list(INTERPRETERS.values())
    wanted = said.wanted or DEFAULT.key
    # Closest minor version; on a tie the older one, whose wheels the project's pins were chosen against.
    best = min(candidates, key=lambda i: (abs(i.key[1] - wanted[1]), i.key))
    asks = f"{wanted[0]}.{wanted[1]}"
    if said.specifier is not None and said.wanted is not None and not said.text.startswith("=="):
        asks = said.text
    if best.key == wanted:
        return Choice(best, f"{said.source} asks {asks}: {best}")
    distance = abs(best.key[1] - wanted[1])
    other = next((i for i in candidates if i != best and abs(i.key[1] - wanted[1]) == distance), None)
    return Choice(best, f"{said.source} asks {asks}; closest here: {best}", other)
