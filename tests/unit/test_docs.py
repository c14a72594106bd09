"""The documentation holds together: the command reference is the parser's, the pages build with every link
and anchor checked (as the site is built), and the README, which the site does not hold, links only to files
that exist, among them every page."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys

from lab.cli.reference import reference

from .documentation import DOCS, ROOT

REGENERATE = "make docs-reference (or: python -m lab.cli.reference > docs/cli.md)"
MARKDOWN_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def test_the_command_reference_is_what_the_parser_says():
    committed = (DOCS / "cli.md").read_text()
    assert committed == reference(), f"docs/cli.md is not the parser's reference; regenerate it with {REGENERATE}"


def test_the_reference_has_every_command_and_lab_bench_s_own():
    text = reference()
    for command in ("lab up", "lab switch", "lab readiness", "lab matrix", "lab bench", "lab bench load"):
        assert f"`{command}`" in text, command
    assert "| `--quick` | four backends, 3 s each (about a minute) |" in text  # lab bench load's option
    assert "| `--tail TAIL` | lines to show (default 100) |" in text
    assert "`--https` and `--no-https` exclude each other." in text


def test_the_reference_walks_subcommands_at_any_depth():
    parser = argparse.ArgumentParser(prog="tool", description="A tool.")
    parser.add_argument("--verbose", action="store_true", help="say more")
    outer = parser.add_subparsers(dest="command")
    group = outer.add_parser("group", help="commands of a group")
    inner = group.add_subparsers(dest="inner")
    leaf = inner.add_parser("leaf", help="the innermost command")
    leaf.add_argument("target", help="what to act on")
    leaf.add_argument("--count", type=int, default=5, help="how many times")
    leaf.add_argument("--tag", action="append", help="a label")
    text = reference(parser)
    assert "- [`tool group`](#tool-group): commands of a group" in text
    assert "    - [`tool group leaf`](#tool-group-leaf): the innermost command" in text
    assert "## `tool group`" in text and "### `tool group leaf`" in text
    assert "`tool group leaf [options] TARGET`" in text
    assert "| `--count COUNT` | how many times; default `5` |" in text
    assert "| `--tag TAG` | a label; repeatable |" in text
    assert "| `--verbose` | say more |" in text


def test_lab_bench_with_subcommands_of_its_own_is_documented_as_the_parser_has_it():
    """Once `lab bench`'s commands are subcommands of `lab`, its own parser in lab/cli/bench.py is not asked."""
    parser = argparse.ArgumentParser(prog="lab")
    bench = parser.add_subparsers(dest="command").add_parser("bench", help="benchmarks")
    load = bench.add_subparsers(dest="benchmark").add_parser("load", help="throughput")
    load.add_argument("--quick", action="store_true", help="fewer cells")
    text = reference(parser)
    assert "### `lab bench load`" in text and "| `--quick` | fewer cells |" in text
    assert "lab bench lifecycle" not in text


def test_the_pages_build_with_every_link_and_anchor_checked(tmp_path):
    """`mkdocs build --strict`, as the site is built: a link to a missing page or anchor fails, and names it."""
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml"),
         "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True,
    )
    complaints = [line for line in build.stderr.splitlines() if line.startswith(("WARNING", "ERROR"))]
    assert build.returncode == 0 and not complaints, (
        "mkdocs build --strict failed (mkdocs is in the test extra: pip install -e '.[test]'):\n"
        + "\n".join(complaints or build.stderr.splitlines()[-20:])
    )
    assert (tmp_path / "site" / "cli" / "index.html").exists()


def test_no_page_has_a_bare_angle_bracket_word_the_site_would_swallow():
    """Markdown takes `<lab>` outside code for an HTML tag and shows nothing: such words go in backticks."""
    swallowed = []
    for page in sorted(DOCS.glob("*.md")):
        prose = re.sub(r"`[^`]*`", "", re.sub(r"```.*?```", "", page.read_text(), flags=re.S))
        swallowed += [f"docs/{page.name}: {tag}" for tag in re.findall(r"<[A-Za-z/][^>]*>", prose)]
    assert not swallowed, f"put these in backticks (or write &lt;): {swallowed}"


def readme_links() -> list[str]:
    return MARKDOWN_LINK.findall((ROOT / "README.md").read_text())


def test_every_relative_link_in_the_readme_points_to_a_file_that_exists():
    relative = [link for link in readme_links() if not re.match(r"[a-z]+:|#", link)]
    assert relative, "the README links its pages"
    broken = [link for link in relative if not (ROOT / link.split("#", 1)[0]).exists()]
    assert not broken, f"README.md links to files that do not exist: {broken}"


def test_the_readme_links_every_page_and_stays_one_page():
    linked = {link.split("#", 1)[0] for link in readme_links()}
    unlinked = [f"docs/{page.name}" for page in sorted(DOCS.glob("*.md")) if f"docs/{page.name}" not in linked]
    assert not unlinked, f"README.md does not link {unlinked}"
    lines = len((ROOT / "README.md").read_text().splitlines())
    assert lines <= 250, f"README.md has {lines} lines; the rest belongs in a page of docs/"
