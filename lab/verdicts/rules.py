"""The experiments' verdict rules, in one place: each decides from every user's own trace.

An experiment measures; a rule here judges. Every rule looks at each virtual user's observations (the
nodes that served it, the session it was handed, the answers it saw) and returns a Judgement that
names the users who broke it, so a failed case says who and why rather than "8 of 9". A rule that
finds nothing to decide on (no user was on the stopped node, no user moved) fails as "not evidence".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from statistics import median_high
from typing import Callable, Iterable

from lab.traffic.observations import Observation, UserEvidence

UserTest = Callable[[UserEvidence], bool]


@dataclass(frozen=True)
class Judgement:
    """A rule's verdict, and the sentence that explains it."""

    passed: bool
    why: str

    def __and__(self, other: "Judgement") -> "Judgement":
        """Both must hold; the explanation names what failed first."""
        if not self.passed:
            return self
        if not other.passed:
            return other
        return Judgement(True, f"{self.why}; {other.why}")


def _names(users: Iterable[UserEvidence]) -> str:
    names = sorted(user.name for user in users)
    return ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")


# -- what one user's trace shows -----------------------------------------------------------------------


def answered(user: UserEvidence) -> list[Observation]:
    return [o for o in user.observations if o.status == 200]


def logged_in_at_some_point(user: UserEvidence, username: str) -> bool:
    return any(o.user == username for o in user.observations)


def logged_out(user: UserEvidence, username: str, after: float = 0.0) -> bool:
    """The user was logged in, then, after `after` (epoch), got an answer as an anonymous visitor."""
    seen = False
    for o in user.observations:
        if o.user == username:
            seen = True
        elif seen and o.status == 200 and o.user is None and o.at >= after:
            return True
    return False


def ended_logged_out(user: UserEvidence, username: str) -> bool:
    """The user was logged in, and the last answer they got showed them anonymous: the session is gone."""
    got = answered(user)
    return logged_in_at_some_point(user, username) and bool(got) and got[-1].user is None


def failures(users: list[UserEvidence], after: float = 0.0) -> list[Observation]:
    """Requests after `after` (epoch) that got no answer or an error status."""
    return [o for u in users for o in u.observations if o.at >= after and o.status != 200]


def node_before(user: UserEvidence, moment: float) -> str | None:
    """The node that served the user's last request before `moment` (epoch)."""
    earlier = [o for o in user.observations if o.at < moment and o.node]
    return earlier[-1].node if earlier else None


def node_after(user: UserEvidence, moment: float) -> str | None:
    """The node that served most of the user's requests after `moment` (epoch)."""
    later = Counter(o.node for o in user.observations if o.at > moment and o.node)
    return later.most_common(1)[0][0] if later else None


def moved(user: UserEvidence, before: float, after: float) -> bool:
    """The user's node before `before` differs from its usual node after `after`."""
    old, new = node_before(user, before), node_after(user, after)
    return old is not None and new is not None and old != new


def served_elsewhere(user: UserEvidence, moment: float) -> bool:
    """After `moment`, a node other than the user's node before it answered the user."""
    home = node_before(user, moment)
    return any(o.at >= moment and o.node not in (None, home) for o in user.observations)


def handed_new_session(user: UserEvidence, moment: float) -> bool:
    """After `moment`, an answer showed a session other than the one the user had before it."""
    before = [o.session for o in answered(user) if o.at < moment and o.session]
    return bool(before) and any(o.at >= moment and o.session and o.session != before[-1] for o in answered(user))


# -- rules over every user --------------------------------------------------------------------------


def no_one_logged_out(users: list[UserEvidence], username: str) -> Judgement:
    """Every user who was logged in still is at the end."""
    out = [u for u in users if ended_logged_out(u, username)]
    never = [u for u in users if not logged_in_at_some_point(u, username)]
    if never:
        return Judgement(False, f"not evidence: {_names(never)} never showed as logged in")
    if out:
        return Judgement(False, f"{_names(out)} ended logged out")
    return Judgement(True, f"all {len(users)} users stayed logged in")


def everyone_logged_out(users: list[UserEvidence], username: str) -> Judgement:
    """Every user was logged in and ended logged out."""
    kept = [u for u in users if not ended_logged_out(u, username)]
    if not users:
        return Judgement(False, "not evidence: no users")
    if kept:
        return Judgement(False, f"{_names(kept)} did not end logged out")
    return Judgement(True, f"all {len(users)} users ended logged out")


def logged_out_exactly_when(users: list[UserEvidence], username: str, cause: UserTest, described: str) -> Judgement:
    """Per user: ended logged out if and only if `cause` holds for that user (and it holds for some)."""
    caused = [u for u in users if cause(u)]
    if not caused:
        return Judgement(False, f"not evidence: no user {described}")
    out_without = [u for u in users if ended_logged_out(u, username) and not cause(u)]
    kept_with = [u for u in users if cause(u) and not ended_logged_out(u, username)]
    if out_without or kept_with:
        parts = []
        if out_without:
            parts.append(f"{_names(out_without)} ended logged out though not {described}")
        if kept_with:
            parts.append(f"{_names(kept_with)} {described} yet stayed logged in")
        return Judgement(False, "; ".join(parts))
    return Judgement(True, f"exactly the {len(caused)} users who {described} ended logged out")


def logged_out_only_if(users: list[UserEvidence], username: str, cause: UserTest, described: str) -> Judgement:
    """Per user: ended logged out only if `cause` holds for that user; and someone kept the login."""
    out = [u for u in users if ended_logged_out(u, username)]
    unexplained = [u for u in out if not cause(u)]
    if unexplained:
        return Judgement(False, f"{_names(unexplained)} ended logged out though not {described}")
    if len(out) == len(users):
        return Judgement(False, "not evidence: every user ended logged out, so nothing shows a session survived")
    explained = f"; {_names(out)} {described} and lost it" if out else ""
    return Judgement(True, f"{len(users) - len(out)} of {len(users)} users stayed logged in{explained}")


def anonymous_between(user: UserEvidence, username: str, start: float, end: float) -> bool:
    """The user, logged in before, got an answer as an anonymous visitor between `start` and `end`."""
    return logged_out(user, username, after=start) and any(
        start <= o.at <= end and o.status == 200 and o.user is None for o in user.observations
    )


def no_one_moved(users: list[UserEvidence], before: float, after: float) -> Judgement:
    """No user changed node between `before` and `after`."""
    movers = [u for u in users if moved(u, before, after)]
    if movers:
        return Judgement(False, f"{_names(movers)} moved to another node")
    return Judgement(True, f"none of {len(users)} users moved")


def moved_only_to(users: list[UserEvidence], node: str, before: float, after: float) -> Judgement:
    """Some users moved, every one of them to `node`: what a consistent hash promises when `node` joins."""
    movers = [u for u in users if moved(u, before, after)]
    astray = [u for u in movers if node_after(u, after) != node]
    if not movers:
        return Judgement(False, "not evidence: no user moved, so nothing shows where movers go")
    if astray:
        return Judgement(False, f"{_names(astray)} moved between old nodes, not to {node}")
    return Judgement(True, f"{len(movers)} of {len(users)} users moved, every one to {node}")


def moved_by_address(users: list[UserEvidence], before: float, after: float) -> Judgement:
    """Some users moved, and users behind one address always share a node (ip_hash keys on the address)."""
    movers = [u for u in users if moved(u, before, after)]
    if not movers:
        return Judgement(False, "not evidence: no user moved")
    by_address: dict[str, set] = {}
    for user in users:
        by_address.setdefault(user.address, set()).add(node_after(user, after))
    split = sorted(address for address, nodes in by_address.items() if len(nodes - {None}) > 1)
    if split:
        return Judgement(False, f"users behind {', '.join(split)} ended on different nodes")
    return Judgement(True, f"{len(movers)} of {len(users)} users moved, always with their address")


def all_on_one_node(users: list[UserEvidence]) -> Judgement:
    """Every user was served by one node only, the same node for all."""
    seen = {node for u in users for node in u.nodes_seen}
    wandered = [u for u in users if len(u.nodes_seen) != 1]
    if not users:
        return Judgement(False, "not evidence: no users")
    if wandered or len(seen) != 1:
        return Judgement(False, f"users were served by {', '.join(sorted(seen))} ({_names(wandered) or 'each on one'})")
    return Judgement(True, f"all {len(users)} users were served by {seen.pop()} alone")


def each_saw_every_node(users: list[UserEvidence], nodes: int) -> Judgement:
    """Every user was served by every one of `nodes` nodes."""
    short = [u for u in users if len(u.nodes_seen) < nodes]
    if not users:
        return Judgement(False, "not evidence: no users")
    if short:
        return Judgement(False, f"{_names(short)} saw fewer than {nodes} nodes")
    return Judgement(True, f"each of {len(users)} users was served by all {nodes} nodes")


def each_pinned_and_spread(users: list[UserEvidence], nodes: int) -> Judgement:
    """Every user stayed on one node, and together the users covered every node."""
    wandered = [u for u in users if len(u.nodes_seen) != 1]
    covered = {u.nodes_seen[0] for u in users if u.nodes_seen}
    if not users:
        return Judgement(False, "not evidence: no users")
    if wandered:
        return Judgement(False, f"{_names(wandered)} were served by several nodes")
    if len(covered) < nodes:
        return Judgement(False, f"the users were pinned to {len(covered)} of {nodes} nodes only")
    return Judgement(True, f"each of {len(users)} users stayed on one node; together they used all {nodes}")


def every_request_answered_in(users: list[UserEvidence], seconds: float, after: float = 0.0) -> Judgement:
    """No request after `after` took `seconds` or longer (it failed or answered within the lab's timeouts)."""
    slow = [u for u in users if any(o.at >= after and o.seconds >= seconds for o in u.observations)]
    if slow:
        return Judgement(False, f"{_names(slow)} waited {seconds:g} s or more for an answer")
    return Judgement(True, f"every request answered or failed within {seconds:g} s")


def got_an_error(user: UserEvidence) -> bool:
    """The user could not log in, or a request got no answer or an error status."""
    return bool(user.login_error) or any(o.status != 200 for o in user.observations)


def no_request_failed(steps: list[tuple[bool, list[UserEvidence]]]) -> Judgement:
    """Every user of every step logged in and got every answer, including the steps past the budget."""
    if not any(not within for within, _ in steps):
        return Judgement(False, "not evidence: no step went past the connection budget")
    failed = [u for _, users in steps for u in users if got_an_error(u)]
    if failed:
        return Judgement(False, f"{_names(failed)} got errors")
    count = sum(len(users) for _, users in steps)
    return Judgement(True, f"all {count} users of {len(steps)} steps got every answer, past the budget too")


def failed_only_past_the_budget(steps: list[tuple[bool, list[UserEvidence]]]) -> Judgement:
    """Steps in order, each (within the connection budget, its users): no user failed within the budget,
    and some user failed in the first step past it."""
    early = [u for within, users in steps if within for u in users if got_an_error(u)]
    if early:
        return Judgement(False, f"{_names(early)} got errors within the budget")
    past = next((users for within, users in steps if not within), None)
    if past is None:
        return Judgement(False, "not evidence: no step went past the connection budget")
    failed = [u for u in past if got_an_error(u)]
    if not failed:
        return Judgement(False, f"all {len(past)} users got every answer past the budget")
    return Judgement(True, f"no user failed within the budget; past it {_names(failed)} got errors")


def waited_through(users: list[UserEvidence], start: float, end: float) -> Judgement:
    """Some request sent while the network was cut (between `start` and `end`) was answered only after
    it healed: the requests waited for the store instead of failing."""
    waited = [u for u in users if any(start <= o.at < end and o.status == 200 and o.at + o.seconds >= end - 0.2
                                      for o in u.observations)]
    if not waited:
        return Judgement(False, "not evidence: no request sent during the cut waited for it to heal")
    return Judgement(True, f"{_names(waited)} waited through the cut and got their answer after it healed")


def each_user_slower_by(before: list[UserEvidence], after: list[UserEvidence], seconds: float) -> Judgement:
    """Per user (by name): the median answer took at least `seconds` longer after than before, and every
    request was answered. A user with fewer than 3 answers on either side is not evidence."""
    earlier = {u.name: [o.seconds for o in answered(u)] for u in before}
    measured, too_fast, failed = 0, [], []
    for user in after:
        times = [o.seconds for o in answered(user)]
        if got_an_error(user):
            failed.append(user)
        if len(times) < 3 or len(earlier.get(user.name, [])) < 3:
            continue
        measured += 1
        if median_high(times) - median_high(earlier[user.name]) < seconds * 0.999:  # float sums
            too_fast.append(user)
    if failed:
        return Judgement(False, f"{_names(failed)} got errors")
    if not measured:
        return Judgement(False, "not evidence: no user had 3 answers before and after")
    if too_fast:
        return Judgement(False, f"{_names(too_fast)} were not {seconds * 1000:.0f} ms slower at the median")
    return Judgement(True, f"each of {measured} users was at least {seconds * 1000:.0f} ms slower at the median, with no error")


def failed_only_between(users: list[UserEvidence], start: float, end: float) -> Judgement:
    """Every failed request was sent between `start` and `end` (while the fault lasted), and some was."""
    outside = [u for u in users if any(o.status != 200 and not start <= o.at <= end for o in u.observations)]
    if outside:
        return Judgement(False, f"{_names(outside)} got errors outside the fault")
    inside = [u for u in users if any(o.status != 200 for o in u.observations)]
    if not inside:
        return Judgement(False, "not evidence: no request failed during the fault")
    return Judgement(True, f"{_names(inside)} got errors during the fault, and no one outside it")


def no_failures(users: list[UserEvidence], after: float = 0.0) -> Judgement:
    """No request after `after` failed, and every user logged in."""
    failed = [u for u in users if u.login_error or any(o.at >= after and o.status != 200 for o in u.observations)]
    if failed:
        count = sum(1 for u in failed for o in u.observations if o.at >= after and o.status != 200)
        return Judgement(False, f"{_names(failed)} got errors ({count} failed requests)")
    count = sum(len(u.observations) for u in users)
    return Judgement(True, f"all {count} requests of {len(users)} users answered")


def moved_to_version(users: list[UserEvidence], old: str, new: str, after: float) -> Judgement:
    """Every answer named the old or the new version, every user got the new one by the end, and once
    `after` (the deploy done) every answer was the new one."""
    odd = [u for u in users if any(o.status == 200 and o.version not in (old, new) for o in u.observations)]
    if odd:
        return Judgement(False, f"{_names(odd)} got answers from neither version")
    stale = [u for u in users if any(o.at >= after and o.status == 200 and o.version != new for o in u.observations)]
    if stale:
        return Judgement(False, f"{_names(stale)} got the old version after the deploy ended")
    unmoved = [u for u in users if not any(o.version == new for o in u.observations)]
    if unmoved:
        return Judgement(False, f"not evidence: {_names(unmoved)} never got the new version")
    both = [u for u in users if any(o.version == old for o in u.observations)]
    return Judgement(True, f"every user got the new version; {len(both)} of {len(users)} were served both during the deploy")


# -- chat users of the lab's channel probe: {name, node ("node-1/PID"), received: [{text, from, to}], error}


def _connected(chatters: list[dict]) -> list[dict]:
    """The users who connected: a failed connection is recorded as "connect: ..." (a dropped one, "connection
    lost ...", still connected)."""
    return [c for c in chatters if c.get("node") and not str(c.get("error") or "").startswith("connect:")]


def each_got_every_message(chatters: list[dict]) -> Judgement:
    """Every connected user got every connected user's message, whichever node and process it was on."""
    connected = _connected(chatters)
    if len({c["node"] for c in connected}) < 2:
        return Judgement(False, "not evidence: the users were not spread over two processes")
    sent = {c["name"] for c in connected}
    missing = [c for c in connected if not sent <= {m["text"] for m in c["received"]}]
    if missing:
        worst = min(missing, key=lambda c: len(sent & {m["text"] for m in c["received"]}))
        got = len(sent & {m["text"] for m in worst["received"]})
        return Judgement(False, f"{', '.join(sorted(c['name'] for c in missing))} missed messages ({worst['name']} got {got} of {len(sent)})")
    places = len({c["node"] for c in connected})
    return Judgement(True, f"each of {len(connected)} users on {places} processes got all {len(sent)} messages")


def got_only_their_process(chatters: list[dict]) -> Judgement:
    """Each connected user got exactly the messages of the users on its own process (node and pid): what
    a channel layer in each process's memory delivers."""
    connected = _connected(chatters)
    if len({c["node"] for c in connected}) < 2:
        return Judgement(False, "not evidence: the users were not spread over two processes")
    wrong = []
    for chatter in connected:
        expected = {c["name"] for c in connected if c["node"] == chatter["node"]}
        if {m["text"] for m in chatter["received"]} != expected:
            wrong.append(chatter["name"])
    if wrong:
        return Judgement(False, f"{', '.join(sorted(wrong))} did not get exactly their own process's messages")
    return Judgement(True, f"each of {len(connected)} users got only the messages sent on its own process")
