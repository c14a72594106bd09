"""How the lab reads a project as its author keeps it: the Python it declares, its dependencies (files,
groups, locks), the files that enter its image, the steps it runs before serving. No Docker."""

import json

import pytest

from lab.errors import ConfigError
from lab.project.dependencies import from_folder, poetry_requirement, where_module_is
from lab.project.env_file import parse
from lab.project.files import code_files, env_files
from lab.project.interpreters import choose
from lab.project.release_steps import found_steps, plan_steps

from .projects import make, read


@pytest.mark.parametrize(
    "files, version, says",
    [
        ({"runtime.txt": "python-3.10.2\n"}, "3.11", "runtime.txt asks 3.10; closest here: 3.11 (Debian bookworm)"),
        ({".python-version": "3.13.1\n"}, "3.13", ".python-version asks 3.13: 3.13 (Debian trixie)"),
        ({"pyproject.toml": '[project]\nrequires-python = "==3.14.*"\n'}, "3.14", "asks 3.14: 3.14 (Debian forky)"),
        ({"pyproject.toml": '[project]\nrequires-python = ">=3.10,<3.13"\n'}, "3.11", "asks >=3.10,<3.13"),
        ({"Dockerfile": "FROM python:3.12-slim AS build\n"}, "3.11", "Dockerfile FROM python:3.12-slim asks 3.12"),
        ({"pyproject.toml": '[tool.poetry.dependencies]\npython = "^3.12"\n'}, "3.13", "asks ^3.12"),
        ({}, "3.13", "declares no Python"),
    ],
)
def test_the_python_a_project_declares_becomes_the_closest_debian_has(tmp_path, files, version, says):
    choice = choose(make(tmp_path, files))
    assert choice.interpreter.version == version and says in choice.reason, choice.reason


def test_python_is_chosen_with_a_flag_and_an_unknown_one_is_refused(tmp_path):
    assert choose(tmp_path, "3.11").reason == "--python 3.11"
    with pytest.raises(ConfigError, match="3.11, 3.13, 3.14"):
        choose(tmp_path, "3.12")


def test_requirements_files_with_includes_a_folder_and_groups(tmp_path):
    site = make(tmp_path / "a", {
        "requirements.txt": "-r requirements/production.txt\n",
        "requirements/base.txt": "Django==5.2.19\n",
        "requirements/production.txt": "-r base.txt\nuWSGI==2.0.31\n-e .\n",
        "requirements/local.txt": "-r base.txt\ndjango-debug-toolbar==8.0.0\n",
    })
    chosen = from_folder(site)
    assert chosen.files["requirements.txt"].decode() == "Django==5.2.19\nuWSGI==2.0.31\n"
    assert chosen.other_groups == ("local",)  # base and production are included already
    with_local = from_folder(site, ("local",))
    assert with_local.files["requirements.txt"].decode().endswith("django-debug-toolbar==8.0.0\n")
    with pytest.raises(ConfigError, match="no such group; its groups: local"):
        from_folder(site, ("dev",))
    folder_only = make(tmp_path / "b", {"requirements/base.txt": "Django\n", "requirements/production.txt": "-r base.txt\ngunicorn\n"})
    assert from_folder(folder_only).source == "requirements/production.txt"


def test_pyproject_dependency_groups_and_extras(tmp_path):
    site = make(tmp_path, {"pyproject.toml": """
[project]
name = "x"
dependencies = ["Django==5.2.19"]
[project.optional-dependencies]
s3 = ["django-storages==1.14"]
[dependency-groups]
test = ["pytest"]
dev = [{include-group = "test"}, "django-debug-toolbar"]
"""})
    assert from_folder(site).files["requirements.txt"].decode() == "Django==5.2.19\n"
    both = from_folder(site, ("dev", "s3")).files["requirements.txt"].decode().split()
    assert both == ["Django==5.2.19", "pytest", "django-debug-toolbar", "django-storages==1.14"]
    assert "dependency group 'dev'" in where_module_is(site, "debug_toolbar")
    assert "--group s3" in where_module_is(site, "storages")


def test_locks_are_installed_as_locked_by_their_own_tools(tmp_path):
    uv = make(tmp_path / "uv", {"pyproject.toml": '[project]\nname="x"\ndependencies=[]\n[dependency-groups]\ndev=["x"]\n',
                                "uv.lock": "version = 1\n"})
    chosen = from_folder(uv, ("dev",))
    assert chosen.kind == "uv" and set(chosen.files) == {"pyproject.toml", "uv.lock"}
    assert json.loads(chosen.spec()) == {"kind": "uv", "groups": ["dev"], "extras": []}
    poetry = make(tmp_path / "poetry", {"pyproject.toml": "[tool.poetry.dependencies]\npython='^3.11'\ndjango='5.2.19'\n"
                                        "[tool.poetry.group.dev.dependencies]\npytest='*'\n", "poetry.lock": ""})
    assert from_folder(poetry).kind == "poetry" and from_folder(poetry).other_groups == ("dev",)
    pipenv = make(tmp_path / "pipenv", {"Pipfile.lock": json.dumps({
        "_meta": {}, "default": {"django": {"version": "==5.2.19"}, "psycopg": {"extras": ["binary"], "version": "==3.2.9"},
                                 "tzdata": {"version": "==2025.2", "markers": "sys_platform == 'win32'"}},
        "develop": {"pytest": {"version": "==9.2.0"}}})})
    lines = from_folder(pipenv).files["requirements.txt"].decode().splitlines()
    assert lines == ["django==5.2.19", "psycopg[binary]==3.2.9", "tzdata==2025.2 ; sys_platform == 'win32'"]
    assert from_folder(pipenv, ("dev",)).files["requirements.txt"].decode().endswith("pytest==9.2.0\n")


@pytest.mark.parametrize(
    "name, constraint, line",
    [
        ("django", "^4.2.1", "django>=4.2.1,<5"),
        ("wagtail", "~6.1", "wagtail>=6.1,<6.2"),
        ("pkg", "^0.3", "pkg>=0.3,<0.4"),
        ("psycopg", {"version": "3.2.9", "extras": ["binary"]}, "psycopg[binary]==3.2.9"),
        ("gunicorn", "*", "gunicorn"),
        ("python", "^3.11", None),
        ("local", {"path": "../lib"}, None),
    ],
)
def test_poetry_constraints_become_requirements(name, constraint, line):
    assert poetry_requirement(name, constraint) == line


def test_only_code_enters_the_image_and_dockerignore_is_honoured(tmp_path):
    site = make(tmp_path, {
        "manage.py": "", "app/views.py": "", ".env": "SECRET=1\n", "config/.env": "X=1\n", "db.sqlite3": "",
        "venv-of-mine/pyvenv.cfg": "", "venv-of-mine/lib/x.py": "", "node_modules/a/index.js": "",
        ".git/HEAD": "", "media/upload.png": "", "app/__pycache__/v.pyc": "", "docs/notes.md": "",
        "docs/keep.md": "", "app/static/app.css": "",
        ".dockerignore": "# comment\n/docs/\n!docs/keep.md\n**/*.md\n",
    })
    names = sorted(name for name, _ in code_files(site))
    assert names == [".dockerignore", "app/static/app.css", "app/views.py", "manage.py"]
    assert env_files(site) == {".env": "SECRET=1\n", "config/.env": "X=1\n"}


def test_release_steps_are_read_where_projects_declare_them(tmp_path):
    site = make(tmp_path, {
        "Procfile": "release: python manage.py migrate && python manage.py createcachetable\n"
                    "web: gunicorn app.wsgi\n",
        "Dockerfile": "FROM python:3.12\nRUN DATABASE_URL='' python manage.py compilemessages \\\n  --ignore=.venv\n"
                      "RUN python manage.py collectstatic --noinput\nCMD [\"python\", \"manage.py\", \"runserver\"]\n",
        "compose/production/django/start": "#!/bin/bash\npython /app/manage.py compress --force\nexec gunicorn config.wsgi\n",
    })
    steps = {step.name: step for step in found_steps(site)}
    assert set(steps) == {"migrate", "createcachetable", "compilemessages", "collectstatic", "compress"}
    assert steps["migrate"].action == "lab" and steps["collectstatic"].action == "lab"
    assert steps["compilemessages"].action == "build"
    assert steps["compilemessages"].command == "python manage.py compilemessages --ignore=.venv"
    assert steps["createcachetable"].action == "run" and steps["createcachetable"].where == "Procfile:1 (release)"
    assert steps["compress"].command == "python manage.py compress --force"
    given = plan_steps(site, ("python manage.py build_assets",))
    assert [(step.command, step.action) for step in given] == [("python manage.py build_assets", "run")]


def test_a_front_end_build_runs_in_the_build_stage_with_node(tmp_path):
    from lab import LabConfig
    from lab.engines.images import build_steps, image_specs

    site = make(tmp_path, {
        "manage.py": 'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "app.settings")\n', "app/settings.py": "",
        "frontend/package.json": '{"scripts": {"build": "vite build"}}', "frontend/package-lock.json": "{}",
        "Dockerfile": "FROM node:20 AS assets\nRUN npm cache clean --force\nRUN npm run build\nCMD npm run dev\n"
                      "FROM python:3.13\nRUN python manage.py compilemessages\n",
    })
    steps = [(step.command, step.action) for step in found_steps(site)]
    assert steps == [("npm run build", "build-js"), ("python manage.py compilemessages", "build")]
    config = LabConfig(site=str(site))
    steps = build_steps(read(config))
    # npm ci as its lock says, though the Dockerfile named only the build; each step named for its failure.
    assert steps.install == ("lab-build-step package.json bash -c 'cd frontend && npm ci'",)
    assert steps.frontend == ("lab-build-step 'Dockerfile:3 (RUN)' bash -c 'cd frontend && npm run build'",)
    assert steps.build == ("lab-build-step 'Dockerfile:6 (RUN)' env -u DJANGO_SETTINGS_MODULE django-admin compilemessages",)
    assert [name for name, _ in steps.manifests] == ["site/frontend/package.json", "site/frontend/package-lock.json"]
    site_image = image_specs(config)["site"]
    assert site_image.build_args["WITH_NODE"] == "1" and "FRONTEND_IMAGE" not in site_image.build_args
    # One stage: the front end's build, then the site's own steps, in that order.
    assert site_image.generated["build-steps"].decode().splitlines()[1:] == [*steps.frontend, *steps.build]
    assert image_specs(config)["release"].build_args["PACKAGES"] == "gettext nodejs"  # collectstatic's tools


def test_a_front_end_that_asks_for_a_newer_node_is_built_on_the_release_that_has_it(tmp_path):
    from lab import LabConfig
    from lab.engines.images import base_tag, build_steps, image_specs

    site = make(tmp_path, {
        "manage.py": 'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "app.settings")\n', "app/settings.py": "",
        ".python-version": "3.13\n", "package-lock.json": "{}",
        "package.json": '{"scripts": {"build:prod": "webpack"}, "engines": {"node": ">= 24", "npm": ">= 7"}}',
        "Dockerfile": "FROM node:24-trixie-slim AS node-builder\nRUN npm ci\nRUN npm run build:prod\n"
                      "FROM python:3.13-slim-trixie\nRUN python manage.py compilemessages\n",
    })
    config = LabConfig(site=str(site))
    assert read(config).interpreter.interpreter.suite == "trixie"  # whose Node.js is 20
    steps = build_steps(read(config))
    assert steps.node_suite == "forky"
    site_image = image_specs(config)["site"]
    assert site_image.dockerfile_dir.name == "site-build-frontend" and site_image.suite == "forky"
    assert site_image.build_args["FRONTEND_IMAGE"] == base_tag("forky")
    assert site_image.generated["frontend-steps"].decode().splitlines()[1:] == [
        "lab-build-step 'Dockerfile:3 (RUN)' bash -c 'cd . && npm run build:prod'"]
    assert "compilemessages" in site_image.generated["build-steps"].decode()
    assert "npm" not in site_image.generated["build-steps"].decode()


@pytest.mark.parametrize("engines, major", [
    (">= 24", 24), (">=22.12.0", 22), ("^20.19.0 || >=22.12.0", 20), ("20.x", 20), ("v18", 18), (">16", 17),
    ("<23", 0), ("*", 0), ("", 0),
])
def test_the_node_major_a_package_json_asks_for(engines, major):
    from lab.project.node_versions import wanted_major

    assert wanted_major(engines) == major


def test_the_release_whose_node_builds_the_front_end(tmp_path):
    from lab.project.node_versions import frontend_suite

    package = tmp_path / "package.json"
    package.write_text('{"engines": {"node": ">=20"}}')
    assert frontend_suite(package, "trixie") == "" and frontend_suite(package, "bookworm") == "trixie"
    package.write_text('{"engines": {"node": ">=26"}}')
    assert frontend_suite(package, "trixie") == ""  # none has it: npm's own refusal, with the lab's advice
    package.write_text('{"name": "x"}')
    assert frontend_suite(package, "bookworm") == "" and frontend_suite(None, "bookworm") == ""
    package.write_text('not json')
    assert frontend_suite(package, "bookworm") == ""


def test_env_files_read_as_dotenv_tools_read_them():
    text = 'export A=1\nB="two words" \nC=\'${A}\'\nD="${A}-x"\n# comment\nE=plain # note\n\n'
    assert parse(text) == [("A", "1"), ("B", "two words"), ("C", "${A}"), ("D", "1-x"), ("E", "plain")]
    with pytest.raises(ConfigError, match="not a KEY=VALUE"):
        parse("just words\n", ".env")


def test_a_quoted_value_may_span_lines_as_a_pem_key_does():
    key = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----"
    text = f'DEBUG=0\nJWT_KEY="{key}"\nCOPY="${{JWT_KEY}}"\nAFTER=1\n'
    assert parse(text) == [("DEBUG", "0"), ("JWT_KEY", key), ("COPY", key), ("AFTER", "1")]


def test_a_line_that_is_not_key_value_is_named_by_its_file_and_line(monkeypatch):
    monkeypatch.setenv("FROM_THIS_MACHINE", "x")
    assert parse("A=${FROM_THIS_MACHINE}\nB=${MISSING:-fallback}\n") == [("A", ""), ("B", "fallback")]
    for text, line in (("A=1\n\n# note\njust words\n", 4), ('A=1\nB="never closed\nC=2\n', 2), ("A=1\nJUST\n", 2)):
        with pytest.raises(ConfigError, match=rf"^deploy/lab.env:{line}: not a KEY=VALUE line"):
            parse(text, "deploy/lab.env")


def test_a_repository_with_the_project_one_folder_down(tmp_path):
    """`django-admin startproject mysite` in a repository: requirements, runtime.txt and Procfile at the
    root, manage.py in mysite/. Either folder may be given."""
    from lab import LabConfig

    repo = make(tmp_path / "repo", {
        ".git/HEAD": "", "requirements.txt": "Django==5.1.4\n", "runtime.txt": "python-3.12.1\n",
        "Procfile": "release: cd mysite && python manage.py createcachetable\nweb: gunicorn --chdir mysite mysite.wsgi\n",
        "mysite/manage.py": 'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")\n',
        "mysite/mysite/settings.py": "", "mysite/mysite/wsgi.py": "",
    })
    for given in (repo, repo / "mysite"):
        site = read(LabConfig(site=str(given)))
        assert site.folder == str(repo / "mysite") and site.settings == "mysite.settings"
        assert site.dependencies.files["requirements.txt"] == b"Django==5.1.4\n"
        assert "runtime.txt asks 3.12" in site.interpreter.reason
        steps = plan_steps(repo / "mysite", None)
        assert [(s.name, s.where) for s in steps] == [("createcachetable", "../Procfile:1 (release)")]
    two = make(tmp_path / "two", {"a/manage.py": "", "b/manage.py": "", "requirements.txt": ""})
    with pytest.raises(ConfigError, match="has no manage.py"):
        read(LabConfig(site=str(two)))


def test_the_environment_a_project_declares_for_production_chooses_its_settings(tmp_path):
    """wemake's DJANGO_ENV in its production compose file; a .env its wsgi.py loads; never a secret."""
    from lab.project.declared_env import declared_environment

    wemake = make(tmp_path / "wemake", {
        "manage.py": "", "server/wsgi.py": 'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")\n',
        "docker/docker-compose.prod.yml": "services:\n  web:\n    environment:\n      DJANGO_ENV: production\n"
                                          "      DJANGO_SECRET_KEY: not-this\n      DOMAIN_NAME: example.com\n",
        "docker-compose.yml": "services:\n  web:\n    environment:\n      - DJANGO_ENV=development\n",
        "docker/django/Dockerfile": "FROM python:3.13\nARG DJANGO_ENV\nENV DJANGO_ENV=${DJANGO_ENV} PYTHONUNBUFFERED=1\n",
        "docker/django/gunicorn.sh": "python /code/manage.py compilemessages\nexec gunicorn server.wsgi\n",
    })
    assert declared_environment(wemake) == {"DJANGO_ENV": ("production", "docker/docker-compose.prod.yml")}
    assert [step.name for step in found_steps(wemake)] == ["compilemessages"]  # a start script, whatever its name
    api = make(tmp_path / "api", {
        "manage.py": "from dotenv import load_dotenv\nload_dotenv()\n", "config/wsgi.py": "load_dotenv()\n",
        ".env": "DJANGO_SETTINGS_MODULE=config.settings.prod\nDATABASE_URL=postgres://secret@db/x\n",
        "config/settings/base.py": "", "config/settings/prod.py": "",
    })
    assert declared_environment(api) == {
        "DJANGO_SETTINGS_MODULE": ("config.settings.prod", ".env, which its wsgi.py or manage.py loads")
    }
    unread = make(tmp_path / "unread", {"manage.py": "", ".env": "DJANGO_SETTINGS_MODULE=x.settings\n"})
    assert declared_environment(unread) == {}  # nothing of the project reads that .env


def test_a_front_ends_workspaces_are_installed_with_it(tmp_path):
    """npm workspaces (pontoon's: its server's terser and its translate app): each workspace's package.json
    goes into the install layer with the root's, so `npm ci` installs their dependencies too."""
    from lab import LabConfig
    from lab.engines.images import build_steps

    site = make(tmp_path, {
        "manage.py": 'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "app.settings")\n', "app/settings.py": "",
        "package.json": '{"workspaces": ["translate", "app"], "scripts": {"build": "npm run build --workspaces"}}',
        "package-lock.json": "{}", "app/package.json": '{"devDependencies": {"terser": "^5"}}',
        "translate/package.json": '{"name": "translate"}', "translate/node_modules/x/package.json": "{}",
        "Dockerfile": "FROM node:24 AS assets\nRUN npm ci\nRUN npm run build\nFROM python:3.13\n",
    })
    names = [name for name, _ in build_steps(read(LabConfig(site=str(site)))).manifests]
    assert names == ["site/package.json", "site/package-lock.json", "site/translate/package.json", "site/app/package.json"]


def test_a_folder_the_dockerfile_makes_in_the_app_is_in_the_site_image(tmp_path):
    """linkding's `RUN mkdir data && python manage.py collectstatic` (its SQLite task queue lives there)."""
    from lab import LabConfig
    from lab.engines.images import image_specs
    from lab.project.image_folders import made_folders

    site = make(tmp_path, {
        "manage.py": 'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "app.settings")\n', "app/settings.py": "",
        "static/app.css": "",
        "docker/default.Dockerfile": "FROM python:3.13 AS build\nWORKDIR /build\nRUN mkdir wheels\n"
                                     "FROM python:3.13-slim\nWORKDIR /etc/app\nCOPY . .\n"
                                     "RUN mkdir data && mkdir -p /etc/app/run/sockets ~/cache $HOME/x /tmp/y static\n",
    })
    assert made_folders(site) == [("data", "docker/default.Dockerfile:7 (RUN mkdir)"),
                                  ("run/sockets", "docker/default.Dockerfile:7 (RUN mkdir)")]
    generated = image_specs(LabConfig(site=str(site)))["site"].generated
    assert {"site/data/.lab-folder", "site/run/sockets/.lab-folder"} <= set(generated)


def test_a_front_end_the_image_workflow_builds_is_built_with_yarn_from_npm(tmp_path):
    """Tandoor's shape: the Dockerfile copies vue3's build output, which the workflow that builds the image
    makes first (`working-directory: ./vue3`, `yarn build`); Debian has no yarn, npm installs it."""
    from lab import LabConfig
    from lab.engines.images import build_steps

    site = make(tmp_path, {
        "manage.py": 'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "app.settings")\n', "app/settings.py": "",
        "vue3/package.json": '{"scripts": {"build": "vite build"}}', "vue3/yarn.lock": "",
        "Dockerfile": "FROM python:3.13-alpine\nCOPY . ./\nRUN python version.py\n",
        ".github/workflows/build-docker.yml": (
            "jobs:\n  build:\n    steps:\n      - uses: actions/setup-node@v4\n"
            "      - working-directory: ./vue3\n        run: yarn install --frozen-lockfile\n"
            "      - working-directory: ./vue3\n        run: yarn build\n"
            "      - uses: docker/build-push-action@v6\n"),
        ".github/workflows/ci.yml": "jobs:\n  test:\n    steps:\n      - run: npm run lint-all\n",
    })
    steps = [(step.command, step.where) for step in found_steps(site) if step.action == "build-js"]
    assert steps == [("yarn install --frozen-lockfile", ".github/workflows/build-docker.yml:6 (run, in vue3)"),
                     ("yarn build", ".github/workflows/build-docker.yml:8 (run, in vue3)")]
    built = build_steps(read(LabConfig(site=str(site))))
    assert built.install[:2] == ("command -v yarn >/dev/null || npm install -g --no-fund yarn",
                                 "lab-build-step '.github/workflows/build-docker.yml:6 (run, in vue3)' bash -c "
                                 "'cd vue3 && yarn install --frozen-lockfile'")
    assert built.frontend == ("lab-build-step '.github/workflows/build-docker.yml:8 (run, in vue3)' bash -c 'cd vue3 && yarn build'",)


def test_the_node_a_project_asks_for_wherever_it_says_so(tmp_path):
    """Tandoor's: no `engines` in package.json, `node-version: '22'` in the workflow that builds its image; a
    dependency (vue-i18n) refuses Node 20. An .nvmrc and a Dockerfile's node stage count too."""
    from lab.project.node_versions import declared_node, frontend_suite

    (tmp_path / "vue3").mkdir()
    package = tmp_path / "vue3" / "package.json"
    package.write_text('{"scripts": {"build": "vite build"}}')
    assert declared_node(package, [tmp_path]) == 0
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "build-docker.yml").write_text("    with:\n      node-version: '22'\n")
    assert declared_node(package, [tmp_path]) == 22 and frontend_suite(package, "trixie", [tmp_path]) == "forky"
    (tmp_path / "vue3" / ".nvmrc").write_text("v24.1.0\n")
    (tmp_path / "Dockerfile").write_text("FROM node:18-alpine AS assets\nFROM python:3.13\n")
    assert declared_node(package, [tmp_path]) == 24


def test_yarns_engine_refusal_names_the_release_whose_node_it_takes():
    from lab.run.build_errors import node_advice

    log = 'error vue-i18n@11.4.6: The engine "node" is incompatible with this module. Expected version ">= 22". Got "20.19.2"'
    assert node_advice(log) == ("; package.json asks Node.js >= 22: Debian forky's is 24, the lab's image for Python 3.14 "
                                "(`lab up --python 3.14`)")


def test_a_front_end_in_the_sites_parent_folder_is_built_at_srv(tmp_path):
    """shynet's shape: the repository's package.json one folder above manage.py, installed from the site with
    `npm i -P --prefix ..`, its packages read by the settings at "../node_modules"."""
    import subprocess

    from lab import LabConfig
    from lab.engines.images import build_steps, image_specs

    repo = tmp_path / "shynet"
    site = make(repo / "shynet", {
        "manage.py": 'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "app.settings")\n', "app/settings.py": "",
    })
    (repo / "package.json").write_text('{"dependencies": {"a17t": "^0.6"}}')
    (repo / "package-lock.json").write_text("{}")
    (repo / "README.md").write_text("# shynet\n")
    (repo / "Dockerfile").write_text("FROM python:3.11-alpine\nWORKDIR /usr/src/shynet\nCOPY package.json package-lock.json ../\n"
                                     "RUN npm i -P --prefix ..\nCOPY shynet .\n")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    config = LabConfig(site=str(site))
    steps = build_steps(read(config))
    assert [name for name, _ in steps.manifests] == ["package.json", "package-lock.json"]  # at /srv, the site's parent
    assert steps.install == ("[ -e /srv/shynet ] || ln -s /srv/site /srv/shynet",
                             "lab-build-step '../Dockerfile:4 (RUN)' bash -c 'cd .. && npm i -P'")
    listed = {name for name, _ in image_specs(config)["site"].listed}
    assert {"repository/README.md", "repository/Dockerfile", "packages/package.json"} <= listed
    assert not any(name.startswith("repository/shynet/") for name in listed)  # the site comes as site/
