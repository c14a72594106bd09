"""The lab's own URLs under a reserved prefix, then the site's: the lab works the same on any site."""

from django.conf import settings
from django.urls import include, path

from . import views

PREFIX = "__lab__/"

urlpatterns = [
    path(f"{PREFIX}whoami", views.whoami, name="lab-whoami"),
    path("", include(settings.LAB_SITE_URLCONF)),
]
