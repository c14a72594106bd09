import os
import time

_started = time.monotonic()
from django.core.wsgi import get_wsgi_application  # noqa: E402 (timed: Django's import is part of a node's start)

application = get_wsgi_application()
# The lab's profile reads this line: how much of a node's start is the site and Django loading.
print(f"lab-node: django loaded in {time.monotonic() - _started:.3f} s (pid {os.getpid()})", flush=True)
