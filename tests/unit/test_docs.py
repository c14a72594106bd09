"""The documentation holds together: the command reference is the parser's."""

from __future__ import annotations

import argparse

from lab.cli.reference import reference

from .documentation import DOCS

REGENERATE = "make docs-reference (or: python -m lab.cli.reference > docs/cli.md)"


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
