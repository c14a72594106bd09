"""What a watch's users hand the watcher: a login, then each answer; logged out too long, a login again;
and everything stops once the watcher stops reading."""

import json
import time

from lab.traffic.evidence import _chat, _keep_browsing, _node_name, _Watching
from lab.traffic.observations import Observation, UserEvidence


class FakeCookies(list):
    def clear(self):
        self.append("cleared")


class FakeUser:
    """Logs in at once; answers as the demo user, then as nobody (the session lost)."""

    def __init__(self, users):
        self.evidence = UserEvidence("u1")
        self.cookies = FakeCookies()
        self.users = list(users)
        self.logins = 0

    def login(self, username, password):
        self.logins += 1
        self.evidence.login_node = f"node-{self.logins}"
        self.evidence.logged_in = True

    def whoami(self):
        observation = Observation(len(self.evidence.observations), 200, self.users.pop(0), "node-1", "s", 1, 0.01)
        self.evidence.observations.append(observation)
        return observation


def watched(limit):
    """A watcher that reads `limit` items, then goes away (its stream fails)."""
    items = []

    def emit(item):
        if len(items) >= limit:
            raise OSError("broken pipe")
        items.append(item)

    return items, emit


def test_a_user_logs_in_then_answers_then_logs_in_again_after_too_many_anonymous_answers():
    items, emit = watched(limit=6)
    user = FakeUser(["demo", None, None, "demo", "demo", "demo", "demo"])
    _keep_browsing(_Watching(emit, 30), user, "u1", "demo", "pw", 0.0, relogin_after=2)
    kinds = [(item["kind"], item.get("node"), item.get("user")) for item in items]
    assert kinds == [
        ("login", "node-1", None),
        ("answer", "node-1", "demo"),
        ("answer", "node-1", None),
        ("answer", "node-1", None),
        ("login", "node-2", None),
        ("answer", "node-1", "demo"),
    ]
    assert user.evidence.observations == []  # nothing kept but what was emitted
    assert all(item["name"] == "u1" for item in items)


def test_a_watcher_gone_stops_every_user():
    watching = _Watching(lambda item: (_ for _ in ()).throw(OSError("gone")), 30)
    assert watching.on()
    watching.send({"kind": "answer"})
    assert not watching.on()


def test_a_watch_ends_at_its_deadline():
    assert not _Watching(lambda item: None, 0).on()


def test_the_node_of_a_channel_label():
    assert _node_name("node-2/4711") == "node-2"
    assert _node_name("node-2") == "node-2"
    assert _node_name("") is None
    assert _node_name(None) is None


class FakeSocket:
    """A room where another user says hello once; then silence."""

    def __init__(self):
        self.sent = []
        self.waiting = [json.dumps({"from": "node-3/4711", "to": "node-1/42", "text": "hello"})]

    def send_text(self, text):
        self.sent.append(text)

    def receive(self, timeout):
        if self.waiting:
            return self.waiting.pop()
        time.sleep(timeout)
        return None


def test_the_chat_user_speaks_every_second_and_hands_on_what_the_room_says():
    items = []
    socket = FakeSocket()
    _chat(_Watching(items.append, 0.5), socket, "ws-u1")
    assert socket.sent == ["ws-u1#1"]  # the watch ended within the first second
    assert [(i["name"], i["kind"], i["node"], i["to"]) for i in items] == [("ws-u1", "message", "node-3", "node-1/42")]
