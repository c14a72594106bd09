import uuid
from collections import defaultdict

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest
from django.http import JsonResponse
from django.views.decorators.http import require_http_methods

from .models import Heartbeat
from .models import ReportRun
from .tasks import record_report

MAX_REPORTS_PER_REQUEST = 100


@login_required
@require_http_methods(["GET", "POST"])
def enqueue_view(request: HttpRequest) -> JsonResponse:
    """Queue `n` report tasks, each with a key of its own, and say which keys."""
    try:
        n = int(request.GET.get("n", "1"))
    except ValueError:
        return JsonResponse({"error": "n must be a number"}, status=400)
    n = max(1, min(n, MAX_REPORTS_PER_REQUEST))
    batch = uuid.uuid4().hex[:8]
    keys = [f"{batch}-{i}" for i in range(n)]
    for key in keys:
        record_report.delay(key)
    return JsonResponse({"keys": keys})


def status_view(request: HttpRequest) -> JsonResponse:
    """Every run of every report, per key, and the heartbeats beat has scheduled."""
    runs = defaultdict(list)
    for run in ReportRun.objects.all():
        runs[run.key].append({"node": run.node, "at": run.at.isoformat()})
    heartbeats = [{"node": hb.node, "at": hb.at.isoformat()} for hb in Heartbeat.objects.all()]
    return JsonResponse({"runs": runs, "heartbeats": heartbeats})
