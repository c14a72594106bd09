from __future__ import annotations

import uuid
from datetime import timedelta as td

from django.conf import settings
from django.contrib.auth.models import User
from django.db import models
from django.utils.timezone import now

STATUSES = (("new", "New"), ("up", "Up"), ("down", "Down"))
DEFAULT_TIMEOUT = td(days=1)
DEFAULT_GRACE = td(hours=1)


class Check(models.Model):
    code = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    user = models.ForeignKey(User, models.CASCADE, null=True, blank=True)
    name = models.CharField(max_length=100, blank=True)
    created = models.DateTimeField(default=now)
    timeout = models.DurationField(default=DEFAULT_TIMEOUT)
    grace = models.DurationField(default=DEFAULT_GRACE)
    n_pings = models.IntegerField(default=0)
    last_ping = models.DateTimeField(null=True, blank=True)
    alert_after = models.DateTimeField(null=True, blank=True, editable=False)
    status = models.CharField(max_length=6, choices=STATUSES, default="new")

    def __str__(self) -> str:
        return self.name or str(self.code)

    def url(self) -> str:
        return settings.PING_ENDPOINT + str(self.code)

    def going_down_after(self):
        if self.last_ping is None:
            return None
        return self.last_ping + self.timeout + self.grace

    def ping(self, remote_addr: str, ua: str) -> None:
        self.n_pings = models.F("n_pings") + 1
        self.last_ping = now()
        self.status = "up"
        self.alert_after = self.going_down_after()
        self.save()
        self.refresh_from_db(fields=["n_pings"])
        Ping.objects.create(owner=self, n=self.n_pings, remote_addr=remote_addr, ua=ua)


class Ping(models.Model):
    owner = models.ForeignKey(Check, models.CASCADE)
    n = models.IntegerField(null=True)
    created = models.DateTimeField(default=now)
    remote_addr = models.GenericIPAddressField(blank=True, null=True)
    ua = models.CharField(max_length=200, blank=True)


class Flip(models.Model):
    owner = models.ForeignKey(Check, models.CASCADE)
    created = models.DateTimeField()
    processed = models.DateTimeField(null=True, blank=True)
    old_status = models.CharField(max_length=8, choices=STATUSES)
    new_status = models.CharField(max_length=8, choices=STATUSES)
