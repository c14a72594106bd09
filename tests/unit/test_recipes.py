"""Build steps and release steps, read where projects keep them: a Dockerfile's RUN lines build the image
(with the environment the Dockerfile gives them), a Procfile's release runs once per lab, and a development
recipe is not read when a production one exists. No Docker."""

from lab import LabConfig
from lab.engines.images import build_steps
from lab.project.recipes import development_recipes, is_development
from lab.project.release_steps import found_steps

from .projects import make, read

MANAGE = "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings.local')\n"
SETTINGS = {"config/__init__.py": "", "config/settings/__init__.py": "", "config/settings/local.py": "SECRET_KEY = 'x'\n",
            "config/settings/production.py": "SECRET_KEY = 'y'\n", "manage.py": MANAGE}


def test_recipes_for_development_are_told_by_their_names_and_folders():
    for path in ("compose/local/django/Dockerfile", "Dockerfile-dev", "Dockerfile.dev", "docker-compose.local.yml",
                 "docker-compose.override.yml", ".devcontainer/Dockerfile", "docker/Dockerfile.test", "docker-compose.ci.yml",
                 "extras/docker/demo/Dockerfile"):  # a showcase instance, not the production recipe
        assert is_development(path), path
    for path in ("compose/production/django/Dockerfile", "Dockerfile", "docker/Dockerfile", "docker-compose.production.yml",
                 "deploy/Dockerfile", "Procfile", "docker/uwsgi.ini", "extras/docker/production/Dockerfile"):
        assert not is_development(path), path


def test_a_development_dockerfiles_steps_are_not_read_when_a_production_recipe_exists(tmp_path):
    site = make(tmp_path, {**SETTINGS,
        "compose/production/django/Dockerfile": "FROM python:3.13-slim\nRUN python manage.py collectstatic --noinput\n",
        "compose/local/django/Dockerfile": "FROM python:3.13\nRUN python manage.py tailwind_download\n",
        "Procfile": "release: python manage.py migrate\nweb: gunicorn config.wsgi\n"})
    assert {p.as_posix() for p in development_recipes(site)} == {"compose/local/django/Dockerfile"}
    assert "tailwind_download" not in [step.name for step in found_steps(site)]


def test_with_only_a_development_recipe_its_steps_are_read(tmp_path):
    site = make(tmp_path, {**SETTINGS, "Dockerfile.dev": "FROM python:3.13\nRUN python manage.py tailwind_download\n"})
    assert development_recipes(site) == set()
    assert [step.name for step in found_steps(site)] == ["tailwind_download"]


def test_a_run_line_is_a_build_step_with_its_dockerfiles_environment_and_its_own_prefix(tmp_path):
    site = make(tmp_path, {**SETTINGS, "docker/Dockerfile": (
        "FROM python:3.14-slim AS build\nENV STAGE=one\n"
        "FROM python:3.14-slim\nENV DJANGO_SETTINGS_MODULE=config.settings.production PATH=/venv/bin:$PATH \\\n"
        "    SITE_ROOT=http://localhost:8000\n"
        "RUN DEBUG=False SECRET_KEY=build-key ./manage.py compress --force && python manage.py collectstatic\n"
        'CMD ["./manage.py", "sendreports", "--loop"]\n')})
    steps = {step.name: step for step in found_steps(site)}
    compress = steps["compress"]
    assert (compress.action, compress.where) == ("build", "docker/Dockerfile:6 (RUN)")
    assert dict(compress.env) == {"DJANGO_SETTINGS_MODULE": "config.settings.production", "SITE_ROOT": "http://localhost:8000",
                                  "DEBUG": "False", "SECRET_KEY": "build-key"}  # not PATH, not the first stage's STAGE
    assert steps["collectstatic"].action == "lab" and steps["sendreports"].action == "run"


def test_a_build_step_runs_in_the_image_build_named_by_where_it_was_found(tmp_path):
    site = make(tmp_path, {**SETTINGS, "Dockerfile": "FROM python:3.13-slim\nRUN SECRET_KEY=k python manage.py compress\n"})
    lines = build_steps(read(LabConfig(site=str(site)))).build
    assert lines == ("lab-build-step 'Dockerfile:2 (RUN)' env DJANGO_SETTINGS_MODULE=config.settings.local SECRET_KEY=k "
                     "python manage.py compress",)


def test_a_database_file_the_repository_tracks_enters_the_image_and_a_local_one_does_not(tmp_path):
    import subprocess

    from lab.project.files import code_files

    site = make(tmp_path, {**SETTINGS, "search.db": "SQLite format 3\0", "db.sqlite3": "local", ".gitignore": "db.sqlite3\nsearch.db\n"})
    names = {name for name, _ in code_files(site)}
    assert "search.db" not in names and "db.sqlite3" not in names  # no repository: the documented list holds
    subprocess.run(["git", "init", "-q", str(site)], check=True)
    subprocess.run(["git", "-C", str(site), "add", "-f", "search.db", "manage.py"], check=True)  # committed despite .gitignore
    names = {name for name, _ in code_files(site)}
    assert "search.db" in names and "db.sqlite3" not in names


def test_a_hosting_platforms_app_spec_chooses_the_settings_when_manage_py_names_none(tmp_path):
    import pytest

    from lab.errors import ConfigError
    from lab.project.declared_env import declared_environment

    files = {"manage.py": "import os\n", "baby/__init__.py": "", "baby/settings/__init__.py": "",
             "baby/settings/base.py": "SECRET_KEY = 'x'\n", "baby/settings/development.py": "from .base import *\n"}
    bare = make(tmp_path / "bare", files)
    with pytest.raises(ConfigError, match=r"say it with --settings baby.settings.base \(its settings modules: "
                                          r"baby.settings.base, baby.settings.development\)"):
        read(LabConfig(site=str(bare)))
    spec = ("spec:\n  services:\n    - name: app\n      envs:\n        - key: DATABASE_URL\n          value: ${db.DATABASE_URL}\n"
            "        - key: DJANGO_SETTINGS_MODULE\n          scope: RUN_AND_BUILD_TIME\n          value: \"baby.settings.base\"\n")
    declared = make(tmp_path / "do", {**files, ".do/deploy.template.yaml": spec,
                                      "app.json": '{"env": {"DJANGO_CONFIGURATION": {"value": "Production"}, "SECRET_KEY": {"generator": "secret"}}}'})
    assert declared_environment(declared) == {"DJANGO_SETTINGS_MODULE": ("baby.settings.base", ".do/deploy.template.yaml"),
                                              "DJANGO_CONFIGURATION": ("Production", "app.json")}
    assert read(LabConfig(site=str(declared))).settings == "baby.settings.base"


def test_a_step_inside_a_start_scripts_condition_is_not_run_and_its_migrate_says_the_condition(tmp_path):
    from lab.project.site import migrate_at_start

    script = ('#!/bin/sh\nset -e\nif [ "$1" = \'/venv/bin/uwsgi\' ]; then\n    /venv/bin/python manage.py migrate --noinput\nfi\n'
              'if [ "x$DJANGO_LOAD_INITIAL_DATA" = \'xon\' ]; then\n    python manage.py load_initial_data\nfi\nexec "$@"\n')
    site = make(tmp_path, {**SETTINGS, "docker-entrypoint.sh": script, "Dockerfile": "FROM python:3.13\nCMD [\"uwsgi\"]\n",
                           "vagrant/provision.sh": "python manage.py migrate\n"})
    steps = {step.name: step for step in found_steps(site)}
    assert steps["load_initial_data"].action == "skip"
    assert steps["load_initial_data"].where.endswith("(only if [ \"x$DJANGO_LOAD_INITIAL_DATA\" = 'xon' ], line 6)")
    assert [str(hit) for hit in migrate_at_start(site)] == [
        "docker-entrypoint.sh:4: /venv/bin/python manage.py migrate --noinput   (only if [ \"$1\" = '/venv/bin/uwsgi' ])"]


def test_a_manage_py_that_links_to_the_real_one_names_the_real_projects_folder(tmp_path):
    from lab.project.site import find_manage_py, project_here

    site = make(tmp_path, {"tabbycat/manage.py": "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'settings')\n",
                           "tabbycat/settings/__init__.py": "", "Pipfile": "[packages]\n"})
    (site / "manage.py").symlink_to("tabbycat/manage.py")
    assert find_manage_py(site) == site / "tabbycat" and project_here(site) == site / "tabbycat"


def test_a_flag_the_production_recipe_sets_and_the_settings_read_picks_the_settings(tmp_path):
    from lab.project.declared_env import declared_environment

    site = make(tmp_path, {"manage.py": "", "settings/__init__.py": (
        "import os\nif os.environ.get('IN_DOCKER'):\n    from .docker import *\nelif os.environ.get('ON_HEROKU'):\n    pass\n"),
        "Dockerfile": "FROM python:3.11\nENV IN_DOCKER 1\nENV YUGLIFY_BINARY=/app/node_modules/.bin/yuglify\nENV UNREAD=1\n",
        "app.json": '{"env": {"ON_HEROKU": "1"}}'})
    # The image's flag the settings read; not a path of the author's image, nor another platform's flag.
    assert declared_environment(site) == {"IN_DOCKER": ("1", "Dockerfile")}


def test_a_step_in_an_else_branch_carries_the_branchs_own_condition(tmp_path):
    script = ('#!/bin/sh\nif [ -n "$SKIP" ]; then\n  echo skip\nelse\n  python manage.py trace_paths --no-input\nfi\n'
              'exec gunicorn config.wsgi\n')
    site = make(tmp_path, {**SETTINGS, "upgrade.sh": script})
    step = next(step for step in found_steps(site) if step.name == "trace_paths")
    assert step.action == "skip" and step.where == 'upgrade.sh:5 (only if not ([ -n "$SKIP" ]), line 4)'
    assert step.command == "python manage.py trace_paths --no-input"


def test_a_step_whose_arguments_are_its_scripts_variables_is_not_run_without_them(tmp_path):
    site = make(tmp_path, {**SETTINGS, "bin/docker-entrypoint-api.sh": (
        '#!/bin/bash\npython manage.py register_instance "$MACHINE_SIGNATURE"\npython manage.py configure_instance\n'
        'exec gunicorn -w "$GUNICORN_WORKERS" plane.asgi:application\n')})
    steps = {step.name: step for step in found_steps(site)}
    assert steps["register_instance"].action == "skip" and "$MACHINE_SIGNATURE" in steps["register_instance"].why
    assert steps["configure_instance"].action == "run"
