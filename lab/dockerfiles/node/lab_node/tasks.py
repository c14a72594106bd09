"""The lab's own task, for the worker-down experiment: a Celery site's workers find it through the site's
`app.autodiscover_tasks()` (lab_node is an installed app). Each run writes one row to the lab's database:
which key ran, on which machine, when; so the lab judges every task (none lost, none run twice).

Imported only by Celery's autodiscovery, on a site that has Celery.
"""

import time

from celery import shared_task
from django.conf import settings
from django.db import connection

TABLE = "lab_task_runs"


def ensure_table() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (key text, machine text, at double precision)")


@shared_task(name="lab_node.record_run")
def record_run(key: str) -> str:
    """Record that this task ran here."""
    ensure_table()
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {TABLE} VALUES (%s, %s, %s)", [key, settings.LAB_NODE, time.time()])
    return settings.LAB_NODE
