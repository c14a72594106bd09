"""Probes the readiness report runs on the lab's real nodes: `python -m lab_node.probes NAME [ARGS]`
prints one JSON line. The lab judges; these only look.

- `settings`: the site's own settings module, imported the way a deployment would (the lab's environment),
  as plain facts.
- `key`: the SECRET_KEY the settings make without any key variable (hashed). Run in two processes, it
  shows a key made up per process.
- `write KEY`: on this node, put KEY in every cache of the site and save a file through default_storage.
- `read KEY NAME`: on another node, look for both.
- `forget NAME`: delete the probe's file again.
- `database`: PostgreSQL's max_connections, as the nodes see it.
- `deploy-check`: Django's own `check --deploy` on the site's settings.
- `channel-receive GROUP` and `channel-send GROUP TEXT`: on two machines at once, whether a message sent
  to a group through the site's channel layer (Django Channels) reaches a channel on the other machine.
- `schedulers`: what schedules jobs in the process serving on this machine (lab_node.schedulers), asked
  over HTTP, and the command lines of the machine's other processes.
- `task-send APP KEY...` and `task-runs PREFIX`: queue the lab's own Celery task (lab_node.tasks) through the
  site's app and broker, and list where each ran (the worker-down experiment).
- `host-check`: the site's front page asked on this node as a balancer's health check asks it: by the
  node's own address as the Host.
"""

import hashlib
import importlib
import json
import os
import subprocess
import sys

_KEY_VARIABLES = ("DJANGO_SECRET_KEY", "SECRET_KEY")
SITE_ROOT = "/srv/site/"


def _lab_environment(with_key=True):
    with open(os.environ.get("LAB_CONFIG_FILE", "/etc/lab/node.json")) as file:
        environment = json.load(file).get("environment", {})
    return {k: v for k, v in environment.items() if with_key or k not in _KEY_VARIABLES}


def site_key():
    """The SECRET_KEY the site's settings make when no key variable is set (hashed), or why they refuse."""
    for name in _KEY_VARIABLES:
        os.environ.pop(name, None)
    facts = site_settings(with_key=False)
    return {"secret_key_sha": facts.get("secret_key_sha"), "error": facts.get("error")}


def site_settings(with_key=True):
    """The site's settings as it would run them, plain data; secrets only as hashes."""
    from django.conf import global_settings

    os.environ.update(_lab_environment(with_key))
    before = set(sys.modules)
    try:
        site = importlib.import_module(os.environ["LAB_SITE_SETTINGS"])
    except Exception as error:  # noqa: BLE001 (whatever the site raises is the finding)
        return {"error": f"{type(error).__name__}: {error}"}
    settings_files = _settings_files(site, before)

    def get(name):
        return getattr(site, name, getattr(global_settings, name, None))

    key = get("SECRET_KEY") or ""
    return {
        "settings_files": settings_files,
        "secret_key_sha": hashlib.sha256(str(key).encode()).hexdigest()[:16] if key else None,
        "debug": bool(get("DEBUG")),
        "allowed_hosts": list(get("ALLOWED_HOSTS") or []),
        **_store_settings(site, get),
        **_app_settings(site),
        **_serving_settings(site, get),
    }


def _settings_files(site, before):
    """The settings that run: the site's files its settings module imported (modules new since `before`),
    itself first (a split settings package's local.py runs; its production.py, not imported, does not)."""
    loaded = [getattr(sys.modules[name], "__file__", None) or "" for name in set(sys.modules) - before]
    return sorted({path.removeprefix(SITE_ROOT) for path in loaded if path.startswith(SITE_ROOT)},
                  key=lambda path: (path != (getattr(site, "__file__", "") or "").removeprefix(SITE_ROOT), path))


def _store_settings(site, get):
    """Where the site keeps its data, sessions, cache entries and channel messages."""
    databases = get("DATABASES") or {}
    default = databases.get("default", {})
    caches = get("CACHES") or {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    return {
        "databases": {alias: entry.get("ENGINE", "") for alias, entry in databases.items()},
        "database_name": str(default.get("NAME", "")),
        "conn_max_age": default.get("CONN_MAX_AGE", 0),
        "session_engine": get("SESSION_ENGINE"),
        "session_file_path": get("SESSION_FILE_PATH"),
        "session_cache_alias": get("SESSION_CACHE_ALIAS"),
        "caches": {
            alias: {
                "backend": e.get("BACKEND", ""),
                "location": str(e.get("LOCATION", "")),
                "ignore_exceptions": bool((e.get("OPTIONS") or {}).get("IGNORE_EXCEPTIONS")),
            }
            for alias, e in caches.items()
        },
        "django_redis_ignore_exceptions": bool(getattr(site, "DJANGO_REDIS_IGNORE_EXCEPTIONS", False)),
        "channel_layers": {alias: (e or {}).get("BACKEND", "") for alias, e in (getattr(site, "CHANNEL_LAYERS", None) or {}).items()},
        "asgi_application": getattr(site, "ASGI_APPLICATION", None),
    }


def _app_settings(site):
    """What installed apps that count per client or keep state in the cache are told (see lab.verdicts.hazards)."""
    return {
        "app_settings": {
            name: repr(getattr(site, name))
            for name in (
                "ACCOUNT_RATE_LIMITS", "ALLAUTH_TRUSTED_PROXY_COUNT", "ALLAUTH_TRUSTED_CLIENT_IP_HEADER",
                "RATELIMIT_IP_META_KEY", "RATELIMIT_ENABLE", "AXES_IPWARE_PROXY_COUNT", "AXES_IPWARE_META_PRECEDENCE_ORDER",
                "AXES_HANDLER",
            )
            if hasattr(site, name)
        },
        # Versions of apps whose behaviour the verdicts name (django-allauth keys its rate limits by address from 0.55).
        "app_versions": _versions("django-allauth"),
        "drf_throttles": list(((getattr(site, "REST_FRAMEWORK", None) or {}).get("DEFAULT_THROTTLE_CLASSES")) or []),
    }


def _serving_settings(site, get):
    """How the site serves: https behind a proxy, its media, its middleware and apps, its scheduled jobs."""
    storages = get("STORAGES") or {}
    return {
        "ssl_redirect": bool(get("SECURE_SSL_REDIRECT")),
        "proxy_ssl_header": get("SECURE_PROXY_SSL_HEADER"),
        "media_root": str(get("MEDIA_ROOT") or ""),
        "default_storage": (storages.get("default") or {}).get("BACKEND") or get("DEFAULT_FILE_STORAGE") or "",
        "middleware": list(get("MIDDLEWARE") or []),
        "installed_apps": list(get("INSTALLED_APPS") or []),
        "celery_beat_schedule": bool(getattr(site, "CELERY_BEAT_SCHEDULE", None) or getattr(site, "CELERYBEAT_SCHEDULE", None)),
        "cronjobs": bool(getattr(site, "CRONJOBS", None)),
    }


def _setup():
    import django

    django.setup()


def write(key):
    """Put `key` in each of the site's caches and save a small file through default_storage."""
    _setup()
    from django.conf import settings
    from django.core.cache import caches
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    cache_results = {}
    for alias in settings.CACHES:
        if alias == getattr(settings, "SESSION_CACHE_ALIAS", None) and alias.startswith("lab_"):
            continue  # the lab's own session cache is not the site's
        try:
            caches[alias].set(key, "written by " + settings.LAB_NODE, 300)
            cache_results[alias] = "written"
        except Exception as error:  # noqa: BLE001
            cache_results[alias] = f"error: {type(error).__name__}: {error}"
    try:
        name = default_storage.save(f"lab-probe/{key}.txt", ContentFile(b"lab readiness probe"))
        media = {"name": name, "path": _path(default_storage, name), "error": None}
    except Exception as error:  # noqa: BLE001
        media = {"name": None, "path": None, "error": f"{type(error).__name__}: {error}"}
    storage = type(default_storage._wrapped).__name__  # set up by the save above
    return {
        "node": settings.LAB_NODE,
        "caches": cache_results,
        "media": media,
        "storage": storage,
        "file_fields": file_fields(),
    }


def file_fields():
    """Every model field that stores a file, the site's and its apps' (Wagtail's images, say)."""
    from django.apps import apps
    from django.db import models

    return sorted(
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.FileField)
    )


def _path(storage, name):
    try:
        return storage.path(name)
    except NotImplementedError:  # remote storage: no local path
        return None


def read(key, name):
    """Look for what `write` put on another node."""
    _setup()
    from django.conf import settings
    from django.core.cache import caches
    from django.core.files.storage import default_storage

    found = {}
    for alias in settings.CACHES:
        try:
            found[alias] = caches[alias].get(key)
        except Exception as error:  # noqa: BLE001
            found[alias] = f"error: {type(error).__name__}: {error}"
    exists = default_storage.exists(name) if name and name != "-" else None
    return {"node": settings.LAB_NODE, "caches": found, "media_exists": exists}


def forget(name):
    _setup()
    from django.core.files.storage import default_storage

    if name and name != "-":
        default_storage.delete(name)
    return {"deleted": name}


def database():
    _setup()
    from django.db import connections

    with connections["default"].cursor() as cursor:
        cursor.execute("SHOW max_connections")
        return {"max_connections": int(cursor.fetchone()[0])}


def host_check():
    """GET / on this node with the node's own address as Host, as a balancer's health check sends it."""
    import http.client
    import socket

    address = socket.gethostbyname(socket.gethostname())
    connection = http.client.HTTPConnection("127.0.0.1", 8000, timeout=10)
    try:
        connection.request("GET", "/", headers={"Host": f"{address}:8000"})
        status = connection.getresponse().status
    except OSError as error:
        return {"address": address, "status": None, "error": str(error)}
    finally:
        connection.close()
    return {"address": address, "status": status}


def _channel_layer():
    _setup()
    try:
        from channels.layers import get_channel_layer
    except ImportError:
        return None
    return get_channel_layer()


def channel_receive(group):
    """Join `group` with a new channel and wait up to 10 s for a message (what a connected user does)."""
    import asyncio

    layer = _channel_layer()
    if layer is None:
        return {"layer": None}

    async def wait():
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        try:
            message = await asyncio.wait_for(layer.receive(channel), 10)
            return message.get("text")
        except asyncio.TimeoutError:
            return None

    return {"layer": type(layer).__name__, "received": asyncio.run(wait())}


def channel_send(group, text):
    """Send `text` to `group` once a second for 6 s (the receiver may join a moment later)."""
    import asyncio

    layer = _channel_layer()
    if layer is None:
        return {"layer": None}

    async def send():
        for _ in range(6):
            await layer.group_send(group, {"type": "lab.probe", "text": text})
            await asyncio.sleep(1)

    asyncio.run(send())
    return {"layer": type(layer).__name__, "sent": text}


def schedulers():
    """The serving process's schedulers (its /__lab__/schedulers), and every process's command line."""
    import http.client

    answer = {"processes": []}
    for pid in sorted((name for name in os.listdir("/proc") if name.isdigit()), key=int):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as file:
                line = file.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        if line and "lab_node.probes" not in line:
            answer["processes"].append(line)
    connection = http.client.HTTPConnection("127.0.0.1", 8000, timeout=10)
    try:
        connection.request("GET", "/__lab__/schedulers", headers={"Host": "127.0.0.1"})
        response = connection.getresponse()
        body = response.read()
        answer.update(json.loads(body) if response.status == 200 else {"error": f"answered {response.status}"})
    except (OSError, ValueError) as error:
        answer["error"] = str(error)
    finally:
        connection.close()
    return answer


def _celery_app(name):
    """The site's Celery app: the module the worker's `-A` names (its `app` or `celery`), else Celery's current."""
    from celery import current_app

    module = importlib.import_module(name) if name else None
    for attribute in ("app", "celery_app", "celery"):
        found = getattr(module, attribute, None) if module is not None else None
        if found is not None and hasattr(found, "send_task"):
            return found
    return current_app


def task_send(app_name, *keys):
    """Queue the lab's own task (lab_node.tasks) once per key through the site's Celery app and broker."""
    _setup()
    app = _celery_app(app_name)
    from lab_node.tasks import ensure_table

    ensure_table()
    sent = [app.send_task("lab_node.record_run", args=[key]).id for key in keys]
    return {"sent": len(sent), "broker": str(app.conf.broker_url).split("@")[-1]}


def task_runs(prefix):
    """Every run of the lab's task whose key starts with `prefix`: key, machine, when."""
    _setup()
    from django.db import connection

    from lab_node.tasks import TABLE, ensure_table

    ensure_table()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, machine, at FROM {TABLE} WHERE key LIKE %s ORDER BY at", [prefix + "%"])
        return {"runs": [list(row) for row in cursor.fetchall()]}


def deploy_check():
    """Django's `check --deploy` on the site's own settings, in the lab's environment."""
    environment = {**os.environ, **_lab_environment(), "DJANGO_SETTINGS_MODULE": os.environ["LAB_SITE_SETTINGS"]}
    result = subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy"], capture_output=True, text=True, env=environment, timeout=60
    )
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    return {"exit": result.returncode, "lines": lines}


def _versions(*distributions: str) -> dict[str, str]:
    """Installed distributions' versions, by name (absent ones left out)."""
    import importlib.metadata

    found = {}
    for name in distributions:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return found


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lab_node.settings")
    probe, arguments = sys.argv[1], sys.argv[2:]
    actions = {"settings": site_settings, "key": site_key, "write": write, "read": read, "forget": forget, "database": database}
    actions["deploy-check"] = deploy_check
    actions["host-check"] = host_check
    actions["schedulers"] = schedulers
    actions["channel-receive"] = channel_receive
    actions["channel-send"] = channel_send
    actions["task-send"] = task_send
    actions["task-runs"] = task_runs
    print(json.dumps(actions[probe](*arguments), default=str))
