from django.conf import settings
from django.db import DatabaseError, connections
from django.http import JsonResponse


class LabNodeMiddleware:
    """Name the serving node on every response, and answer /health before sessions are touched."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.node = settings.LAB_NODE

    def __call__(self, request):
        response = self.health() if request.path == "/health" else self.get_response(request)
        response["X-Lab-Node"] = self.node
        return response

    def health(self):
        try:
            connections["default"].ensure_connection()
        except DatabaseError as error:
            return JsonResponse({"node": self.node, "ok": False, "error": str(error)}, status=503)
        return JsonResponse({"node": self.node, "ok": True})
