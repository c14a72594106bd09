"""`lab logs` and `lab exec`: one member of a lab, named as `lab status` names it (node-1, nginx, ...)."""

from __future__ import annotations

import argparse
import sys

from lab.errors import ConfigError
from lab.run.lab import Lab


def known_member(lab: Lab, target: str) -> str:
    """The full name of the lab's member `target` (`node-1` or `djlab-node-1`); a usage mistake naming the
    members there are when it has none by that name."""
    name = target if target.startswith(f"{lab.name}-") else f"{lab.name}-{target}"
    known = [member.name for member in lab.engine.members(lab.name)]
    if name not in known:
        short = ", ".join(n.removeprefix(f"{lab.name}-") for n in known) or "none: the lab is not running"
        raise ConfigError(f"lab {lab.name!r} has no container {target!r}; its containers: {short}")
    return name


def command_logs(lab: Lab, args: argparse.Namespace) -> None:
    """`lab logs TARGET`: one container's log; with -f, then its new lines until Ctrl-C."""
    if not args.follow:
        sys.stdout.write(lab.logs(args.target, tail=args.tail))
        return
    name = known_member(lab, args.target)
    for line in lab.engine.follow_logs(lab.name, name, tail=args.tail):
        sys.stdout.write(line)
        sys.stdout.flush()  # a line is shown as it comes, piped (`| grep`) too


def command_exec(lab: Lab, args: argparse.Namespace) -> int:
    """`lab exec MEMBER -- CMD ...`: the command's output, and its exit code as lab's."""
    argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    if not argv:
        raise ConfigError(f"say what to run: `lab exec {args.member} -- python manage.py check`")
    name = known_member(lab, args.member)
    code, output = lab.engine.exec_member(name, argv, user=args.user)
    sys.stdout.write(output)
    sys.stdout.flush()
    return code
