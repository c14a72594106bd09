"""`lab completion SHELL`: the script each shell sources, and bash really completing with it: the script is
sourced in a plain `bash -c`, its completion function called as bash calls it on TAB, and what it puts in
COMPREPLY is what the user would see (the function asks `lab` itself, here `python -m lab.cli`)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest

from lab.cli.completion import SHELLS, lab_names, member_names
from lab.engines.interface import Member
from lab.errors import EngineUnavailable

from .test_cli import run

needs_bash = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")


@pytest.mark.parametrize("shell", SHELLS)
def test_completion_prints_a_script_for_each_shell(capsys, shell):
    code, out, _ = run(capsys, "completion", shell)
    assert code == 0 and "lab" in out and "_ARGCOMPLETE" in out


def test_completion_refuses_a_shell_it_has_no_script_for(capsys):
    code, _, err = run(capsys, "completion", "tcsh")
    assert code == 2 and "bash" in err and "fish" in err


@needs_bash
def test_the_bash_script_is_valid_bash(capsys, tmp_path):
    _, out, _ = run(capsys, "completion", "bash")
    path = tmp_path / "lab.bash"
    path.write_text(out)
    checked = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def complete_in_bash(capsys, tmp_path, line: str) -> list[str]:
    """What bash offers on TAB at the end of `line`, with the script `lab completion bash` prints."""
    _, script, _ = run(capsys, "completion", "bash")
    (tmp_path / "lab.bash").write_text(script)
    words = line.split(" ")  # a line ending in a space ends in an empty word, as bash splits it
    program = "\n".join([
        f'lab() {{ "{sys.executable}" -m lab.cli "$@"; }}',  # the `lab` the script runs on TAB
        f'source "{tmp_path / "lab.bash"}"',
        f'COMP_LINE="{line}"; COMP_POINT=${{#COMP_LINE}}; COMP_TYPE=9',
        "COMP_WORDS=(" + " ".join(f'"{word}"' for word in words) + f"); COMP_CWORD={len(words) - 1}",
        f'_python_argcomplete lab "{words[-1]}" "{words[-2]}"',
        'printf "%s\\n" "${COMPREPLY[@]}"',
    ])
    done = subprocess.run(["bash", "-c", program], capture_output=True, text=True, cwd=tmp_path, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "LAB_STATE_DIR": str(tmp_path / "state"), "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    return [word.strip() for word in done.stdout.splitlines() if word.strip()]


@needs_bash
def test_bash_completes_a_command(capsys, tmp_path):
    assert complete_in_bash(capsys, tmp_path, "lab sw") == ["switch"]


@needs_bash
def test_bash_completes_an_option_of_a_command(capsys, tmp_path):
    assert complete_in_bash(capsys, tmp_path, "lab up --back") == ["--backend"]


@needs_bash
def test_bash_completes_a_choice_and_the_labs_this_machine_keeps(capsys, tmp_path):
    assert complete_in_bash(capsys, tmp_path, "lab switch --backend memc") == ["memcached"]
    (tmp_path / "state").mkdir()
    for name in ("shop", "blog"):
        (tmp_path / "state" / f"{name}.json").write_text("{}")
    assert complete_in_bash(capsys, tmp_path, "lab status --name sh") == ["shop"]
    assert sorted(complete_in_bash(capsys, tmp_path, "lab --name ")) == ["blog", "shop"]


def test_lab_names_are_the_saved_states(tmp_path, monkeypatch):
    monkeypatch.setenv("LAB_STATE_DIR", str(tmp_path))
    for name in ("shop", "blog", "shopfront"):
        (tmp_path / f"{name}.json").write_text("{}")
    assert lab_names("sho") == ["shop", "shopfront"]


def test_member_names_are_the_lab_s_members_by_their_short_names():
    class Stand:
        def __init__(self, name):
            self.name = name
            self.engine = SimpleNamespace(members=lambda lab: [Member(f"{lab}-nginx", "nginx", "running"),
                                                               Member(f"{lab}-node-1", "node", "running"),
                                                               Member(f"{lab}-node-2", "node", "exited")])

    assert member_names("no", SimpleNamespace(name="shop"), lab_of=Stand) == ["node-1", "node-2"]


def test_member_names_offer_nothing_when_the_engine_does_not_answer():
    def unreachable(name):
        raise EngineUnavailable("cannot reach the Docker engine (made up by the test)")

    assert member_names("", SimpleNamespace(name="shop"), lab_of=unreachable) == []


def test_member_names_do_not_wait_for_a_slow_engine(monkeypatch):
    import lab.cli.completion

    monkeypatch.setattr(lab.cli.completion, "ASK_SECONDS", 0.05)
    def slow(name):
        time.sleep(2)
        raise EngineUnavailable("too late")

    begun = time.monotonic()
    assert member_names("", SimpleNamespace(name="shop"), lab_of=slow) == []
    assert time.monotonic() - begun < 1
