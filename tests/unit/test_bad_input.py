"""Bad input: one line on stderr, exit 2 for the user's mistake (1 when the lab's own state is broken),
nothing written, and Docker untouched (DOCKER_HOST points nowhere, so touching it would exit 1).

The table below is the one docs/ci.md quotes ("Bad input").
"""

import json
import socket

import pytest

from lab.cli import main

LONG = "a" * 300
BAD_INPUT = [
    # (argv, exit code, what the message says)
    (["--name", LONG, "up"], 2, "invalid lab name"),
    (["--name", "lab\n", "up"], 2, "invalid lab name"),
    (["--name", "../x", "down"], 2, "invalid lab name"),
    (["--name", "../x", "logs", "nginx"], 2, "invalid lab name"),
    (["--name", "Lab", "status"], 2, "invalid lab name"),
    (["up", "--host", "::1"], 2, "IPv6"),
    (["up", "--host", "localhost"], 2, "IPv4 address"),
    (["up", "--host", "127.0.0.1\n"], 2, "IPv4 address"),
    (["up", "--host", "192.0.2.1"], 2, "not an address of this machine"),
    (["up", "--django-version", "6.1.3\n"], 2, "django version"),
    (["up", "--django-version", "latest"], 2, "django version"),
    (["up", "--port", "0"], 2, "between 1 and 65535"),
    (["up", "--port", "http"], 2, "not a port number"),
    (["up", "--workers", "0"], 2, "1 or more"),
    (["up", "--workers", "17"], 2, "between 1 and 16"),
    (["up", "--nodes", "17"], 2, "between 1 and 16"),
    (["up", "--backend", "mongo"], 2, "invalid choice"),
    (["switch"], 2, "say what to switch"),
    (["switch", "--backend", "db"], 2, "no lab named"),
    (["status"], 2, "no lab named"),
    (["rotate-key"], 2, "no lab named"),
    (["logs", "nginx", "--tail", "0"], 2, "1 or more"),
    (["experiment", "earthquake"], 2, "unknown experiment"),
]


@pytest.fixture
def nowhere(tmp_path, monkeypatch):
    """No Docker engine, an empty state folder, and the lab name `t`."""
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    state = tmp_path / "state"
    monkeypatch.setenv("LAB_STATE_DIR", str(state))
    monkeypatch.setenv("LAB_NAME", "t")
    return state


def run(capsys, argv):
    try:
        code = main(argv)
    except SystemExit as exit:
        code = exit.code
    captured = capsys.readouterr()
    return code, captured.err


# Plain ids (a newline in an argument shown as <NL>): an id pytest must escape does not survive a second run
# of pytest in one process, as `make mutation` does.
@pytest.mark.parametrize("argv, code, message", BAD_INPUT,
                         ids=lambda v: " ".join(v)[:40].replace("\n", "<NL>") if isinstance(v, list) else None)
def test_bad_input_is_refused_in_one_line_and_writes_nothing(capsys, nowhere, tmp_path, argv, code, message):
    got, err = run(capsys, argv)
    assert (got, message in err) == (code, True), err
    assert "Traceback" not in err and "cannot reach the Docker engine" not in err
    lines = [line for line in err.splitlines() if line.startswith("lab")]
    assert len(lines) == 1, err
    assert not nowhere.exists() or not list(nowhere.iterdir()), "a refused command wrote state"
    assert not (tmp_path / "x.json").exists() and not (tmp_path.parent / "x.json").exists()


def test_a_port_in_use_is_refused_before_any_state_is_written(capsys, nowhere):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, err = run(capsys, ["up", "--port", str(port)])
    assert code == 2 and f"port {port} on 127.0.0.1 is already in use" in err and "--port N" in err
    assert not nowhere.exists() or not list(nowhere.iterdir())


@pytest.mark.parametrize("content", ["", "{", '{"config": {"name": "t"}}', "[1, 2]", "\x00\xff"])
@pytest.mark.parametrize("command", [["status"], ["up"], ["rotate-key"], ["switch", "--backend", "db"]])
def test_a_corrupt_state_file_is_one_line_naming_the_file_and_the_way_out(capsys, nowhere, content, command):
    nowhere.mkdir()
    state_file = nowhere / "t.json"
    state_file.write_bytes(content.encode("latin-1"))
    code, err = run(capsys, command)
    assert code == 1 and str(state_file) in err and "lab --name t down" in err and "Traceback" not in err
    assert state_file.read_bytes() == content.encode("latin-1"), "the broken file was changed"


def test_the_state_file_is_private_whatever_was_there_before(tmp_path):
    from lab import LabConfig
    from lab.run.state import LabState, StateStore, new_secrets

    store = StateStore(tmp_path / "state")
    store.directory.mkdir()
    for leftover in ("t.json", "t.tmp"):
        (store.directory / leftover).write_text("{}")
        (store.directory / leftover).chmod(0o666)
    store.save(LabState(LabConfig(name="t"), new_secrets()))
    assert (store.directory / "t.json").stat().st_mode & 0o777 == 0o600
    assert json.loads((store.directory / "t.json").read_text())["config"]["name"] == "t"
    assert store.load("t").secrets.db_password


def test_a_second_change_of_the_same_lab_is_refused_naming_the_pid(tmp_path):
    import os

    from lab.errors import LabBusy
    from lab.run.state import StateStore

    store = StateStore(tmp_path)
    with store.lock("t"):
        with pytest.raises(LabBusy, match=f"lab t is being changed by pid {os.getpid()}"):
            with store.lock("t"):  # another holder (its own descriptor), as a second command would be
                pass
    first = store.lock("t")
    with first, first:  # the same holder again only counts
        pid = os.fork()
        if pid == 0:  # a child process tries the same lab
            try:
                with StateStore(tmp_path).lock("t"):
                    os._exit(0)
            except LabBusy as error:
                os._exit(3 if f"pid {os.getppid()}" in str(error) else 4)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 3
    with StateStore(tmp_path).lock("t"):  # released: taken again at once
        pass


@pytest.mark.parametrize("host, warned", [("0.0.0.0", True), ("127.0.0.1", False)])
def test_publishing_beyond_this_machine_warns(capsys, host, warned):
    from lab import cli

    class Published:
        def status(self):
            return {"name": "t", "url": f"http://{host}:8080/", "username": "demo", "password": "p",
                    "nodes": 3, "backend": "redis", "balance": "round_robin", "login_url": f"http://{host}:8080/login/"}

    cli.print_up(Published(), 1.0)
    err = capsys.readouterr().err
    assert ("warning" in err and host in err) == warned
