from django.conf import settings
from django.core.cache import cache
from django.urls import reverse

from projects.models import Project

MENU_CACHE_KEY = "site-menu"


def build_menu():
    menu = [
        {"title": "API", "url": reverse("api-root")},
        {"title": "Projects", "url": reverse("project-list")},
    ]
    for project in Project.objects.order_by("-updated")[:5]:
        menu.append({"title": project.name, "url": reverse("project-detail", args=[project.slug])})
    menu.append({"title": "Admin", "url": reverse("admin:index")})
    return menu


def site_menu(request):
    """The menu at the top of every HTML page, rebuilt at most every few minutes."""
    menu = cache.get(MENU_CACHE_KEY)
    if menu is None:
        menu = build_menu()
        cache.set(MENU_CACHE_KEY, menu, settings.SITE_MENU_CACHE_SECONDS)
    return {"site_menu": menu}
