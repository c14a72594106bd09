"""Settings every lab node runs: the site's own settings, then only what several nodes demand.

The lab writes its decisions (database, session backend, caches, SECRET_KEY, the environment a site
configured from it expects) to one JSON file, LAB_CONFIG_FILE. A switch writes the file again and
restarts gunicorn inside the running container, so the node keeps its container, volumes and address.
LAB_CONFIG_ID names the file's content; every answer carries it (X-Lab-Config-Id).

Every setting the lab changes is recorded in LAB_OVERRIDES with its reason: `lab up` prints them and
the readiness report lists them, so nothing is changed behind the developer's back.
"""

import hashlib
import importlib
import json
import os
import re

from django.conf import global_settings

with open(os.environ.get("LAB_CONFIG_FILE", "/etc/lab/node.json"), "rb") as _file:
    _raw = _file.read()
_lab = json.loads(_raw)
LAB_CONFIG_ID = hashlib.sha256(_raw).hexdigest()[:12]

# A site configured from its environment (DATABASE_URL, DJANGO_SECRET_KEY, REDIS_URL, ...) finds the
# lab's values there, as it would on a platform that sets them.
for _name, _value in _lab.get("environment", {}).items():
    os.environ.setdefault(_name, _value)

LAB_SITE_SETTINGS = os.environ.get("LAB_SITE_SETTINGS", "labsite.settings")
# While the site's settings import, Django's settings are the site's own, as in its deployment: a settings
# module that reads django.conf.settings as it loads (plane's `if settings.REDIS_SSL`) finds its own names.
# Whatever Django set up from them meanwhile is forgotten after, so the lab's settings (this module) win.
_lab_module, os.environ["DJANGO_SETTINGS_MODULE"] = os.environ.get("DJANGO_SETTINGS_MODULE"), LAB_SITE_SETTINGS
try:
    _site = importlib.import_module(LAB_SITE_SETTINGS)
finally:
    os.environ["DJANGO_SETTINGS_MODULE"] = _lab_module or "lab_node.settings"
    from django.conf import settings as _django_settings
    from django.utils.functional import empty as _empty

    if _django_settings._wrapped is not _empty and getattr(_django_settings._wrapped, "SETTINGS_MODULE", "") == LAB_SITE_SETTINGS:
        _django_settings._wrapped = _empty
globals().update({name: getattr(_site, name) for name in dir(_site) if name.isupper()})

LAB_OVERRIDES = []  # {"setting", "value", "reason"} for each setting the lab changed
_REASONS = _lab.get("reasons", {})


def _current(name):
    return globals().get(name, getattr(global_settings, name, None))


def _override(name, value, reason, shown=None):
    """Set `name` and record it when it differs from the site's value."""
    if _current(name) != value:
        LAB_OVERRIDES.append({"setting": name, "value": shown if shown is not None else repr(value), "reason": reason})
    globals()[name] = value


def _describe(value):
    """A short, secret-free description of a DATABASES or CACHES entry."""
    if isinstance(value, dict) and ("ENGINE" in value or "BACKEND" in value):
        engine = (value.get("ENGINE") or value.get("BACKEND")).rsplit(".", 1)[-1]
        where = str(value.get("HOST") or value.get("LOCATION") or "a local path")
        return f"{engine} at {re.sub(r'//[^@/]*@', '//', where)}"  # never a password
    return repr(value)


# Dict settings (DATABASES, CACHES) merge by alias: the lab sets "default" database and its own session
# cache, and the site's other aliases stay. Everything else is replaced.
for _name, _value in _lab["settings"].items():
    _reason = _REASONS.get(_name, "the session backend under test")
    if isinstance(_value, dict):
        _merged = dict(_current(_name) or {})
        for _alias, _entry in _value.items():
            if _merged.get(_alias) != _entry:
                LAB_OVERRIDES.append({"setting": f"{_name}[{_alias!r}]", "value": _describe(_entry), "reason": _reason})
            _merged[_alias] = _entry
        globals()[_name] = _merged
    else:
        _override(_name, _value, _reason)

LAB_NODE = os.environ.get("LAB_NODE", "unknown")
LAB_NODE_COMMANDS = _lab.get("commands", [])
LAB_SCHEDULER_COMMAND = _lab.get("scheduler_command", "")  # the scheduler machine's (lab up --scheduler)
LAB_MEMBER_COMMAND = _lab.get("member_command", "")  # a worker machine's process (the project's worker process type)
LAB_RELEASE_COMMANDS = _lab.get("release_commands", [])  # the project's own, run once per lab after migrate
LAB_RELEASE_SOURCES = _lab.get("release_sources", [])  # where the project declares each (Procfile:1 (release))
LAB_DEMO_USER = _lab.get("demo_user", "demo")
LAB_DEMO_PASSWORD = _lab.get("demo_password")  # only the one-off job that sets the demo user gets it

_override(
    "SECRET_KEY",
    _lab["secret_key"],
    "one key per lab: every node must sign sessions and CSRF tokens alike",
    shown="the lab's key",
)
# After `lab rotate-key`: sessions signed with an earlier key stay valid (Django >= 4.1).
SECRET_KEY_FALLBACKS = _lab.get("secret_key_fallbacks", [])
_override("DEBUG", False, "the lab serves like production does, behind nginx")

# The hosts and origins the lab is reached by, added to the site's own (not replaced by "*").
_hosts = _lab.get("hosts", [])
if "*" not in _current("ALLOWED_HOSTS"):
    _override(
        "ALLOWED_HOSTS",
        [*_current("ALLOWED_HOSTS"), *(h for h in _hosts if h not in _current("ALLOWED_HOSTS"))],
        "extended with the lab's hosts (nginx's address and name)",
    )
_origins = _lab.get("origins", [])
_override(
    "CSRF_TRUSTED_ORIGINS",
    [*_current("CSRF_TRUSTED_ORIGINS"), *(o for o in _origins if o not in _current("CSRF_TRUSTED_ORIGINS"))],
    "extended with the lab's URL, so its login forms post",
)


def _demands_https():
    """What in the site's own settings needs https: each one as `SETTING = value`."""
    reasons = []
    for name in ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"):
        if getattr(_site, name, False):
            reasons.append(f"{name} = {getattr(_site, name)!r}")
    if getattr(_site, "SECURE_HSTS_SECONDS", 0):
        reasons.append(f"SECURE_HSTS_SECONDS = {_site.SECURE_HSTS_SECONDS!r}")
    for name in ("SESSION_COOKIE_NAME", "CSRF_COOKIE_NAME", "LANGUAGE_COOKIE_NAME"):
        if str(getattr(_site, name, "")).startswith(("__Secure-", "__Host-")):
            reasons.append(f"{name} = {getattr(_site, name)!r} (a browser keeps it only over https)")
    return reasons


# nginx terminates https when the lab says so, or ("auto") when the site's settings demand it; then
# the site's security settings run as written. Over plain http they would lock a browser out.
LAB_HTTPS_REASONS = _demands_https()
LAB_HTTPS = _lab.get("https", "auto")
LAB_HTTPS = bool(LAB_HTTPS_REASONS) if LAB_HTTPS == "auto" else bool(LAB_HTTPS)
if not LAB_HTTPS:
    _HTTP = "the lab serves plain http; with it a browser could not use the lab's URL (lab up --https keeps it)"
    _override("SECURE_SSL_REDIRECT", False, _HTTP)
    _override("SECURE_HSTS_SECONDS", 0, _HTTP)
    _override("SESSION_COOKIE_SECURE", False, _HTTP)
    _override("CSRF_COOKIE_SECURE", False, _HTTP)
    for _name in ("SESSION_COOKIE_NAME", "CSRF_COOKIE_NAME", "LANGUAGE_COOKIE_NAME"):
        _value = str(_current(_name) or "")
        if _value.startswith(("__Secure-", "__Host-")):
            _override(_name, _value.split("-", 1)[1], _HTTP)
_override("SESSION_COOKIE_DOMAIN", None, "the lab is reached at its own address, not the site's domain")
_override("CSRF_COOKIE_DOMAIN", None, "the lab is reached at its own address, not the site's domain")
# What the site's build steps (django-compressor's `compress`, a front end's bundler) wrote into the site's
# own STATIC_ROOT lives in the image there: the lab's collection carries it into the volume nginx serves.
LAB_SITE_STATIC_ROOT = str(_current("STATIC_ROOT") or "")
if "django.contrib.staticfiles" in _current("INSTALLED_APPS"):
    _override("STATIC_ROOT", _lab.get("static_root", "/srv/static"), "collected once per lab into a volume nginx serves")

# django-allauth limits logins per account and per address, in the site's cache; behind one nginx every
# user has nginx's address, and the lab's virtual users log in as one account dozens of times a minute.
if "allauth.account" in _current("INSTALLED_APPS") and _current("ACCOUNT_RATE_LIMITS") is not False:
    _override(
        "ACCOUNT_RATE_LIMITS",
        {**(_current("ACCOUNT_RATE_LIMITS") or {}), "login": None, "login_failed": None},
        "the lab's virtual users log in as one account, many at once, all through nginx's one address: "
        "allauth's login limits would refuse them (its other limits stay)",
        shown="login and login_failed off",
    )

# The lab's own parts: an app, a middleware on each side of the session, and URLs under /__lab__/.
INSTALLED_APPS = [*_current("INSTALLED_APPS"), "lab_node"]
# The lab's database is PostgreSQL whatever the site's was; apps with PostgreSQL-only fields (Wagtail's
# search index) then need django.contrib.postgres installed, or Django's checks stop `migrate` (postgres.E005).
_engine = str(globals().get("DATABASES", {}).get("default", {}).get("ENGINE", ""))
if _engine.endswith("postgresql") and "django.contrib.postgres" not in INSTALLED_APPS:
    LAB_OVERRIDES.append({
        "setting": "INSTALLED_APPS",
        "value": "+ 'django.contrib.postgres'",
        "reason": "the lab's database is PostgreSQL: apps that use its fields need the app (Django's check postgres.E005)",
    })
    INSTALLED_APPS.insert(len(INSTALLED_APPS) - 1, "django.contrib.postgres")
_middleware = list(_current("MIDDLEWARE"))
_session_at = next((i for i, m in enumerate(_middleware) if m.endswith("SessionMiddleware")), len(_middleware) - 1)
_middleware.insert(_session_at + 1, "lab_node.middleware.LabProbeMiddleware")
MIDDLEWARE = ["lab_node.middleware.LabNodeMiddleware", *_middleware]
LAB_SITE_URLCONF = _current("ROOT_URLCONF")
LAB_SITE_ASGI = _current("ASGI_APPLICATION") or ""  # the site's own ASGI application, which lab_node.asgi wraps
ROOT_URLCONF = "lab_node.urls"
if not globals().get("LOGGING"):
    LOGGING = {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"console": {"class": "logging.StreamHandler"}},
        "root": {"handlers": ["console"], "level": "WARNING"},
    }
