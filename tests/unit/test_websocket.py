"""The virtual users' WebSocket against a real `websockets` server on loopback, started in the test's process."""

import socket
import subprocess
import sys
import threading
import time

import pytest
from websockets.sync.server import serve

from lab.traffic.websocket import WebSocket, WebSocketError


class LocalServer:
    """A websockets server on 127.0.0.1 (any free port) running `handler(connection)` for each client.
    It answers the handshake with X-Lab-Node (as a node does) unless `refuse` gives a status and body;
    `requests` keeps each handshake's request headers, `failures` what a handler raised."""

    def __init__(self, handler, refuse: tuple[int, str] | None = None):
        self.requests: list = []
        self.failures: list[BaseException] = []

        def handle(connection):
            try:
                handler(connection)
            except BaseException as error:  # reported by __exit__, in the test's thread
                self.failures.append(error)

        def process_request(connection, request):
            self.requests.append(request.headers)
            return connection.respond(*refuse) if refuse else None

        def process_response(connection, request, response):
            response.headers["X-Lab-Node"] = "node-2"

        self.server = serve(handle, "127.0.0.1", 0, process_request=process_request,
                            process_response=process_response, compression=None)
        self.url = f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/ws/echo/?room=1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "LocalServer":
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.shutdown()
        self.thread.join(timeout=3)
        if self.failures and exc_info[0] is None:
            raise self.failures[0]


def echo(connection) -> None:
    for message in connection:
        connection.send(message)


def test_the_handshake_sends_the_cookie_and_origin_and_keeps_the_node_s_headers():
    headers = {"Cookie": "sessionid=abc", "Origin": "http://lab.test"}
    with LocalServer(lambda connection: None) as server:
        with WebSocket.connect(server.url, headers=headers, timeout=2) as ws:
            assert ws.headers["x-lab-node"] == "node-2"
    sent = server.requests[0]
    assert sent["Cookie"] == "sessionid=abc" and sent["Origin"] == "http://lab.test"
    assert sent["Host"] == server.url.split("/")[2]


@pytest.mark.parametrize("text", ["héllo", "abcdefghij" * 7000])
def test_a_text_message_is_echoed_whatever_its_size(text):
    with LocalServer(echo) as server, WebSocket.connect(server.url, timeout=2) as ws:
        ws.send_text(text)
        assert ws.receive(timeout=1) == text


def test_a_refused_handshake_raises_with_the_status_and_body():
    with LocalServer(echo, refuse=(403, "Origin not valid")) as server:
        with pytest.raises(WebSocketError, match="403") as raised:
            WebSocket.connect(server.url, timeout=2)
    assert raised.value.status == 403
    assert b"Origin not valid" in raised.value.body and "Origin not valid" in str(raised.value)


def test_receive_returns_none_on_timeout_and_keeps_working():
    sent_late = threading.Event()

    def late(connection):
        assert sent_late.wait(2)
        connection.send("late")
        for _ in connection:  # until the client closes
            pass

    with LocalServer(late) as server, WebSocket.connect(server.url, timeout=2) as ws:
        started = time.monotonic()
        assert ws.receive(timeout=0.1) is None
        assert time.monotonic() - started < 0.5
        sent_late.set()
        assert ws.receive(timeout=1) == "late"


def test_a_close_from_the_server_raises_with_its_code():
    with LocalServer(lambda connection: connection.close(4003, "not allowed")) as server:
        ws = WebSocket.connect(server.url, timeout=2)
        with pytest.raises(WebSocketError, match="4003 not allowed") as raised:
            ws.receive(timeout=1)
        assert raised.value.code == 4003
        with pytest.raises(WebSocketError):
            ws.send_text("anyone?")
        ws.close()  # already closed: still quiet


def test_a_lost_connection_raises_1006_and_close_never_raises():
    with LocalServer(lambda connection: connection.socket.shutdown(socket.SHUT_RDWR)) as server:
        ws = WebSocket.connect(server.url, timeout=2)
        with pytest.raises(WebSocketError) as raised:
            ws.receive(timeout=1)
    assert raised.value.code == 1006
    ws.close()
    ws.close()


def test_a_server_that_does_not_listen_raises_oserror_and_a_wrong_url_valueerror():
    with LocalServer(echo) as server:
        url = server.url
    with pytest.raises(OSError):
        WebSocket.connect(url, timeout=1)
    with pytest.raises(ValueError, match="not a ws://"):
        WebSocket.connect("http://127.0.0.1/", timeout=1)


def test_evidence_loads_where_websockets_is_not_installed():
    """Its HTTP users run on this machine too (the lab imports it): only a chat user needs the package."""
    code = ("import sys; sys.modules['websockets'] = None; import lab.traffic.evidence as e; "
            "print(e.WebSocket.__name__)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "WebSocket", result.stderr
