"""What a developer reads when their project does not build or load: one line with the package or file,
the cause as pip or Python said it, and a fix for that case. Outputs recorded from real runs."""

import contextlib
from pathlib import Path
from types import SimpleNamespace

from lab import LabConfig
from lab.project.read import read_site
from lab.run.build_errors import diagnose
from lab.run.load_errors import explain

SITES = Path(__file__).resolve().parent.parent / "sites"

PYTHON_LDAP = """\
Collecting python-ldap==3.4.8 (from -r /opt/site-wheels/requirements.txt (line 2))
  Downloading python_ldap-3.4.8.tar.gz (377 kB)
Building wheels for collected packages: python-ldap
  Building wheel for python-ldap (pyproject.toml): started
  Building wheel for python-ldap (pyproject.toml): finished with status 'error'
  error: subprocess-exited-with-error

  × Building wheel for python-ldap (pyproject.toml) did not run successfully.
  │ exit code: 1
  ╰─> [83 lines of output]
      In file included from Modules/LDAPObject.c:3:
      Modules/common.h:15:10: fatal error: lber.h: No such file or directory
         15 | #include <lber.h>
      compilation terminated.
      error: Command '['gcc', '-c', 'Modules/LDAPObject.c']' returned non-zero exit status 1.
      [end of output]

  note: This error originates from a subprocess, and is likely not a problem with pip.
  ERROR: Failed building wheel for python-ldap
Failed to build python-ldap
ERROR: Failed to build one or more wheels
lab-requirements: failed: /opt/venv/bin/python -m exited 1
"""

NO_RELEASE = """\
Collecting Django==6.1.3 (from -r requirements.txt (line 1))
ERROR: Could not find a version that satisfies the requirement Django==6.1.3 (from versions: 1.1.3, 5.2.19)
ERROR: No matching distribution found for Django==6.1.3
"""

STALE_LOCK = """\
+ poetry export --no-interaction --no-ansi --format requirements.txt --without-hashes --output /opt/site-wheels/requirements.txt
pyproject.toml changed significantly since poetry.lock was last generated. Run `poetry lock` to fix the lock file.
lab-requirements: failed: poetry export exited 1
"""


def config(site="tutorial", **options):
    return LabConfig(site=str(SITES / site), **options)


def test_a_missing_header_names_package_cause_and_the_build_package_that_fixes_it():
    line = diagnose(PYTHON_LDAP, config("broken"))
    assert line.startswith("building python-ldap 3.4.8 failed: fatal error: lber.h: No such file or directory")
    assert "--build-package libldap-dev --build-package libsasl2-dev" in line and "\n" not in line


def test_a_missing_header_the_lab_knows_is_added_to_the_build_stage_and_built_again(monkeypatch):
    """As the project's own Dockerfile installs it before pip (`apk add openldap-dev`): once, with a line saying so."""
    from lab.errors import ImageBuildError
    from lab.run import lab as lab_module
    from lab.run.build_errors import MissingHeaders, requirements_failure

    first = requirements_failure(ImageBuildError("failed", PYTHON_LDAP), config("broken"))
    assert isinstance(first, MissingHeaders) and first.packages == ("libldap-dev", "libsasl2-dev")
    given = config("broken", build_packages=("libldap-dev", "libsasl2-dev"))
    assert not isinstance(requirements_failure(ImageBuildError("failed", PYTHON_LDAP), given), MissingHeaders)

    built = []

    def site_images(engine, config, keys, progress, site=None):
        built.append(config.build_packages)
        if "libldap-dev" not in config.build_packages:
            raise requirements_failure(ImageBuildError("failed", PYTHON_LDAP), config)
        return {"site": "django-lab/site:x"}

    said = []
    monkeypatch.setattr(lab_module, "site_images", site_images)
    fake = SimpleNamespace(progress=said.append)
    engine = SimpleNamespace(stopwatch=SimpleNamespace(step=lambda name: contextlib.nullcontext()))
    chosen, _, tags = lab_module.Lab._images(fake, engine, config("broken"), read_site(SITES / "broken"))
    assert built == [(), ("libldap-dev", "libsasl2-dev")] and chosen.build_packages == ("libldap-dev", "libsasl2-dev")
    assert said == ["python-ldap needs lber.h: the build stage adds Debian's libldap-dev, libsasl2-dev "
                    "(as `--build-package libldap-dev --build-package libsasl2-dev` would) and builds again"]


def test_no_release_for_this_python_names_the_choice_and_another_python():
    line = diagnose(NO_RELEASE, config("tutorial"))
    assert "pip found no release of Django==6.1.3 for Python 3.11" in line
    assert "runtime.txt asks 3.10" in line and "--python 3.13/3.14" in line


def test_a_pin_for_another_python_lets_the_lab_try_the_other_interpreter_as_close():
    from lab.errors import ImageBuildError
    from lab.run.build_errors import WrongPython, requirements_failure

    allauth = config("allauthsite")  # its Dockerfile says 3.12: 3.11 chosen, 3.13 as close
    chosen = read_site(allauth.site).interpreter
    assert chosen.interpreter.version == "3.11" and chosen.as_close.version == "3.13"
    assert isinstance(requirements_failure(ImageBuildError("x", NO_RELEASE), allauth), WrongPython)
    assert not isinstance(requirements_failure(ImageBuildError("x", PYTHON_LDAP), allauth), WrongPython)
    assert read_site(SITES / "tutorial").interpreter.as_close is None  # 3.10 asked: 3.11 is closest alone


def test_a_stale_lock_says_to_lock_again():
    line = diagnose(STALE_LOCK, config("emailsite"))
    assert line.startswith("exporting poetry.lock with poetry failed: pyproject.toml changed significantly")
    assert "run `poetry lock`" in line


TRACEBACK = """\
Traceback (most recent call last):
  File "/opt/lab/lab_node/settings.py", line 31, in <module>
    _site = importlib.import_module(LAB_SITE_SETTINGS)
  File "/srv/site/config/settings/production.py", line 62, in <module>
    ADMIN_URL = env("DJANGO_ADMIN_URL")
  File "/opt/venv/lib/python3.14/site-packages/environ/environ.py", line 201, in __call__
    return self.get_value(
django.core.exceptions.ImproperlyConfigured: Set the DJANGO_ADMIN_URL environment variable
"""

MISSING_MODULE = """\
Traceback (most recent call last):
  File "/srv/site/config/settings/local.py", line 3, in <module>
    import debug_toolbar
ModuleNotFoundError: No module named 'debug_toolbar'
"""


def test_a_missing_variable_names_file_line_and_env():
    line = explain(TRACEBACK, config("tutorial"))
    assert "need the environment variable DJANGO_ADMIN_URL" in line
    assert "(config/settings/production.py:62: ADMIN_URL = env(\"DJANGO_ADMIN_URL\"))" in line
    assert "--env DJANGO_ADMIN_URL=..." in line
    assert "need the environment variable SECRET" in explain("KeyError: 'SECRET'\n", config("tutorial"))
    assert "--shared-media" not in line
    # A variable a lab option provides names that option too (what `lab readiness --fix` made the settings read).
    assert "or `lab up --shared-media` sets it" in explain("KeyError: 'MEDIA_ROOT'\n", config("tutorial"))


def test_a_missing_module_names_the_group_that_has_it():
    line = explain(MISSING_MODULE, config("emailsite"))
    assert "import debug_toolbar" in line and "Poetry group 'dev' lists it: add --group dev" in line


SYNTAX_ERROR = """\
Traceback (most recent call last):
  File "/opt/lab/lab_node/site_facts.py", line 105, in collect
    django.setup()
  File "/opt/venv/lib/python3.11/site-packages/django/conf/__init__.py", line 76, in _setup
    self._wrapped = Settings(settings_module)
  File "/usr/lib/python3.11/importlib/__init__.py", line 126, in import_module
    return _bootstrap._gcd_import(name[level:], package, level)
  File "/srv/site/tutorial/settings.py", line 13
    DEBUG = (True
            ^
SyntaxError: '(' was never closed
"""


def test_a_settings_file_that_does_not_parse_is_named_with_its_line():
    line = explain(SYNTAX_ERROR, config("tutorial"))
    assert "tutorial/settings.py:13: DEBUG = (True" in line and "SyntaxError: '(' was never closed" in line, line
