"""A minimal WebSocket client (RFC 6455), standard library only.

Virtual users run inside client containers that have nothing but Python's standard library, so they
cannot install a WebSocket package; this is just enough to open a socket through nginx to a node (with
the session's cookie and an Origin), exchange text messages and see who answered.

    ws = WebSocket.connect("wss://lab.test/ws/echo/", headers={"Cookie": ..., "Origin": ...})
    ws.send_text("hello"); reply = ws.receive(timeout=2.0); ws.close()
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import socket
import ssl
import struct
import time
import urllib.parse

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # fixed by RFC 6455 for Sec-WebSocket-Accept
OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class WebSocketError(Exception):
    """The server refused the handshake (`status`, `body`) or the connection ended (`code`: the close
    code the server sent, 1006 when the connection dropped without one)."""

    def __init__(self, message: str, *, status: int | None = None, body: bytes = b"", code: int | None = None):
        super().__init__(message)
        self.status, self.body, self.code = status, body, code


class WebSocket:
    """One open connection. Open it with the classmethod `WebSocket.connect(url, ...)`; a server that
    cannot be reached raises OSError, one that refuses the handshake WebSocketError."""

    def __init__(self, sock: socket.socket, headers: dict[str, str], buffered: bytes = b""):
        self.sock = sock
        self.headers = headers  # the handshake's response headers, names in lower case
        self._buffer = bytearray(buffered)  # bytes read but not yet used (a frame may arrive in pieces)
        self._fragments: list[bytes] = []  # a fragmented message so far, kept across receive() calls
        self._closed = False

    @classmethod
    def connect(cls, url: str, headers: dict | None = None, timeout: float = 5.0,
                ssl_context: ssl.SSLContext | None = None) -> WebSocket:
        """Open `url` (ws:// or wss://), sending `headers` (Cookie, Origin...) with the handshake;
        `timeout` bounds connecting and the handshake. Without `ssl_context`, wss:// verifies as usual."""
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise ValueError(f"not a ws:// or wss:// URL: {url!r}")
        secure, default_port = parts.scheme == "wss", (443 if parts.scheme == "wss" else 80)
        port = parts.port or default_port
        host = (f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname) + (
            f":{port}" if port != default_port else "")
        sock = socket.create_connection((parts.hostname, port), timeout=timeout)
        try:
            if secure:
                context = ssl_context or ssl.create_default_context()
                sock = context.wrap_socket(sock, server_hostname=parts.hostname)
            key = base64.b64encode(os.urandom(16)).decode()
            given = {name.lower() for name in headers or {}}
            request = {"Host": host, "Upgrade": "websocket", "Connection": "Upgrade",
                       "Sec-WebSocket-Key": key, "Sec-WebSocket-Version": "13"}
            lines = [f"GET {parts.path or '/'}{'?' + parts.query if parts.query else ''} HTTP/1.1"]
            lines += [f"{name}: {value}" for name, value in request.items() if name.lower() not in given]
            lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
            status, response_headers, rest = _read_response_head(sock)
            if status != 101:
                body = _read_some_body(sock, rest, response_headers)
                raise WebSocketError(f"handshake refused: HTTP {status}: {body[:200]!r}", status=status, body=body)
            accept = base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()
            if response_headers.get("sec-websocket-accept") != accept:
                raise WebSocketError("handshake answer has a wrong Sec-WebSocket-Accept", status=status)
        except BaseException:
            sock.close()
            raise
        return cls(sock, response_headers, rest)

    def send_text(self, text: str) -> None:
        self._send_frame(OP_TEXT, text.encode("utf-8"))

    def receive(self, timeout: float) -> str | None:
        """The next text message, or None when none completes within `timeout` seconds. Pings are answered
        on the way; a close frame or a lost connection raises WebSocketError."""
        deadline = time.monotonic() + timeout
        while True:
            frame = self._next_frame(deadline)
            if frame is None:
                return None
            fin, opcode, payload = frame
            if opcode == OP_PING:
                self._send_frame(OP_PONG, payload)
            elif opcode == OP_CLOSE:
                self._answer_close(payload)
            elif opcode in (OP_TEXT, OP_BINARY, OP_CONTINUATION):
                self._fragments.append(payload)
                if fin:
                    message, self._fragments = b"".join(self._fragments), []
                    return message.decode("utf-8", errors="replace")
            # pongs (and unknown opcodes) carry nothing for the caller

    def close(self) -> None:
        """Say goodbye (close code 1000) and close the socket; never raises."""
        with contextlib.suppress(Exception):  # the server may be gone already: nothing left to say
            if not self._closed:
                self._closed = True
                self._send_frame(OP_CLOSE, struct.pack("!H", 1000))
        with contextlib.suppress(OSError):
            self.sock.close()

    def __enter__(self) -> WebSocket:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _answer_close(self, payload: bytes) -> None:
        code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005  # 1005: no code given
        reason = payload[2:].decode("utf-8", errors="replace")
        self.close()  # the RFC asks the endpoint to echo the close before dropping the connection
        raise WebSocketError(f"server closed the connection: code {code} {reason}".rstrip(), code=code)

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        # Clients must mask every frame (RFC 6455 5.3); proxies reject unmasked ones.
        length = len(payload)
        if length < 126:
            head = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
        elif length < 1 << 16:
            head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
        mask = os.urandom(4)
        try:
            self.sock.sendall(head + mask + _apply_mask(payload, mask))
        except OSError as error:
            raise WebSocketError(f"connection lost while sending: {error}", code=1006) from error

    def _next_frame(self, deadline: float) -> tuple[bool, int, bytes] | None:
        # Nothing is consumed until a whole frame is buffered, so a timeout never loses half a frame.
        if not self._fill(2, deadline):
            return None
        first, second = self._buffer[0], self._buffer[1]
        extra = {126: 2, 127: 8}.get(second & 0x7F, 0)  # a 16- or 64-bit length follows the first 2 bytes
        if not self._fill(2 + extra, deadline):
            return None
        length = int.from_bytes(self._buffer[2:2 + extra], "big") if extra else second & 0x7F
        start = 2 + extra + (4 if second & 0x80 else 0)  # servers must not mask, but unmasking costs nothing
        if not self._fill(start + length, deadline):
            return None
        mask, payload = bytes(self._buffer[2 + extra:start]), bytes(self._buffer[start:start + length])
        del self._buffer[:start + length]
        return bool(first & 0x80), first & 0x0F, _apply_mask(payload, mask) if mask else payload

    def _fill(self, size: int, deadline: float) -> bool:
        """Read until `size` bytes are buffered (sockets hand out partial reads); False on timeout."""
        while len(self._buffer) < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(max(size - len(self._buffer), 65536))
            except socket.timeout:  # also what ssl raises; an alias of TimeoutError since Python 3.10
                return False
            except OSError as error:
                raise WebSocketError(f"connection lost: {error}", code=1006) from error
            if not chunk:
                raise WebSocketError("connection lost without a close frame", code=1006)
            self._buffer += chunk
        return True


def _apply_mask(payload: bytes, mask: bytes) -> bytes:
    # XOR as one big integer: a byte-by-byte loop is slow on large messages.
    if not payload:
        return payload
    repeated = (mask * (len(payload) // 4 + 1))[:len(payload)]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(len(payload), "big")


def _read_response_head(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """The status, the headers (lower-case names) and any bytes read past the blank line."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk or len(data) > 65536:  # an answer head this large is not from a WebSocket server
            raise WebSocketError(f"no HTTP answer to the handshake: {data[:200]!r}")
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    status_line, *lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(status_line.split()[1])
    except (IndexError, ValueError):
        raise WebSocketError(f"not an HTTP answer: {status_line[:200]!r}") from None
    headers: dict[str, str] = {}
    for line in lines:
        name, _, value = line.partition(":")
        name, value = name.strip().lower(), value.strip()
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return status, headers, rest


def _read_some_body(sock: socket.socket, body: bytes, headers: dict[str, str], limit: int = 512) -> bytes:
    """The start of a refusal's body, to say why: up to `limit` bytes of what arrives within a second."""
    try:
        wanted = min(int(headers.get("content-length", limit)), limit)
        sock.settimeout(min(sock.gettimeout() or 1.0, 1.0))  # a body without a length may never end
        while len(body) < wanted:
            chunk = sock.recv(wanted - len(body))
            if not chunk:
                break
            body += chunk
    except (OSError, ValueError):
        pass
    return body[:limit]
