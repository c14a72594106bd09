"""The command reference, docs/cli.md, written from the `lab` parser itself so it cannot drift from it:
`python -m lab.cli.reference > docs/cli.md` (`make docs-reference`). Every command, nested ones too,
with its help, its arguments and options, their help and their defaults."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator

from lab.cli.layout import SECTIONS, given_after_command, heading
from lab.cli.parser import build_parser

HEADER = """# Command reference

Every command of `lab` and its options, written from the command's own parser by `make docs-reference`
(`python -m lab.cli.reference > docs/cli.md`); a unit test fails when this page and the parser differ.
`lab COMMAND --help` says the same in the terminal.
"""


@contextlib.contextmanager
def neutral_place() -> Iterator[None]:
    """An empty folder and no LAB_NAME: `--name`'s default follows where `lab` runs, the page must not."""
    saved = os.environ.pop("LAB_NAME", None)
    try:
        with tempfile.TemporaryDirectory() as empty, contextlib.chdir(empty):
            yield
    finally:
        if saved is not None:
            os.environ["LAB_NAME"] = saved


def subcommands(parser: argparse.ArgumentParser) -> Iterator[tuple[str, str, argparse.ArgumentParser]]:
    """Each subcommand of a parser (at any depth of nesting), as name, help and its own parser."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:  # one per command, aliases left out
                yield choice.dest, choice.help or "", action.choices[choice.dest]


def code(text: object) -> str:
    return f"`{text}`"


def cell(text: str) -> str:
    """Text for a table cell: outside code spans, `<` is not an HTML tag and `|` is not a column."""
    parts = text.split("`")
    for index in range(0, len(parts), 2):  # the even parts are outside backticks
        parts[index] = parts[index].replace("<", "&lt;").replace("|", "\\|")
    return "`".join(parts).replace("\n", " ")


def invocation(action: argparse.Action) -> str:
    """How an argument is written: `TARGET`, `--port PORT`, `--scheduler [CMD]`, `--https`."""
    if not action.option_strings:
        name = action.metavar or action.dest.upper()
        if action.nargs == argparse.REMAINDER:  # `lab exec MEMBER -- CMD ...`
            return f"-- {name} ..."
        return f"[{name}]" if action.nargs == "?" else name
    value = action.metavar or action.dest.upper()
    if action.nargs == 0:
        words = action.option_strings
    elif action.nargs == "?":
        words = [f"{option} [{value}]" for option in action.option_strings]
    else:
        words = [f"{option} {value}" for option in action.option_strings]
    return ", ".join(words)


def explanation(action: argparse.Action, prog: str) -> str:
    """The argument's help, its choices, whether it repeats, and its default."""
    text = (action.help or "") % {**vars(action), "prog": prog} if action.help else ""
    notes = []
    if action.choices and not isinstance(action, argparse._SubParsersAction):
        notes.append("one of " + ", ".join(code(choice) for choice in action.choices))
    if isinstance(action, argparse._AppendAction) and "repeatable" not in text:
        notes.append("repeatable")
    default = action.default
    said = "default" in text  # the help names its default in its own words
    unset = default is None or default is False or default in ([], "") or default == argparse.SUPPRESS
    if not unset and action.nargs != 0 and not said:
        notes.append(f"default {code(default)}")
    return "; ".join(part for part in (cell(text), *notes) if part)


def documented(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """The arguments a reader gives: not `--help`, not the subcommands (they get sections of their own)."""
    return [
        action for action in parser._actions
        if not isinstance(action, argparse._HelpAction | argparse._SubParsersAction)
        and action.help != argparse.SUPPRESS and not given_after_command(action)
    ]


def section(prog: str, summary: str, parser: argparse.ArgumentParser, depth: int) -> list[str]:
    """One command: its heading, what it does, its arguments as a table, then its subcommands."""
    arguments = documented(parser)
    words = [prog, "[options]" if any(action.option_strings for action in arguments) else ""]
    words += [invocation(action) for action in arguments if not action.option_strings]
    words.append("COMMAND" if any(True for _ in subcommands(parser)) else "")
    lines = ["#" * min(max(depth, 1) + 1, 6) + f" {code(prog)}", ""]  # `lab` and its commands: level 2
    if summary:
        lines += [summary, ""]
    if parser.description:
        lines += [parser.description.strip(), ""]
    lines += [code(" ".join(word for word in words if word)), ""]
    if arguments:
        lines += ["| argument | what it does |", "|---|---|"]
        lines += [f"| {code(invocation(action))} | {explanation(action, prog)} |" for action in arguments]
        lines.append("")
    for group in parser._mutually_exclusive_groups:
        options = [code(action.option_strings[0]) for action in group._group_actions]
        lines += [f"{', '.join(options[:-1])} and {options[-1]} exclude each other.", ""]
    if parser.epilog:
        lines += ["```text", parser.epilog.strip("\n"), "```", ""]
    for name, help_text, child in subcommands(parser):
        lines += section(f"{prog} {name}", help_text, child, depth + 1)
    return lines


def commands_index(prog: str, parser: argparse.ArgumentParser, depth: int = 0) -> list[str]:
    """A list of every command, nested ones indented, each linking to its section."""
    lines = []
    for name, help_text, child in subcommands(parser):
        lines += index_entry(f"{prog} {name}", help_text, child, depth)
    return lines


def index_entry(full: str, help_text: str, parser: argparse.ArgumentParser, depth: int) -> list[str]:
    """One command's line in the list, then its subcommands'."""
    anchor = full.replace(" ", "-")
    return [f"{'    ' * depth}- [{code(full)}](#{anchor}): {cell(help_text)}", *commands_index(full, parser, depth + 1)]


def sectioned_index(parser: argparse.ArgumentParser) -> list[str]:
    """The list in the sections `lab --help` shows (lab.cli.layout); one list when the parser has others."""
    entries = {name: index_entry(f"{parser.prog} {name}", help_text, child, 0)
               for name, help_text, child in subcommands(parser)}
    if sorted(entries) != sorted(name for names in SECTIONS.values() for name in names):
        return commands_index(parser.prog, parser)
    lines = []
    for title, names in SECTIONS.items():
        lines += [f"{heading(title)} commands:", ""] + [line for name in names for line in entries[name]] + [""]
    return lines[:-1]


def reference(parser: argparse.ArgumentParser | None = None) -> str:
    """The whole page, for `lab`'s parser unless given another."""
    if parser is None:
        with neutral_place():
            parser = build_parser()
    lines = [HEADER, "## Commands", "", *sectioned_index(parser), ""]
    lines += section(parser.prog, "", parser, 0)
    return "\n".join(lines).rstrip("\n") + "\n"


if __name__ == "__main__":
    sys.stdout.write(reference())
