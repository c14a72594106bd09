"""How `lab --help` reads: the commands in sections, drawn by rich-argparse (colour on a terminal, plain
text when piped or with NO_COLOR), and `--name` accepted after any command as well as before it.

argparse lists a parser's subcommands as one block; each section here is an argument group holding the
subcommands' own help entries, and the block itself is left out of the help (not of the usage line)."""

from __future__ import annotations

import argparse

from rich_argparse import RawDescriptionRichHelpFormatter, RichHelpFormatter

# Every command of `lab`, once, in the order `lab --help` shows them (a unit test holds them to the parser).
SECTIONS: dict[str, tuple[str, ...]] = {
    "bring up and change": (
        "up", "switch", "deploy", "down", "status", "logs", "exec", "ls", "config", "fault", "rotate-key", "export",
    ),
    "study": ("matrix", "experiment", "experiments", "readiness", "watch", "bench"),
    "set up": ("setup", "build", "backends", "balances", "completion"),
}


def heading(title: str) -> str:
    """A section's heading as argparse writes its own ("options"), first letter up: "Study commands"."""
    return title[:1].upper() + title[1:]


class CommandHelp(RichHelpFormatter):
    """A command's help: the lab's own words are printed as written (`[tool.lab]` is not markup)."""

    help_markup = False
    text_markup = False
    group_name_formatter = staticmethod(heading)


class LabHelp(RawDescriptionRichHelpFormatter):
    """`lab --help`: the same, with the exit codes' table in the epilog kept as it is laid out."""

    help_markup = False
    text_markup = False
    group_name_formatter = staticmethod(heading)


def commands_action(parser: argparse.ArgumentParser) -> argparse._SubParsersAction | None:
    return next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)


def group_commands(parser: argparse.ArgumentParser) -> None:
    """Show `lab`'s commands section by section instead of in one block."""
    action = commands_action(parser)
    entries = {entry.dest: entry for entry in action._choices_actions}
    listed = {name for names in SECTIONS.values() for name in names}
    # A command no section names yet is still shown (a unit test asks for its section).
    others = tuple(name for name in entries if name not in listed)
    for title, names in [*SECTIONS.items(), *([("other", others)] if others else [])]:
        group = parser.add_argument_group(f"{title} commands")
        group._group_actions.extend(entries[name] for name in names if name in entries)  # help only; parsing is the action's
    parser._positionals._group_actions.remove(action)  # the one block the sections replace


def name_after_commands(parser: argparse.ArgumentParser, name_type, completer=None) -> None:
    """`lab status --name x` as well as `lab --name x status`, at any depth (`lab bench load --name x`). The
    default is SUPPRESS, so a command that is not given it keeps the value given before it (or the default)."""
    action = commands_action(parser)
    for command in action.choices.values() if action else ():
        command.formatter_class = CommandHelp
        given = command.add_argument(
            "--name", type=name_type, default=argparse.SUPPRESS, help="lab name, as `lab --name NAME` before the command"
        )
        given.completer = completer
        name_after_commands(command, name_type, completer)


def given_after_command(action: argparse.Action) -> bool:
    """Whether an option is a command's copy of `lab --name` (the reference documents it once, for `lab`)."""
    return action.dest == "name" and action.default == argparse.SUPPRESS
