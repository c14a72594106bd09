import os
import sys
import time

_started = time.monotonic()
from django.core.wsgi import get_wsgi_application  # noqa: E402 (timed: Django's import is part of a node's start)

from lab_node.errors import FALLBACK_BODY, fallback_headers  # noqa: E402

_django = get_wsgi_application()


def application(environ, start_response):
    """The site's application; a 500 whose error page failed too still names its node and cause."""
    try:
        return _django(environ, start_response)
    except Exception as error:
        start_response("500 Internal Server Error", fallback_headers(error), sys.exc_info())
        return [FALLBACK_BODY]


# The lab's profile reads this line: how much of a node's start is the site and Django loading.
print(f"lab-node: django loaded in {time.monotonic() - _started:.3f} s (pid {os.getpid()})", flush=True)
