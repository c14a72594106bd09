"""The verdicts as JUnit XML (lab.reports.junit), as a CI test reporter reads them: one testcase per matrix cell,
experiment case and readiness hazard, failures that carry the evidence, counts that add up, and text from a site
(node names, login errors) escaped whatever it holds. Then `--junit` and `--cell` through the real CLI, with the
studies stood in for."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

import lab.cli
import lab.studies.matrix
import lab.studies.readiness
from lab.cli.parser import build_parser
from lab.reports.junit import document, experiment_suite, matrix_suite, readiness_suite
from lab.studies.experiments import EXPERIMENTS
from lab.studies.experiments.base import Case, Outcome
from lab.traffic.observations import Observation, UserEvidence
from lab.verdicts.cells import CellResult
from lab.verdicts.hazards import FOUND, NOTE, OK, Finding, Observed

from .cli_stubs import run, up  # noqa: F401 (up is a fixture the tests ask for)

HOSTILE = '<script>alert("x")</script> & ]]> \x00\x1b[31m'


def user(name, nodes, seen, address="10.0.1.2"):
    """A user logged in on node-1, then one request per node: `seen` is who each answer showed (None: anonymous)."""
    evidence = UserEvidence(name, address=address, login_node="node-1", logged_in=True)
    evidence.observations = [Observation(i, 200, who, node, "key", i + 1, 0.01) for i, (node, who) in enumerate(zip(nodes, seen))]
    return evidence


def kept(count=3):
    return [user(f"user-{i}", ["node-1", "node-2", "node-3"], ["demo"] * 3) for i in range(count)]


def lost(count=3):
    return [user(f"user-{i}", ["node-1", "node-2", "node-3"], ["demo", None, None]) for i in range(count)]


def matrix_data(*results, channels=None):
    data = {"meta": {}, "cells": [r.to_dict() for r in results]}
    if channels is not None:
        data["channels"] = channels
    return data


def parsed(*suites) -> ET.Element:
    return ET.fromstring(document(*suites))


def cases(root: ET.Element) -> dict[str, ET.Element]:
    return {case.get("name"): case for case in root.iter("testcase")}


def counts(element: ET.Element) -> dict[str, int]:
    return {key: int(element.get(key)) for key in ("tests", "failures", "errors", "skipped")}


# -- the matrix ------------------------------------------------------------------------------------------


def test_one_testcase_per_cell_named_backend_slash_balance_with_the_suite_counts_right():
    data = matrix_data(
        CellResult("redis", "round_robin", "demo", kept(), 2.5, 0.1),  # as expected
        CellResult("local_file", "round_robin", "demo", kept(), 3.0, 0.1),  # expected lost: differs
        CellResult("locmem", "sticky", "demo", lost(), 1.5, 0.1),  # as expected
        CellResult("redis", "least_conn", "demo", [], 1.0, 0.1),  # no user reported back: no verdict
    )
    data["cells"].append({"backend": "redis", "balance": "sticky", "pending": True})
    root = parsed(matrix_suite(data))
    suite = root.find("testsuite")
    assert list(cases(root)) == ["redis/round_robin", "local_file/round_robin", "locmem/sticky", "redis/least_conn",
                                 "redis/sticky"]
    assert {case.get("classname") for case in root.iter("testcase")} == {"lab.matrix"}
    assert counts(suite) == {"tests": 5, "failures": 1, "errors": 1, "skipped": 1}
    assert counts(root) == counts(suite)
    assert float(suite.get("time")) == pytest.approx(8.0) and float(root.get("time")) == pytest.approx(8.0)
    assert cases(root)["redis/round_robin"].get("time") == "2.500"


def test_a_cell_that_differs_fails_with_what_each_user_saw():
    root = parsed(matrix_suite(matrix_data(CellResult("local_file", "round_robin", "demo", kept(2), 3.0, 0.1))))
    failure = cases(root)["local_file/round_robin"].find("failure")
    assert failure.get("message") == "expected lost, observed kept (2 of 2 users kept)"
    assert failure.get("type") == "VerdictDiffers"
    lines = failure.text.splitlines()
    assert lines[0].startswith("expected lost: requests rotate over the nodes")
    assert lines[1] == ("user-0 (10.0.1.2): kept the login on every request; the session was made on node-1; "
                        "served by node-1, node-2, node-3")
    assert lines[2] == "    requests: node-1 #1, node-2 #2, node-3 #3"
    assert len(lines) == 5  # two lines per user


def test_a_lost_user_is_told_as_the_matrix_report_tells_it():
    # redis keeps users; here every one was logged out at its second request.
    root = parsed(matrix_suite(matrix_data(CellResult("redis", "round_robin", "demo", lost(1), 3.0, 0.1))))
    text = cases(root)["redis/round_robin"].find("failure").text
    assert ("user-0 (10.0.1.2): request 1 reached node-2 and saw anonymous; the session was made on node-1; "
            "served by node-1, node-2, node-3") in text
    assert "requests: node-1 #1, node-2 anonymous, node-3 anonymous" in text


def test_a_cell_without_a_verdict_is_an_error_that_says_why():
    one_node = [user("user-1", ["node-1"] * 3, ["demo"] * 3)]
    failed_login = UserEvidence("nat-1", address="10.0.9.9", login_error="the login page answered 502")
    root = parsed(matrix_suite(matrix_data(
        CellResult("redis", "round_robin", "demo", one_node, 1.0, 0.1),
        CellResult("db", "sticky", "demo", [*kept(1), failed_login], 1.0, 0.1),
    )))
    error = cases(root)["redis/round_robin"].find("error")
    assert error.get("type") == "NoVerdict" and "saw one node only" in error.get("message")
    assert cases(root)["redis/round_robin"].find("failure") is None
    login = cases(root)["db/sticky"].find("error")
    assert "login failed for nat-1" in login.get("message")
    assert "nat-1 (10.0.9.9): login failed: the login page answered 502" in login.text


def test_a_cell_as_expected_passes_with_a_summary_and_a_pending_one_is_skipped_with_why():
    data = matrix_data(CellResult("redis", "round_robin", "demo", kept(), 1.0, 0.1))
    data["cells"].append({"backend": "redis", "balance": "sticky", "pending": True})
    root = parsed(matrix_suite(data))
    passed = cases(root)["redis/round_robin"]
    assert [child.tag for child in passed] == ["system-out"]
    assert passed.find("system-out").text.startswith("observed kept (3 of 3 users kept), nodes node-1, node-2, node-3")
    assert cases(root)["redis/sticky"].find("skipped").get("message").startswith("pending: ")


def test_channel_layers_are_testcases_too():
    rows = [
        {"layer": "memory", "expected": "each user gets only its own process's messages", "passed": True,
         "why": "each of 3 users got only the messages sent on its own process"},
        {"layer": "redis", "expected": "every user gets every message", "passed": False, "why": "user-2 missed messages",
         "users": 3, "processes": 3, "delivered": 7, "possible": 9},
    ]
    root = parsed(matrix_suite(matrix_data(CellResult("redis", "round_robin", "demo", kept(), 1.0, 0.1), channels=rows)))
    assert counts(root) == {"tests": 3, "failures": 1, "errors": 0, "skipped": 0}
    failure = cases(root)["channel-layer/redis"].find("failure")
    assert failure.get("message") == "expected: every user gets every message"
    assert "7 of 9 messages delivered to 3 users on 3 processes" in failure.text and "user-2 missed messages" in failure.text
    rows[1] = {**rows[1], "passed": None, "why": "no verdict: the site does not install channels-redis"}
    root = parsed(matrix_suite(matrix_data(channels=rows)))
    assert cases(root)["channel-layer/redis"].find("skipped").get("message").endswith("does not install channels-redis")


def test_hostile_text_from_the_site_is_escaped_and_the_file_still_parses():
    evil = user(HOSTILE, [HOSTILE, "node-2", "node-3"], ["demo", None, None], address=HOSTILE)
    no_login = UserEvidence("nat-1", login_error=HOSTILE)
    text = document(matrix_suite(matrix_data(
        CellResult("redis", "round_robin", "demo", [evil], 1.0, 0.1),
        CellResult("db", "round_robin", "demo", [no_login], 1.0, 0.1),
    )))
    assert "<script>" not in text and "\x00" not in text and "\x1b" not in text
    root = ET.fromstring(text)  # a reporter reads it back
    failure = cases(root)["redis/round_robin"].find("failure")
    assert '<script>alert("x")</script> & ]]> \ufffd\ufffd[31m' in failure.text
    assert '<script>alert("x")</script>' in cases(root)["db/round_robin"].find("error").get("message")


# -- experiments -----------------------------------------------------------------------------------------


def outcome(case, passed, why, seconds=30.0):
    result = Outcome("node-down", case, "no one is logged out", "the sessions live in a store every node reads",
                     observed="2 of 9 users logged out", passed=passed, why=why, seconds=seconds,
                     figures={"users": 9, "logged_out": 2})
    return result


def test_one_testcase_per_experiment_case_and_a_failed_rule_carries_each_user_s_result():
    root = parsed(experiment_suite("node-down", [
        outcome("redis/sticky", True, "all 9 users stayed logged in; 3 users were on node-1 and had to move"),
        outcome("redis/round_robin", False, "user-3, nat-1 ended logged out", seconds=12.0),
    ]))
    suite = root.find("testsuite")
    assert suite.get("name") == "lab.experiment.node-down"
    assert counts(suite) == {"tests": 2, "failures": 1, "errors": 0, "skipped": 0}
    assert float(suite.get("time")) == pytest.approx(42.0)
    failure = cases(root)["redis/round_robin"].find("failure")
    assert failure.get("message") == "user-3, nat-1 ended logged out" and failure.get("type") == "RuleFailed"
    assert failure.text.splitlines() == [
        "expected no one is logged out: the sessions live in a store every node reads",
        "observed 2 of 9 users logged out",
        "judged per user: user-3, nat-1 ended logged out",
        "users: 9",
        "logged_out: 2",
        "lab put back as it was: yes",
    ]
    assert "all 9 users stayed logged in" in cases(root)["redis/sticky"].find("system-out").text


# -- readiness -------------------------------------------------------------------------------------------


def finding(key, level, evidence=("seen on node-1",)):
    return Finding(key, f"the {key} hazard", level, list(evidence), "users are logged out", f"fix {key}",
                   "https://docs.djangoproject.com/")


FINDINGS = [
    finding("migrate_at_start", FOUND, ["Procfile:1 runs migrate at start", HOSTILE]),
    finding("debug_on", FOUND),
    finding("connection_budget", NOTE),
    finding("secret_key_per_process", OK),
]


def test_a_hazard_found_fails_with_its_evidence_and_fix_and_a_note_passes_with_them():
    root = parsed(readiness_suite(FINDINGS))
    assert list(cases(root)) == ["migrate_at_start", "debug_on", "connection_budget", "secret_key_per_process"]
    assert counts(root) == {"tests": 4, "failures": 2, "errors": 0, "skipped": 0}
    failure = cases(root)["migrate_at_start"].find("failure")
    assert failure.get("message") == "the migrate_at_start hazard" and failure.get("type") == "Hazard"
    assert failure.text.splitlines()[:2] == ["evidence: Procfile:1 runs migrate at start",
                                             'evidence: <script>alert("x")</script> & ]]> \ufffd\ufffd[31m']
    assert "fix: fix migrate_at_start (https://docs.djangoproject.com/)" in failure.text
    note = cases(root)["connection_budget"]
    assert [child.tag for child in note] == ["system-out"]
    assert note.find("system-out").text.splitlines()[0] == "note: the connection_budget hazard"
    assert "fix: fix connection_budget" in note.find("system-out").text
    assert cases(root)["secret_key_per_process"].find("system-out").text == "ok: the secret_key_per_process hazard\nevidence: seen on node-1"


def test_with_a_baseline_only_a_new_hazard_fails_and_a_known_one_is_skipped():
    root = parsed(readiness_suite(FINDINGS, known={"migrate_at_start", "secret_key_per_process"}))
    assert counts(root) == {"tests": 4, "failures": 1, "errors": 0, "skipped": 1}
    skipped = cases(root)["migrate_at_start"].find("skipped")
    assert skipped.get("message") == "known in baseline: the migrate_at_start hazard"
    assert cases(root)["debug_on"].find("failure").get("message") == "new since the baseline: the debug_on hazard"
    assert "fixed since the baseline" in cases(root)["secret_key_per_process"].find("system-out").text


def test_suites_add_up_in_testsuites():
    root = parsed(readiness_suite(FINDINGS), experiment_suite("node-down", [outcome("redis/sticky", False, "x", 5.0)]))
    assert [suite.get("name") for suite in root] == ["lab.readiness", "lab.experiment.node-down"]
    assert root.tag == "testsuites" and counts(root) == {"tests": 5, "failures": 3, "errors": 0, "skipped": 0}
    assert document(readiness_suite([])).startswith('<?xml version="1.0" encoding="utf-8"?>\n<testsuites name="lab" tests="0"')


# -- through the CLI: --cell, and --junit written where asked ------------------------------------------


@pytest.fixture
def matrix_run(monkeypatch):
    """run_matrix stood in for: the cells it was asked for, and a local_file/round_robin that kept users (differs)."""
    asked = {}

    def run_matrix(lab_, quick, probe=None, on_cell=None, cells=None):
        asked.update(quick=quick, cells=cells)
        results = [CellResult(b, m, "demo", kept(), 1.0, 0.1) for b, m in cells or [("redis", "round_robin")]]
        return matrix_data(*results) | {"meta": {"cells_run": len(results), "nodes": 3, "workers": 2, "site": "",
                                                 "probe": "/", "machine": "", "finished": "", "users_per_cell": 3,
                                                 "nat_users": 0, "requests_per_user": 3, "seconds": 1.0}}
    monkeypatch.setattr(lab.studies.matrix, "run_matrix", run_matrix)
    return asked


def test_cell_is_parsed_as_backend_and_balance_and_is_repeatable():
    args = build_parser().parse_args(["matrix", "--quick", "--cell", "redis/ip_hash", "--cell", "db/sticky"])
    assert args.cells == [("redis", "ip_hash"), ("db", "sticky")] and args.quick
    assert build_parser().parse_args(["matrix"]).cells is None


@pytest.mark.parametrize("cell, says", [
    ("mongo/sticky", "unknown backend 'mongo' in 'mongo/sticky'; valid: local_file, shared_file, nfs, db,"),
    ("redis/random", "unknown balance 'random' in 'redis/random'; valid: round_robin, least_conn, ip_hash, cookie_hash, sticky"),
    ("redis", "'redis' is not BACKEND/BALANCE, e.g. redis/round_robin"),
    ("redis/", "unknown balance '' in 'redis/'"),
])
def test_an_unknown_cell_is_a_usage_mistake_that_names_the_valid_ones(capsys, matrix_run, up, cell, says):
    code, out, err = run(capsys, "--name", "cells", "matrix", "--cell", cell)
    assert code == 2 and says in err
    assert matrix_run == {}  # refused before anything ran


def test_cells_chosen_replace_the_quick_set_and_the_junit_file_has_one_testcase_each(capsys, matrix_run, up):
    junit = up / "reports" / "ci" / "matrix.xml"  # its folder made, as a CI job's reports/ is not there yet
    code, out, err = run(capsys, "--name", "cells", "matrix", "--quick", "--cell", "local_file/round_robin",
                         "--cell", "redis/ip_hash", "--junit", str(junit))
    assert matrix_run == {"quick": True, "cells": [("local_file", "round_robin"), ("redis", "ip_hash")]}
    assert code == 1 and "local_file/round_robin expected lost, observed kept" in err  # the exit code as before
    assert f"junit: {junit}" in out
    root = ET.parse(junit).getroot()
    assert list(cases(root)) == ["local_file/round_robin", "redis/ip_hash"]
    assert counts(root) == {"tests": 2, "failures": 1, "errors": 0, "skipped": 0}


@pytest.mark.parametrize("where", ["{up}", "{up}/reports/"])  # a folder, one that is not there yet
def test_a_junit_path_that_cannot_be_written_is_refused_before_anything_runs(capsys, matrix_run, up, where):
    code, _, err = run(capsys, "--name", "cells", "matrix", "--junit", where.format(up=up))
    assert code == 2 and "not a file this user can write" in err and matrix_run == {}


class Judged:
    """An experiment whose one case comes out as given."""

    name = "judged"
    several_hosts = False
    cases = [Case("redis", "round_robin")]

    def expect(self, case):
        return "no one logged out", "a shared store"

    def run(self, lab_, case):
        return Outcome(self.name, case.label, "no one logged out", "a shared store", observed="2 of 9 logged out",
                       passed=False, why="user-3 and nat-1 were logged out")


def test_an_experiment_writes_its_junit_file_and_still_exits_1(capsys, monkeypatch, up):
    monkeypatch.setitem(EXPERIMENTS, "judged", Judged())
    junit = up / "experiment.xml"
    code, out, _ = run(capsys, "--name", "cells", "experiment", "judged", "--junit", str(junit))
    assert code == 1 and f"junit: {junit}" in out
    failure = ET.parse(junit).getroot().find("testsuite/testcase/failure")
    assert failure.get("message") == "user-3 and nat-1 were logged out"


def test_readiness_with_a_baseline_writes_junit_where_only_the_new_hazard_fails(capsys, monkeypatch, up):
    seen = Observed(nodes=3, workers=2, nginx_host="nginx", first={})
    monkeypatch.setattr(lab.studies.readiness, "assess", lambda lab_: (FINDINGS, seen))
    baseline, junit = up / "readiness-baseline.json", up / "reports" / "readiness.xml"
    baseline.write_text(json.dumps({"format": 1, "found": {"migrate_at_start": "the migrate_at_start hazard"}}))
    code, out, err = run(capsys, "--name", "cells", "readiness", "--baseline", str(baseline), "--junit", str(junit))
    assert code == 1 and "1 hazard(s) found" in err  # debug_on, new
    assert f"junit: {junit}" in out
    root = ET.parse(junit).getroot()
    assert counts(root) == {"tests": 4, "failures": 1, "errors": 0, "skipped": 1}
    code, out, err = run(capsys, "--name", "cells", "readiness", "--json", "--junit", str(junit))
    assert code == 0 and json.loads(out)["findings"] and f"junit: {junit}" in err  # stdout stays the JSON alone
    assert counts(ET.parse(junit).getroot())["failures"] == 2  # no baseline: every hazard found fails
