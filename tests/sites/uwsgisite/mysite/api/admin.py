from django.contrib import admin

from mysite.api.models import Check, Flip


@admin.register(Check)
class CheckAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "user", "status", "n_pings", "last_ping")
    list_filter = ("status",)


@admin.register(Flip)
class FlipAdmin(admin.ModelAdmin):
    list_display = ("owner", "created", "old_status", "new_status", "processed")
