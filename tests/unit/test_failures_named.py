"""A failed step names itself: the release job's step, its source line, its exit code and its last error
line; a job the kernel killed for memory says so with its limit; an error page's cause comes from the node.
No Docker: the jobs' output and the node's headers are written here as they come."""

import importlib.util
from types import SimpleNamespace
import sys
from pathlib import Path

import pytest

from lab.engines.job_output import OOM_MARK, explain, last_error_line
from lab.model.security import profile
from lab.run.site_facts import error_cause

NODE = Path(__file__).resolve().parents[2] / "lab" / "dockerfiles" / "node" / "lab_node"


def test_a_failed_release_step_is_named_with_its_source_not_called_migrations():
    output = (
        "lab-release: running: migrate (the lab migrates once per lab)\n"
        "  Applying blog.0001_initial... OK\n"
        "lab-release: running: `python manage.py tailwind install` (Dockerfile-dev:14 (RUN))\n"
        "Downloading tailwindcss...\n"
        "urllib.error.URLError: <urlopen error [Errno -3] Temporary failure in name resolution>\n"
        "lab-release: error: the release step `python manage.py tailwind install` (Dockerfile-dev:14 (RUN)) exited 1: "
        "urllib.error.URLError: <urlopen error [Errno -3] Temporary failure in name resolution>\n"
    )
    said = explain("barsite-prepare", 1, output)
    assert said.startswith("the release step `python manage.py tailwind install` (Dockerfile-dev:14 (RUN)) exited 1")
    assert "Temporary failure in name resolution" in said and "migrations" not in said


def test_a_job_killed_for_memory_says_so_with_its_limit_and_the_step_it_was_in():
    output = f"lab-release: running: migrate (the lab migrates once per lab)\n  Applying shop.0412_big... \n{OOM_MARK} (limit 2048 MB)"
    said = explain("shop-prepare", 137, output)
    assert said == "shop-prepare was killed: out of memory (limit 2048 MB) during migrate (the lab migrates once per lab)"


def test_exit_137_without_the_engines_mark_is_still_read_as_a_kill():
    assert "killed: out of memory" in explain("shop-prepare", 137, "  Applying shop.0412_big...")


def test_a_job_that_fails_without_a_message_of_its_own_gives_its_step_exit_and_last_error_line():
    output = "lab-release: running: createcachetable (CACHES default is a DatabaseCache)\nTraceback ...\n\x1b[31mdjango.db.utils.OperationalError: boom\x1b[0m\nbye"
    said = explain("x-prepare", 2, output)
    assert said == "x-prepare exited 2 during createcachetable (CACHES default is a DatabaseCache): django.db.utils.OperationalError: boom"


def test_the_last_error_line_skips_escape_codes_and_prefers_a_line_that_names_an_error():
    assert last_error_line("\x1b[0mStep 3/4\nERROR: No matching distribution found for foo==9\nRemoving intermediate container\n") == (
        "ERROR: No matching distribution found for foo==9"
    )
    assert last_error_line("all good\nlast") == "last"
    assert last_error_line("") == ""


def test_a_one_off_job_gets_at_least_what_a_node_gets():
    assert profile("job").memory_mb >= profile("node").memory_mb
    assert profile("job").memory_mb >= 1024


def test_an_error_page_is_explained_by_the_nodes_header_and_names_the_log_to_read():
    said = error_cause({"X-Lab-Node": "node-3", "X-Lab-Error": 'ProgrammingError: relation "my_cache_table" does not exist (menus/templatetags/menu.py:12)'})
    assert said == ' (ProgrammingError: relation "my_cache_table" does not exist (menus/templatetags/menu.py:12); `lab logs node-3` shows the traceback)'
    assert error_cause({"X-Lab-Node": "node-1"}) == ""


@pytest.fixture
def node_errors():
    spec = importlib.util.spec_from_file_location("lab_node_errors", NODE / "errors.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_nodes_cause_names_the_last_frame_in_the_sites_own_code(node_errors, tmp_path):
    site = tmp_path / "srv" / "site" / "menus"
    site.mkdir(parents=True)
    (site / "menu.py").write_text("def menu():\n    raise LookupError('no table\\n my_cache_table')\n")
    node_errors.SITE = str(tmp_path / "srv" / "site") + "/"
    code = compile((site / "menu.py").read_text(), str(site / "menu.py"), "exec")
    scope: dict = {}
    exec(code, scope)
    try:
        scope["menu"]()
    except LookupError as error:
        said = node_errors.cause(error)
    assert said == "LookupError: no table my_cache_table (menus/menu.py:2)"
    assert node_errors.header_value("caf\u00e9 \u2014 x") == "caf\\xe9 \\u2014 x"


def test_settings_evidence_comes_only_from_the_settings_that_run():
    from lab.project.site import Hit
    from lab.studies.readiness import in_running_settings

    hits = [
        Hit("config/settings/production.py", 13, 'ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")'),
        Hit("config/settings/local.py", 9, 'ALLOWED_HOSTS = ["localhost", "0.0.0.0", "127.0.0.1"]'),
        Hit("mysite/settings_render.py", 4, 'CELERY_BEAT_SCHEDULE = {}'),
        Hit("shop/tasks.py", 20, "schedule.every(10).minutes.do(sync)"),
    ]
    running = ["config/settings/local.py", "config/settings/base.py"]
    assert [h.file for h in in_running_settings(hits, running)] == ["config/settings/local.py", "shop/tasks.py"]
    assert in_running_settings(hits, []) == hits  # the node could not say: nothing is dropped


def test_a_download_this_machine_cannot_reach_is_named_with_its_host():
    from lab.engines.job_output import download_failed

    output = ("Downloading https://github.com/tailwindlabs/tailwindcss/releases/download/v3.4.1/tailwindcss-linux-x64\n"
              "urllib.error.URLError: <urlopen error [Errno -3] Temporary failure in name resolution>")
    assert download_failed(output) == (
        "a download from github.com failed (https://github.com/tailwindlabs/tailwindcss/releases/download/v3.4.1/"
        "tailwindcss-linux-x64)")
    assert download_failed("curl: (6) Could not resolve host: deb.nodesource.com") == (
        "a download from deb.nodesource.com failed (Could not resolve host)")
    assert download_failed("ValueError: bad value") == ""


def test_a_release_step_that_needs_gettext_names_the_package_for_build_package():
    output = ("lab-release: running: `python manage.py build` (Procfile:1 (release))\n"
              "CommandError: Can't find msgfmt. Make sure you have GNU gettext tools 0.19 or newer installed.\n"
              "lab-release: error: the release step `python manage.py build` (Procfile:1 (release)) exited 1: "
              "CommandError: Can't find msgfmt. Make sure you have GNU gettext tools 0.19 or newer installed.")
    said = explain("shop-prepare", 1, output)
    assert said.endswith("; msgfmt is not installed: add Debian's gettext with `lab up --build-package gettext`"), said


PIP_CONFLICT = """\
Step 5/9 : RUN lab-build-wheels /opt/site-deps /opt/site-wheels
 ---> Running in 5d2a1c0b9f1e
+ /opt/venv/bin/python -m pip wheel --use-pep517 -r /opt/site-wheels/requirements.txt
Collecting sqlparse==0.5.1
Collecting sqlparse==0.4.4
\x1b[31mERROR: Cannot install sqlparse==0.4.4 and sqlparse==0.5.1 because these package versions have conflicting dependencies.\x1b[0m

The conflict is caused by:
    The user requested sqlparse==0.4.4
    The user requested sqlparse==0.5.1

To fix this you could try to:
1. loosen the range of package versions you've specified
\x1b[0m
ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/en/latest/topics/dependency-resolution/#dealing-with-dependency-conflicts
lab-requirements: failed: -m pip wheel exited 1
Removing intermediate container 5d2a1c0b9f1e
"""


def test_pips_own_reason_names_the_conflicting_pins_without_escape_codes_or_dockers_noise():
    from lab.run.build_errors import diagnose

    config = SimpleNamespace(groups=("dev",))
    site = SimpleNamespace(interpreter=SimpleNamespace(interpreter=SimpleNamespace(version="3.13")), dependencies=SimpleNamespace(source="Pipfile.lock"))
    said = diagnose(PIP_CONFLICT, config, site)
    assert said == ("pip cannot install the site's requirements (Pipfile.lock) together: sqlparse==0.4.4 and "
                    "sqlparse==0.5.1 conflict (The user requested sqlparse==0.4.4; The user requested sqlparse==0.5.1); "
                    "pin versions that agree (lock the project again with its own tool), or leave out --group dev")
    assert "\x1b" not in said and "Removing intermediate" not in said


def test_an_index_pip_cannot_reach_is_named_and_no_other_python_is_advised():
    from lab.run.build_errors import diagnose

    log = ("-i https://pypi.python.org/simple\nLooking in indexes: https://pypi.python.org/simple\n"
           "WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after connection broken by "
           "'NameResolutionError(\"<pip._vendor.urllib3.connection.HTTPSConnection object>: Failed to resolve 'pypi.python.org' "
           "([Errno -3] Temporary failure in name resolution)\")': /simple/annotated-types/\n"
           "ERROR: Could not find a version that satisfies the requirement annotated-types==0.7.0 (from versions: none)\n"
           "ERROR: No matching distribution found for annotated-types==0.7.0\n")
    config = SimpleNamespace(groups=())
    site = SimpleNamespace(interpreter=SimpleNamespace(interpreter=SimpleNamespace(version="3.11")), dependencies=SimpleNamespace(source="requirements.txt"))
    said = diagnose(log, config, site)
    assert said.startswith("pip could not reach the package index pypi.python.org")
    assert "--python" not in said and "a download failed" in said


def test_a_project_index_that_cannot_be_reached_is_named_with_where_it_is_declared():
    from lab.run.build_errors import diagnose

    log = ("lab-requirements: the project's own package indexes: https://download.pytorch.org/whl/cpu\n"
           "lab-requirements: failed: the project's package index https://download.pytorch.org/whl/cpu (pyproject.toml) "
           "cannot be reached: [Errno -3] Temporary failure in name resolution\n")
    config = SimpleNamespace(groups=())
    site = SimpleNamespace(interpreter=SimpleNamespace(interpreter=SimpleNamespace(version="3.13")), dependencies=SimpleNamespace(source="uv.lock"))
    said = diagnose(log, config, site)
    assert said.startswith("pip could not reach the package index download.pytorch.org "
                           "(https://download.pytorch.org/whl/cpu, declared in pyproject.toml): [Errno -3]")
    assert "a download failed" in said and "--python" not in said


def test_a_service_the_site_expects_beside_it_is_no_download():
    from lab.engines.job_output import advice, download_failed

    redis = "redis.exceptions.ConnectionError: Error 111 connecting to localhost:6379. Connection refused."
    amqp = "kombu.exceptions.OperationalError: [Errno 111] Connection refused (host='plane-mq', port=5672)"
    for output in (redis, amqp):
        assert download_failed(output) == "" and "a service the site's settings point at" in advice(output), output
    assert "localhost:6379" in advice(redis) and "plane-mq:5672" in advice(amqp)
    git = "fatal: unable to access 'https://github.com/brutasse/django-push.git/': Could not resolve host: github.com"
    assert download_failed(git).startswith("a download from github.com failed")


def test_a_git_dependency_this_machine_cannot_fetch_is_named_with_its_host():
    from lab.run.build_errors import diagnose

    log = ("Collecting django-push@ git+https://github.com/brutasse/django-push.git@22fda99\n"
           "  Cloning https://github.com/brutasse/django-push.git (to revision 22fda99) to /tmp/pip-req-build-x\n"
           "  Running command git clone --filter=blob:none --quiet https://github.com/brutasse/django-push.git /tmp/pip-req-build-x\n"
           "  fatal: unable to access 'https://github.com/brutasse/django-push.git/': Could not resolve host: github.com\n"
           "  error: subprocess-exited-with-error\n")
    config = SimpleNamespace(groups=())
    site = SimpleNamespace(interpreter=SimpleNamespace(interpreter=SimpleNamespace(version="3.13")), dependencies=SimpleNamespace(source="requirements/prod.txt"))
    said = diagnose(log, config, site)
    assert said.startswith("pip could not fetch the git dependency https://github.com/brutasse/django-push.git: "
                           "a download from github.com failed"), said


def test_a_front_end_that_wants_a_newer_node_names_the_python_whose_debian_has_it():
    from lab.errors import ImageBuildError
    from lab.run.build_errors import build_step_failure

    log = ("npm error code EBADENGINE\nnpm error engine Unsupported engine\nnpm error notsup Required: "
           '{"node":">=24"}\nnpm error notsup Actual:   {"npm":"9.2.0","node":"v20.19.2"}\n'
           "lab-build: error: the build step `npm ci` (docker/Dockerfile-mozcloud:45 (RUN)) exited 1: npm error notsup Actual\n")
    said = str(build_step_failure(ImageBuildError("x", log)))
    assert said.endswith("package.json asks Node.js >= 24: Debian forky's is 24, the lab's image for Python 3.14 "
                         "(`lab up --python 3.14`)"), said


NPM_404 = """npm error code E404
npm error 404 Not Found - GET https://registry.npmjs.org/@mozilla/l10n/-/l10n-0.13.0.tgz
npm error 404
npm error 404  The requested resource '@mozilla/l10n@https://registry.npmjs.org/@mozilla/l10n/-/l10n-0.13.0.tgz' could not be found or you do not have permission to access it.
npm error A complete log of this run can be found in: /tmp/npm-cache/_logs/x.log
"""


def test_an_npm_package_the_registry_here_lacks_is_a_download_named_with_its_url():
    from lab.engines.job_output import advice

    said = advice(NPM_404)
    assert said.startswith("; a download from registry.npmjs.org failed "
                           "(https://registry.npmjs.org/@mozilla/l10n/-/l10n-0.13.0.tgz)"), said


def build_step(cwd, *arguments):
    """lab-build-step run as the build stage runs it: WHERE, then the command."""
    import subprocess
    import sys

    step = Path(__file__).resolve().parents[2] / "lab" / "dockerfiles" / "site-build" / "lab-build-step"
    return subprocess.run([sys.executable, str(step), *arguments], capture_output=True, text=True, cwd=cwd)


def test_a_failed_npm_step_is_named_by_npms_cause_not_its_log_file(tmp_path):
    script = tmp_path / "npm"
    script.write_text(f"#!/bin/sh\ncat <<'EOF'\n{NPM_404}EOF\nexit 1\n")
    script.chmod(0o755)
    result = build_step(tmp_path, "Dockerfile:45 (RUN)", str(script), "install")
    assert result.returncode == 1
    assert result.stdout.splitlines()[-1].endswith(
        "exited 1: npm error 404 Not Found - GET https://registry.npmjs.org/@mozilla/l10n/-/l10n-0.13.0.tgz"), result.stdout


def test_a_front_end_step_is_shown_as_the_project_wrote_it(tmp_path):
    result = build_step(tmp_path, "package.json", "bash", "-c", "cd frontend && false")
    assert result.stdout.splitlines()[0] == "lab-build: running: `false` (package.json)"


def build_wheels_script():
    from importlib.machinery import SourceFileLoader

    path = Path(__file__).resolve().parents[2] / "lab" / "dockerfiles" / "builder" / "lab-build-wheels"
    loader = SourceFileLoader("lab_build_wheels", str(path))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader("lab_build_wheels", loader))
    loader.exec_module(module)
    return module


@pytest.mark.parametrize("output, tool", [
    ("ImportError: cannot import name 'convert_path' from 'setuptools' (/tmp/pip-build-env-x/overlay/...)", "setuptools"),
    ("ModuleNotFoundError: No module named 'pkg_resources'", "setuptools"),
    ("AttributeError: cython_sources", "Cython"),
])
def test_an_sdist_for_older_build_tools_is_told_by_its_symptom(output, tool):
    tools = build_wheels_script().OLD_BUILD_TOOLS
    assert [name for name, (symptom, _) in tools.items() if symptom.search(output)] == [tool]


def test_other_build_failures_are_no_old_build_tool():
    tools = build_wheels_script().OLD_BUILD_TOOLS
    output = "Collecting Cython>=0.29\nfatal error: lber.h: No such file or directory\nerror: command 'gcc' failed"
    assert not any(symptom.search(output) for symptom, _ in tools.values())


def test_a_django_admin_step_is_shown_without_the_labs_environment(tmp_path):
    result = build_step(tmp_path, "Dockerfile:59 (RUN)", "env", "-u", "DJANGO_SETTINGS_MODULE", "SECRET_KEY=k",
                        "false", "compilemessages")
    assert result.stdout.splitlines()[0] == "lab-build: running: `false compilemessages` (Dockerfile:59 (RUN))"
