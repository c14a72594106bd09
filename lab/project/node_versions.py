"""Which Debian release's Node.js a site's front end takes: the lab builds on Debian, and each release ships
one Node.js. A package.json whose `engines.node` asks for more than the site's Python's release has is built
in a stage of its own on a release that has it, as a project's own `FROM node:24 AS frontend` stage would."""

from __future__ import annotations

import json
import re
from pathlib import Path

NODE_BY_SUITE = {"bookworm": 18, "trixie": 20, "forky": 24}  # Debian's nodejs package, by release
PYTHON_OF_SUITE = {"bookworm": "3.11", "trixie": "3.13", "forky": "3.14"}


def wanted_major(engines_node: str) -> int:
    """The lowest Node.js major an `engines.node` range takes (">= 24", "^22.12", "20.x || 22.x" -> 24, 22, 20);
    0 when it sets no lower bound."""
    lows = []
    for alternative in engines_node.split("||"):
        bound = re.search(r"(?:>=?|\^|~|=)?\s*v?(\d+)", alternative.strip())
        if bound and not alternative.strip().startswith("<"):
            lows.append(int(bound.group(1)) + (1 if re.match(r"\s*>\s*\d+\s*$", alternative) else 0))
    return min(lows) if lows else 0


def package_wants(package_json: Path) -> int:
    """The Node.js major a package.json's `engines.node` asks for at least (0: none said, or unreadable)."""
    try:
        engines = json.loads(package_json.read_text()).get("engines") or {}
    except (OSError, ValueError, AttributeError):
        return 0
    node = engines.get("node") if isinstance(engines, dict) else None
    return wanted_major(node) if isinstance(node, str) else 0


_NODE_IMAGE = re.compile(r"^\s*FROM\s+(?:--\S+\s+)*(?:\S+/)?node:v?(\d+)", re.I | re.M)
_SETUP_NODE = re.compile(r"""node-version:\s*\[?\s*["']?v?(\d+)""")


def declared_node(package_json: Path, folders: list[Path]) -> int:
    """The Node.js major a project asks for, most demanding first: package.json's `engines.node`, an `.nvmrc` or
    `.node-version`, a Dockerfile's `FROM node:22` stage, a CI workflow's `node-version: 22`."""
    wanted = [package_wants(package_json)]
    for folder in [package_json.parent, *folders]:
        for name in (".nvmrc", ".node-version"):
            version = re.match(r"\s*v?(\d+)", (folder / name).read_text(errors="replace")) if (folder / name).is_file() else None
            wanted.append(int(version.group(1)) if version else 0)
        for path in [*folder.glob("Dockerfile*"), *folder.glob("*.Dockerfile"), *folder.glob("docker/*Dockerfile*"),
                     *folder.glob(".github/workflows/*.y*ml")]:
            text = path.read_text(errors="replace") if path.is_file() else ""
            wanted += [int(major) for major in _NODE_IMAGE.findall(text) + _SETUP_NODE.findall(text)]
    return max(wanted)


def frontend_suite(package_json: Path | None, site_suite: str, folders: list[Path] = ()) -> str:
    """The Debian release whose Node.js builds the front end, when the site's own release's is too old for
    what the project asks (declared_node); "" when the site's release will do (or no release has one new
    enough: npm says why)."""
    if package_json is None:
        return ""
    major = declared_node(package_json, list(folders))
    if NODE_BY_SUITE.get(site_suite, 0) >= major:
        return ""
    fit = [suite for suite, version in NODE_BY_SUITE.items() if version >= major]
    return fit[0] if fit else ""
