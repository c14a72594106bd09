"""Verdict rules on made-up evidence: what counts as kept, and what is not evidence at all."""

import json

import pytest

from lab import BACKENDS, BALANCE_MODES
from lab.reports.matrix import html_page, markdown, terminal_table, write_reports
from lab.traffic.observations import Observation, UserEvidence
from lab.verdicts.cells import EXPECTED, QUICK_CELLS, CellResult, all_cells


def user(name, nodes, users=None, counters=None, login_node="node-1"):
    users = users or ["demo"] * len(nodes)
    counters = counters or list(range(1, len(nodes) + 1))
    evidence = UserEvidence(name, client="c", address="10.0.0.2", login_node=login_node, logged_in=True)
    evidence.observations = [
        Observation(i, 200, u, n, "abcd1234", c, 0.01) for i, (n, u, c) in enumerate(zip(nodes, users, counters))
    ]
    return evidence


def cell(backend, balance, users):
    return CellResult(backend, balance, "demo", users, seconds=1.0, switch_seconds=0.5)


def test_every_cell_has_an_expectation_with_a_reason():
    assert set(EXPECTED) == set(all_cells())
    assert all(e.reason for e in EXPECTED.values())
    assert set(QUICK_CELLS) <= set(EXPECTED)
    assert len(all_cells()) == len(BACKENDS) * len(BALANCE_MODES)


def test_kept_needs_every_request_logged_in_with_a_counter_rising_by_one():
    assert user("a", ["node-1", "node-2"]).kept("demo")
    assert not user("a", ["node-1", "node-2"], users=["demo", None]).kept("demo")
    assert not user("a", ["node-1", "node-2"], counters=[1, 1]).kept("demo")
    assert not UserEvidence("never-logged-in").kept("demo")


def test_a_kept_verdict_from_one_node_under_round_robin_is_not_evidence():
    result = cell("redis", "round_robin", [user(f"u{i}", ["node-1"] * 5) for i in range(6)])
    assert result.observed_kept
    assert "not evidence" in result.evidence_problem()
    assert not result.passed


def test_least_conn_tolerates_a_few_users_on_the_least_busy_node_but_not_most():
    spread = [user(f"u{i}", ["node-1", "node-2", "node-3"]) for i in range(7)]
    few = cell("redis", "least_conn", spread + [user("s1", ["node-2"] * 3), user("s2", ["node-1"] * 3)])
    assert few.evidence_problem() is None
    most = cell("redis", "least_conn", spread[:2] + [user(f"s{i}", ["node-1"] * 3) for i in range(7)])
    assert "not evidence" in most.evidence_problem()


def test_pinned_modes_may_show_one_node_per_user():
    result = cell("local_file", "ip_hash", [user(f"u{i}", [f"node-{i % 3 + 1}"] * 5) for i in range(6)])
    assert result.evidence_problem() is None and result.passed


def test_lost_details_name_the_request_the_node_and_where_the_session_was_made():
    lost = user("u1", ["node-1", "node-2"], users=["demo", None], login_node="node-1")
    result = cell("local_file", "round_robin", [lost, user("u2", ["node-2", "node-3"])])
    assert not result.observed_kept and result.passed
    assert result.lost_details() == [
        {"user": "u1", "request": 1, "hit": "node-2", "session_made_on": "node-1", "saw": "anonymous", "status": 200}
    ]


def test_unexpected_observation_fails_the_cell():
    result = cell("redis", "round_robin", [user("u1", ["node-1", "node-2"], users=["demo", None])])
    assert not result.passed


def test_failed_logins_are_a_problem_not_a_verdict():
    broken = UserEvidence("u1", login_error="the login page answered 500")
    assert "login failed" in cell("redis", "round_robin", [broken]).evidence_problem()


def test_a_page_that_answers_errors_gives_no_verdict_and_the_matrix_exits_1(monkeypatch, capsys, tmp_path):
    erring = user("u1", ["node-1", "node-2", "node-3"])
    erring.observations[1] = Observation(1, 500, None, "node-2", None, None, 0.01)
    result = cell("locmem", "round_robin", [erring])
    assert result.evidence_problem().startswith("no verdict: the page users browse answered errors (500)")
    assert not result.passed
    data = {"meta": {"users_per_cell": 1, "nat_users": 0, "requests_per_user": 3, "nodes": 3, "workers": 2,
                     "cells_run": 1, "seconds": 1.0}, "cells": [result.to_dict()]}
    assert "no verdict" in terminal_table(data)

    from lab import cli
    from lab.reports import matrix as report
    from lab.studies import matrix

    class Known:  # a lab that exists, so the command goes straight to the cells
        def __init__(self, *args, **kwargs):
            pass

        def config(self):
            from types import SimpleNamespace

            return SimpleNamespace(site=None)

    monkeypatch.setattr(cli, "Lab", Known)
    monkeypatch.setattr(matrix, "run_matrix", lambda *args, **kwargs: data)
    monkeypatch.setattr(report, "write_reports", lambda data, directory: {"html": directory / "r.html"})
    code = cli.main(["--name", "m", "matrix", "--quick"])
    err = capsys.readouterr().err
    assert code == 1 and "1 of 1 cells have no verdict; locmem/round_robin: no verdict: the page" in err


def test_evidence_round_trips_through_json():
    original = user("u1", ["node-1", "node-2"])
    again = UserEvidence.from_dict(json.loads(json.dumps(original.to_dict())))
    assert again == original


def test_reports_render_from_the_cells_dictionaries(tmp_path):
    results = [
        cell("redis", "round_robin", [user("u1", ["node-1", "node-2"])]),
        cell("local_file", "round_robin", [user("u1", ["node-1", "node-2"], users=["demo", None])]),
    ]
    data = {
        "meta": {
            "finished": "now", "machine": "test", "nodes": 3, "workers": 2, "users_per_cell": 1,
            "nat_users": 0, "requests_per_user": 2, "cells_run": 2, "seconds": 1.0,
        },
        "cells": [r.to_dict() for r in results] + [{"backend": "nfs", "balance": "sticky", "pending": True}],
    }
    table = terminal_table(data)
    assert "kept 1/1 2n" in table and "lost 0/1 2n" in table and "pending" in table
    assert "request 1 reached node-2" in markdown(data)
    assert "10.0 / 10.0" in markdown(data)  # every made-up request took 10 ms
    page = html_page(data)
    assert page.count("<svg") == 2 and 'class="lost"' in page and "pending" in page
    paths = write_reports(data, tmp_path)
    assert (tmp_path / "latest.html").resolve() == paths["html"].resolve()
    assert json.loads((tmp_path / "latest.json").read_text())["cells"][0]["backend"] == "redis"


@pytest.mark.parametrize("backend", ["local_file", "sqlite"])
def test_per_node_stores_survive_only_where_users_are_pinned_to_one_worker_free_store(backend):
    kept_modes = {mode for mode in BALANCE_MODES if EXPECTED[(backend, mode)].kept}
    assert kept_modes == {"ip_hash", "sticky"}


def test_the_html_report_escapes_every_value_a_site_sends():
    # A custom site controls its node header, user names and pages: none of it may become markup.
    evil = "<script>alert(1)</script>"
    hostile = user(evil, [evil, "node-2"], users=["demo", evil], login_node=evil)
    data = {
        "meta": {
            "finished": "now", "machine": "test", "nodes": 3, "workers": 2, "users_per_cell": 1,
            "nat_users": 0, "requests_per_user": 2, "cells_run": 1, "seconds": 1.0,
        },
        "cells": [cell("local_file", "round_robin", [hostile]).to_dict()],
    }
    page = html_page(data)
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_the_channel_layer_rows_render_with_their_verdicts():
    from lab.reports.matrix import channel_lines, html_page, terminal_table

    data = {
        "meta": {"finished": "now", "machine": "m", "nodes": 3, "workers": 2, "users_per_cell": 9, "nat_users": 3,
                 "requests_per_user": 20, "cells_run": 0, "seconds": 0},
        "cells": [],
        "channels": [
            {"layer": "memory", "expected": "own process only", "passed": True, "why": "each of 9 users got only ...",
             "users": 9, "processes": 5, "delivered": 19, "possible": 81},
            {"layer": "redis", "expected": "every message", "passed": None, "why": "no verdict: channels-redis missing"},
        ],
    }
    lines = "\n".join(channel_lines(data))
    assert "| `memory` | 19/81 delivered on 5 processes |" in lines and "| `redis` | no verdict |" in lines
    assert "channel layer memory  19/81 delivered on 5 processes" in terminal_table(data)
    assert "Channel layers: WebSocket users across nodes" in html_page(data)
