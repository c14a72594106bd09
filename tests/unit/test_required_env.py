"""The variables a settings module cannot do without, named all at once: read from the settings module and
the project modules it imports, each read that has no default. No Docker."""

from lab import LabConfig
from lab.project.required_env import required_variables
from lab.run.load_errors import explain

from .projects import make

BASE = '''import environ
env = environ.Env()
DEBUG = env.bool("DJANGO_DEBUG", False)
DATABASES = {"default": env.db("DATABASE_URL")}
CELERY_BROKER_URL = env("CELERY_BROKER_URL")
TIME_ZONE = env("TZ", default="UTC")
LEVEL = env("LOG_LEVEL", str, "INFO")
'''
PRODUCTION = '''from .base import *  # noqa
from .base import env
import os
SECRET_KEY = env("DJANGO_SECRET_KEY")
ADMIN_URL = env.str("DJANGO_ADMIN_URL")
SENTRY_DSN = os.environ["SENTRY_DSN"]
REGION = os.environ.get("AWS_REGION")
'''
SITE = {"manage.py": "", "config/__init__.py": "", "config/settings/__init__.py": "",
        "config/settings/base.py": BASE, "config/settings/production.py": PRODUCTION}


def test_every_read_without_a_default_in_the_settings_and_what_they_import(tmp_path):
    site = make(tmp_path, SITE)
    found = [str(required) for required in required_variables(site, "config.settings.production")]
    assert found == ["DATABASE_URL (config/settings/base.py:4)", "CELERY_BROKER_URL (config/settings/base.py:5)",
                     "DJANGO_SECRET_KEY (config/settings/production.py:4)", "DJANGO_ADMIN_URL (config/settings/production.py:5)",
                     "SENTRY_DSN (config/settings/production.py:6)"]


def test_a_missing_variable_names_every_other_one_the_lab_does_not_set(tmp_path):
    site = make(tmp_path, {**SITE, "manage.py": "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings.production')\n"})
    config = LabConfig(site=str(site), env=(("DJANGO_ADMIN_URL", "x"),))
    output = ('  File "/srv/site/config/settings/production.py", line 5, in <module>\n    ADMIN_URL = env.str("DJANGO_ADMIN_URL")\n'
              "django.core.exceptions.ImproperlyConfigured: Set the DJANGO_ADMIN_URL environment variable\n")
    said = explain(output, config)
    # DATABASE_URL, CELERY_BROKER_URL and DJANGO_SECRET_KEY are the lab's own; the one that failed comes first.
    assert said.startswith("the site's settings config.settings.production need the environment variables DJANGO_ADMIN_URL "
                           "(config/settings/production.py:5: ADMIN_URL = env.str(\"DJANGO_ADMIN_URL\")), "
                           "SENTRY_DSN (config/settings/production.py:6): pass them with "
                           "`lab up --env DJANGO_ADMIN_URL=... --env SENTRY_DSN=...`"), said
    assert "DATABASE_URL" not in said and "CELERY_BROKER_URL" not in said


def test_debug_is_switched_off_the_way_the_settings_read_it(tmp_path):
    from lab.project.required_env import off_value

    numeric = make(tmp_path / "n", {"tabbycat/settings/core.py": "import os\nDEBUG = bool(int(os.environ['DEBUG']))\n"})
    strict = make(tmp_path / "s", {"hc/settings.py": 'DEBUG = envbool("DEBUG", "True")\n'})
    assert off_value(numeric) == "0" and off_value(strict) == "False"
