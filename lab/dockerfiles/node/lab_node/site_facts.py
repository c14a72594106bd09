"""What the lab needs to know about a site, asked of Django itself: `python -m lab_node.site_facts` prints
one JSON line. Runs once per site image, in a one-off container, with no database needed.

With `--collect` it first collects the site's static files into the lab's volume, so that no node
starts before they are there (a manifest storage reads its manifest once, when a node first uses it).
"""

import importlib.util
import json
import os
import sys

import django

from lab_node.static_carry import carry_build_output


def _path(value, fallback):
    """A URL setting as a path: a URL name is reversed; an absolute URL (another host) gives the fallback."""
    from django.urls import NoReverseMatch, reverse

    value = str(value or fallback)
    if "/" not in value:
        try:
            return reverse(value)
        except NoReverseMatch:
            return fallback
    return fallback if "://" in value else value


def _resolves(path):
    from django.urls import Resolver404, resolve

    try:
        resolve(path)
        return True
    except Resolver404:
        return False


def facts():
    """The site as the lab runs it: Django's version, login and static URLs, the user model, overrides."""
    django.setup()
    from django.apps import apps
    from django.conf import settings
    from django.contrib.auth import get_user_model

    site = sys.modules[settings.LAB_SITE_SETTINGS]
    user_model = get_user_model()
    username_field = user_model.USERNAME_FIELD
    email_login = _email_login(user_model)
    login_url = _path(getattr(settings, "LOGIN_URL", None), "/accounts/login/")
    admin = apps.is_installed("django.contrib.admin")
    candidates = _login_candidates(login_url, admin)
    login_source = "LOGIN_URL"
    if not _resolves(login_url) and admin:
        login_url, login_source = _path("admin:login", "/admin/login/"), "the admin login (LOGIN_URL does not resolve)"
    redirect_set = hasattr(site, "LOGIN_REDIRECT_URL")
    static_url = _static_url()
    demo = settings.LAB_DEMO_USER
    return {
        "django": django.get_version(),
        "settings_module": settings.LAB_SITE_SETTINGS,
        "login_url": login_url,
        "login_source": login_source,
        "login_resolves": _resolves(login_url),
        "login_redirect_url": _path(settings.LOGIN_REDIRECT_URL, "/") if redirect_set else None,
        "username_field": username_field,
        "login_name": f"{demo}@example.com" if email_login else demo,
        "static_url": static_url,
        "admin": admin,
        "allauth": apps.is_installed("allauth.account"),
        "login_candidates": [c for i, c in enumerate(candidates) if c[0] not in [d[0] for d in candidates[:i]]],
        "https": settings.LAB_HTTPS,
        "https_reasons": settings.LAB_HTTPS_REASONS,
        "session_cookie": settings.SESSION_COOKIE_NAME,
        # An ASGI site (Channels, or ASGI_APPLICATION) is served by ASGI workers, WebSockets and all.
        "asgi_application": settings.LAB_SITE_ASGI or None,
        "channels": importlib.util.find_spec("channels") is not None,
        "channels_redis": importlib.util.find_spec("channels_redis") is not None,
        "overrides": settings.LAB_OVERRIDES,
    }


def _email_login(user_model):
    """Whether users log in by email: the user model's login field is one, or django-allauth asks for it."""
    from django.apps import apps
    from django.conf import settings
    from django.db import models

    username_field = user_model.USERNAME_FIELD
    field = user_model._meta.get_field(username_field)
    email_login = isinstance(field, models.EmailField) or username_field == "email"
    if apps.is_installed("allauth.account"):  # django-allauth may log in by email whatever the user model
        methods = getattr(settings, "ACCOUNT_LOGIN_METHODS", None) or {getattr(settings, "ACCOUNT_AUTHENTICATION_METHOD", "username")}
        email_login = email_login or set(methods) == {"email"}
    return email_login


def _login_candidates(login_url, admin):
    """Where a login form may be, in the order the lab tries them through nginx (a GET must find a form
    with a password field: a catch-all page URL "resolves" LOGIN_URL to a 404 page): [path, what it is]."""
    from django.apps import apps

    candidates = [[login_url, "LOGIN_URL"]]
    if apps.is_installed("wagtail.admin"):  # a CMS's own admin first: where its editors log in
        try:
            from django.urls import reverse

            candidates.append([reverse("wagtailadmin_login"), "Wagtail's admin login"])
        except Exception:  # noqa: BLE001 (a site that renamed or unmounted it)
            pass
    if admin:
        candidates.append([_path("admin:login", "/admin/login/"), "the admin's login"])
    return candidates


def _static_url():
    """The path static files are served under, with a leading slash; None without staticfiles or STATIC_URL."""
    from django.apps import apps
    from django.conf import settings

    static_url = None
    if apps.is_installed("django.contrib.staticfiles"):
        static_url = _path(settings.STATIC_URL, None) if settings.STATIC_URL else None
        if static_url and not static_url.startswith("/"):
            static_url = "/" + static_url
    return static_url


def collect() -> str:
    """Collect static files into STATIC_ROOT (the lab's volume), when the site uses staticfiles."""
    django.setup()
    from django.apps import apps
    from django.conf import settings
    from django.core.management import call_command

    if not apps.is_installed("django.contrib.staticfiles"):
        return "no django.contrib.staticfiles"
    call_command("collectstatic", interactive=False, verbosity=0)
    carried = carry_build_output(settings.LAB_SITE_STATIC_ROOT, str(settings.STATIC_ROOT))
    return f"static files collected into {settings.STATIC_ROOT}" + (f"; {carried}" if carried else "")



if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lab_node.settings")
    collected = collect() if "--collect" in sys.argv else None
    found = facts()
    found["collected"] = collected
    print(json.dumps(found))
