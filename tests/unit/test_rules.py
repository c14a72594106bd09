"""Every experiment rule on made-up evidence: one trace it accepts and one it rejects."""

from lab.traffic.observations import Observation, UserEvidence
from lab.verdicts.rules import (
    each_got_every_message,
    each_user_slower_by,
    got_only_their_process,
    failed_only_between,
    moved_to_version,
    no_failures,
    failed_only_past_the_budget,
    waited_through,
    no_request_failed,
    all_on_one_node,
    each_pinned_and_spread,
    each_saw_every_node,
    every_request_answered_in,
    everyone_logged_out,
    handed_new_session,
    logged_out_exactly_when,
    moved_by_address,
    moved_only_to,
    no_one_logged_out,
    no_one_moved,
    node_before,
    served_elsewhere,
)

IN, OUT = "demo", None


def user(name, rows, address="10.0.0.1"):
    """rows: (at, node, who, session[, status, seconds])."""
    evidence = UserEvidence(name, address=address, logged_in=True)
    for i, row in enumerate(rows):
        at, node, who, session, *rest = row
        status, seconds = (rest + [200, 0.01])[:2] if rest else (200, 0.01)
        evidence.observations.append(Observation(i, status, who, node, session, i, seconds, at=at))
    return evidence


def stays(name, node="node-1", address="10.0.0.1"):
    return user(name, [(100, node, IN, "s1"), (101, node, IN, "s1"), (102, node, IN, "s1")], address)


def loses(name, node="node-1"):
    return user(name, [(100, node, IN, "s1"), (101, "node-2", OUT, "s2"), (102, "node-2", OUT, "s2")])


def test_no_one_logged_out():
    assert no_one_logged_out([stays("a"), stays("b")], IN).passed
    judged = no_one_logged_out([stays("a"), loses("b")], IN)
    assert not judged.passed and "b" in judged.why


def test_no_one_logged_out_needs_users_who_were_logged_in():
    never = user("n", [(100, "node-1", OUT, "s1")])
    assert not no_one_logged_out([never], IN).passed


def test_everyone_logged_out():
    assert everyone_logged_out([loses("a"), loses("b")], IN).passed
    judged = everyone_logged_out([loses("a"), stays("b")], IN)
    assert not judged.passed and "b" in judged.why


def test_logged_out_exactly_when_is_decided_per_user():
    on_node_1 = lambda u: node_before(u, 100.5) == "node-1"  # noqa: E731
    assert logged_out_exactly_when([loses("a"), stays("b", "node-2")], IN, on_node_1, "were on node-1").passed
    # b was on node-1 and kept its login: the rule names b, whatever the counts say.
    judged = logged_out_exactly_when([loses("a"), stays("b"), loses("c", "node-3")], IN, on_node_1, "were on node-1")
    assert not judged.passed and "b" in judged.why and "c" in judged.why


def test_logged_out_exactly_when_without_a_cause_is_not_evidence():
    judged = logged_out_exactly_when([stays("a")], IN, lambda u: False, "were on node-1")
    assert not judged.passed and judged.why.startswith("not evidence")


def test_served_elsewhere_with_a_new_session_is_what_logs_out_under_a_rolling_restart():
    orphaned = loses("a")
    failed_over_without_answer = user("b", [(100, "node-1", IN, "s1"), (101, None, None, None, 502), (102, "node-1", IN, "s1")])
    assert served_elsewhere(orphaned, 100.5) and handed_new_session(orphaned, 100.5)
    assert not served_elsewhere(failed_over_without_answer, 100.5)
    # The 9-served-elsewhere, 8-lost case: a user another node served with the old session kept.
    same_session = user("c", [(100, "node-1", IN, "s1"), (101, "node-2", IN, "s1"), (102, "node-1", IN, "s1")])
    assert served_elsewhere(same_session, 100.5) and not handed_new_session(same_session, 100.5)
    cause = lambda u: served_elsewhere(u, 100.5) and handed_new_session(u, 100.5)  # noqa: E731
    assert logged_out_exactly_when([orphaned, failed_over_without_answer, same_session], IN, cause, "orphaned").passed
    assert not logged_out_exactly_when([orphaned, same_session, loses("d")], IN, lambda u: served_elsewhere(u, 100.5) and u.name != "d", "x").passed


def mover(name, before, after, address="10.0.0.1"):
    return user(name, [(100, before, IN, "s"), (101, before, IN, "s"), (103, after, IN, "s"), (104, after, IN, "s")], address)


def test_no_one_moved():
    assert no_one_moved([mover("a", "node-1", "node-1")], 102, 102.5).passed
    assert not no_one_moved([mover("a", "node-1", "node-4")], 102, 102.5).passed


def test_consistent_hash_moves_users_only_to_the_new_node():
    good = [mover("a", "node-1", "node-4"), mover("b", "node-2", "node-2")]
    assert moved_only_to(good, "node-4", 102, 102.5).passed
    astray = [mover("a", "node-1", "node-4"), mover("b", "node-2", "node-3")]
    judged = moved_only_to(astray, "node-4", 102, 102.5)
    assert not judged.passed and "b" in judged.why
    assert not moved_only_to([mover("a", "node-1", "node-1")], "node-4", 102, 102.5).passed  # nobody moved


def test_ip_hash_moves_users_with_their_address():
    together = [mover("a", "node-1", "node-3", "10.0.9.1"), mover("b", "node-1", "node-3", "10.0.9.1")]
    assert moved_by_address(together, 102, 102.5).passed
    split = [mover("a", "node-1", "node-3", "10.0.9.1"), mover("b", "node-1", "node-2", "10.0.9.1")]
    assert not moved_by_address(split, 102, 102.5).passed
    assert not moved_by_address([mover("a", "node-1", "node-1")], 102, 102.5).passed


def test_all_on_one_node():
    assert all_on_one_node([stays("a"), stays("b")]).passed
    assert not all_on_one_node([stays("a"), stays("b", "node-2")]).passed


def test_each_saw_every_node():
    rotating = user("a", [(100, "node-1", IN, "s"), (101, "node-2", IN, "s"), (102, "node-3", IN, "s")])
    assert each_saw_every_node([rotating], 3).passed
    assert not each_saw_every_node([rotating, stays("b")], 3).passed


def test_each_pinned_and_spread():
    spread = [stays("a", "node-1"), stays("b", "node-2"), stays("c", "node-3")]
    assert each_pinned_and_spread(spread, 3).passed
    assert not each_pinned_and_spread([stays("a"), stays("b")], 3).passed  # node-2 and node-3 unused
    wandering = user("w", [(100, "node-1", IN, "s"), (101, "node-2", IN, "s")])
    assert not each_pinned_and_spread([*spread, wandering], 3).passed


def test_every_request_answered_in_bounds_each_users_slowest_request():
    quick = user("a", [(100, "node-1", IN, "s", 200, 0.2), (101, None, None, None, 0, 3.0)])
    assert every_request_answered_in([quick], 10, after=99).passed
    hung = user("b", [(100, "node-1", IN, "s", 200, 0.2), (101, None, None, None, 0, 30.0)])
    assert not every_request_answered_in([quick, hung], 10, after=99).passed


def test_judgements_combine_and_keep_the_first_failure():
    good, bad = no_one_logged_out([stays("a")], IN), no_one_logged_out([loses("b")], IN)
    assert (good & good).passed
    assert (good & bad).why == bad.why and not (bad & good).passed


def test_logged_out_only_if_allows_the_users_the_cause_explains_and_no_others():
    from lab.verdicts.rules import anonymous_between, logged_out_only_if

    in_window = lambda u: anonymous_between(u, IN, 100.5, 101.5)  # noqa: E731
    hit = loses("hit")  # anonymous at 101: inside the restart window
    late = user("late", [(100, "node-1", IN, "s1"), (103, "node-2", OUT, "s2")])  # anonymous only after it
    assert logged_out_only_if([hit, stays("a")], IN, in_window, "hit the restart").passed
    judged = logged_out_only_if([hit, late, stays("a")], IN, in_window, "hit the restart")
    assert not judged.passed and "late" in judged.why
    assert not logged_out_only_if([hit], IN, in_window, "hit the restart").passed  # no one kept: not evidence


def refused(name):
    return user(name, [(100, "node-1", IN, "s1"), (101, "node-3", None, None, 500)])


def not_logged_in(name):
    evidence = UserEvidence(name, address="10.0.0.1", login_error="posting /accounts/login/ answered 500")
    return evidence


def test_failed_only_past_the_budget():
    assert failed_only_past_the_budget([(True, [stays("a")]), (False, [stays("b"), refused("c")])]).passed
    assert failed_only_past_the_budget([(True, [stays("a")]), (False, [not_logged_in("c")])]).passed
    within = failed_only_past_the_budget([(True, [refused("a")]), (False, [refused("b")])])
    assert not within.passed and "a got errors within the budget" in within.why
    held = failed_only_past_the_budget([(True, [stays("a")]), (False, [stays("b")])])
    assert not held.passed and "got every answer past the budget" in held.why
    assert "not evidence" in failed_only_past_the_budget([(True, [stays("a")])]).why


def test_no_request_failed_needs_a_step_past_the_budget():
    assert no_request_failed([(True, [stays("a")]), (False, [stays("b"), stays("c")])]).passed
    broke = no_request_failed([(True, [stays("a")]), (False, [stays("b"), refused("c")])])
    assert not broke.passed and "c got errors" in broke.why
    assert not no_request_failed([(True, [stays("a")]), (False, [not_logged_in("d")])]).passed
    assert "not evidence" in no_request_failed([(True, [stays("a")])]).why


def timed(name, rows):
    """rows: (at, seconds, status)."""
    evidence = UserEvidence(name, address="10.0.0.1", logged_in=True)
    for i, (at, seconds, status) in enumerate(rows):
        evidence.observations.append(Observation(i, status, IN, "node-1", "s1", i, seconds, at=at))
    return evidence


def test_waited_through_needs_a_request_sent_in_the_cut_and_answered_after_it():
    assert waited_through([timed("a", [(101, 3.9, 200)])], 100, 105).passed  # sent at 101, answered at 104.9
    assert not waited_through([timed("a", [(101, 0.01, 200), (106, 0.01, 200)])], 100, 105).passed
    assert not waited_through([timed("a", [(101, 4.0, 500)])], 100, 105).passed  # it failed, it did not wait


def test_each_user_slower_by_is_judged_per_user_at_the_median():
    before = [timed("a", [(1, 0.004, 200)] * 5), timed("b", [(1, 0.004, 200)] * 5)]
    slower = [timed("a", [(2, 0.110, 200)] * 5), timed("b", [(2, 0.104, 200)] * 5)]
    assert each_user_slower_by(before, slower, 0.1).passed
    one_fast = [timed("a", [(2, 0.110, 200)] * 5), timed("b", [(2, 0.006, 200)] * 5)]
    judged = each_user_slower_by(before, one_fast, 0.1)
    assert not judged.passed and "b were not 100 ms slower" in judged.why
    assert not each_user_slower_by(before, [timed("a", [(2, 0.2, 200)] * 4 + [(3, 2.0, 500)])], 0.1).passed
    assert "not evidence" in each_user_slower_by(before, [timed("c", [(2, 0.2, 200)] * 5)], 0.1).why


def test_failed_only_between():
    assert failed_only_between([timed("a", [(99, 0.01, 200), (101, 2.0, 500), (106, 0.01, 200)])], 100, 105).passed
    late = failed_only_between([timed("a", [(101, 2.0, 500)]), timed("b", [(107, 0.01, 502)])], 100, 105)
    assert not late.passed and "b got errors outside the fault" in late.why
    assert "not evidence" in failed_only_between([timed("a", [(101, 0.01, 200)])], 100, 105).why


def versioned(name, rows):
    """rows: (at, status, version)."""
    evidence = UserEvidence(name, address="10.0.0.1", logged_in=True)
    for i, (at, status, version) in enumerate(rows):
        evidence.observations.append(Observation(i, status, IN, "node-1", "s1", i, 0.01, at=at, version=version))
    return evidence


def test_moved_to_version_and_no_failures():
    rolled = [versioned("a", [(1, 200, "v1"), (2, 200, "v2"), (3, 200, "v1"), (9, 200, "v2")]),
              versioned("b", [(1, 200, "v1"), (9, 200, "v2")])]
    assert moved_to_version(rolled, "v1", "v2", after=5).passed and no_failures(rolled).passed
    late = [versioned("a", [(1, 200, "v1"), (9, 200, "v1")]), versioned("b", [(9, 200, "v2")])]
    judged = moved_to_version(late, "v1", "v2", after=5)
    assert not judged.passed and "a got the old version after the deploy ended" in judged.why
    assert not moved_to_version([versioned("a", [(1, 200, "v0"), (9, 200, "v2")])], "v1", "v2", after=5).passed
    dropped = [versioned("a", [(1, 200, "v1"), (2, 502, None), (9, 200, "v2")])]
    assert not no_failures(dropped).passed and no_failures(dropped, after=3).passed


def chatter(name, node, got):
    return {"name": name, "node": node, "received": [{"text": text, "from": "x", "to": node} for text in got], "error": None}


def test_chat_rules_judge_each_user_by_its_process():
    shared = [chatter("a", "node-1/7", "abc"), chatter("b", "node-2/9", "abc"), chatter("c", "node-1/7", "abc")]
    assert each_got_every_message(shared).passed and not got_only_their_process(shared).passed
    memory = [chatter("a", "node-1/7", "ac"), chatter("b", "node-2/9", "b"), chatter("c", "node-1/7", "ac")]
    assert got_only_their_process(memory).passed
    judged = each_got_every_message(memory)
    assert not judged.passed and "a, b, c missed messages (b got 1 of 3)" in judged.why
    alone = [chatter("a", "node-1/7", "ab"), chatter("b", "node-1/7", "ab")]
    assert "not evidence" in each_got_every_message(alone).why and "not evidence" in got_only_their_process(alone).why
