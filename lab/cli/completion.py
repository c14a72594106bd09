"""Shell completion. `lab completion bash|zsh|fish` prints argcomplete's script for that shell: on TAB the
shell runs `lab` itself with the line in its environment, and `lab` answers from its own parser (so the
three shells complete the same commands and options, and a new option completes without a new script).
Two arguments complete from what this machine knows: `--name` to the labs it remembers, and `lab logs` /
`lab exec` to the members of the lab named."""

from __future__ import annotations

import argparse
import os
import threading

SHELLS = ("bash", "zsh", "fish")
ASK_SECONDS = 1.5  # how long a TAB waits for the engine's answer: a TAB that waits longer is worse than none


def script(shell: str) -> str:
    """The completion script of `lab` for `shell`, to source from the shell's start-up file."""
    import argcomplete

    return argcomplete.shellcode(["lab"], shell=shell)


def complete_if_asked(parser: argparse.ArgumentParser) -> None:
    """When the shell asks for completions (argcomplete's _ARGCOMPLETE), answer them and exit; else nothing."""
    if "_ARGCOMPLETE" in os.environ:
        import argcomplete

        argcomplete.autocomplete(parser)


def lab_names(prefix: str = "", **_) -> list[str]:
    """`--name`: the labs this machine keeps a state of."""
    from lab.run.state import StateStore

    try:
        return [name for name in StateStore().names() if name.startswith(prefix)]
    except OSError:
        return []


def member_names(prefix: str = "", parsed_args: argparse.Namespace | None = None, lab_of=None, **_) -> list[str]:
    """`lab logs` and `lab exec`: the members of the lab named, by their short names (node-1, nginx, ...),
    asked of the engine for at most ASK_SECONDS."""
    from lab.errors import LabError

    if lab_of is None:
        from lab.run.lab import Lab as lab_of
    name = getattr(parsed_args, "name", None) or "djlab"
    found: list[str] = []

    def ask() -> None:
        try:
            lab = lab_of(name)
            found.extend(member.name.removeprefix(f"{name}-") for member in lab.engine.members(lab.name))
        except LabError:  # no engine to ask, a state that cannot be read: nothing to offer
            pass

    asker = threading.Thread(target=ask, daemon=True)
    asker.start()
    asker.join(ASK_SECONDS)
    return [member for member in list(found) if member.startswith(prefix)] if not asker.is_alive() else []
