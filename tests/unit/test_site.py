"""Reading a site's folder: its settings module, its requirements, what its files do at start."""

import pytest

from lab.errors import ConfigError
from lab.project.site import (
    cache_users,
    migrate_at_start,
    needed_stores,
    scheduled_jobs,
    settings_choice,
    settings_module,
    uploads,
)

from .projects import make


def test_the_settings_module_comes_from_manage_py_or_is_checked(tmp_path):
    site = make(tmp_path, {"manage.py": 'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings.dev")\n',
                           "shop/settings/prod.py": ""})
    assert settings_module(site) == "shop.settings.dev"
    assert settings_module(site, "shop.settings.prod") == "shop.settings.prod"
    with pytest.raises(ConfigError, match="not in"):
        settings_module(site, "shop.settings.missing")
    with pytest.raises(ConfigError, match="dotted module"):
        settings_module(site, "../etc")
    with pytest.raises(ConfigError, match="--settings"):
        settings_module(make(tmp_path / "other", {"manage.py": "print()\n"}))


def test_production_settings_come_from_what_the_server_loads_before_manage_py(tmp_path):
    site = make(tmp_path, {
        "manage.py": 'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")\n',
        "config/wsgi.py": 'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")\n',
        "config/settings/local.py": "", "config/settings/production.py": "",
        "compose/production/django/start": "exec gunicorn config.wsgi --bind 0.0.0.0:5000\n",
    })
    module, why = settings_choice(site)
    assert module == "config.settings.production"
    assert "config/wsgi.py" in why and "manage.py names config.settings.local" in why
    make(site, {"Dockerfile": "FROM python:3.12\nENV DJANGO_SETTINGS_MODULE=config.settings.local\n"})
    assert settings_choice(site) == ("config.settings.local", "Dockerfile sets DJANGO_SETTINGS_MODULE")


def test_a_site_that_reads_redis_url_needs_redis_whatever_the_backend(tmp_path):
    site = make(tmp_path, {"config/settings.py": 'REDIS_URL = env("REDIS_URL")\n# "REDIS_URL" in a comment\n'})
    assert set(needed_stores(site)) == {"redis"}
    assert needed_stores(make(tmp_path / "plain", {"settings.py": "CACHES = {}\n"})) == {}


def test_start_files_that_migrate_and_schedulers_and_cache_and_upload_code(tmp_path):
    site = make(
        tmp_path,
        {
            "Procfile": "release: python manage.py migrate\nweb: gunicorn app.wsgi\n",
            "docker/entrypoint.sh": "#!/bin/sh\npython manage.py migrate --noinput\nexec gunicorn app.wsgi\n",
            "app/apps.py": "from apscheduler.schedulers.background import BackgroundScheduler\n",
            "app/views.py": "from django.core.cache import cache\n# cache.set( in a comment\n",
            "app/models.py": "    avatar = models.ImageField(upload_to='a')\n",
        },
    )
    assert [str(hit) for hit in migrate_at_start(site)] == ["docker/entrypoint.sh:2: python manage.py migrate --noinput"]
    assert [hit.file for hit in scheduled_jobs(site)] == ["app/apps.py"]
    assert [hit.line for hit in cache_users(site)] == [1]
    assert [hit.file for hit in uploads(site)] == ["app/models.py"]


def test_code_that_reads_remote_addr_or_keeps_state_per_process_is_found_with_file_and_line(tmp_path):
    from lab.project.site import client_address_readers, process_state

    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "views.py").write_text(
        "from functools import lru_cache\n\n"
        "@lru_cache(maxsize=None)\ndef prices():\n    return {}\n\n"
        "def view(request):\n    # REMOTE_ADDR in a comment is not a reader\n    ip = request.META['REMOTE_ADDR']\n"
        "    global HITS\n    HITS += 1\n"
    )
    assert [str(hit) for hit in client_address_readers(tmp_path)] == ["shop/views.py:9: ip = request.META['REMOTE_ADDR']"]
    assert [hit.line for hit in process_state(tmp_path)] == [3, 10]
    (tmp_path / "shop" / "views.py").write_text("def view(request):\n    return request.headers['X-Forwarded-For']\n")
    assert client_address_readers(tmp_path) == [] and process_state(tmp_path) == []


def test_migrate_in_a_script_render_runs_once_per_deploy_is_not_migrate_at_every_start(tmp_path):
    from lab.project.site import migrate_at_start

    (tmp_path / "build.sh").write_text("#!/usr/bin/env bash\npython manage.py collectstatic --no-input\npython manage.py migrate\n")
    (tmp_path / "start.sh").write_text("python manage.py migrate && gunicorn shop.wsgi\n")
    assert [hit.file for hit in migrate_at_start(tmp_path)] == ["build.sh", "start.sh"]
    (tmp_path / "render.yaml").write_text('services:\n  - type: web\n    buildCommand: "./build.sh"\n    startCommand: "./start.sh"\n')
    assert [hit.file for hit in migrate_at_start(tmp_path)] == ["start.sh"]  # the start command still runs it


def test_the_scheduler_machine_runs_a_clock_line_else_a_scheduler_command_else_the_site_itself(tmp_path):
    from lab.project.schedulers import ready_starts, scheduler_command

    (tmp_path / "manage.py").write_text("")
    assert scheduler_command(tmp_path) is None and ready_starts(tmp_path) == []
    commands = tmp_path / "shop" / "management" / "commands"
    commands.mkdir(parents=True)
    (commands / "runapscheduler.py").write_text("from apscheduler.schedulers.blocking import BlockingScheduler\n")
    (commands / "closepoll.py").write_text("print('no scheduler here')\n")
    assert scheduler_command(tmp_path)[0] == "python manage.py runapscheduler"
    (tmp_path / "Procfile").write_text("web: gunicorn shop.wsgi\nclock: python clock.py\n")
    assert scheduler_command(tmp_path) == ("python clock.py", "Procfile: clock: python clock.py")
