"""The lab's own URLs under a reserved prefix, then the site's own root URLs, as they are: not included
under a prefix, since Django refuses i18n_patterns in an included URLconf (django CMS, multilingual
sites). The site's error handlers stay its own."""

import re
from importlib import import_module

from django.conf import settings
from django.urls import path, re_path
from django.views.static import serve

from . import views

PREFIX = "__lab__/"


def _media_route():
    """Each node serves its MEDIA_ROOT at MEDIA_URL, as the web server on each machine would: an upload
    saved on one node's disk is then a 404 from every other node, and found on all with shared media."""
    url, root = str(getattr(settings, "MEDIA_URL", "") or ""), str(getattr(settings, "MEDIA_ROOT", "") or "")
    if not root or not url.startswith("/") or url == "/" or "://" in url:
        return []
    return [re_path(rf"^{re.escape(url.lstrip('/'))}(?P<path>.+)$", serve, {"document_root": root}, name="lab-media")]


_site = import_module(settings.LAB_SITE_URLCONF)

urlpatterns = [
    path(f"{PREFIX}whoami", views.whoami, name="lab-whoami"),
    path(f"{PREFIX}client", views.client, name="lab-client"),
    *_media_route(),
    *getattr(_site, "urlpatterns", []),
]
for _handler in ("handler400", "handler403", "handler404", "handler500"):
    if hasattr(_site, _handler):
        globals()[_handler] = getattr(_site, _handler)
