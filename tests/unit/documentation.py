"""Where the documentation lives, for the tests that hold it to the code: the README and the pages in docs/."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def pages() -> list[Path]:
    """The README, then every page in docs/ (the generated command reference among them)."""
    return [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def page(name: str) -> str:
    """One page of docs/, e.g. page("matrix.md")."""
    return (DOCS / name).read_text()
