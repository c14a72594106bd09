"""`lab readiness --fix`: the patch applies to the site's own files and each hunk does what it says."""

import runpy
import subprocess

from lab.reports.fixes import build_patch
from lab.verdicts.hazards import Observed, judge

PLAIN_SETTINGS = '''"""Settings of a site written for one machine."""

SECRET_KEY = "django-insecure-made-up"
DEBUG = True
ALLOWED_HOSTS = ["example.com"]
SECURE_SSL_REDIRECT = True
'''

ENVIRON_SETTINGS = '''import environ

env = environ.Env()
SECRET_KEY = "django-insecure-made-up"
DEBUG = True
ALLOWED_HOSTS = ["example.com"]
'''


def observed(**first) -> Observed:
    return Observed(
        nodes=2, workers=2, nginx_host="t-nginx",
        first={"debug": True, "allowed_hosts": ["example.com"], "ssl_redirect": True, "proxy_ssl_header": None,
               "caches": {}, "databases": {"default": "django.db.backends.postgresql"}, **first},
        keys=({"secret_key_sha": "a"}, {"secret_key_sha": "b"}),
        host_check={"address": "10.0.0.5", "status": 400},
    )


def site(tmp_path, settings: str, procfile: str = "") -> None:
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    (tmp_path / "shop" / "settings.py").write_text(settings)
    if procfile:
        (tmp_path / "Procfile").write_text(procfile)


def apply(tmp_path, text: str) -> None:
    (tmp_path / "fix.patch").write_text(text)
    subprocess.run(["git", "apply", "fix.patch"], cwd=tmp_path, check=True, capture_output=True)


def test_the_patch_applies_and_each_setting_reads_the_environment(tmp_path, monkeypatch):
    site(tmp_path, PLAIN_SETTINGS, "web: python manage.py migrate && gunicorn shop.wsgi --log-file -\n")
    seen = observed()
    seen.migrate_hits = ["Procfile:1: web: python manage.py migrate && gunicorn shop.wsgi --log-file -"]
    patch = build_patch(tmp_path, "shop.settings", judge(seen), seen)
    assert set(patch.fixed) == {"secret_key_per_process", "debug_on", "allowed_hosts_hardcoded",
                                "ssl_redirect_behind_proxy", "health_check_by_address", "migrate_at_start"}
    assert patch.files == ["shop/settings.py", "Procfile"] and patch.left == {}
    apply(tmp_path, patch.text)
    monkeypatch.setenv("DJANGO_SECRET_KEY", "one-secret")
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", "lab-nginx,127.0.0.1")
    monkeypatch.delenv("DJANGO_DEBUG", raising=False)
    settings = runpy.run_path(str(tmp_path / "shop" / "settings.py"))
    assert settings["SECRET_KEY"] == "one-secret" and settings["DEBUG"] is False
    assert settings["ALLOWED_HOSTS"][:2] == ["lab-nginx", "127.0.0.1"] and len(settings["ALLOWED_HOSTS"]) == 3
    assert settings["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert (tmp_path / "Procfile").read_text() == "release: python manage.py migrate\nweb: gunicorn shop.wsgi --log-file -\n"
    assert "# lab readiness --fix: secret_key_per_process" in (tmp_path / "shop" / "settings.py").read_text()


def test_a_site_on_django_environ_gets_env_calls(tmp_path):
    site(tmp_path, ENVIRON_SETTINGS)
    seen = observed(ssl_redirect=False)
    patch = build_patch(tmp_path, "shop.settings", judge(seen), seen)
    assert 'SECRET_KEY = env("DJANGO_SECRET_KEY")' in patch.text
    assert 'DEBUG = env.bool("DJANGO_DEBUG", default=False)' in patch.text
    assert 'ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")' in patch.text
    assert "import os" not in patch.text


def test_what_no_settings_line_fixes_is_left_with_the_reason_and_media_needs_an_option(tmp_path):
    site(tmp_path, PLAIN_SETTINGS)
    seen = observed(caches={"default": {"backend": "django.core.cache.backends.locmem.LocMemCache"}},
                    debug=False, allowed_hosts=["t-nginx"], ssl_redirect=False)
    seen.keys = ({"secret_key_sha": "a"}, {"secret_key_sha": "a"})
    seen.cache_hits = ["shop/views.py:3: cache.incr(key)"]
    seen.address_hits = ["shop/views.py:9: ip = request.META['REMOTE_ADDR']"]
    seen.client_view = {"node": "node-1", "remote_addr": "10.0.0.9", "forwarded_for": "10.0.0.1"}
    seen.upload_hits = ["shop/views.py:5: request.FILES['photo']"]
    seen.wrote = {"node": "node-1", "media": {"name": "a.txt", "path": "/srv/a.txt"}, "storage": "FileSystemStorage"}
    seen.read = {"node": "node-2", "media_exists": False}
    patch = build_patch(tmp_path, "shop.settings", judge(seen), seen)
    assert "REMOTE_ADDR" in patch.left["client_address_behind_proxy"]
    assert patch.fixed == ["locmem_cache", "media_on_node_disk", "health_check_by_address"]
    assert 'MEDIA_ROOT = os.environ["MEDIA_ROOT"]' in patch.text and patch.options == ["--shared-media"]
    seen.wrote["storage"] = "S3Storage"
    assert "django-storages" in build_patch(tmp_path, "shop.settings", judge(seen), seen).left.get("media_on_node_disk", "")


def test_a_local_memory_default_cache_in_use_becomes_redis_from_redis_url(tmp_path, monkeypatch):
    site(tmp_path, 'import os\nCACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}\n')
    seen = observed(caches={"default": {"backend": "django.core.cache.backends.locmem.LocMemCache"}},
                    debug=False, allowed_hosts=["t-nginx"], ssl_redirect=False, installed_apps=["allauth.account"])
    seen.keys, seen.host_check = ({"secret_key_sha": "a"}, {"secret_key_sha": "a"}), {"status": 302}
    patch = build_patch(tmp_path, "shop.settings", judge(seen), seen)
    assert patch.fixed == ["locmem_cache"]
    apply(tmp_path, patch.text)
    monkeypatch.setenv("REDIS_URL", "redis://r:6379/1")
    settings = runpy.run_path(str(tmp_path / "shop" / "settings.py"))
    assert settings["CACHES"]["default"] == {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://r:6379/1"}
    from lab.project.site import needed_stores

    assert "redis" in needed_stores(tmp_path)  # so `lab up` runs a Redis for the site and sets REDIS_URL


APPS_WITH_A_SCHEDULER = '''"""The shop's app: a scheduler started with Django, as the APScheduler tutorials show."""
from __future__ import annotations

from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "shop"

    def ready(self):
        from . import jobs

        jobs.scheduler.add_job(jobs.digest, "interval", hours=1)
        jobs.scheduler.start()
'''


def test_a_scheduler_started_in_ready_is_guarded_by_the_variable_only_the_scheduler_machine_has(tmp_path, monkeypatch):
    import importlib.util
    import sys
    import types

    site(tmp_path, PLAIN_SETTINGS)
    (tmp_path / "shop" / "apps.py").write_text(APPS_WITH_A_SCHEDULER)
    (tmp_path / "shop" / "jobs.py").write_text("from apscheduler.schedulers.background import BackgroundScheduler\n")
    seen = observed(debug=False, allowed_hosts=["t-nginx"], ssl_redirect=False)
    seen.keys, seen.host_check = ({"secret_key_sha": "a"}, {"secret_key_sha": "a"}), {"status": 302}
    seen.schedulers = {"node-1": {"schedulers": [{"kind": "APScheduler", "running": True, "jobs": ["digest"]}]}}
    patch = build_patch(tmp_path, "shop.settings", judge(seen), seen)
    assert patch.fixed == ["scheduled_jobs"] and patch.files == ["shop/apps.py"] and patch.options == ["--scheduler"]
    apply(tmp_path, patch.text)
    text = (tmp_path / "shop" / "apps.py").read_text()
    assert text.index("from __future__") < text.index("import os")  # still a valid module
    # Run ready() with made-up Django and jobs modules: the scheduler starts only where the variable is set.
    started = []
    django_apps = types.ModuleType("django.apps")
    django_apps.AppConfig = type("AppConfig", (), {})
    jobs = types.ModuleType("shop.jobs")
    jobs.digest = None
    jobs.scheduler = types.SimpleNamespace(add_job=lambda *a, **k: None, start=lambda: started.append(1))
    for name, module in (("django", types.ModuleType("django")), ("django.apps", django_apps),
                         ("shop", types.ModuleType("shop")), ("shop.jobs", jobs)):
        monkeypatch.setitem(sys.modules, name, module)
    spec = importlib.util.spec_from_file_location("shop.apps", tmp_path / "shop" / "apps.py")
    apps = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(apps)
    monkeypatch.delenv("DJANGO_RUN_SCHEDULER", raising=False)
    apps.ShopConfig().ready()
    assert started == []
    monkeypatch.setenv("DJANGO_RUN_SCHEDULER", "1")
    apps.ShopConfig().ready()
    assert started == [1]
    # Guarded once, never twice.
    assert build_patch(tmp_path, "shop.settings", judge(seen), seen).files == []


def test_a_clock_line_needs_no_change_only_the_scheduler_machine(tmp_path):
    site(tmp_path, PLAIN_SETTINGS, "web: gunicorn shop.wsgi\nclock: python manage.py runapscheduler\n")
    seen = observed(debug=False, allowed_hosts=["t-nginx"], ssl_redirect=False)
    seen.keys, seen.host_check = ({"secret_key_sha": "a"}, {"secret_key_sha": "a"}), {"status": 302}
    seen.schedule_hits = ["Procfile:2: clock: python manage.py runapscheduler"]
    patch = build_patch(tmp_path, "shop.settings", judge(seen), seen)
    assert patch.text == "" and patch.options == ["--scheduler"]
    assert "runs `python manage.py runapscheduler` on one machine (Procfile: clock:" in patch.left["scheduled_jobs"]


def test_migrate_leaves_a_dockerfiles_cmd_and_an_entrypoint_script_with_a_note_where_it_goes(tmp_path):
    site(tmp_path, PLAIN_SETTINGS)
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.12\nRUN python manage.py collectstatic --noinput\n"
        "CMD set -xe; python manage.py migrate --noinput; gunicorn shop.wsgi:application\n"
    )
    (tmp_path / "entrypoint.sh").write_text(
        "#!/bin/bash\nset -e\nif [ -n \"$DB\" ]; then\n  python /app/manage.py migrate --noinput\nfi\nexec \"$@\"\n"
    )
    seen = observed(debug=False, allowed_hosts=["t-nginx"], ssl_redirect=False)
    seen.keys, seen.host_check = ({"secret_key_sha": "a"}, {"secret_key_sha": "a"}), {"status": 302}
    seen.migrate_hits = ["Dockerfile:3: CMD set -xe; python manage.py migrate --noinput; gunicorn shop.wsgi:application",
                         "entrypoint.sh:4: python /app/manage.py migrate --noinput"]
    patch = build_patch(tmp_path, "shop.settings", judge(seen), seen)
    assert patch.fixed == ["migrate_at_start"] and patch.files == ["Dockerfile", "entrypoint.sh"]
    apply(tmp_path, patch.text)
    dockerfile = (tmp_path / "Dockerfile").read_text().splitlines()
    assert dockerfile[-1] == "CMD set -xe; gunicorn shop.wsgi:application" and "once per release" in dockerfile[-2]
    script = (tmp_path / "entrypoint.sh").read_text()
    assert "migrate" not in script.replace("migrate_at_start", "").replace("migrate once", "")
    subprocess.run(["bash", "-n", str(tmp_path / "entrypoint.sh")], check=True)  # still a valid script
    from lab.project.site import migrate_at_start

    assert migrate_at_start(tmp_path) == []  # and the lab's own scan no longer finds it


def test_a_migrate_the_lab_cannot_take_out_is_left_with_where_it_is(tmp_path):
    site(tmp_path, PLAIN_SETTINGS)
    (tmp_path / "start").write_text("#!/bin/sh\nuntil python manage.py migrate 2>/dev/null | grep -q OK; do sleep 1; done\n")
    seen = observed(debug=False, allowed_hosts=["t-nginx"], ssl_redirect=False)
    seen.keys, seen.host_check = ({"secret_key_sha": "a"}, {"secret_key_sha": "a"}), {"status": 302}
    seen.migrate_hits = ["start:2: until python manage.py migrate 2>/dev/null | grep -q OK; do sleep 1; done"]
    patch = build_patch(tmp_path, "shop.settings", judge(seen), seen)
    assert patch.fixed == [] and patch.left["migrate_at_start"].endswith("start:2")


def test_a_shared_cache_adds_its_client_to_a_plain_requirements_file_else_says_so(tmp_path):
    from lab.reports.fixes import REDIS_CLIENT
    from lab.resources import DOCKERFILES

    assert REDIS_CLIENT in (DOCKERFILES / "node" / "requirements.txt").read_text().split()  # what the nodes run
    site(tmp_path, 'CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}\n')
    (tmp_path / "requirements.txt").write_text("Django==5.2\n")
    seen = observed(caches={"default": {"backend": "django.core.cache.backends.locmem.LocMemCache"}},
                    debug=False, allowed_hosts=["t-nginx"], ssl_redirect=False, installed_apps=["wagtail"])
    seen.keys, seen.host_check = ({"secret_key_sha": "a"}, {"secret_key_sha": "a"}), {"status": 302}
    patch = build_patch(tmp_path, "shop.settings", judge(seen), seen, requirements="requirements.txt")
    assert patch.files == ["shop/settings.py", "requirements.txt"]
    apply(tmp_path, patch.text)
    assert (tmp_path / "requirements.txt").read_text().splitlines()[1].startswith(REDIS_CLIENT)
    locked = build_patch(tmp_path, "shop.settings", judge(seen), seen, requirements="")
    assert "add redis==8.1.0 to the site's dependencies" in locked.left["redis package"]


def test_an_in_memory_channel_layer_becomes_channels_redis_with_its_package(tmp_path, monkeypatch):
    settings = 'import os\nCHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}\n'
    site(tmp_path, settings)
    (tmp_path / "requirements.txt").write_text("Django==5.1.4\nchannels==4.2.0\ndaphne==4.1.2\n")
    seen = observed(channel_layers={"default": "channels.layers.InMemoryChannelLayer"},
                    debug=False, allowed_hosts=["t-nginx"], ssl_redirect=False)
    seen.keys, seen.host_check = ({"secret_key_sha": "a"}, {"secret_key_sha": "a"}), {"status": 302}
    patch = build_patch(tmp_path, "shop.settings", judge(seen), seen, requirements="requirements.txt")
    assert patch.fixed == ["channels_in_memory"] and patch.files == ["shop/settings.py", "requirements.txt"]
    apply(tmp_path, patch.text)
    monkeypatch.setenv("REDIS_URL", "redis://:pw@r:6379/1")
    layer = runpy.run_path(str(tmp_path / "shop" / "settings.py"))["CHANNEL_LAYERS"]["default"]
    assert layer == {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": ["redis://:pw@r:6379/1"]}}
    assert "channels-redis==4.2.1" in (tmp_path / "requirements.txt").read_text()
