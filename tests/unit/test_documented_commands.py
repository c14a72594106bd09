"""Every command line the documentation gives is one the CLI accepts: each `lab ...` line in the shell blocks
of the README and of every page in docs/ (and the CI job they show), and every line the Makefile's targets run (`make -n TARGET`, with and
without the variables its help line names). A flag the CLI refuses fails here in seconds, without Docker."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

from lab.cli.parser import build_parser

from .documentation import pages

ROOT = Path(__file__).resolve().parents[2]
LAB_PROGRAMS = ("lab", ".venv/bin/lab", "$(LAB)")
# A value for each variable a target's help names without one (`BACKEND=`), valid for the CLI.
SAMPLES = {
    "BACKEND": "memcached", "BALANCE": "ip_hash", "NODES": "4", "PORT": "8081", "WORKERS": "3",
    "SITE": "tests/sites/tutorial", "SITE_PYTHON": "3.11", "ENV_FILE": ".env", "NODE": "node-1", "WEB": "1",
    "FULL": "1", "HOSTS": "3", "MODULE": "lab.verdicts.rules",
}


def parse(argv: list[str]) -> None:
    """Parse as `lab` does (lab.cli.main); a refusal raises SystemExit."""
    build_parser().parse_args(argv)


def lab_argvs(line: str) -> list[list[str]]:
    """The `lab` invocations in one shell line (comments dropped; `&&`, `;` and `|` separate commands)."""
    words = shlex.split(line, comments=True)
    found, command = [], []
    for word in [*words, ";"]:
        if word in ("&&", ";", "|", "||"):
            if command and command[0] in LAB_PROGRAMS:
                found.append(command[1:])
            command = []
        else:
            command.append(word)
    return found


def shell_lines(text: str) -> list[tuple[int, str]]:
    """Every line of a ```sh block, and every `run:` of a ```yaml block, with its line number."""
    lines, fence = [], None
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("```"):
            fence = None if fence is not None else line[3:].strip()
        elif fence == "sh":
            lines.append((number, line))
        elif fence == "yaml" and line.strip().lstrip("- ").startswith("run:"):
            lines.append((number, line.split("run:", 1)[1]))
    return lines


def documented_lines() -> list[tuple[str, str]]:
    """The shell lines of the README and every docs page, each with where it is (`docs/matrix.md:12`)."""
    return [
        (f"{path.relative_to(ROOT)}:{number}", line)
        for path in pages()
        for number, line in shell_lines(path.read_text())
    ]


def make_targets() -> dict[str, str]:
    """Each target with a `## help` line, and its help."""
    found = re.findall(r"^([a-z-]+):.*## (.*)$", (ROOT / "Makefile").read_text(), re.M)
    return dict(found)


def variables_in(help_text: str) -> dict[str, str]:
    """The variables a help line names (`SITE=your/project`, `BACKEND=`), each with a valid sample value."""
    found = {}
    for name, value in re.findall(r"\b([A-Z][A-Z_]+)=([^\s,;)]*)", help_text):
        value = "" if "/" in value and name == "SITE" else value
        found[name] = value or SAMPLES[name]
    return found


def make_dry_run(target: str, variables: dict[str, str]) -> list[list[str]]:
    """The `lab` command lines `make -n TARGET VAR=value ...` would run."""
    out = subprocess.run(
        ["make", "-n", "-B", target, *(f"{k}={v}" for k, v in variables.items())],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout
    return [argv for line in out.splitlines() for argv in lab_argvs(line)]


DOCUMENTED_COMMANDS = [
    pytest.param(argv, id=where) for where, line in documented_lines() for argv in lab_argvs(line)
]


def test_the_documentation_shows_lab_commands():
    assert len(DOCUMENTED_COMMANDS) >= 20
    readme = [argv for argv in DOCUMENTED_COMMANDS if argv.id.startswith("README.md:")]
    assert len(readme) >= 5, "the README's first five minutes show `lab` commands"


@pytest.mark.parametrize("argv", DOCUMENTED_COMMANDS)
def test_every_documented_lab_line_parses(argv):
    parse(argv)


def documented_make_lines() -> list:
    return [
        pytest.param(words[1], dict(w.split("=", 1) for w in words[2:] if "=" in w), id=where)
        for where, line in documented_lines()
        for words in [shlex.split(line, comments=True)]
        if words[:1] == ["make"] and len(words) > 1
    ]


@pytest.mark.parametrize("target, variables", documented_make_lines())
def test_every_documented_make_line_runs_lab_lines_that_parse(target, variables):
    assert target in make_targets(), f"the documentation runs `make {target}`, which the Makefile does not have"
    for argv in make_dry_run(target, variables):
        parse(argv)


@pytest.mark.parametrize("target", sorted(make_targets()))
def test_every_make_target_runs_lab_lines_that_parse(target):
    help_text = make_targets()[target]
    for variables in ({}, variables_in(help_text)):
        for argv in make_dry_run(target, variables):
            parse(argv)


def test_the_parse_check_refuses_what_the_cli_refuses():
    """The check itself can fail: the flag value the Makefile once passed by default is refused."""
    with pytest.raises(SystemExit):
        parse(["--name", "djlab", "up", "--python", "python3"])
    with pytest.raises(SystemExit):
        parse(["bench", "load", "--no-such-flag"])
    assert lab_argvs("make x && .venv/bin/lab --name a up --nodes 2  # comment") == [["--name", "a", "up", "--nodes", "2"]]
