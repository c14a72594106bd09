import hashlib
import os

from django.conf import settings
from django.db import DatabaseError, connections
from django.http import JsonResponse

HEALTH = "/__lab__/health"
SCHEDULERS = "/__lab__/schedulers"


class LabNodeMiddleware:
    """On every response, whatever the site: the node, its configuration, the authenticated user's id and
    a hash of the session key; on an error page, its cause (X-Lab-Error, lab_node.errors). Answers the lab's health check, and what schedules jobs in this process
    (lab_node.schedulers, for readiness), before the site's middleware (its host and https checks)."""

    def __init__(self, get_response):
        from django.core.signals import got_request_exception

        from .errors import record

        got_request_exception.connect(record, dispatch_uid="lab_node.errors")  # the cause of every 500
        self.get_response = get_response
        self.node = settings.LAB_NODE
        self.config_id = settings.LAB_CONFIG_ID
        # Which version of the site answered (a rolling deploy has two): the image, and its release label.
        release = os.environ.get("LAB_RELEASE", "")
        self.version = os.environ.get("LAB_VERSION", "") + (f" {release}" if release else "")

    def __call__(self, request):
        if request.path == HEALTH:
            response = self.health()
        elif request.path == SCHEDULERS:
            from .schedulers import running

            response = JsonResponse({"node": self.node, **running()})
        else:
            response = self.get_response(request)
        response["X-Lab-Node"] = self.node
        response["X-Lab-Config-Id"] = self.config_id
        response["X-Lab-Version"] = self.version
        user = getattr(request, "user", None)
        response["X-Lab-User"] = str(user.pk) if user is not None and user.is_authenticated else ""
        session = getattr(request, "session", None)
        key = session.session_key if session is not None else None
        response["X-Lab-Session"] = hashlib.sha256(key.encode()).hexdigest()[:8] if key else ""
        if response.status_code >= 500 and getattr(request, "lab_error", ""):
            from .errors import header_value

            response["X-Lab-Error"] = header_value(request.lab_error)
        return response

    def health(self):
        try:
            connections["default"].ensure_connection()
        except DatabaseError as error:
            return JsonResponse({"node": self.node, "ok": False, "error": str(error)}, status=503)
        return JsonResponse({"node": self.node, "ok": True})


PROBE_HEADER = "HTTP_X_LAB_PROBE"
COUNTER = "lab_counter"  # the lab's own key in the session; a site's keys are left alone


class LabProbeMiddleware:
    """Just inside the session middleware: a request the lab marks as a probe (X-Lab-Probe) counts in the
    session, and its answer says the count and the user's name, so any page of any site is evidence."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if PROBE_HEADER not in request.META or session is None:
            return self.get_response(request)
        session[COUNTER] = session.get(COUNTER, 0) + 1  # saved by the session middleware on the way out
        response = self.get_response(request)
        response["X-Lab-Counter"] = str(session.get(COUNTER, ""))
        user = getattr(request, "user", None)
        response["X-Lab-Username"] = user.get_username() if user is not None and user.is_authenticated else ""
        return response
