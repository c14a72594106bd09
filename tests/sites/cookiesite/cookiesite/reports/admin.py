from django.contrib import admin

from .models import Heartbeat
from .models import ReportRun


@admin.register(ReportRun)
class ReportRunAdmin(admin.ModelAdmin):
    list_display = ["key", "node", "at"]
    search_fields = ["key"]


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ["node", "at"]
