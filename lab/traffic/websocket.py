"""The virtual users' WebSocket: the `websockets` package's sync client, in the few words the users need.

Virtual users run inside client containers, which run the node image: `websockets` is installed there
(lab/dockerfiles/node/requirements.txt), so the protocol is that package's. This module only says what
the users need of it: open a socket through nginx to a node (with the session's cookie and an Origin),
exchange text messages, see who answered, and one error for every way it fails. It imports `websockets`
when a socket is opened, so evidence.py (which imports this) loads where the package is not installed.

    ws = WebSocket.connect("wss://lab.test/ws/echo/", headers={"Cookie": ..., "Origin": ...})
    ws.send_text("hello"); reply = ws.receive(timeout=2.0); ws.close()
"""

from __future__ import annotations

import contextlib
import ssl
import urllib.parse

NO_CLOSE_FRAME = 1006  # RFC 6455's code for a connection that dropped without a close frame


class WebSocketError(Exception):
    """The server refused the handshake (`status`, `body`) or the connection ended (`code`: the close
    code the server sent, 1006 when the connection dropped without one)."""

    def __init__(self, message: str, *, status: int | None = None, body: bytes = b"", code: int | None = None):
        super().__init__(message)
        self.status, self.body, self.code = status, body, code


class WebSocket:
    """One open connection. Open it with the classmethod `WebSocket.connect(url, ...)`; a server that
    cannot be reached raises OSError, one that refuses the handshake WebSocketError."""

    def __init__(self, connection):
        self.connection = connection  # a websockets.sync.client.ClientConnection
        response = connection.response
        headers: dict[str, str] = {}
        for name, value in response.headers.raw_items():
            name = name.lower()
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        self.headers = headers  # the handshake's response headers, names in lower case

    @classmethod
    def connect(cls, url: str, headers: dict | None = None, timeout: float = 5.0,
                ssl_context: ssl.SSLContext | None = None) -> WebSocket:
        """Open `url` (ws:// or wss://), sending `headers` (Cookie, Origin...) with the handshake;
        `timeout` bounds connecting and the handshake. Without `ssl_context`, wss:// verifies as usual."""
        from websockets.exceptions import InvalidHandshake, InvalidStatus
        from websockets.sync.client import connect

        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise ValueError(f"not a ws:// or wss:// URL: {url!r}")
        try:
            connection = connect(
                url,
                additional_headers=dict(headers or {}),
                ssl=ssl_context if parts.scheme == "wss" else None,
                open_timeout=timeout,
                proxy=None,  # straight to nginx, as a browser on the lab's network would go
                compression=None,  # frames as a plain client sends them: the lab measures sessions, not zlib
                max_size=None,  # a message is the probe's or the site's: whatever its size
            )
        except InvalidStatus as error:
            status, body = error.response.status_code, error.response.body or b""
            raise WebSocketError(f"handshake refused: HTTP {status}: {body[:200]!r}", status=status, body=body) from None
        except InvalidHandshake as error:
            raise WebSocketError(f"handshake failed: {error}") from None
        return cls(connection)

    def send_text(self, text: str) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            self.connection.send(text)
        except ConnectionClosed as error:
            raise _closed(error) from None

    def receive(self, timeout: float) -> str | None:
        """The next text message, or None when none comes within `timeout` seconds. A close from the
        server or a lost connection raises WebSocketError."""
        from websockets.exceptions import ConnectionClosed

        try:
            message = self.connection.recv(timeout=timeout)
        except TimeoutError:
            return None
        except ConnectionClosed as error:
            raise _closed(error) from None
        return message if isinstance(message, str) else message.decode("utf-8", errors="replace")

    def close(self) -> None:
        """Say goodbye (close code 1000) and close the socket; never raises."""
        with contextlib.suppress(Exception):  # the server may be gone already: nothing left to say
            self.connection.close()

    def __enter__(self) -> WebSocket:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _closed(error) -> WebSocketError:
    """A websockets ConnectionClosed as the users' error: the server's close code, or 1006."""
    if error.rcvd is None:
        return WebSocketError("connection lost without a close frame", code=NO_CLOSE_FRAME)
    code, reason = error.rcvd.code, error.rcvd.reason
    return WebSocketError(f"server closed the connection: code {code} {reason}".rstrip(), code=code)
