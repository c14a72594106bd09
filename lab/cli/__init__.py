"""The `lab` command: parse, call the library, print. Errors go to stderr with a non-zero exit.

parser.py holds the arguments, commands.py one function per command and bench.py one per `lab bench`
subcommand; this module runs one, inside the one error boundary every command shares.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from typing import Sequence

from lab.cli.commands import (
    command_backends,
    command_balances,
    command_build,
    command_config,
    command_down,
    command_experiments,
    command_export,
    command_readiness,
    command_deploy,
    command_fault,
    command_rotate_key,
    command_status,
    command_switch,
    command_up,
    print_up,
    run_experiment,
    run_matrix_command,
    run_watch,
    say,
    setup,
)
from lab.cli.completion import complete_if_asked, script
from lab.cli.labs import command_ls
from lab.cli.members import command_exec, command_logs
from lab.cli.parser import build_parser, version
from lab.engines.choice import containers_of
from lab.errors import LabError
from lab.run.lab import Lab

__all__ = ["build_parser", "main", "print_up", "run", "version"]

# Commands that only read: Ctrl-C in one (`lab logs -f` is ended that way) leaves the lab as it was.
READING = {"logs", "exec", "ls", "config", "completion", "backends", "balances", "experiments"}


def run(args: argparse.Namespace) -> int:
    """Run the parsed command; its errors reach `main`."""
    if args.command == "setup":
        return setup(args.browser)
    if args.command == "completion":
        sys.stdout.write(script(args.shell))
        return 0
    if args.command == "bench":
        from lab.cli.bench import BENCHES

        BENCHES[args.bench_command](args)
        return 0
    commands = {
        "up": command_up, "switch": command_switch, "down": command_down, "status": command_status,
        "logs": command_logs, "experiments": command_experiments, "experiment": run_experiment,
        "matrix": run_matrix_command, "export": command_export, "watch": run_watch, "readiness": command_readiness,
        "rotate-key": command_rotate_key, "backends": command_backends, "balances": command_balances,
        "build": command_build, "fault": command_fault, "deploy": command_deploy,
        "config": command_config, "exec": command_exec, "ls": command_ls,
    }
    code = commands[args.command](Lab(args.name, progress=say), args)
    return code if isinstance(code, int) else 0  # `lab exec` passes its command's exit code on


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `lab` command."""
    parser = build_parser()
    complete_if_asked(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except LabError as error:
        print(f"lab: error: {error}", file=sys.stderr)
        if args.command in ("up", "deploy") and error.exit_code == 1:
            left = containers_left(args.name)
            if left:  # a store or node that started before the failure: there to read, until `lab down`
                print(f"lab: {len(left)} containers of lab {args.name} are left ({', '.join(left[:4])}"
                      f"{', ...' if len(left) > 4 else ''}): `lab logs NAME` reads one, `lab down` removes them",
                      file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        left = "" if args.command in READING else f"; {what_was_left(args.name)}"
        print(f"lab: interrupted{left}", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `lab status --json | head`: the reader left; nothing more to say to it
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as error:  # a bug: still one line, and the way to the traceback
        if os.environ.get("LAB_DEBUG"):
            raise
        print(f"lab: internal error: {type(error).__name__}: {error} (LAB_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 1


def _containers_asked_briefly(name: str) -> list[str] | None:
    """The lab's containers, asked of the engine for at most a second and a half (None: no answer)."""
    found: list = []

    def ask() -> None:
        try:
            found.append(containers_of(name))
        except LabError:
            pass

    asker = threading.Thread(target=ask, daemon=True)
    asker.start()
    asker.join(1.5)
    return found[0] if found else None


def containers_left(name: str) -> list[str]:
    """The lab's containers by their short names, asked of the engine for at most a second and a half."""
    return [container.removeprefix(f"{name}-") for container in _containers_asked_briefly(name) or []]


def what_was_left(name: str) -> str:
    """After Ctrl-C: the lab's containers, asked of the engine for at most a second and a half."""
    found = _containers_asked_briefly(name)
    if found is None:
        left = "the lab may be partly up"
    elif not found:
        left = f"no container of lab {name} was started"
    else:
        left = f"{len(found)} containers of lab {name} are left ({', '.join(found[:4])}" + (
            ", ...)" if len(found) > 4 else ")"
        )
    return f"{left}; `lab --name {name} up` completes it, `lab --name {name} down` removes it"


if __name__ == "__main__":
    sys.exit(main())
