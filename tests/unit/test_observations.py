"""What one virtual user saw, read by the rule docs/matrix.md states: a user kept the login when every request
showed them logged in and the session counter rose by exactly one each time."""

import json

from lab.traffic.observations import Observation, UserEvidence

IN = "demo"


def seen(counters, users=None, statuses=None, nodes=None, logged_in=True):
    users = users or [IN] * len(counters)
    statuses = statuses or [200] * len(counters)
    nodes = nodes or ["node-1"] * len(counters)
    evidence = UserEvidence("u1", logged_in=logged_in, login_node="node-1")
    evidence.observations = [
        Observation(i, status, who, node, "abcd", counter, 0.01)
        for i, (counter, who, status, node) in enumerate(zip(counters, users, statuses, nodes))
    ]
    return evidence


def test_a_counter_rising_by_one_from_any_start_is_kept():
    assert seen([1, 2, 3, 4]).kept(IN)
    assert seen([7, 8, 9]).kept(IN)  # the counter need not start at 1: only each step counts
    assert seen([5]).kept(IN)  # one answer that shows the user: nothing to compare, nothing broken


def test_a_counter_that_jumps_is_not_kept():
    # Two requests met one session each, or a request's write was lost: the counter skips a value.
    jumped = seen([1, 2, 4, 5])
    assert not jumped.kept(IN)
    assert jumped.first_failure(IN).index == 2


def test_a_counter_that_repeats_or_goes_back_is_not_kept():
    assert seen([1, 2, 2]).first_failure(IN).index == 2  # a write went missing
    assert seen([3, 4, 1]).first_failure(IN).index == 2  # a fresh session on another node


def test_a_counter_that_vanishes_is_not_kept():
    assert seen([1, 2, None]).first_failure(IN).index == 2


def test_an_error_or_another_user_is_the_first_failure():
    assert seen([1, 2, 3], statuses=[200, 502, 200]).first_failure(IN).index == 1
    assert seen([1, 2, 3], users=[IN, IN, None]).first_failure(IN).index == 2
    assert seen([1, 2, 3], users=[IN, "someone-else", IN]).first_failure(IN).index == 1
    assert seen([1, 2, 3]).first_failure("someone-else").index == 0


def test_kept_needs_a_login_and_at_least_one_answer():
    assert not seen([1, 2, 3], logged_in=False).kept(IN)
    assert not seen([]).kept(IN)
    assert seen([]).first_failure(IN) is None  # nothing failed, yet nothing shows the session either


def test_nodes_seen_are_distinct_in_order_of_first_appearance_without_unanswered_requests():
    evidence = seen([1, 2, 3, 4, 5], nodes=["node-2", None, "node-1", "node-2", "node-3"])
    assert evidence.nodes_seen == ["node-2", "node-1", "node-3"]


def test_the_dictionary_carries_the_nodes_seen_and_reads_back_without_them():
    evidence = seen([1, 2], nodes=["node-2", "node-1"])
    data = json.loads(json.dumps(evidence.to_dict()))
    assert data["nodes_seen"] == ["node-2", "node-1"]
    assert UserEvidence.from_dict(data) == evidence


def test_a_user_reported_without_observations_reads_back_with_none():
    # A client whose login failed may report its name and error only.
    evidence = UserEvidence.from_dict({"name": "u9", "login_error": "the login page answered 500"})
    assert evidence.observations == [] and evidence.login_error == "the login page answered 500"
    assert not evidence.kept(IN)
