from __future__ import annotations

from uuid import UUID

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from mysite.api.models import Check


@csrf_exempt
def ping(request: HttpRequest, code: UUID) -> HttpResponse:
    try:
        check = Check.objects.get(code=code)
    except Check.DoesNotExist:
        return HttpResponse("not found", status=404)

    remote_addr = request.META.get("HTTP_X_FORWARDED_FOR", request.META["REMOTE_ADDR"])
    check.ping(remote_addr.split(",")[0], request.headers.get("User-Agent", "")[:200])
    response = HttpResponse("OK")
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def status(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as c:
        c.execute("SELECT 1")
        c.fetchone()

    return HttpResponse("OK")
