"""Two views that show what a session looks like from the node that served the request."""

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render


def visit(request) -> dict:
    """Count this request in the session and describe who is asking, and where it landed."""
    request.session["counter"] = request.session.get("counter", 0) + 1
    if not request.session.session_key:
        request.session.save()  # so a first anonymous visit already has a key to show
    return {
        "user": request.user.username if request.user.is_authenticated else None,
        "node": getattr(settings, "LAB_NODE", "runserver"),
        "session": (request.session.session_key or "")[:8],
        "counter": request.session["counter"],
    }


def home(request):
    return render(request, "home.html", visit(request))


def whoami(request):
    return JsonResponse(visit(request))
