import socket

from celery import shared_task

from .models import Heartbeat
from .models import ReportRun


@shared_task()
def record_report(key: str) -> str:
    """Build the report named `key` (here: record that it was built, and where)."""
    node = socket.gethostname()
    ReportRun.objects.create(key=key, node=node)
    return node


@shared_task()
def record_heartbeat() -> str:
    node = socket.gethostname()
    Heartbeat.objects.create(node=node)
    return node
