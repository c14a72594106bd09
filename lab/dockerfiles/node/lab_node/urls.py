"""The lab's own URLs under a reserved prefix, then the site's own root URLs, as they are: not included
under a prefix, since Django refuses i18n_patterns in an included URLconf (django CMS, multilingual
sites). The site's error handlers stay its own."""

from importlib import import_module

from django.conf import settings
from django.urls import path

from . import views

PREFIX = "__lab__/"
_site = import_module(settings.LAB_SITE_URLCONF)

urlpatterns = [
    path(f"{PREFIX}whoami", views.whoami, name="lab-whoami"),
    path(f"{PREFIX}client", views.client, name="lab-client"),
    *getattr(_site, "urlpatterns", []),
]
for _handler in ("handler400", "handler403", "handler404", "handler500"):
    if hasattr(_site, _handler):
        globals()[_handler] = getattr(_site, _handler)
