"""Exit codes a CI job gates on (`lab --help` lists them): 0 when every verdict is as expected, 1 when one
differs or cannot be given, 2 for a usage mistake, 130 for Ctrl-C. The studies are stood in for; the
command's own judgement of their results is what runs."""


import pytest

import lab.cli
import lab.studies.matrix
from lab.errors import EXIT_CODES
from lab.studies.experiments import EXPERIMENTS
from lab.studies.experiments.base import Case, Outcome
from lab.traffic.observations import Observation, UserEvidence
from lab.verdicts.cells import CellResult

from .cli_stubs import run, up  # noqa: F401 (up is a fixture the tests ask for)


def browsing(name, nodes, counters):
    user = UserEvidence(name, logged_in=True, login_node="node-1")
    user.observations = [Observation(i, 200, "demo", n, "k", c, 0.01) for i, (n, c) in enumerate(zip(nodes, counters))]
    return user


def kept_users():
    return [browsing(f"user-{i}", ["node-1", "node-2", "node-3"], [1, 2, 3]) for i in range(3)]


def lost_users():
    return [browsing(f"user-{i}", ["node-1", "node-2", "node-3"], [1, 1, 1]) for i in range(3)]


def matrix_of(*cells):
    def run_matrix(lab, quick, probe=None, on_cell=None, **chosen):
        return {"meta": {"cells_run": len(cells), "nodes": 3, "workers": 2, "site": "", "probe": "/", "machine": "",
                         "finished": "", "users_per_cell": 3, "nat_users": 0, "requests_per_user": 3, "seconds": 1.0},
                "cells": [c.to_dict() for c in cells]}
    return run_matrix


def test_help_lists_every_exit_code(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for number, meaning in EXIT_CODES.items():
        assert f"{number}" in out and meaning in out


def test_a_matrix_whose_verdicts_are_all_expected_exits_0(capsys, monkeypatch, up):
    monkeypatch.setattr(lab.studies.matrix, "run_matrix", matrix_of(
        CellResult("redis", "round_robin", "demo", kept_users(), 1.0, 0.1),
        CellResult("local_file", "round_robin", "demo", lost_users(), 1.0, 0.1),
    ))
    code, out, err = run(capsys, "--name", "exits", "matrix", "--quick")
    assert code == 0, err
    assert "report:" in out


def test_a_matrix_cell_that_differs_from_its_expectation_exits_1_and_names_the_cell(capsys, monkeypatch, up):
    # local_file under round robin is expected to lose users; here every user kept the login.
    monkeypatch.setattr(lab.studies.matrix, "run_matrix", matrix_of(
        CellResult("redis", "round_robin", "demo", kept_users(), 1.0, 0.1),
        CellResult("local_file", "round_robin", "demo", kept_users(), 1.0, 0.1),
    ))
    code, _, err = run(capsys, "--name", "exits", "matrix", "--quick")
    assert code == 1
    assert "1 verdicts differ" in err and "local_file/round_robin expected lost, observed kept" in err
    assert "redis/round_robin" not in err


def test_a_matrix_cell_without_evidence_exits_1_and_says_why(capsys, monkeypatch, up):
    one_node = [browsing("user-1", ["node-1", "node-1", "node-1"], [1, 2, 3])]
    monkeypatch.setattr(lab.studies.matrix, "run_matrix", matrix_of(CellResult("redis", "round_robin", "demo", one_node, 1.0, 0.1)))
    code, _, err = run(capsys, "--name", "exits", "matrix", "--quick")
    assert code == 1 and "have no verdict" in err and "saw one node only" in err


def test_a_channel_layer_whose_verdict_differs_exits_1(capsys, monkeypatch, up):
    def with_channels(lab_, quick, probe=None, on_cell=None, **chosen):
        data = matrix_of(CellResult("redis", "round_robin", "demo", kept_users(), 1.0, 0.1))(lab_, quick)
        data["channels"] = [
            {"layer": "memory", "expected": "each user gets only its own process's messages", "passed": True, "why": "",
             "users": 3, "processes": 3, "delivered": 3, "possible": 9, "reason": ""},
            {"layer": "redis", "expected": "every user gets every message", "passed": False, "why": "user-2 got 1 of 3",
             "users": 3, "processes": 3, "delivered": 7, "possible": 9, "reason": ""},
        ]
        return data
    monkeypatch.setattr(lab.studies.matrix, "run_matrix", with_channels)
    code, _, err = run(capsys, "--name", "exits", "matrix", "--quick")
    assert code == 1 and "channel layer redis" in err and "user-2 got 1 of 3" in err and "channel layer memory" not in err


class Judged:
    """An experiment whose one case comes out as given."""

    name = "judged"
    several_hosts = False
    cases = [Case("redis", "round_robin")]

    def __init__(self, passed):
        self.passed = passed

    def expect(self, case):
        return "no one logged out", "a shared store"

    def run(self, lab_, case):
        outcome = Outcome(self.name, case.label, "no one logged out", "a shared store", observed="2 of 9 logged out")
        outcome.passed, outcome.why = self.passed, "" if self.passed else "user-3 and nat-1 were logged out"
        return outcome


@pytest.mark.parametrize("passed, code", [(True, 0), (False, 1)])
def test_an_experiment_exits_1_exactly_when_a_rule_fails(capsys, monkeypatch, up, passed, code):
    monkeypatch.setitem(EXPERIMENTS, "judged", Judged(passed))
    exit_code, _, err = run(capsys, "--name", "exits", "experiment", "judged")
    assert exit_code == code, err
    assert ("user-3 and nat-1 were logged out" in err) == (not passed)


def test_a_usage_mistake_exits_2(capsys):
    code, _, _ = run(capsys, "matrix", "--no-such-flag")
    assert code == 2


def test_ctrl_c_exits_130_and_says_what_was_left(capsys, monkeypatch):
    def interrupted(args):
        raise KeyboardInterrupt
    monkeypatch.setattr(lab.cli, "run", interrupted)
    monkeypatch.setattr(lab.cli, "what_was_left", lambda name: f"no container of lab {name} was started")
    code, _, err = run(capsys, "--name", "exits", "status")
    assert code == 130 and "interrupted; no container of lab exits was started" in err


class RefusedLab:
    """A bench's lab whose `up` is refused as a LabError with its own exit code; what was asked is kept."""

    asked: list[str] = []

    def __init__(self, name, progress=None):
        self.name = name

    def down(self):
        self.asked.append("down")

    def up(self, config):
        self.asked.append("up")
        from lab.errors import EngineUnavailable

        raise EngineUnavailable("connecting to Docker: cannot reach the Docker engine (made up by the test)")


@pytest.mark.parametrize("argv", [["bench", "load"], ["bench", "load", "--quick"]])
def test_a_bench_whose_lab_fails_exits_with_the_errors_code_through_the_one_boundary(capsys, monkeypatch, argv):
    import lab.cli.bench
    from lab.errors import EngineUnavailable

    RefusedLab.asked = []
    monkeypatch.setattr(lab.cli.bench, "Lab", RefusedLab)
    code, out, err = run(capsys, *argv)
    assert code == EngineUnavailable.exit_code
    assert err.startswith("lab: error: connecting to Docker: cannot reach the Docker engine")
    assert RefusedLab.asked == ["down", "up", "down"]  # the bench's lab is removed, whatever happened


def test_a_bench_interrupted_exits_130_and_one_that_breaks_says_internal_error(capsys, monkeypatch):
    import lab.cli.bench

    def interrupted(args):
        raise KeyboardInterrupt

    def broken(args):
        raise ValueError("made up by the test")

    monkeypatch.setitem(lab.cli.bench.BENCHES, "profile", interrupted)
    monkeypatch.setattr(lab.cli, "what_was_left", lambda name: f"no container of lab {name} was started")
    code, _, err = run(capsys, "bench", "profile", "--rounds", "3")
    assert code == 130 and "interrupted" in err
    monkeypatch.setitem(lab.cli.bench.BENCHES, "lifecycle", broken)
    code, _, err = run(capsys, "bench", "lifecycle", "--no-cold")
    assert code == 1 and "lab: internal error: ValueError: made up by the test" in err


def test_every_bench_is_a_subcommand_of_the_main_parser_with_its_options():
    from lab.cli.bench import BENCHES
    from lab.cli.parser import build_parser

    parser = build_parser()
    assert parser.parse_args(["bench", "profile", "--rounds", "3", "--matrix"]).rounds == 3
    assert parser.parse_args(["bench", "load", "--quick"]).quick
    assert parser.parse_args(["bench", "production", "--site", "a", "--site", "b", "--with-fix"]).site == ["a", "b"]
    assert parser.parse_args(["bench", "site", "--only", "tutorial"]).only == ["tutorial"]
    assert {parser.parse_args(["bench", name]).bench_command for name in BENCHES} == set(BENCHES)
