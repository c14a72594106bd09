"""The matrix's expected cells, derived again here from the reasoning of docs/matrix.md, and the decisions a cell
makes from its users' evidence: kept or lost, and when the evidence cannot carry a verdict."""

import re

import pytest

from lab import BACKENDS, BALANCE_MODES
from lab.traffic.observations import Observation, UserEvidence
from lab.verdicts.cells import EXPECTED, CellResult, all_cells, expected

from .documentation import page

# Where each backend keeps a session (the backend table of docs/matrix.md).
PER_NODE = {"local_file", "sqlite"}  # a file on each node's own volume, a SQLite file per node
SHARED = {"shared_file", "nfs", "db", "redis", "memcached", "cached_db"}  # one store every node reads
PER_PROCESS = {"locmem"}  # LocMemCache: one gunicorn worker's memory, several workers per node
IN_THE_BROWSER = {"signed_cookies"}  # a signed cookie every node can verify with the shared SECRET_KEY
# Modes that keep a user on one node from the login page on: ip_hash by address, sticky by nginx's cookie.
# cookie_hash "looks sticky but is not": login rotates the session key it hashes, so the node changes.
PINNING = {"ip_hash", "sticky"}


def documented_kept(backend: str, mode: str) -> bool:
    if backend in SHARED or backend in IN_THE_BROWSER:
        return True  # every node can read the session, so the mode stops mattering
    if backend in PER_PROCESS:
        return False  # pinning a node does not pin a worker
    return mode in PINNING  # per-node state survives only where the balancer pins the user


def test_every_backend_is_classified_by_where_its_sessions_live():
    groups = [PER_NODE, SHARED, PER_PROCESS, IN_THE_BROWSER]
    assert set().union(*groups) == set(BACKENDS) and sum(map(len, groups)) == len(BACKENDS)
    assert PINNING < set(BALANCE_MODES) and {"round_robin", "least_conn", "cookie_hash"} <= set(BALANCE_MODES)


@pytest.mark.parametrize("backend,mode", all_cells(), ids=lambda value: value)
def test_each_cells_expectation_follows_where_the_session_lives_and_whether_the_mode_pins(backend, mode):
    assert EXPECTED[(backend, mode)].kept is documented_kept(backend, mode)
    assert expected(backend, mode).kept is documented_kept(backend, mode)  # one host: the table as it is
    assert expected(backend, mode).reason


def _readme_backend_table() -> dict[str, str]:
    rows = re.findall(r"^\| `(\w+)` +\|[^|\n]+\| (kept|lost) +\|$", page("matrix.md"), re.MULTILINE)
    return dict(rows)


def test_the_readme_backend_table_under_round_robin_is_what_the_matrix_expects():
    table = _readme_backend_table()
    assert set(table) == set(BACKENDS)
    for backend, word in table.items():
        assert EXPECTED[(backend, "round_robin")].kept is (word == "kept"), backend


def test_the_readme_run_of_the_full_matrix_is_every_cell_as_expected():
    text = page("matrix.md")
    block = text[text.index("From a real run"):].split("```")[1].strip().splitlines()
    modes = block[0].split()
    assert set(modes) == set(BALANCE_MODES)
    seen = set()
    for line in block[1:]:
        backend, *cells = line.split()
        words = cells[::3]  # "kept 9/9 3n": the verdict, users kept, nodes
        for mode, word in zip(modes, words, strict=True):
            assert EXPECTED[(backend, mode)].kept is (word == "kept"), (backend, mode)
            seen.add((backend, mode))
    assert seen == set(all_cells())


# -- several hosts ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", list(BALANCE_MODES))
def test_on_several_hosts_the_shared_file_volume_is_a_per_node_store(mode):
    on_hosts = expected("shared_file", mode, several_hosts=True)
    assert on_hosts.kept is (mode in PINNING)
    assert on_hosts.kept is expected("local_file", mode).kept
    assert on_hosts.reason.endswith(expected("local_file", mode).reason)  # the per-node reason, said why
    assert on_hosts.reason != expected("local_file", mode).reason


@pytest.mark.parametrize("backend", sorted(set(BACKENDS) - {"shared_file"}))
def test_on_several_hosts_every_other_backend_keeps_its_expectation(backend):
    for mode in BALANCE_MODES:
        assert expected(backend, mode, several_hosts=True) == EXPECTED[(backend, mode)]


def test_a_cell_takes_the_engines_several_hosts():
    users = [user("u1", ["node-1", "node-2"])]
    assert CellResult("shared_file", "round_robin", "demo", users, 1.0, 0.5).expected.kept is True
    on_hosts = CellResult("shared_file", "round_robin", "demo", users, 1.0, 0.5, several_hosts=True)
    assert on_hosts.expected.kept is False and not on_hosts.passed  # kept where a per-node store should lose


# -- evidence -------------------------------------------------------------------------------------------


def user(name, nodes, users=None, counters=None, statuses=None, seconds=0.01):
    users = users or ["demo"] * len(nodes)
    counters = counters or list(range(1, len(nodes) + 1))
    statuses = statuses or [200] * len(nodes)
    evidence = UserEvidence(name, client="c", address="10.0.0.2", login_node="node-1", logged_in=True)
    evidence.observations = [
        Observation(i, s, u, n, "abcd1234", c, seconds) for i, (n, u, c, s) in enumerate(zip(nodes, users, counters, statuses))
    ]
    return evidence


def spread(name):
    return user(name, ["node-1", "node-2", "node-3"])


def on_one(name, node="node-1"):
    return user(name, [node] * 3)


def cell(backend, balance, users, **kwargs):
    return CellResult(backend, balance, "demo", users, seconds=kwargs.pop("seconds", 1.0), switch_seconds=0.5, **kwargs)


def test_round_robin_with_one_user_on_one_node_is_not_evidence():
    result = cell("redis", "round_robin", [spread(f"u{i}") for i in range(8)] + [on_one("alone")])
    problem = result.evidence_problem()
    assert problem.startswith("not evidence") and "alone" in problem
    assert "node-1, node-2, node-3" in problem  # the nodes the cell did see
    assert result.observed_kept and not result.passed


def test_round_robin_with_every_user_on_several_nodes_is_evidence():
    result = cell("redis", "round_robin", [spread(f"u{i}") for i in range(9)])
    assert result.evidence_problem() is None and result.passed


@pytest.mark.parametrize("users", [3, 9, 10, 11])
def test_least_conn_allows_a_third_of_the_users_on_one_node(users):
    third = users // 3
    at_most = [on_one(f"s{i}", f"node-{i % 3 + 1}") for i in range(third)]
    result = cell("redis", "least_conn", at_most + [spread(f"u{i}") for i in range(users - third)])
    assert result.evidence_problem() is None and result.passed


@pytest.mark.parametrize("users", [3, 9, 10, 11])
def test_least_conn_with_one_more_than_a_third_on_one_node_is_not_evidence(users):
    over = [on_one(f"s{i}") for i in range(users // 3 + 1)]
    result = cell("redis", "least_conn", over + [spread(f"u{i}") for i in range(users - len(over))])
    problem = result.evidence_problem()
    assert problem.startswith("not evidence") and not result.passed
    assert ", ".join(user.name for user in over) in problem  # every user who stayed on one node, named


def test_a_lost_verdict_needs_no_spread():
    # Only "kept" must be shown on several nodes: losing the login on one node is a loss all the same.
    lost = [user(f"u{i}", ["node-1", "node-1"], users=["demo", None]) for i in range(3)]
    result = cell("local_file", "round_robin", lost)
    assert not result.observed_kept and result.evidence_problem() is None and result.passed


@pytest.mark.parametrize("mode", ["ip_hash", "cookie_hash", "sticky"])
def test_pinning_modes_may_keep_every_user_on_one_node(mode):
    result = cell("redis", mode, [on_one(f"u{i}", "node-2") for i in range(9)])
    assert result.evidence_problem() is None and result.passed


def test_no_user_at_all_is_no_verdict():
    result = cell("redis", "round_robin", [])
    assert result.evidence_problem() and not result.observed_kept and not result.passed


def test_failed_logins_name_every_user_and_the_first_error():
    broken = [UserEvidence("u1", login_error="the login page answered 500"),
              UserEvidence("u2", login_error="no CSRF cookie")]
    problem = cell("redis", "round_robin", [spread("ok"), *broken]).evidence_problem()
    assert problem.startswith("no verdict") and "u1, u2" in problem and "the login page answered 500" in problem


def test_any_status_from_400_up_is_an_error_page_and_399_is_not():
    at_400 = user("u1", ["node-1", "node-2", "node-3"], statuses=[200, 400, 200])
    assert cell("redis", "round_robin", [at_400]).evidence_problem().startswith("no verdict")
    below = user("u1", ["node-1", "node-2", "node-3"], statuses=[200, 399, 200])
    assert cell("local_file", "round_robin", [below]).evidence_problem() is None  # a lost login, not an error


def test_requests_that_got_no_answer_are_errors_named_by_what_happened():
    erring = user("u1", ["node-1", "node-2", "node-3", "node-1"])
    erring.observations[1] = Observation(1, 0, None, None, None, None, 5.0, error="timed out")
    erring.observations[2] = Observation(2, 0, None, None, None, None, 0.01)
    erring.observations[3] = Observation(3, 502, None, "node-1", None, None, 0.01)
    problem = cell("redis", "round_robin", [erring]).evidence_problem()
    assert problem.startswith("no verdict") and "(502, no answer, timed out)" in problem
    assert "3 of 4 requests" in problem


def test_passed_is_the_expected_verdict_with_evidence():
    kept = [spread(f"u{i}") for i in range(3)]
    assert cell("redis", "round_robin", kept).passed
    assert not cell("local_file", "round_robin", kept).passed  # kept where a per-node store should lose
    one_lost = kept[:2] + [user("l", ["node-1", "node-2"], users=["demo", None])]
    assert not cell("redis", "round_robin", one_lost).observed_kept  # one lost user: the cell is lost
    assert cell("local_file", "round_robin", one_lost).passed


def test_counts_of_requests_and_logged_in_requests():
    result = cell("local_file", "round_robin", [spread("a"), user("b", ["node-1", "node-2"], users=["demo", None])])
    assert result.requests == 5 and result.requests_logged_in == 4
    assert result.nodes_seen == ["node-1", "node-2", "node-3"]


# -- what a cell reports ------------------------------------------------------------------------------


def timed(name, milliseconds, status=200):
    evidence = UserEvidence(name, logged_in=True)
    evidence.observations = [Observation(i, status, "demo", "node-1", "s", i + 1, ms / 1000) for i, ms in enumerate(milliseconds)]
    return evidence


def test_latency_is_the_median_and_95th_percentile_of_answered_requests_in_ms():
    twenty = cell("redis", "round_robin", [timed("a", range(1, 11)), timed("b", range(11, 21)), timed("c", [900], 502)])
    assert twenty.latency_ms() == {"median": 11.0, "p95": 19.0}  # 20 answers: the 19th is the 95th percentile
    ten = cell("redis", "round_robin", [timed("a", range(10, 0, -1))])
    assert ten.latency_ms() == {"median": 6.0, "p95": 10.0}  # 95% of 10 is 9.5: the 10th answer


def test_the_95th_percentile_of_a_few_answers_is_never_below_the_median():
    for count in range(1, 25):
        latency = cell("redis", "round_robin", [timed("a", range(1, count + 1))]).latency_ms()
        assert latency["median"] <= latency["p95"] <= count, count
    assert cell("redis", "round_robin", [timed("a", [10, 20])]).latency_ms()["p95"] == 20.0


def test_latency_keeps_fractions_of_a_millisecond():
    latency = cell("redis", "round_robin", [timed("a", [10.1234, 10.1234, 10.1234])]).latency_ms()
    assert latency["median"] == pytest.approx(10.12, abs=0.01) and latency["p95"] == pytest.approx(10.12, abs=0.01)
    assert latency["median"] != 10 and latency["p95"] != 10


def test_latency_with_no_answer_is_zero():
    assert cell("redis", "round_robin", [timed("a", [5, 7], 502)]).latency_ms() == {"median": 0.0, "p95": 0.0}


def test_the_cells_dictionary_says_the_verdicts_in_words_and_keeps_fractions_of_seconds():
    lost = cell("local_file", "round_robin", [user("a", ["node-1", "node-2"], users=["demo", None])], seconds=12.3456)
    data = lost.to_dict()
    assert data["username"] == "demo"  # the report's chart marks the answers that did not show this user
    assert (data["expected"], data["observed"], data["passed"]) == ("lost", "lost", True)
    assert data["reason"] == EXPECTED[("local_file", "round_robin")].reason
    assert data["seconds"] == pytest.approx(12.35, abs=0.01) and data["seconds"] != 12
    assert data["switch_seconds"] == pytest.approx(0.5)
    kept = cell("redis", "round_robin", [spread("a")]).to_dict()
    assert (kept["expected"], kept["observed"], kept["users_kept"], kept["users"]) == ("kept", "kept", 1, 1)


def test_the_cells_dictionary_keeps_the_switch_time():
    data = CellResult("redis", "round_robin", "demo", [spread("a")], seconds=1.0, switch_seconds=3.4567).to_dict()
    assert data["switch_seconds"] == pytest.approx(3.46, abs=0.01) and data["switch_seconds"] != 3


def test_the_summary_says_the_verdict_the_users_kept_and_the_nodes():
    assert cell("redis", "round_robin", [spread("a"), spread("b")]).summary().startswith("kept (2 of 2 users stayed logged in), ")
    lost = cell("local_file", "round_robin", [spread("a"), user("b", ["node-1", "node-2"], users=["demo", None])])
    assert lost.summary().startswith("lost (1 of 2 users stayed logged in), ") and lost.summary().endswith("node-1,node-2,node-3")
    nowhere = cell("redis", "round_robin", [UserEvidence("u1", logged_in=True)])
    assert nowhere.summary().startswith("lost (0 of 1 users stayed logged in), ") and nowhere.summary().endswith(" -")
