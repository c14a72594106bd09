"""What users of pytest, ruff or docker compose expect of a CLI: `--name` before or after the command, help in
sections that stays plain text when piped, and `lab logs -f` / `lab exec` on a lab's members (on the
in-memory engine)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

import lab.cli
from lab.cli.layout import SECTIONS, commands_action
from lab.cli.parser import build_parser
from lab.model.plan import ContainerSpec, labels
from lab.run.lab import Lab
from lab.run.state import StateStore

from .fake_engine import FakeEngine
from .test_cli import run


# -- --name before or after the command ----------------------------------------------------------------


@pytest.mark.parametrize("argv", [
    ["--name", "shop", "status"], ["status", "--name", "shop"], ["logs", "node-1", "--name", "shop"],
    ["exec", "--name", "shop", "node-1", "--", "python", "-V"], ["bench", "load", "--name", "shop"],
])
def test_name_is_given_before_or_after_the_command(argv):
    assert build_parser().parse_args(argv).name == "shop"


def test_the_name_after_the_command_wins_and_none_keeps_the_default(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no project here: the default is djlab
    monkeypatch.delenv("LAB_NAME", raising=False)
    assert build_parser().parse_args(["--name", "a", "status", "--name", "b"]).name == "b"
    assert build_parser().parse_args(["status"]).name == "djlab"
    monkeypatch.setenv("LAB_NAME", "from-env")
    assert build_parser().parse_args(["status"]).name == "from-env"
    assert build_parser().parse_args(["status", "--name", "given"]).name == "given"


def test_the_default_name_is_the_project_folder_s(monkeypatch, tmp_path):
    monkeypatch.delenv("LAB_NAME", raising=False)
    project = tmp_path / "shopfront"
    project.mkdir()
    (project / "manage.py").write_text("")
    monkeypatch.chdir(project)
    assert build_parser().parse_args(["ls"]).name == "shopfront"


def test_a_bad_name_after_the_command_is_refused_as_before_it(capsys):
    code, _, err = run(capsys, "status", "--name", "Not A Name")
    assert code == 2 and "--name" in err and "Traceback" not in err


# -- help in sections ------------------------------------------------------------------------------------


def test_every_command_is_in_one_section_of_the_help(capsys):
    commands = set(commands_action(build_parser()).choices)
    listed = [name for names in SECTIONS.values() for name in names]
    assert sorted(listed) == sorted(commands)
    _, out, _ = run(capsys, "--help")
    headings = [line for line in out.splitlines() if line.endswith("commands:")]
    assert headings == ["Bring up and change commands:", "Study commands:", "Set up commands:"]
    study = out.split("Study commands:")[1].split("Set up commands:")[0]
    assert {line.split()[0] for line in study.splitlines() if line.strip()} >= {"matrix", "readiness", "bench"}


def help_with(environment: dict[str, str], cwd) -> str:
    """`lab --help` as a pipe reads it, in this environment."""
    env = {key: value for key, value in os.environ.items() if key not in ("FORCE_COLOR", "NO_COLOR", "TERM")}
    done = subprocess.run([sys.executable, "-m", "lab.cli", "--help"], capture_output=True, text=True, cwd=cwd,
                          env={**env, **environment}, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def colours(text: str) -> set[str]:
    """The colour parameters of the terminal escapes in `text` (bold and the like left out)."""
    found = set()
    for parameters in re.findall(r"\x1b\[([0-9;]*)m", text):
        found |= {p for p in parameters.split(";") if p.startswith(("3", "9")) and p != "39"}
    return found


@pytest.mark.parametrize("environment", [{}, {"NO_COLOR": "1"}])
def test_help_piped_is_plain_text(environment, tmp_path):
    out = help_with(environment, tmp_path)
    assert "\x1b[" not in out
    assert "Usage: lab" in out and "\n  switch " in out and "  130  interrupted (Ctrl-C)" in out


def test_help_is_coloured_on_a_terminal_unless_no_color(tmp_path):
    assert colours(help_with({"FORCE_COLOR": "1"}, tmp_path))  # as on a terminal
    assert not colours(help_with({"FORCE_COLOR": "1", "NO_COLOR": "1"}, tmp_path))


def test_help_text_with_brackets_is_printed_as_written(capsys):
    _, out, _ = run(capsys, "up", "--help")
    assert "into the project's [tool.lab] (pyproject.toml" in " ".join(out.split())
    _, out, _ = run(capsys, "--help")
    assert "(flag, env, [tool.lab], project)" in " ".join(out.split())


# -- lab logs -f and lab exec on the in-memory engine --------------------------------------------------------


@pytest.fixture
def running(monkeypatch, tmp_path):
    """Lab `shop` with an nginx and two nodes on the in-memory engine, which every `lab` command here uses."""
    engine = FakeEngine()
    engine.ensure_network("shop-net", labels("shop", "network"))
    for name, role in (("nginx", "nginx"), ("node-1", "node"), ("node-2", "node")):
        engine.create(ContainerSpec(f"shop-{name}", role, "image", labels("shop", role)), "shop-net")
    states = StateStore(tmp_path / "state")
    monkeypatch.setattr(lab.cli, "Lab", lambda name, progress=None: Lab(name, engine=engine, states=states))
    yield engine
    engine.close()


def test_logs_follow_prints_the_member_s_lines_as_they_come(capsys, running):
    running.written_logs["shop-node-1"] = [f"line {n}\n" for n in range(1, 6)]
    code, out, err = run(capsys, "logs", "-f", "node-1", "--tail", "3", "--name", "shop")
    assert code == 0, err
    assert out == "line 3\nline 4\nline 5\n"


def test_ctrl_c_ends_following_with_130_and_no_word_of_what_was_left(capsys, running, monkeypatch):
    running.written_logs["shop-nginx"] = ["GET / 200\n"]
    running.follow_interrupted = True
    monkeypatch.setattr(lab.cli, "what_was_left", lambda name: pytest.fail("a read-only command left nothing"))
    code, out, err = run(capsys, "--name", "shop", "logs", "--follow", "nginx")
    assert code == 130 and out == "GET / 200\n"
    assert err.strip() == "lab: interrupted"


def test_logs_of_an_unknown_member_exit_2_naming_the_members(capsys, running):
    code, _, err = run(capsys, "--name", "shop", "logs", "-f", "node-9")
    assert code == 2 and "no container 'node-9'" in err and "nginx, node-1, node-2" in err


def test_exec_prints_the_output_and_passes_the_exit_code_on(capsys, running, monkeypatch):
    asked = []

    def exec_(container, command, env=None, user=""):
        asked.append((container, list(command), user))
        return 3, "Traceback ... SystemCheckError\n"

    monkeypatch.setattr(running, "exec", exec_)
    code, out, _ = run(capsys, "--name", "shop", "exec", "node-2", "--", "python", "manage.py", "check", "--deploy")
    assert code == 3 and out == "Traceback ... SystemCheckError\n"
    assert asked == [("shop-node-2", ["python", "manage.py", "check", "--deploy"], "")]
    code, _, _ = run(capsys, "exec", "--name", "shop", "--user", "root", "shop-node-1", "--", "id", "-u")
    assert code == 3 and asked[-1] == ("shop-node-1", ["id", "-u"], "root")


def test_exec_in_an_unknown_member_exits_2_naming_the_members(capsys, running):
    code, _, err = run(capsys, "--name", "shop", "exec", "postgres", "--", "psql")
    assert code == 2 and "no container 'postgres'" in err and "nginx, node-1, node-2" in err


def test_exec_without_a_command_says_how(capsys, running):
    code, _, err = run(capsys, "--name", "shop", "exec", "node-1")
    assert code == 2 and "lab exec node-1 -- python manage.py check" in err
