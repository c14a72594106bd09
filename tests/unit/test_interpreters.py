"""Which Python a site's nodes run (lab/project/interpreters.py): what a project declares, where, and the
closest interpreter Debian's archive ships (3.11 bookworm, 3.13 trixie, 3.14 forky; no 3.10 or 3.12)."""

import pytest
from packaging.specifiers import SpecifierSet

from lab.errors import ConfigError
from lab.project.interpreters import DEFAULT, INTERPRETERS, Interpreter, choose, declared

from .projects import make, read


def pyproject(requires_python: str) -> dict[str, str]:
    return {"pyproject.toml": f'[project]\nname = "x"\nrequires-python = "{requires_python}"\n'}


def poetry(python: str) -> dict[str, str]:
    return {"pyproject.toml": f'[tool.poetry.dependencies]\npython = "{python}"\ndjango = "^5.2"\n'}


# -- what Debian offers --------------------------------------------------------------------------------


def test_debian_ships_311_313_and_314_and_the_default_is_313():
    assert list(INTERPRETERS) == ["3.11", "3.13", "3.14"]
    assert [(i.version, i.suite) for i in INTERPRETERS.values()] == [
        ("3.11", "bookworm"), ("3.13", "trixie"), ("3.14", "forky")]
    assert DEFAULT is INTERPRETERS["3.13"]


def test_an_interpreter_names_its_debian_package_its_key_and_its_release():
    interpreter = Interpreter("3.11", "bookworm", "5.2.19")
    assert interpreter.package == "python3.11"
    assert interpreter.key == (3, 11)
    assert Interpreter("3.14", "forky", "6.1.3").key == (3, 14)
    assert str(interpreter) == "3.11 (Debian bookworm)"


def test_django_6_is_only_the_default_where_python_is_312_or_newer():
    assert INTERPRETERS["3.11"].django.startswith("5.")
    assert INTERPRETERS["3.13"].django.startswith("6.") and INTERPRETERS["3.14"].django.startswith("6.")


# -- --python ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("given", ["3.11", "3.13", "3.14"])
def test_python_flag_chooses_exactly_whatever_the_project_declares(tmp_path, given):
    site = make(tmp_path, {"runtime.txt": "python-3.10.4\n"})
    choice = choose(site, given)
    assert choice.interpreter is INTERPRETERS[given]
    assert choice.reason == f"--python {given}"
    assert choice.as_close is None


@pytest.mark.parametrize("given", ["3.12", "3.10", "3", "3.13.1", "python3.13"])
def test_python_flag_refuses_a_python_debian_does_not_ship_and_names_those_it_does(tmp_path, given):
    with pytest.raises(ConfigError) as refused:
        choose(tmp_path, given)
    assert f"--python {given!r}" in str(refused.value)
    assert str(refused.value).endswith(": 3.11, 3.13, 3.14")


# -- the closest Debian interpreter --------------------------------------------------------------------


def test_a_project_that_declares_nothing_runs_the_default(tmp_path):
    choice = choose(tmp_path)
    assert choice.interpreter is DEFAULT and choice.as_close is None
    assert choice.reason == "the project declares no Python; the lab's default is 3.13 (Debian trixie)"


@pytest.mark.parametrize(
    "runtime, version, reason",
    [
        ("python-3.11.9", "3.11", "runtime.txt asks 3.11: 3.11 (Debian bookworm)"),
        ("python-3.13.0", "3.13", "runtime.txt asks 3.13: 3.13 (Debian trixie)"),
        ("python-3.14.2", "3.14", "runtime.txt asks 3.14: 3.14 (Debian forky)"),
        ("python-3.10.2", "3.11", "runtime.txt asks 3.10; closest here: 3.11 (Debian bookworm)"),
        ("python-3.9.18", "3.11", "runtime.txt asks 3.9; closest here: 3.11 (Debian bookworm)"),
        ("python-3.8", "3.11", "runtime.txt asks 3.8; closest here: 3.11 (Debian bookworm)"),
        ("python-3.15.0", "3.14", "runtime.txt asks 3.15; closest here: 3.14 (Debian forky)"),
        ("python-3.16", "3.14", "runtime.txt asks 3.16; closest here: 3.14 (Debian forky)"),
    ],
)
def test_a_declared_version_runs_itself_or_the_closest_debian_ships(tmp_path, runtime, version, reason):
    choice = choose(make(tmp_path, {"runtime.txt": runtime + "\n"}))
    assert (choice.interpreter.version, choice.reason) == (version, reason)
    assert choice.as_close is None, "only a tie has another interpreter as close"


def test_a_declared_312_runs_the_older_of_its_two_neighbours_and_keeps_the_other_as_close(tmp_path):
    """3.11 and 3.13 are both one minor version from 3.12: the older wins (the wheels the project's pins
    were chosen against), and 3.13 is what the lab tries when 3.11 cannot install the pins."""
    choice = choose(make(tmp_path, {"runtime.txt": "python-3.12.1\n"}))
    assert choice.interpreter is INTERPRETERS["3.11"]
    assert choice.as_close is INTERPRETERS["3.13"]
    assert choice.reason == "runtime.txt asks 3.12; closest here: 3.11 (Debian bookworm)"


def test_a_declared_312_pinned_exactly_is_asked_as_312_and_ties_the_same_way(tmp_path):
    choice = choose(make(tmp_path, pyproject("==3.12.*")))
    assert (choice.interpreter.version, choice.as_close.version) == ("3.11", "3.13")
    assert choice.reason == "pyproject.toml requires-python asks 3.12; closest here: 3.11 (Debian bookworm)"


# -- ranges: the closest one the declaration admits ----------------------------------------------------


@pytest.mark.parametrize(
    "requires_python, version, as_close",
    [
        (">=3.12", "3.13", None),  # 3.11 is as close to the floor but outside the range
        (">3.12", "3.13", None),
        (">=3.11", "3.11", None),
        (">=3.10", "3.11", None),
        (">=3.10,<3.13", "3.11", None),
        (">= 3.10 , < 3.13", "3.11", None),
        (">= 3.12 , < 3.15", "3.13", None),
        ("<3.15,>=3.12", "3.13", None),  # the floor is what it names, wherever it is written
        (">=3.12,<3.14", "3.13", None),
        (">=3.13.2", "3.13", None),  # admits 3.13 from 3.13.2 on: 3.13 is admitted
        (">=3.12,<=3.13.0", "3.13", None),  # admits 3.13.0 alone: 3.13 is still admitted
        ("<3.14", "3.13", None),  # names 3.14 but excludes it: the closest below
        ("<3.13", "3.11", None),
        ("~=3.11", "3.11", None),
        ("~=3.13", "3.13", None),
        ("==3.14.*", "3.14", None),
        (">=3.14", "3.14", None),
        (">=3.15", "3.14", None),  # admits none Debian ships: the closest of all
        ("==3.12.*", "3.11", "3.13"),  # admits none: a tie, the older, the other as close
    ],
)
def test_a_range_runs_the_closest_interpreter_it_admits(tmp_path, requires_python, version, as_close):
    choice = choose(make(tmp_path, pyproject(requires_python)))
    assert choice.interpreter.version == version, choice.reason
    assert (choice.as_close.version if choice.as_close else None) == as_close


def test_a_range_is_named_as_written_in_the_reason(tmp_path):
    choice = choose(make(tmp_path, pyproject(">=3.10,<3.13")))
    assert choice.reason == "pyproject.toml requires-python asks >=3.10,<3.13; closest here: 3.11 (Debian bookworm)"
    exact = choose(make(tmp_path / "exact", pyproject(">=3.11")))
    assert exact.reason == "pyproject.toml requires-python asks >=3.11: 3.11 (Debian bookworm)"


def test_a_declaration_that_names_no_version_is_closest_to_the_default(tmp_path):
    choice = choose(make(tmp_path, pyproject("latest")))
    assert choice.interpreter is DEFAULT and choice.as_close is None
    assert choice.reason == "pyproject.toml requires-python asks 3.13: 3.13 (Debian trixie)"
    anything = choose(make(tmp_path / "poetry", poetry("^3")))
    assert anything.interpreter is DEFAULT and anything.as_close is None


def test_a_requires_python_that_is_no_specifier_still_names_its_version(tmp_path):
    choice = choose(make(tmp_path, pyproject("3.12")))
    assert choice.interpreter.version == "3.11" and choice.as_close.version == "3.13"
    assert choice.reason == "pyproject.toml requires-python asks 3.12; closest here: 3.11 (Debian bookworm)"


@pytest.mark.parametrize(
    "requires_python, wanted",
    [
        ("==3.12.*", (3, 12)),  # names one version
        ("~=3.13", (3, 13)),
        ("===3.11.4", (3, 11)),
        (">=3.10", (3, 10)),  # names its floor, what the author tested with
        (">3.10", (3, 10)),
        ("<3.15,>=3.12", (3, 12)),
        ("<3.15,>3.12", (3, 12)),
        (">=3.10,==3.12.*", (3, 12)),  # a pin before a floor
        (">=3.10,~=3.13", (3, 13)),
        (">=3.10,===3.12.1", (3, 12)),
        ("<3.14", (3, 14)),  # no pin, no floor: the version it names
    ],
)
def test_a_range_names_its_pin_else_its_floor(tmp_path, requires_python, wanted):
    said = declared(make(tmp_path, pyproject(requires_python)))
    assert said.wanted == wanted
    assert said.specifier == SpecifierSet(requires_python) and said.text == requires_python


def test_a_pin_beside_a_floor_is_what_the_reason_compares(tmp_path):
    choice = choose(make(tmp_path, pyproject(">=3.11,~=3.13")))
    assert choice.reason == "pyproject.toml requires-python asks >=3.11,~=3.13: 3.13 (Debian trixie)"


# -- Poetry's python -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "python, version, as_close",
    [
        ("^3.11", "3.11", None),  # caret: >=3.11,<4
        ("^3.12", "3.13", None),  # >=3.12,<4: 3.11 is outside
        ("^3.13", "3.13", None),
        ("^3.14", "3.14", None),
        ("~3.11", "3.11", None),  # tilde: >=3.11,<3.12
        ("~3.13", "3.13", None),
        ("~3.13.1", "3.13", None),  # >=3.13.1,<3.14
        ("~3.12", "3.11", "3.13"),  # >=3.12,<3.13 admits none: the tie of 3.12
        ("~3", "3.13", None),  # >=3,<4: names no minor version, so the default
        ("~=3.12", "3.13", None),  # PEP 440's compatible release: >=3.12,==3.*
        ("3.11.*", "3.11", None),
        ("3.13", "3.13", None),
        (">=3.12,<3.15", "3.13", None),
        ("<3.13", "3.11", None),
        ("!=3.11.*", "3.13", None),
        (">=3.12 || >=3.13", "3.13", None),  # Poetry's alternatives: still a range, not unreadable
    ],
)
def test_poetry_caret_and_tilde_admit_what_poetry_means(tmp_path, python, version, as_close):
    choice = choose(make(tmp_path, poetry(python)))
    assert choice.interpreter.version == version, choice.reason
    assert (choice.as_close.version if choice.as_close else None) == as_close
    assert choice.reason.startswith("pyproject.toml [tool.poetry.dependencies] python asks ")
    if python != "~3":
        assert choice.reason.startswith(f"pyproject.toml [tool.poetry.dependencies] python asks {python}")


@pytest.mark.parametrize(
    "python, specifier",
    [
        ("^3.11", ">=3.11,<4.0"),
        ("^3", ">=3,<4.0"),
        ("~3.11", ">=3.11,<3.12"),
        ("~3.11.4", ">=3.11.4,<3.12"),
        ("~3", ">=3,<4.0"),
        ("~=3.11", "~=3.11"),
        ("3.11.*", "==3.11.*"),
        ("3.11", "==3.11"),
        (">=3.10,<3.13", ">=3.10,<3.13"),
        ("<3.13", "<3.13"),
        ("!=3.12.*", "!=3.12.*"),
    ],
)
def test_poetry_constraints_admit_what_pep_440_would(tmp_path, python, specifier):
    said = declared(make(tmp_path, poetry(python)))
    assert said.specifier == SpecifierSet(specifier)
    assert said.text == python and said.source == "pyproject.toml [tool.poetry.dependencies] python"


def test_poetry_any_python_is_no_declaration(tmp_path):
    for python in ("*", "", " * "):
        said = declared(make(tmp_path / python.strip().replace("*", "star") / "x", poetry(python)))
        assert said is None


def test_requires_python_wins_over_poetrys_python(tmp_path):
    site = make(tmp_path, {"pyproject.toml": '[project]\nrequires-python = ">=3.14"\n'
                                            '[tool.poetry.dependencies]\npython = "^3.11"\n'})
    assert choose(site).interpreter.version == "3.14"
    assert declared(site).source == "pyproject.toml requires-python"


# -- where a project declares it, in order ---------------------------------------------------------------


def test_each_place_a_project_declares_its_python(tmp_path):
    cases = {
        "runtime": ({"runtime.txt": "  python-3.14.1  \n"}, "runtime.txt", "python-3.14.1", (3, 14)),
        "pyenv": ({".python-version": "\n\n 3.11.4 \n3.13\n"}, ".python-version", "3.11.4", (3, 11)),
        "pipfile": ({"Pipfile": '[requires]\npython_version = "3.11"\n'}, "Pipfile [requires]", "3.11", (3, 11)),
        "pipfile_full": ({"Pipfile": '[requires]\npython_version = "3.11"\npython_full_version = "3.14.0"\n'},
                         "Pipfile [requires]", "3.14.0", (3, 14)),
        "docker": ({"Dockerfile": "# syntax=docker/dockerfile:1\nFROM python:3.13-slim-bookworm AS build\n"},
                   "Dockerfile FROM python:3.13-slim-bookworm", "FROM python:3.13-slim-bookworm", (3, 13)),
    }
    for name, (files, source, text, wanted) in cases.items():
        said = declared(make(tmp_path / name, files))
        assert (said.source, said.text, said.wanted) == (source, text, wanted), name
        assert said.specifier is None


def test_a_dockerfile_from_line_in_its_usual_spellings(tmp_path):
    spellings = {
        "  from python:3.14": "python:3.14",
        "FROM --platform=linux/amd64 python:3.11-slim": "python:3.11-slim",
        "FROM docker.io/library/python:3.13-alpine AS base": "python:3.13-alpine",
        "FROM library/python:3.11": "python:3.11",
        "FROM --platform=$BUILDPLATFORM docker.io/python:3.14-bookworm": "python:3.14-bookworm",
    }
    for number, (line, image) in enumerate(spellings.items()):
        said = declared(make(tmp_path / str(number), {"Dockerfile": f"ARG X=1\n{line}\nRUN true\n"}))
        assert said is not None, line
        assert said.source == f"Dockerfile FROM {image}", line
        assert said.text == line.strip().removesuffix(" AS base"), line


def test_a_dockerfile_from_another_image_or_an_unversioned_python_declares_nothing(tmp_path):
    site = make(tmp_path, {"Dockerfile": "FROM python:latest\nFROM debian:3.12\nFROM mypython:3.12\n"})
    assert declared(site) is None


def test_the_first_dockerfile_that_names_a_python_counts_then_compose_ones(tmp_path):
    site = make(tmp_path / "a", {
        "Dockerfile": "FROM node:22\n",
        "Dockerfile.prod": "FROM python:3.14-slim\n",
        "compose/production/django/Dockerfile": "FROM python:3.11\n",
    })
    assert declared(site).source == "Dockerfile.prod FROM python:3.14-slim"
    compose = make(tmp_path / "b", {"Dockerfile": "FROM node:22\n",
                                    "compose/production/django/Dockerfile": "FROM python:3.12-slim-bookworm\n"})
    said = declared(compose)
    assert said.source == "compose/production/django/Dockerfile FROM python:3.12-slim-bookworm"
    assert said.wanted == (3, 12)
    later = make(tmp_path / "c", {"Dockerfile": "FROM python:3.13 AS build\nFROM python:3.11 AS run\n"})
    assert declared(later).wanted == (3, 13), "the first FROM that names a Python"


def test_declarations_are_read_in_order_runtime_pyenv_pyproject_pipfile_dockerfile(tmp_path):
    everything = {
        "runtime.txt": "python-3.9.1\n",
        ".python-version": "3.10\n",
        "pyproject.toml": '[project]\nrequires-python = ">=3.11"\n',
        "Pipfile": '[requires]\npython_version = "3.13"\n',
        "Dockerfile": "FROM python:3.14\n",
    }
    order = ["runtime.txt", ".python-version", "pyproject.toml", "Pipfile", "Dockerfile"]
    for number, first in enumerate(order):
        files = {name: text for name, text in everything.items() if name not in order[:number]}
        said = declared(make(tmp_path / str(number), files))
        assert said.source.startswith(first), (first, said.source)


def test_a_file_that_names_no_python_3_lets_the_next_one_speak(tmp_path):
    site = make(tmp_path, {
        "runtime.txt": "python-2.3.12\n",  # a Python 2 (its 3.12 is no version of Python 3)
        ".python-version": "\n  \nsystem\n3.11\n",  # the first line that says something says no version
        "pyproject.toml": '[project]\nname = "x"\n',
        "Pipfile": '[requires]\npython_version = "2.7"\n',
        "Dockerfile": "FROM python:3.14\n",
    })
    said = declared(site)
    assert said.source == "Dockerfile FROM python:3.14" and said.wanted == (3, 14)


def test_a_runtime_txt_or_dockerfile_version_needs_its_own_number(tmp_path):
    assert declared(make(tmp_path / "a", {"runtime.txt": "python-13.11\n"})) is None
    assert declared(make(tmp_path / "b", {"runtime.txt": "python-2.7.3\n"})) is None
    assert declared(make(tmp_path / "c", {"runtime.txt": "3.13\n"})).wanted == (3, 13)
    invalid = declared(make(tmp_path / "d", pyproject("3.12")))
    assert (invalid.text, invalid.wanted, invalid.specifier) == ("3.12", (3, 12), None)


def test_an_empty_python_version_or_a_pipfile_without_requires_lets_the_next_one_speak(tmp_path):
    site = make(tmp_path, {".python-version": "\n \n", "Pipfile": "[packages]\ndjango = '*'\n",
                           "Dockerfile": "FROM python:3.11\n"})
    assert declared(site).source == "Dockerfile FROM python:3.11"


def test_files_in_another_encoding_are_still_read(tmp_path):
    """A stray Latin-1 byte (a comment's author name) does not stop the lab from reading the version."""
    for number, (name, text) in enumerate({
        "runtime.txt": b"python-3.11.9 \xff\n",
        ".python-version": b"3.11 \xe9\n",
        "pyproject.toml": b'# J\xf6rg\n[project]\nrequires-python = ">=3.11"\n',
        "Pipfile": b'# J\xf6rg\n[requires]\npython_version = "3.11"\n',
        "Dockerfile": b"# J\xf6rg\nFROM python:3.11\n",
    }.items()):
        folder = tmp_path / str(number)
        folder.mkdir()
        (folder / name).write_bytes(text)
        assert declared(folder).wanted == (3, 11), name


def test_unreadable_toml_is_no_declaration_and_the_next_file_speaks(tmp_path):
    site = make(tmp_path, {"pyproject.toml": "[project\nrequires-python = '>=3.14'\n", "Pipfile": "[requires\n",
                           "Dockerfile": "FROM python:3.11\n"})
    assert declared(site).source == "Dockerfile FROM python:3.11"


def test_a_poetry_python_that_is_a_table_is_no_declaration(tmp_path):
    site = make(tmp_path, {"pyproject.toml": '[tool.poetry.dependencies.python]\nversion = "^3.11"\n'})
    assert declared(site) is None


# -- a project and its repository ----------------------------------------------------------------------


def test_the_project_folder_speaks_before_its_repository(tmp_path):
    repo = make(tmp_path, {"runtime.txt": "python-3.11.2\n", "mysite/manage.py": "", "other/manage.py": "",
                           "other/.python-version": "3.14\n"})
    assert choose([repo / "mysite", repo]).reason.startswith("runtime.txt asks 3.11")
    assert choose([repo / "other", repo]).interpreter.version == "3.14"
    assert choose([repo / "mysite"]).interpreter is DEFAULT
    assert choose(repo / "mysite").interpreter is DEFAULT


def test_a_dockerfile_in_a_subfolder_declares_the_python_and_a_development_one_does_not(tmp_path):
    site = make(tmp_path, {"docker/Dockerfile": "FROM python:3.14.7-slim-trixie\n",
                           "compose/local/django/Dockerfile": "FROM python:3.11\n"})
    choice = choose(site)
    assert choice.interpreter.version == "3.14" and choice.reason.startswith("docker/Dockerfile FROM python:3.14.7")
    only_development = make(tmp_path / "dev", {"Dockerfile.dev": "FROM python:3.11-slim\n"})
    assert choose(only_development).interpreter.version == "3.11"  # with nothing else, it is what the project says


def test_on_a_tie_a_pinned_django_6_takes_the_newer_python(tmp_path):
    from lab import LabConfig

    files = {"manage.py": "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'bakery.settings')\n",
             "bakery/__init__.py": "", "bakery/settings.py": "SECRET_KEY = 'x'\n", ".python-version": "3.12\n"}
    six = read(LabConfig(site=str(make(tmp_path / "six", {**files, "requirements/base.txt": "Django>=6.0,<6.1\n",
                                                           "requirements.txt": "-r requirements/base.txt\n"}))))
    assert six.interpreter.interpreter.version == "3.13" and "its Django 6.0 needs Python 3.12" in six.interpreter.reason
    five = read(LabConfig(site=str(make(tmp_path / "five", {**files, "requirements.txt": "Django==5.2.19\n"}))))
    assert five.interpreter.interpreter.version == "3.11"  # the older one, whose wheels its pins were chosen against
