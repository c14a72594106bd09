"""The cause of every 500 a node answers, in one line, whatever the site's logging and DEBUG: the
exception's type and message and the last frame in the site's own code.

Django sends `got_request_exception` for every exception it turns into an error page; the receiver keeps
the cause on the request (LabNodeMiddleware answers it as X-Lab-Error, so the lab can quote it) and prints
it to the node's log (`lab logs node-N`), as `lab-node: error: GET /path: ...`. When the site's error page
fails too (its template needs what broke the page), the exception leaves Django: the node's WSGI and ASGI
entry points answer that 500 themselves, with the same headers (`fallback_headers`).
"""

import sys
import traceback

SITE = "/srv/site/"


def cause(error: BaseException) -> str:
    """`Type: message (file:line in the site's code)`, on one line."""
    frames = traceback.extract_tb(error.__traceback__)
    own = [frame for frame in frames if frame.filename.startswith(SITE)]
    frame = own[-1] if own else (frames[-1] if frames else None)
    where = f" ({frame.filename.removeprefix(SITE)}:{frame.lineno})" if frame else ""
    message = " ".join(str(error).split())[:240]
    return f"{type(error).__name__}: {message}{where}"


def record(sender, request=None, **kwargs) -> None:
    """got_request_exception's receiver: keep the cause for the answer's header, and log it."""
    error = sys.exc_info()[1]
    if error is None:
        return
    said = cause(error)
    if request is not None:
        if getattr(request, "lab_error", None):
            return  # the error page failed too: Django sends the signal again at each middleware, said once
        request.lab_error = said
    path = getattr(request, "path", "?")
    method = getattr(request, "method", "?")
    # Django logs the traceback to the console only with DEBUG on; the lab's log has it either way.
    print(f"lab-node: error: {method} {path}: {said}\n{traceback.format_exc()}", file=sys.stderr, flush=True)


def header_value(text: str) -> str:
    """A header's value: latin-1 only (non-ASCII escaped), one line."""
    return text.encode("ascii", "backslashreplace").decode()[:400]


def fallback_headers(error: BaseException) -> list[tuple[str, str]]:
    """The headers of a 500 the node answers itself: which node, and the cause, as LabNodeMiddleware would."""
    import os

    from django.conf import settings

    said = cause(error)
    own = "".join(traceback.format_exception(error, chain=False))
    print(f"lab-node: error: the site's error page failed too: {said}\n{own}", file=sys.stderr, flush=True)
    release = os.environ.get("LAB_RELEASE", "")
    return [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("X-Lab-Node", getattr(settings, "LAB_NODE", "")),
        ("X-Lab-Config-Id", getattr(settings, "LAB_CONFIG_ID", "")),
        ("X-Lab-Version", os.environ.get("LAB_VERSION", "") + (f" {release}" if release else "")),
        ("X-Lab-Error", header_value(said)),
    ]


FALLBACK_BODY = b"Internal Server Error (the site's error page failed too: X-Lab-Error names the cause)\n"
