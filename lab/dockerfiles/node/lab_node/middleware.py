from django.conf import settings
from django.db import DatabaseError, connections
from django.http import JsonResponse


class LabNodeMiddleware:
    """Name the serving node and its configuration on every response; answer /health before sessions."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.node = settings.LAB_NODE
        self.config_id = settings.LAB_CONFIG_ID

    def __call__(self, request):
        response = self.health() if request.path == "/health" else self.get_response(request)
        response["X-Lab-Node"] = self.node
        response["X-Lab-Config-Id"] = self.config_id
        return response

    def health(self):
        try:
            connections["default"].ensure_connection()
        except DatabaseError as error:
            return JsonResponse({"node": self.node, "ok": False, "error": str(error)}, status=503)
        return JsonResponse({"node": self.node, "ok": True})
