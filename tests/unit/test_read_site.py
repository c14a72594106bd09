"""read_site: a project folder read once into a Site, the value the plan, the images and the lab's state keep.
On the repository's fixture sites and the sample site, with what each says checked. No Docker."""

import json
from pathlib import Path

import pytest

from lab.errors import ConfigError
from lab.model.site import Site, SiteChoices
from lab.project.read import read_site
from lab.resources import SAMPLE_SITE

from .projects import make

SITES = Path(__file__).resolve().parent.parent / "sites"


def test_the_sample_site_declares_nothing_but_its_settings():
    site = read_site(SAMPLE_SITE)
    assert site.folder == str(SAMPLE_SITE.resolve())
    assert site.settings == "labsite.settings" and site.settings_files == ("labsite/__init__.py", "labsite/settings.py")
    assert site.interpreter.interpreter.version == "3.13" and site.dependencies is None
    assert site.processes == () and site.release_steps == () and site.worker_run is None and not site.declares_scheduler
    assert site.stores == () and site.debug_off == "False" and len(site.code_digest) == 12


@pytest.mark.parametrize("fixture, settings, python, kind, source", [
    ("allauthsite", "allauthsite.settings", "3.11", "requirements", "pyproject.toml [project] dependencies"),
    ("cookiesite", "config.settings.local", "3.13", "requirements", "requirements/production.txt"),
    ("emailsite", "emailsite.settings", "3.11", "poetry", "poetry.lock"),
    ("pipenvsite", "api.settings.production", "3.11", "requirements", "Pipfile.lock"),
    ("poetrysite", "shop.settings", "3.11", "poetry", "poetry.lock"),
    ("prodtemplate", "config.settings.production", "3.14", "uv", "uv.lock"),
    ("tutorial", "tutorial.settings", "3.11", "requirements", "requirements.txt"),
    ("wagtailsite", "wagtailsite.settings.dev", "3.14", "requirements", "requirements.txt"),
])
def test_each_fixture_site_is_read_as_its_files_say(fixture, settings, python, kind, source):
    site = read_site(SITES / fixture)
    assert site.folder == str((SITES / fixture).resolve())
    assert site.settings == settings and site.settings_files[-1] == settings.replace(".", "/") + ".py"
    assert site.interpreter.interpreter.version == python
    assert (site.dependencies.kind, site.dependencies.source) == (kind, source)


def test_the_settings_chain_is_the_module_and_what_it_imports_in_load_order():
    site = read_site(SITES / "prodtemplate")
    assert site.settings_files == ("config/__init__.py", "config/settings/__init__.py", "config/settings/base.py",
                                   "config/settings/production.py")
    assert "the site's WSGI server loads" in site.settings_why and "manage.py names config.settings.local" in site.settings_why


def test_process_types_and_what_the_lab_runs_of_them():
    site = read_site(SITES / "cookiesite")
    roles = {process.name: process.role for process in site.processes}
    assert roles == {"release": "release", "web": "web", "worker": "worker", "worker-beat": "scheduler",
                     "django": "web", "celeryworker": "worker", "celerybeat": "scheduler"}
    assert site.worker_run == ("celery -A config.celery_app worker -l INFO", "Procfile:3 (worker)")
    assert site.scheduler_run[0] == "celery -A config.celery_app beat -l INFO" and site.declares_scheduler
    assert site.stores == ("redis",) and site.redis_variables == ("REDIS_URL", "CELERY_BROKER_URL")
    web = read_site(SITES / "tutorial").processes
    assert [(p.name, p.role, p.where) for p in web] == [("web", "web", "Procfile:1 (web)")]
    assert "gunicorn tutorial.wsgi" in web[0].command


def test_release_steps_say_where_each_runs():
    assert [(step.name, step.action) for step in read_site(SITES / "poetrysite").release_steps] == [
        ("build", "run"), ("migrate", "lab")]
    assert [step.action for step in read_site(SITES / "prodtemplate").release_steps] == [
        "build-js", "build-js", "build", "lab"]


def test_the_choices_steer_the_reading():
    assert read_site(SITES / "cookiesite", SiteChoices(settings="config.settings.production")).settings == \
        "config.settings.production"
    in_env = read_site(SITES / "cookiesite", SiteChoices(env=(("DJANGO_SETTINGS_MODULE", "config.settings.test"),)))
    assert (in_env.settings, in_env.settings_why) == ("config.settings.test", "DJANGO_SETTINGS_MODULE in the site's environment")
    assert read_site(SITES / "tutorial", SiteChoices(python="3.13")).interpreter.interpreter.version == "3.13"
    given = read_site(SITES / "tutorial", SiteChoices(release_commands=("python manage.py one",)))
    assert [(step.command, step.action) for step in given.release_steps] == [("python manage.py one", "run")]


@pytest.mark.parametrize("choices, message", [
    (SiteChoices(settings="nope.settings"), "settings module 'nope.settings' is not in"),
    (SiteChoices(python="2.7"), "2.7"),
    (SiteChoices(groups=("nosuchgroup",)), "nosuchgroup"),
])
def test_what_needs_the_folder_is_refused_when_it_is_read(choices, message):
    with pytest.raises(ConfigError, match=message):
        read_site(SITES / "tutorial", choices)


def test_a_folder_without_manage_py_is_no_project(tmp_path):
    with pytest.raises(ConfigError, match=r"has no manage.py; point --site at a Django project folder"):
        read_site(tmp_path)


def test_a_folder_with_several_projects_below_names_none():
    with pytest.raises(ConfigError, match="has no manage.py"):
        read_site(SITES)  # one manage.py per fixture: which one is meant cannot be told


@pytest.mark.parametrize("fixture", ["cookiesite", "emailsite", "prodtemplate", "poetrysite"])
def test_a_site_goes_through_json_and_back_unchanged(fixture):
    site = read_site(SITES / fixture)
    assert Site.from_dict(json.loads(json.dumps(site.to_dict()))) == site


def test_the_code_digest_changes_with_the_code(tmp_path):
    folder = make(tmp_path, {"manage.py": "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'app.settings')\n",
                             "app/__init__.py": "", "app/settings.py": "SECRET_KEY = 'x'\n"})
    before = read_site(folder).code_digest
    (folder / "app" / "views.py").write_text("# a view\n")
    assert read_site(folder).code_digest != before
