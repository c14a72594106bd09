from __future__ import annotations

import signal
import socket
import time
import uuid
from datetime import timedelta as td
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils.timezone import now

from mysite.api.models import Check, Flip

# sendalerts pings a check of its own on every pass, so the dashboard shows
# when the alert sender itself stopped running.
SELF_CHECK_CODE = uuid.UUID("5e9d4c8e-0b6a-4f1e-9c43-0d7a3c1f2a61")


def notify(flip: Flip) -> str:
    check = flip.owner
    if check.user and check.user.email:
        send_mail(
            f"{check} is {flip.new_status.upper()}",
            f"{check} went {flip.new_status} at {flip.created:%Y-%m-%d %H:%M} UTC.",
            settings.DEFAULT_FROM_EMAIL,
            [check.user.email],
        )
    return f"{check.code} goes {flip.new_status}"


class Command(BaseCommand):
    help = "Sends UP/DOWN email alerts"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.shutdown = False

    def handle_going_down(self) -> bool:
        """Process a single check going down.

        Return True if the main loop should continue right away.
        """

        q = Check.objects.filter(alert_after__lt=now()).exclude(status="down")
        check = q.order_by("alert_after").first()
        if check is None:
            return False

        old_status = check.status
        q = Check.objects.filter(id=check.id, status=old_status)
        flip_time = check.going_down_after() or now()

        # Atomically update status
        num_updated = q.update(alert_after=None, status="down")
        if num_updated != 1:
            # Nothing got updated: another sendalerts process got there first.
            return True

        flip = Flip.objects.create(
            owner=check, created=flip_time, old_status=old_status, new_status="down"
        )
        self.stdout.write(notify(flip))
        Flip.objects.filter(id=flip.id).update(processed=now())
        return True

    def ping_self(self) -> None:
        check, _ = Check.objects.get_or_create(
            code=SELF_CHECK_CODE,
            defaults={"name": "sendalerts", "timeout": td(minutes=1), "grace": td(minutes=1)},
        )
        check.ping(remote_addr="127.0.0.1", ua=f"sendalerts on {socket.gethostname()}")

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        desc = signal.strsignal(signum)
        self.stdout.write(f"{desc}, finishing...\n")
        self.shutdown = True

    def handle(self, *args: Any, **options: Any) -> str:
        signal.signal(signal.SIGTERM, self.on_signal)
        signal.signal(signal.SIGINT, self.on_signal)

        self.stdout.write("sendalerts is now running\n")
        sent = 0
        while not self.shutdown:
            close_old_connections()
            while self.handle_going_down():
                sent += 1

            self.ping_self()
            time.sleep(settings.SENDALERTS_INTERVAL)

        return f"Sent {sent} alert(s)."
