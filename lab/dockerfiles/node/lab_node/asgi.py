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


async def application(scope, receive, send):
    if scope["type"] == "websocket" and scope.get("path") == PROBE_PATH:
        from .channel_probe import probe

        return await probe(scope, receive, send)
    return await _site(scope, receive, send)
