"""The lab's own view: who is asking, as this node sees it, on any site."""

from django.conf import settings
from django.http import JsonResponse

from .middleware import COUNTER


def client(request):
    """What the node sees of the client behind nginx: REMOTE_ADDR and X-Forwarded-For (readiness)."""
    return JsonResponse(
        {
            "node": settings.LAB_NODE,
            "remote_addr": request.META.get("REMOTE_ADDR", ""),
            "forwarded_for": request.META.get("HTTP_X_FORWARDED_FOR", ""),
        }
    )


def whoami(request):
    """Count this request in the session and say who asks and where it landed, as JSON."""
    request.session[COUNTER] = request.session.get(COUNTER, 0) + 1
    if not request.session.session_key:
        request.session.save()  # so a first anonymous visit already has a key to show
    user = getattr(request, "user", None)
    return JsonResponse(
        {
            "user": user.get_username() if user is not None and user.is_authenticated else None,
            "node": settings.LAB_NODE,
            "session": (request.session.session_key or "")[:8],
            "counter": request.session[COUNTER],
        }
    )
