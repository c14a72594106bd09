"""The experiments' rules at their edges: what each accepts and refuses, which users a failure names, and
when there is nothing to decide on ("not evidence"). A failed rule says passed is False, never a falsy
stand-in: the matrix's channel rows read None as "no verdict"."""

from lab.traffic.observations import Observation, UserEvidence
from lab.verdicts.rules import (
    Judgement,
    all_on_one_node,
    anonymous_between,
    each_got_every_message,
    each_pinned_and_spread,
    each_saw_every_node,
    each_user_slower_by,
    every_request_answered_in,
    everyone_logged_out,
    failed_only_between,
    failed_only_past_the_budget,
    failures,
    got_only_their_process,
    handed_new_session,
    logged_out,
    logged_out_exactly_when,
    logged_out_only_if,
    moved,
    moved_by_address,
    moved_only_to,
    moved_to_version,
    no_failures,
    no_one_logged_out,
    no_one_moved,
    no_request_failed,
    node_after,
    node_before,
    served_elsewhere,
    waited_through,
)

IN, OUT = "demo", None
NAMES = ["alice", "bob", "carol", "dave", "erin", "frank", "grace"]


def o(at, node="node-1", who=IN, session="s1", status=200, seconds=0.01, version=None):
    return {"at": at, "node": node, "user": who, "session": session, "status": status, "seconds": seconds,
            "version": version}


def trace(name, *rows, address="10.0.0.1", login_error=None):
    evidence = UserEvidence(name, address=address, logged_in=login_error is None, login_error=login_error)
    evidence.observations = [
        Observation(i, r["status"], r["user"], r["node"], r["session"], i + 1, r["seconds"], at=r["at"], version=r["version"])
        for i, r in enumerate(rows)
    ]
    return evidence


def stays(name, node="node-1", address="10.0.0.1"):
    return trace(name, o(100, node), o(101, node), o(102, node), address=address)


def loses(name, node="node-1"):
    return trace(name, o(100, node), o(101, "node-2", OUT, "s2"), o(102, "node-2", OUT, "s2"))


def never(name):
    """Answered, but never as the user: the login never took."""
    return trace(name, o(100, who=OUT, session="s0"), o(101, who=OUT, session="s0"))


def holds(judgement):
    assert judgement.passed is True and isinstance(judgement.why, str) and judgement.why
    return judgement.why


def fails(judgement, *names):
    assert judgement.passed is False
    for name in names:
        assert name in judgement.why, (name, judgement.why)
    return judgement.why


def not_evidence(judgement, *names):
    assert fails(judgement, *names).startswith("not evidence")
    return judgement.why


# -- combining, naming ------------------------------------------------------------------------------


def test_two_holding_judgements_explain_both():
    both = Judgement(True, "first held") & Judgement(True, "second held")
    assert both.passed is True and both.why == "first held; second held"
    assert (Judgement(True, "held") & Judgement(False, "broke")) == Judgement(False, "broke")
    assert (Judgement(False, "broke") & Judgement(False, "also")) == Judgement(False, "broke")


def test_a_failure_names_six_users_sorted_and_counts_the_rest():
    why = fails(no_one_logged_out([loses(n) for n in reversed(NAMES)], IN))
    assert "alice, bob, carol, dave, erin, frank and 1 more" in why and "grace" not in why
    why = fails(no_one_logged_out([loses(n) for n in reversed(NAMES[:6])], IN))
    assert "alice, bob, carol, dave, erin, frank" in why and "more" not in why


# -- one user's trace ---------------------------------------------------------------------------------


def test_without_a_moment_every_answer_counts_even_one_recorded_without_a_time():
    unstamped = trace("alice", o(0.0), o(0.0, "node-2", OUT, "s2", status=200), o(0.0, None, OUT, None, status=502))
    assert logged_out(unstamped, IN)
    assert [f.index for f in failures([unstamped])] == [2]
    assert not no_failures([unstamped]).passed
    slow = trace("bob", o(0.0, seconds=30.0))
    fails(every_request_answered_in([slow], 10), "bob")


def test_a_request_sent_at_the_moment_counts_as_after_it():
    user = trace("alice", o(100), o(101, "node-2", OUT, "s2"), o(101, None, OUT, None, status=502))
    assert logged_out(user, IN, after=101) and not logged_out(user, IN, after=101.5)
    assert [f.index for f in failures([user], after=101)] == [2]
    assert node_before(user, 101) == "node-1"  # the request at 101 is not before 101
    assert served_elsewhere(user, 101) and handed_new_session(user, 101)


def test_a_node_before_or_after_needs_a_request_there():
    user = trace("alice", o(100, "node-1"), o(101, "node-2"), o(102, "node-3"), o(103, "node-3"), o(104, None, status=502))
    assert node_before(user, 100) is None and node_after(user, 104) is None
    assert node_after(user, 100.5) == "node-3"  # the node that served most requests after the moment
    assert not moved(user, 100, 104)  # no node after 104: nothing shows a move


def test_anonymous_between_includes_both_ends_of_the_window():
    at_start = trace("alice", o(100), o(101, who=OUT, session="s2"))
    at_end = trace("bob", o(100), o(103, who=OUT, session="s2"))
    assert anonymous_between(at_start, IN, 101, 103) and anonymous_between(at_end, IN, 101, 103)
    assert not anonymous_between(at_end, IN, 101, 102.9)


# -- logged in, logged out -----------------------------------------------------------------------------


def test_no_one_logged_out_names_who_did_and_who_never_logged_in():
    assert holds(no_one_logged_out([stays("alice"), stays("bob")], IN))
    fails(no_one_logged_out([stays("alice"), loses("bob")], IN), "bob")
    not_evidence(no_one_logged_out([stays("alice"), never("carol")], IN), "carol")


def test_everyone_logged_out_refuses_a_user_who_never_was_logged_in():
    assert holds(everyone_logged_out([loses("alice"), loses("bob")], IN))
    fails(everyone_logged_out([loses("alice"), never("bob")], IN), "bob")
    fails(everyone_logged_out([loses("alice"), stays("bob")], IN), "bob")
    not_evidence(everyone_logged_out([], IN))


def on(name):
    return lambda user: user.name == name


def test_logged_out_exactly_when_refuses_each_way_on_its_own():
    assert holds(logged_out_exactly_when([loses("alice"), stays("bob")], IN, on("alice"), "were hit"))
    fails(logged_out_exactly_when([loses("alice"), loses("bob")], IN, on("alice"), "were hit"), "bob")
    fails(logged_out_exactly_when([stays("alice"), stays("bob")], IN, lambda u: True, "were hit"), "alice", "bob")
    both = fails(logged_out_exactly_when([stays("alice"), loses("bob")], IN, on("alice"), "were hit"))
    assert len(both.split("; ")) == 2 and "alice" in both.split("; ")[1] and "bob" in both.split("; ")[0]
    assert "; alice" in both  # two sentences, the second naming its users first
    not_evidence(logged_out_exactly_when([loses("alice")], IN, lambda u: False, "were hit"))


def test_logged_out_exactly_when_reads_ending_logged_out_as_having_been_logged_in():
    # A user whose login never took did not end logged out: not caused, that is as it should be...
    assert holds(logged_out_exactly_when([loses("alice"), never("bob")], IN, on("alice"), "were hit"))
    # ...and caused, the cause did not log them out.
    fails(logged_out_exactly_when([loses("alice"), never("bob")], IN, lambda u: True, "were hit"), "bob")


def test_logged_out_only_if_explains_who_lost_it_and_counts_who_kept_it():
    hit = lambda u: u.name == "alice"  # noqa: E731
    why = holds(logged_out_only_if([loses("alice"), stays("bob")], IN, hit, "hit the restart"))
    assert "1 of 2" in why and "alice hit the restart" in why
    assert holds(logged_out_only_if([stays("alice"), stays("bob")], IN, hit, "hit the restart")) == \
        "2 of 2 users stayed logged in"
    assert holds(logged_out_only_if([stays("alice"), never("bob")], IN, lambda u: False, "hit the restart"))
    fails(logged_out_only_if([loses("alice"), loses("bob"), stays("carol")], IN, hit, "hit the restart"), "bob")
    not_evidence(logged_out_only_if([loses("alice")], IN, hit, "hit the restart"))


# -- where users went ------------------------------------------------------------------------------------


def mover(name, before, after, address="10.0.0.1"):
    return trace(name, o(100, before), o(101, before), o(103, after), o(104, after), address=address)


def test_no_one_moved_names_the_movers():
    assert holds(no_one_moved([mover("alice", "node-1", "node-1")], 102, 102.5))
    fails(no_one_moved([mover("alice", "node-1", "node-1"), mover("bob", "node-1", "node-4")], 102, 102.5), "bob")


def test_moved_only_to_names_who_went_astray_and_needs_a_mover():
    assert holds(moved_only_to([mover("alice", "node-1", "node-4"), mover("bob", "node-2", "node-2")], "node-4", 102, 102.5))
    fails(moved_only_to([mover("alice", "node-1", "node-4"), mover("bob", "node-2", "node-3")], "node-4", 102, 102.5), "bob")
    not_evidence(moved_only_to([mover("alice", "node-1", "node-1")], "node-4", 102, 102.5))


def test_moved_by_address_names_every_split_address_and_needs_a_mover():
    together = [mover("alice", "node-1", "node-3", "10.0.9.1"), mover("bob", "node-1", "node-3", "10.0.9.1")]
    assert holds(moved_by_address(together, 102, 102.5))
    split = [mover("alice", "node-1", "node-3", "10.0.9.1"), mover("bob", "node-1", "node-2", "10.0.9.1"),
             mover("carol", "node-1", "node-3", "10.0.9.2"), mover("dave", "node-1", "node-2", "10.0.9.2")]
    fails(moved_by_address(split, 102, 102.5), "10.0.9.1, 10.0.9.2")
    not_evidence(moved_by_address([mover("alice", "node-1", "node-1")], 102, 102.5))


def test_all_on_one_node_says_which_nodes_and_who_wandered():
    assert "node-2" in holds(all_on_one_node([stays("alice", "node-2"), stays("bob", "node-2")]))
    why = fails(all_on_one_node([stays("alice", "node-1"), stays("bob", "node-2")]), "node-1, node-2")
    assert "(each on one)" in why  # no user wandered: they were pinned, to different nodes
    wanderer = trace("carol", o(100, "node-1"), o(101, "node-2"))
    fails(all_on_one_node([stays("alice"), wanderer]), "carol")
    not_evidence(all_on_one_node([]))


def test_each_saw_every_node_names_who_saw_fewer():
    rotating = trace("alice", o(100, "node-1"), o(101, "node-2"), o(102, "node-3"))
    assert holds(each_saw_every_node([rotating], 3))
    fails(each_saw_every_node([rotating, stays("bob")], 3), "bob")
    not_evidence(each_saw_every_node([], 3))


def test_each_pinned_and_spread_names_wanderers_and_counts_the_nodes_used():
    spread = [stays("alice", "node-1"), stays("bob", "node-2"), stays("carol", "node-3")]
    assert holds(each_pinned_and_spread(spread, 3))
    fails(each_pinned_and_spread([*spread, trace("dave", o(100, "node-1"), o(101, "node-2"))], 3), "dave")
    fails(each_pinned_and_spread(spread[:2], 3), "2 of 3")
    not_evidence(each_pinned_and_spread([], 3))


# -- time, errors, budgets --------------------------------------------------------------------------------


def test_every_request_answered_in_counts_a_request_of_exactly_the_limit_from_the_moment_on():
    at_limit = trace("alice", o(100, seconds=10.0))
    fails(every_request_answered_in([at_limit], 10, after=100), "alice")
    assert holds(every_request_answered_in([at_limit], 10, after=100.5))
    assert holds(every_request_answered_in([trace("bob", o(100, seconds=9.9))], 10, after=99))


def refused(name):
    return trace(name, o(100), o(101, "node-3", None, None, status=500))


def logged_out_before_login(name):
    return trace(name, login_error="posting /accounts/login/ answered 500")


def test_no_request_failed_names_who_failed_and_counts_the_users():
    assert "3 users" in holds(no_request_failed([(True, [stays("alice")]), (False, [stays("bob"), stays("carol")])]))
    fails(no_request_failed([(True, [stays("alice")]), (False, [stays("bob"), refused("carol")])]), "carol")
    not_evidence(no_request_failed([(True, [stays("alice")])]))


def test_failed_only_past_the_budget_at_each_step():
    assert holds(failed_only_past_the_budget([(True, [stays("alice")]), (False, [refused("bob")])]))
    fails(failed_only_past_the_budget([(True, [refused("alice")]), (False, [refused("bob")])]), "alice")
    fails(failed_only_past_the_budget([(True, [stays("alice")]), (False, [stays("bob")])]))
    not_evidence(failed_only_past_the_budget([(True, [stays("alice")])]))


def test_waited_through_needs_a_request_sent_during_the_cut_answered_as_it_healed():
    sent_at_the_cut = trace("alice", o(100, seconds=5.0))
    assert "alice" in holds(waited_through([sent_at_the_cut], 100, 105))
    sent_as_it_healed = trace("bob", o(105, seconds=1.0))
    not_evidence(waited_through([sent_as_it_healed], 100, 105))
    answered_a_second_early = trace("carol", o(101, seconds=3.0))
    not_evidence(waited_through([answered_a_second_early], 100, 105))


def answers(name, at, seconds, count=5, status=200):
    return trace(name, *[o(at + i, seconds=seconds, status=status) for i in range(count)])


def test_each_user_slower_by_needs_three_answers_on_each_side():
    three = each_user_slower_by([answers("alice", 1, 0.004, 3)], [answers("alice", 9, 0.2, 3)], 0.1)
    assert "each of 1 users" in holds(three)
    not_evidence(each_user_slower_by([answers("alice", 1, 0.004, 2)], [answers("alice", 9, 0.2, 3)], 0.1))
    not_evidence(each_user_slower_by([answers("alice", 1, 0.004, 3)], [answers("alice", 9, 0.2, 2)], 0.1))


def test_each_user_slower_by_measures_every_user_who_has_enough_answers():
    before = [answers("alice", 1, 0.004, 2), answers("bob", 1, 0.004), answers("carol", 1, 0.004)]
    after = [answers("alice", 9, 0.2, 2), answers("bob", 9, 0.2), answers("carol", 9, 0.2)]
    assert " 2 users" in holds(each_user_slower_by(before, after, 0.1))  # alice had too few: not measured


def test_each_user_slower_by_compares_the_difference_of_the_medians():
    already_slow = each_user_slower_by([answers("alice", 1, 0.1)], [answers("alice", 9, 0.15)], 0.1)
    fails(already_slow, "alice")  # 50 ms slower, not 100
    fails(each_user_slower_by([answers("alice", 1, 0.1)], [answers("alice", 9, 0.5)], 1.0), "1000 ms")
    assert "100 ms" in holds(each_user_slower_by([answers("alice", 1, 0.004)], [answers("alice", 9, 0.2)], 0.1))
    assert "1000 ms" in holds(each_user_slower_by([answers("alice", 1, 0.004)], [answers("alice", 9, 1.2)], 1.0))
    fails(each_user_slower_by([answers("alice", 1, 0.004)], [answers("alice", 9, 0.2, 4), refused("alice")], 0.1))
    erring = each_user_slower_by([answers("bob", 1, 0.004)], [answers("bob", 9, 0.2), answers("carol", 9, 0.2, 1, 500)], 0.1)
    fails(erring, "carol")


def test_failed_only_between_includes_both_ends_of_the_fault():
    at_the_ends = [trace("alice", o(100, status=500)), trace("bob", o(105, status=502))]
    why = holds(failed_only_between(at_the_ends, 100, 105))
    assert "alice" in why and "bob" in why
    fails(failed_only_between([trace("alice", o(101, status=500)), trace("bob", o(105.5, status=502))], 100, 105), "bob")
    not_evidence(failed_only_between([trace("alice", o(101))], 100, 105))


def test_no_failures_counts_the_failed_requests_from_the_moment_on():
    user = trace("alice", o(99, status=500), o(100, status=502), o(101), o(102, status=0))
    why = fails(no_failures([user, stays("bob")], after=100), "alice")
    assert "(2 failed requests)" in why and "bob" not in why
    fails(no_failures([stays("alice"), logged_out_before_login("bob")]), "bob")
    assert "6 requests" in holds(no_failures([stays("alice"), stays("bob")]))


def test_moved_to_version_from_the_end_of_the_deploy_on():
    rolled = [trace("alice", o(1, version="v1"), o(5, version="v2")), trace("bob", o(2, version="v1"), o(9, version="v2"))]
    assert "2 of 2" in holds(moved_to_version(rolled, "v1", "v2", after=5))
    only_new = [trace("alice", o(6, version="v2")), trace("bob", o(2, version="v1"), o(9, version="v2"))]
    assert "1 of 2" in holds(moved_to_version(only_new, "v1", "v2", after=5))
    stale = [trace("alice", o(1, version="v2"), o(5, version="v1"))]
    fails(moved_to_version(stale, "v1", "v2", after=5), "alice")  # sent as the deploy ended: the new version is due
    fails(moved_to_version([trace("alice", o(1, version="v0"), o(9, version="v2"))], "v1", "v2", after=5), "alice")
    unmoved = [trace("alice", o(1, version="v1"), o(2, version="v1")), trace("bob", o(9, version="v2"))]
    not_evidence(moved_to_version(unmoved, "v1", "v2", after=5), "alice")


# -- chat users -------------------------------------------------------------------------------------------


def chatter(name, node, got, error=None):
    return {"name": name, "node": node, "received": [{"text": text, "from": "x", "to": node} for text in got], "error": error}


def test_chat_users_who_never_connected_are_left_out():
    shared = [chatter("alice", "node-1/7", ["alice", "bob"]), chatter("bob", "node-2/9", ["alice", "bob"])]
    no_node = chatter("carol", None, [])
    refused_at_connect = chatter("dave", "node-1/7", [], error="connect: [Errno 111] Connection refused")
    assert "2 processes" in holds(each_got_every_message([*shared, no_node, refused_at_connect]))


def test_a_chat_user_whose_connection_dropped_is_judged():
    # It connected and sent; losing the connection later is not a failure to connect.
    shared = [chatter("alice", "node-1/7", ["alice", "bob"]), chatter("bob", "node-2/9", ["alice", "bob"])]
    dropped = chatter("carol", "node-1/7", ["alice"], error="connection lost: [Errno 104] Connection reset by peer")
    fails(each_got_every_message([*shared, dropped]), "carol")


def test_chat_rules_name_every_user_who_got_the_wrong_messages():
    everyone = ["alice", "bob", "carol"]
    shared = [chatter("alice", "node-1/7", everyone), chatter("bob", "node-2/9", everyone), chatter("carol", "node-1/7", everyone)]
    assert holds(each_got_every_message(shared))
    fails(got_only_their_process(shared), "alice, bob, carol")
    memory = [chatter("alice", "node-1/7", ["alice", "carol"]), chatter("bob", "node-2/9", ["bob"]),
              chatter("carol", "node-1/7", ["alice", "carol"])]
    assert holds(got_only_their_process(memory))
    fails(each_got_every_message(memory), "alice, bob, carol")
    alone = [chatter("alice", "node-1/7", ["alice", "bob"]), chatter("bob", "node-1/7", ["alice", "bob"])]
    not_evidence(each_got_every_message(alone))
    not_evidence(got_only_their_process(alone))
