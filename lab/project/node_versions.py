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


def frontend_suite(package_json: Path | None, site_suite: str) -> str:
    """The Debian release whose Node.js builds the front end, when the site's own release's is too old for
    its package.json; "" when the site's release will do (or no release has one new enough: npm says why)."""
    if package_json is None:
        return ""
    major = package_wants(package_json)
    if NODE_BY_SUITE.get(site_suite, 0) >= major:
        return ""
    fit = [suite for suite, version in NODE_BY_SUITE.items() if version >= major]
    return fit[0] if fit else ""
