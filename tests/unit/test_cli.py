"""The CLI in-process: user mistakes exit 2 with the valid choices and no traceback."""

import pytest

from lab import BACKENDS, BALANCE_MODES

from .cli_stubs import run


def test_unknown_backend_exits_2_with_the_valid_names(capsys):
    code, _, err = run(capsys, "up", "--backend", "mongo")
    assert code == 2
    assert "invalid choice: 'mongo'" in err and all(name in err for name in BACKENDS)
    assert "Traceback" not in err


def test_unknown_balance_exits_2(capsys):
    code, _, err = run(capsys, "switch", "--balance", "random")
    assert code == 2 and all(name in err for name in BALANCE_MODES)


@pytest.mark.parametrize("nodes", ["0", "17", "three"])
def test_nodes_outside_the_range_exit_2(capsys, nodes):
    code, _, err = run(capsys, "up", "--nodes", nodes)
    assert code == 2 and ("between 1 and 16" in err or "whole number" in err)


def test_an_unavailable_backend_is_listed_but_refused_with_a_reason(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("LAB_STATE_DIR", str(tmp_path))
    monkeypatch.setattr(BACKENDS["db"], "available", False, raising=False)
    monkeypatch.setattr(BACKENDS["db"], "unavailable_reason", "being rebuilt", raising=False)
    code, _, err = run(capsys, "--name", "cli-off", "up", "--backend", "db")
    assert code == 2 and "not available yet: being rebuilt" in err and "Traceback" not in err
    _, out, _ = run(capsys, "backends")
    assert "not available yet: being rebuilt" in out


def test_switch_without_a_lab_says_how_to_start_one(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("LAB_STATE_DIR", str(tmp_path))
    code, _, err = run(capsys, "--name", "nolab", "switch", "--backend", "db")
    assert code == 2 and "lab up" in err and "Traceback" not in err


def test_switch_needs_something_to_switch(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("LAB_STATE_DIR", str(tmp_path))
    code, _, err = run(capsys, "switch")
    assert code == 2 and "--backend" in err and not list(tmp_path.iterdir())


def test_backends_and_balances_list_everything(capsys):
    _, out, _ = run(capsys, "backends")
    assert all(name in out for name in BACKENDS)
    _, out, _ = run(capsys, "balances")
    assert all(name in out for name in BALANCE_MODES)


def test_help_lists_the_commands(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    listed = {line.split()[0] for line in out.splitlines() if line.startswith("  ") and line.split()}
    assert {"up", "switch", "down", "status", "logs", "backends"} <= listed, listed
