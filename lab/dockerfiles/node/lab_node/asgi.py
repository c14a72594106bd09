"""The node's ASGI application, for a site that has one (ASGI_APPLICATION: Channels, WebSockets): the
lab's channel probe at /__lab__/ws, and everything else to the site's own application, which Django
loads with the lab's settings (its HTTP side reaches the lab's middleware and URLs as under WSGI)."""

import os
import time

_started = time.monotonic()
from django.conf import settings  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402 (sets Django up before the site's routing)
from django.utils.module_loading import import_string  # noqa: E402

_django = get_asgi_application()
_site = import_string(settings.LAB_SITE_ASGI) if settings.LAB_SITE_ASGI else _django
print(f"lab-node: django loaded in {time.monotonic() - _started:.3f} s (pid {os.getpid()}, asgi)", flush=True)

PROBE_PATH = "/__lab__/ws"


# The answers every HTTP response carries (LabNodeMiddleware), on a WebSocket's handshake (101) too.
_HANDSHAKE_HEADERS = [
    (b"x-lab-node", settings.LAB_NODE.encode()),
    (b"x-lab-config-id", settings.LAB_CONFIG_ID.encode()),
    (b"x-lab-version", (os.environ.get("LAB_VERSION", "") + (" " + os.environ["LAB_RELEASE"] if os.environ.get("LAB_RELEASE") else "")).encode()),
]


def _with_lab_headers(send):
    """`send`, adding the lab's headers to the message that accepts a WebSocket (its 101 answer)."""

    async def sending(message):
        if message.get("type") == "websocket.accept":
            given = {bytes(name).lower() for name, _ in message.get("headers", [])}  # the probe names its process
            extra = [(name, value) for name, value in _HANDSHAKE_HEADERS if name not in given]
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return sending


async def _answering_failures(scope, receive, send):
    """The site's HTTP side; a 500 whose error page failed too still names its node and cause."""
    started = False

    async def sending(message):
        nonlocal started
        started = started or message.get("type") == "http.response.start"
        await send(message)

    try:
        return await _site(scope, receive, sending)
    except Exception as error:
        if started:
            raise
        from .errors import FALLBACK_BODY, fallback_headers

        headers = [(name.lower().encode(), value.encode("latin-1")) for name, value in fallback_headers(error)]
        await send({"type": "http.response.start", "status": 500, "headers": headers})
        await send({"type": "http.response.body", "body": FALLBACK_BODY})


async def application(scope, receive, send):
    if scope["type"] == "http":
        return await _answering_failures(scope, receive, send)
    if scope["type"] == "websocket":
        send = _with_lab_headers(send)
        if scope.get("path") == PROBE_PATH:
            from .channel_probe import probe

            return await probe(scope, receive, send)
    return await _site(scope, receive, send)
