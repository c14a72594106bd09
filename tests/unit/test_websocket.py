"""The standard-library WebSocket client against a tiny server on loopback, one connection per test."""

import base64
import hashlib
import socket
import struct
import threading
import time

import pytest

from lab.traffic.websocket import OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT, WebSocket, WebSocketError

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Peer:
    """The server's end of one connection: reads the client's frames (which must be masked) and writes its own."""

    def __init__(self, conn: socket.socket):
        self.conn = conn
        self.request_headers: dict[str, str] = {}

    def read_exactly(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.conn.recv(n - len(data))
            assert chunk, "client closed the connection early"
            data += chunk
        return data

    def handshake(self, refuse: bytes | None = None, accept: str | None = None) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.conn.recv(4096)
        request_line, *lines = head.decode("latin-1").split("\r\n\r\n")[0].split("\r\n")
        assert request_line.startswith("GET /ws/echo/?room=1 HTTP/1.1")
        for line in lines:
            name, _, value = line.partition(":")
            self.request_headers[name.strip().lower()] = value.strip()
        if refuse is not None:
            self.conn.sendall(refuse)
            return
        key = self.request_headers["sec-websocket-key"].encode()
        accept = accept or base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()
        self.conn.sendall(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept}\r\nX-Lab-Node: node-2\r\n\r\n".encode()
        )

    def read_frame(self) -> tuple[bool, int, bytes, int]:
        """(fin, opcode, payload, the 7-bit length field), checking the client masked the frame."""
        first, second = self.read_exactly(2)
        assert second & 0x80, "client frame is not masked"
        length = second & 0x7F
        if length == 126:
            length = struct.unpack("!H", self.read_exactly(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self.read_exactly(8))[0]
        mask = self.read_exactly(4)
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(self.read_exactly(length)))
        return bool(first & 0x80), first & 0x0F, payload, second & 0x7F

    def send_frame(self, opcode: int, payload: bytes, fin: bool = True, pieces: int = 1) -> None:
        """An unmasked server frame, written in `pieces` writes so the client sees partial reads."""
        length = len(payload)
        if length < 126:
            head = struct.pack("!BB", (0x80 if fin else 0) | opcode, length)
        elif length < 1 << 16:
            head = struct.pack("!BBH", (0x80 if fin else 0) | opcode, 126, length)
        else:
            head = struct.pack("!BBQ", (0x80 if fin else 0) | opcode, 127, length)
        frame = head + payload
        if pieces == 1:
            self.conn.sendall(frame)
            return
        self.conn.sendall(frame[:1])  # a frame's head split too, not only its payload
        step = len(frame) // (pieces - 1) + 1
        for start in range(1, len(frame), step):
            time.sleep(0.005)
            self.conn.sendall(frame[start:start + step])


class TinyServer:
    """Listens on 127.0.0.1 (any free port), accepts one client and runs `script(peer)` in a thread.
    Leaving the `with` block waits for the script and re-raises what failed on the server's side."""

    def __init__(self, script, **handshake):
        self.script, self.handshake = script, handshake
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"ws://127.0.0.1:{self.listener.getsockname()[1]}/ws/echo/?room=1"
        self.peer: Peer | None = None
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        try:
            self.listener.settimeout(2)
            conn, _ = self.listener.accept()
            with conn:
                conn.settimeout(2)
                self.peer = Peer(conn)
                self.peer.handshake(**self.handshake)
                self.script(self.peer)
        except BaseException as error:  # reported by __exit__, in the test's thread
            self.failure = error
        finally:
            self.listener.close()

    def __enter__(self) -> "TinyServer":
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.thread.join(timeout=3)
        assert not self.thread.is_alive(), "server script did not finish"
        if self.failure is not None and exc_info[0] is None:
            raise self.failure


def echo_once(peer: Peer) -> None:
    fin, opcode, payload, _ = peer.read_frame()
    assert (fin, opcode) == (True, OP_TEXT)
    peer.send_frame(OP_TEXT, payload)


def test_handshake_is_accepted_and_sends_the_given_headers():
    headers = {"Cookie": "sessionid=abc", "Origin": "http://lab.test"}
    with TinyServer(lambda peer: None) as server:
        ws = WebSocket.connect(server.url, headers=headers, timeout=2)
        ws.close()
    sent = server.peer.request_headers
    assert sent["host"] == server.url.split("/")[2]
    assert sent["upgrade"] == "websocket" and sent["connection"] == "Upgrade"
    assert sent["sec-websocket-version"] == "13"
    assert sent["cookie"] == "sessionid=abc" and sent["origin"] == "http://lab.test"
    assert ws.headers["x-lab-node"] == "node-2"


def test_a_text_message_is_echoed():
    with TinyServer(echo_once) as server, WebSocket.connect(server.url, timeout=2) as ws:
        ws.send_text("héllo")
        assert ws.receive(timeout=1) == "héllo"


@pytest.mark.parametrize(("size", "length_field"), [(200, 126), (70000, 127)])
def test_long_messages_use_the_16_and_64_bit_lengths(size, length_field):
    text = ("abcdefghij" * (size // 10 + 1))[:size]

    def script(peer):
        fin, opcode, payload, field = peer.read_frame()
        assert (fin, opcode, field) == (True, OP_TEXT, length_field)
        assert payload == text.encode()
        peer.send_frame(OP_TEXT, payload, pieces=5)  # the client must put the pieces back together

    with TinyServer(script) as server, WebSocket.connect(server.url, timeout=2) as ws:
        ws.send_text(text)
        assert ws.receive(timeout=1) == text


def test_a_fragmented_message_is_reassembled():
    def script(peer):
        peer.send_frame(OP_TEXT, b"hello, ", fin=False)
        peer.send_frame(OP_CONTINUATION, b"world")

    with TinyServer(script) as server, WebSocket.connect(server.url, timeout=2) as ws:
        assert ws.receive(timeout=1) == "hello, world"


def test_a_ping_is_answered_with_a_pong():
    def script(peer):
        peer.send_frame(OP_PING, b"still there?")
        peer.send_frame(OP_TEXT, b"after the ping")
        fin, opcode, payload, _ = peer.read_frame()
        assert (fin, opcode, payload) == (True, OP_PONG, b"still there?")

    with TinyServer(script) as server, WebSocket.connect(server.url, timeout=2) as ws:
        assert ws.receive(timeout=1) == "after the ping"


def test_a_refused_handshake_raises_with_the_status_and_body():
    refusal = b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 16\r\n\r\nOrigin not valid"
    with TinyServer(lambda peer: None, refuse=refusal) as server:
        with pytest.raises(WebSocketError, match="403") as raised:
            WebSocket.connect(server.url, timeout=2)
    assert raised.value.status == 403
    assert b"Origin not valid" in raised.value.body and "Origin not valid" in str(raised.value)


def test_a_wrong_accept_key_is_refused():
    with TinyServer(lambda peer: None, accept="bm90IHRoZSByaWdodCBrZXk=") as server:
        with pytest.raises(WebSocketError, match="Sec-WebSocket-Accept"):
            WebSocket.connect(server.url, timeout=2)


def test_receive_returns_none_on_timeout_and_keeps_working():
    sent_late = threading.Event()

    def script(peer):
        assert sent_late.wait(2)
        peer.send_frame(OP_TEXT, b"late")

    with TinyServer(script) as server, WebSocket.connect(server.url, timeout=2) as ws:
        started = time.monotonic()
        assert ws.receive(timeout=0.1) is None
        assert time.monotonic() - started < 0.5
        sent_late.set()
        assert ws.receive(timeout=1) == "late"


def test_a_close_frame_raises_with_its_code_and_is_answered():
    def script(peer):
        peer.send_frame(OP_CLOSE, struct.pack("!H", 4003) + b"not allowed")
        fin, opcode, _, _ = peer.read_frame()
        assert (fin, opcode) == (True, OP_CLOSE)

    with TinyServer(script) as server:
        ws = WebSocket.connect(server.url, timeout=2)
        with pytest.raises(WebSocketError, match="4003") as raised:
            ws.receive(timeout=1)
        assert raised.value.code == 4003
        ws.close()  # already closed: still quiet


def test_a_lost_connection_raises_and_close_never_raises():
    with TinyServer(lambda peer: None) as server:
        ws = WebSocket.connect(server.url, timeout=2)
    with pytest.raises(WebSocketError) as raised:
        ws.receive(timeout=1)
    assert raised.value.code == 1006
    ws.close()
    ws.close()
