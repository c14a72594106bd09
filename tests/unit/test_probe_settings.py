"""The node's `settings` probe reads a site's settings module as plain facts: the files that ran (itself
first), hashes for secrets, and Django's defaults for what the site leaves out. Django is stood in for."""

import hashlib
import importlib.util
import json
import sys
import types
from pathlib import Path

import pytest

NODE = Path(__file__).resolve().parents[2] / "lab" / "dockerfiles" / "node" / "lab_node"


def probes():
    spec = importlib.util.spec_from_file_location("lab_node_probes_settings", NODE / "probes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A split settings package (`shop.settings` imports its base and local files) under a site root."""
    package = tmp_path / "shop" / "settings"
    package.mkdir(parents=True)
    (tmp_path / "shop" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("from .base import *\nfrom .local import *\n")
    (package / "base.py").write_text(
        "SECRET_KEY = 'not-so-secret'\nDEBUG = True\nALLOWED_HOSTS = ['shop.example']\n"
        "DATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql', 'NAME': 'shop', 'CONN_MAX_AGE': 60},\n"
        "             'replica': {'ENGINE': 'django.db.backends.postgresql'}}\n"
        "CACHES = {'default': {'BACKEND': 'django_redis.cache.RedisCache', 'LOCATION': 'redis://r:6379/1',\n"
        "                      'OPTIONS': {'IGNORE_EXCEPTIONS': True}}}\n"
        "SESSION_ENGINE = 'django.contrib.sessions.backends.cache'\n"
        "CHANNEL_LAYERS = {'default': {'BACKEND': 'channels_redis.core.RedisChannelLayer'}}\n"
        "ACCOUNT_RATE_LIMITS = {'login_failed': '5/m/ip'}\n"
        "REST_FRAMEWORK = {'DEFAULT_THROTTLE_CLASSES': ['rest_framework.throttling.AnonRateThrottle']}\n"
        "STORAGES = {'default': {'BACKEND': 'storages.backends.s3.S3Storage'}}\n"
        "SECURE_PROXY_SSL_HEADER = ('HTTP_X_FORWARDED_PROTO', 'https')\n"
        "CELERY_BEAT_SCHEDULE = {'nightly': {}}\n"
    )
    (package / "local.py").write_text("MIDDLEWARE = ['django.middleware.security.SecurityMiddleware']\n")
    (package / "production.py").write_text("DEBUG = False\n")
    config = tmp_path / "node.json"
    config.write_text(json.dumps({"environment": {"LAB_SITE_SETTINGS": "shop.settings", "SECRET_KEY": "from-the-lab"}}))
    monkeypatch.setenv("LAB_CONFIG_FILE", str(config))
    monkeypatch.delenv("LAB_SITE_SETTINGS", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    django = types.ModuleType("django")
    conf = types.ModuleType("django.conf")
    conf.global_settings = types.SimpleNamespace(
        SESSION_ENGINE="django.contrib.sessions.backends.db", SESSION_CACHE_ALIAS="default",
        SESSION_FILE_PATH=None, MEDIA_ROOT="", INSTALLED_APPS=[], SECURE_SSL_REDIRECT=False,
    )
    django.conf = conf
    for name, module in (("django", django), ("django.conf", conf), ("django.conf.global_settings", conf.global_settings)):
        monkeypatch.setitem(sys.modules, name, module)
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        if name == "shop" or name.startswith("shop."):
            del sys.modules[name]


def test_the_settings_that_ran_read_as_plain_facts(site, monkeypatch):
    module = probes()
    monkeypatch.setattr(module, "SITE_ROOT", f"{site}/")
    facts = module.site_settings()
    # The settings module first; production.py, never imported, is not among them.
    assert facts["settings_files"] == [
        "shop/settings/__init__.py", "shop/__init__.py", "shop/settings/base.py", "shop/settings/local.py"
    ]
    assert facts["secret_key_sha"] == hashlib.sha256(b"not-so-secret").hexdigest()[:16]
    assert list(facts) == [
        "settings_files", "secret_key_sha", "debug", "allowed_hosts", "databases", "database_name", "conn_max_age",
        "session_engine", "session_file_path", "session_cache_alias", "caches", "django_redis_ignore_exceptions",
        "channel_layers", "asgi_application", "app_settings", "app_versions", "drf_throttles", "ssl_redirect",
        "proxy_ssl_header", "media_root", "default_storage", "middleware", "installed_apps", "celery_beat_schedule",
        "cronjobs",
    ]
    facts.pop("settings_files"), facts.pop("secret_key_sha"), facts.pop("app_versions")
    assert facts == {
        "debug": True,
        "allowed_hosts": ["shop.example"],
        "databases": {"default": "django.db.backends.postgresql", "replica": "django.db.backends.postgresql"},
        "database_name": "shop",
        "conn_max_age": 60,
        "session_engine": "django.contrib.sessions.backends.cache",
        "session_file_path": None,
        "session_cache_alias": "default",
        "caches": {"default": {"backend": "django_redis.cache.RedisCache", "location": "redis://r:6379/1", "ignore_exceptions": True}},
        "django_redis_ignore_exceptions": False,
        "channel_layers": {"default": "channels_redis.core.RedisChannelLayer"},
        "asgi_application": None,
        "app_settings": {"ACCOUNT_RATE_LIMITS": "{'login_failed': '5/m/ip'}"},
        "drf_throttles": ["rest_framework.throttling.AnonRateThrottle"],
        "ssl_redirect": False,
        "proxy_ssl_header": ("HTTP_X_FORWARDED_PROTO", "https"),
        "media_root": "",
        "default_storage": "storages.backends.s3.S3Storage",
        "middleware": ["django.middleware.security.SecurityMiddleware"],
        "installed_apps": [],
        "celery_beat_schedule": True,
        "cronjobs": False,
    }


def test_settings_that_do_not_import_are_the_finding(site, monkeypatch):
    (site / "shop" / "settings" / "local.py").write_text("raise RuntimeError('DATABASE_URL is not set')\n")
    assert probes().site_settings() == {"error": "RuntimeError: DATABASE_URL is not set"}
