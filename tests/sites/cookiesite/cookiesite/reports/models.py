from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportRun(models.Model):
    """One run of the `record_report` task: which report, on which machine, when."""

    key = models.CharField(_("report key"), max_length=64, db_index=True)
    node = models.CharField(_("host that ran it"), max_length=255)
    at = models.DateTimeField(_("ran at"), auto_now_add=True)

    class Meta:
        ordering = ["at"]

    def __str__(self) -> str:
        return f"{self.key} on {self.node}"


class Heartbeat(models.Model):
    """Written by the periodic task that celery beat schedules every 10 seconds."""

    node = models.CharField(_("host that ran it"), max_length=255)
    at = models.DateTimeField(_("ran at"), auto_now_add=True)

    class Meta:
        ordering = ["at"]

    def __str__(self) -> str:
        return f"heartbeat on {self.node} at {self.at:%H:%M:%S}"
