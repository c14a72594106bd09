"""How a project keeps its dependencies and which of them the lab installs (lab/project/dependencies.py):
requirements files and folders with their includes, pyproject's [project] and Poetry's tables, Pipfile and
Pipfile.lock, uv and Poetry locks, and the groups `--group NAME` adds (and refuses, naming the known ones)."""

import json

import pytest

from lab.errors import ConfigError
from lab.project.dependencies import (
    Dependencies,
    distribution_of,
    from_folder,
    pipfile,
    pipfile_lock,
    poetry_requirement,
    where_module_is,
)

from .projects import make, read


def installed(dependencies: Dependencies) -> list[str]:
    """The requirement lines the lab wrote for the build stage."""
    assert dependencies.kind == "requirements" and set(dependencies.files) == {"requirements.txt"}
    text = dependencies.files["requirements.txt"].decode()
    assert text.endswith("\n")
    return text.splitlines()


def refusal(folder, *groups) -> str:
    with pytest.raises(ConfigError) as refused:
        from_folder(folder, groups)
    return str(refused.value)


# -- what the build stage gets, and the line `lab up` prints --------------------------------------------


def test_the_build_stage_spec_names_the_kind_groups_and_extras():
    locked = Dependencies("uv", "uv.lock", {}, ("dev",), ("s3",), ())
    assert json.loads(locked.spec()) == {"kind": "uv", "groups": ["dev"], "extras": ["s3"]}
    assert json.loads(Dependencies("requirements", "requirements.txt").spec()) == {
        "kind": "requirements", "groups": [], "extras": []}


@pytest.mark.parametrize(
    "dependencies, line",
    [
        (Dependencies("uv", "uv.lock", other_groups=("dev",)), "installs uv.lock exactly as locked; not dev (add one with --group NAME)"),
        (Dependencies("poetry", "poetry.lock", groups=("dev",), extras=("s3",)), "installs poetry.lock exactly as locked with dev, s3"),
        (Dependencies("requirements", "Pipfile.lock", other_groups=("dev", "docs")),
         "installs Pipfile.lock exactly as locked; not dev, docs (add one with --group NAME)"),
        (Dependencies("requirements", "requirements.txt", groups=("local",), other_groups=("test",)),
         "installs requirements.txt with local; not test (add one with --group NAME)"),
        (Dependencies("requirements", "requirements/production.txt"), "installs requirements/production.txt"),
    ],
)
def test_the_line_lab_up_prints_says_the_file_whether_locked_and_the_groups(dependencies, line):
    assert dependencies.describe() == line


def test_a_lock_its_tool_exports_is_installed_exactly_as_locked_whatever_its_source_is_called():
    assert Dependencies("uv", "the workspace's root").describe() == "installs the workspace's root exactly as locked"
    assert Dependencies("poetry", "pyproject.toml").describe() == "installs pyproject.toml exactly as locked"
    assert Dependencies("requirements", "pyproject.toml").describe() == "installs pyproject.toml"


# -- requirements files: includes, constraints, editables ----------------------------------------------


def test_a_requirements_file_inlines_its_includes_relative_to_itself(tmp_path):
    site = make(tmp_path, {
        "requirements.txt": "-r reqs/a.txt\n--requirement reqs/b.txt\n-r=reqs/c.txt\n-rreqs/d.txt\n--requirement=reqs/e.txt\nz\n",
        "reqs/a.txt": "a\n-r ../shared/base.txt\n",
        "reqs/b.txt": "b\n", "reqs/c.txt": "c\n", "reqs/d.txt": "d\n", "reqs/e.txt": "e\n",
        "shared/base.txt": "base\n",
    })
    assert installed(from_folder(site)) == ["a", "base", "b", "c", "d", "e", "z"]


def test_an_include_that_loops_or_is_missing_ends_there(tmp_path):
    site = make(tmp_path, {
        "requirements.txt": "-r base.txt\n-r missing.txt\ngunicorn\n-r requirements.txt\n",
        "base.txt": "Django==5.2.19\n-r requirements.txt\n-r base.txt\n",
    })
    assert installed(from_folder(site)) == ["Django==5.2.19", "gunicorn"]


def test_comments_blank_lines_and_continuations_are_read_as_pip_reads_them(tmp_path):
    site = make(tmp_path, {"requirements.txt": (
        "# the site\n\n   \nDjango==5.2.19  # the web framework\n"
        "psycopg[binary]==3.2.9 \\\n    --hash=sha256:abc\n"
        "  whitenoise==6.9 \n"
        "https://example.org/pkg.tar.gz#egg=pkg\n"
        "--index-url https://pypi.org/simple\n"
    )})
    lines = installed(from_folder(site))
    assert [line.split() for line in lines] == [
        ["Django==5.2.19"], ["psycopg[binary]==3.2.9", "--hash=sha256:abc"], ["whitenoise==6.9"],
        ["https://example.org/pkg.tar.gz#egg=pkg"], ["--index-url", "https://pypi.org/simple"]]
    assert lines[2] == "whitenoise==6.9"


@pytest.mark.parametrize("line", [
    "-e .", "-e git+https://example.org/x.git#egg=x", "--editable ./lib", ".", "./packages/mylib", ".[dev]",
    "/srv/wheels/x.whl", "file:///srv/wheels/x.whl", "-c constraints.txt", "--constraint constraints.txt",
    "-cconstraints.txt",
])
def test_editables_local_paths_and_constraints_are_not_installed(tmp_path, line):
    """The site's own code is copied in; a local package or a constraints file is not reachable in the
    build stage, and a constraints file's pins are not requirements."""
    site = make(tmp_path, {"requirements.txt": f"Django==5.2.19\n{line}\ngunicorn\n", "constraints.txt": "urllib3<2\n"})
    assert installed(from_folder(site)) == ["Django==5.2.19", "gunicorn"]


def test_an_empty_requirements_file_installs_nothing_but_is_a_declaration(tmp_path):
    chosen = from_folder(make(tmp_path, {"requirements.txt": "# nothing yet\n"}))
    assert chosen.source == "requirements.txt" and chosen.files == {"requirements.txt": b"\n"}
    assert chosen.groups == () and chosen.other_groups == ()


# -- requirements.txt and its group files --------------------------------------------------------------


def test_requirements_files_beside_requirements_txt_are_groups_named_after_them(tmp_path):
    site = make(tmp_path, {
        "requirements.txt": "Django==5.2.19\n",
        "requirements-dev.txt": "-r requirements.txt\ndjango-debug-toolbar\n",
        "test-requirements.txt": "pytest\n",
        "requirements_docs.txt": "sphinx\n",
        "requirements.lint.txt": "ruff\n",
        "requirements/ci.txt": "tox\n",
        "constraints.txt": "urllib3<2\n",
    })
    chosen = from_folder(site)
    assert installed(chosen) == ["Django==5.2.19"]
    assert chosen.source == "requirements.txt"
    # In the files' order: the folder's beside requirements.txt, then requirements/'s.
    assert chosen.other_groups == ("dev", "lint", "docs", "test", "ci")
    assert chosen.describe() == "installs requirements.txt; not dev, lint, docs, test, ci (add one with --group NAME)"
    dev = from_folder(site, ("dev", "ci"))
    assert installed(dev) == ["Django==5.2.19", "django-debug-toolbar", "tox"]
    assert dev.groups == ("dev", "ci") and dev.other_groups == ("lint", "docs", "test")


def test_a_group_repeated_is_added_once(tmp_path):
    site = make(tmp_path, {"requirements.txt": "Django\n", "requirements-dev.txt": "pytest\n"})
    chosen = from_folder(site, ("dev", "dev"))
    assert chosen.groups == ("dev",) and installed(chosen) == ["Django", "pytest"]


def test_a_group_adds_only_lines_not_installed_already(tmp_path):
    site = make(tmp_path, {
        "requirements.txt": "-r requirements/base.txt\ngunicorn\n",
        "requirements/base.txt": "Django==5.2.19\n",
        "requirements/local.txt": "-r base.txt\ngunicorn\nDjango==5.2.19\nipdb\n",
        "requirements/test.txt": "ipdb\npytest\n",
    })
    chosen = from_folder(site, ("local", "test"))
    assert installed(chosen) == ["Django==5.2.19", "gunicorn", "ipdb", "pytest"]


def test_files_requirements_txt_includes_are_no_groups(tmp_path):
    site = make(tmp_path, {
        "requirements.txt": "-r requirements/production.txt\n",
        "requirements/base.txt": "Django==5.2.19\n",
        "requirements/production.txt": "-r base.txt\nuWSGI==2.0.31\n",
        "requirements/local.txt": "-r base.txt\ndjango-debug-toolbar==8.0.0\n",
    })
    assert from_folder(site).other_groups == ("local",)
    message = refusal(site, "production")
    assert message == "--group production: the project's requirements files has no such group; its groups: local"


def test_an_unknown_group_is_refused_naming_the_groups_there_are(tmp_path):
    site = make(tmp_path, {"requirements.txt": "Django\n", "requirements-dev.txt": "pytest\n"})
    message = refusal(site, "dev", "docs")
    assert message.startswith("--group docs: ") and message.endswith("its groups: dev")
    alone = make(tmp_path / "alone", {"requirements.txt": "Django\n"})
    assert refusal(alone, "dev").endswith("has no such group; its groups: none")


# -- a requirements/ folder without requirements.txt ---------------------------------------------------


@pytest.mark.parametrize(
    "names, main",
    [
        (["production", "prod", "base", "common", "main", "local"], "production"),
        (["prod", "base", "common", "main", "local"], "prod"),
        (["base", "common", "main", "local"], "base"),
        (["common", "main", "local"], "common"),
        (["main", "local"], "main"),
    ],
)
def test_a_requirements_folder_installs_what_production_installs(tmp_path, names, main):
    site = make(tmp_path, {f"requirements/{name}.txt": f"{name}-pkg\n" for name in names})
    chosen = from_folder(site)
    assert chosen.source == f"requirements/{main}.txt"
    assert installed(chosen) == [f"{main}-pkg"]
    assert chosen.other_groups == tuple(sorted(n for n in names if n != main))


def test_a_requirements_folder_adds_groups_and_refuses_unknown_ones(tmp_path):
    site = make(tmp_path, {
        "requirements/base.txt": "Django==5.2.19\n",
        "requirements/local.txt": "-r base.txt\nipdb\n",
        "requirements/test.txt": "-r local.txt\npytest\n",
    })
    chosen = from_folder(site, ("test",))
    assert chosen.source == "requirements/base.txt"
    assert installed(chosen) == ["Django==5.2.19", "ipdb", "pytest"]
    assert chosen.groups == ("test",) and chosen.other_groups == ("local",)
    message = refusal(site, "base")
    assert message == "--group base: requirements/ (base, local, test) has no such group; its groups: local, test"


def test_a_requirements_folder_offers_no_file_production_already_includes(tmp_path):
    site = make(tmp_path, {
        "requirements/base.txt": "Django==5.2.19\n",
        "requirements/production.txt": "-r base.txt\ngunicorn\n",
        "requirements/local.txt": "-r base.txt\nipdb\n",
    })
    chosen = from_folder(site)
    assert installed(chosen) == ["Django==5.2.19", "gunicorn"]
    assert chosen.other_groups == ("local",), "base is installed already: --group base adds nothing"


def test_a_requirements_folder_without_a_production_file_is_no_declaration(tmp_path):
    site = make(tmp_path, {"requirements/dev.txt": "pytest\n", "requirements/docs.txt": "sphinx\n"})
    assert from_folder(site) is None
    with_project = make(tmp_path / "p", {"requirements/dev.txt": "pytest\n",
                                         "pyproject.toml": '[project]\nname="x"\ndependencies=["Django"]\n'})
    assert from_folder(with_project).source == "pyproject.toml [project] dependencies"


# -- pyproject's [project] ------------------------------------------------------------------------------


PROJECT = """
[project]
name = "x"
dependencies = ["Django==5.2.19", "gunicorn"]
[project.optional-dependencies]
s3 = ["django-storages==1.14", "gunicorn"]
[dependency-groups]
test = ["pytest", {include-group = "lint"}]
lint = ["ruff", {include-group = "test"}]
dev = [{include-group = "test"}, "django-debug-toolbar", {include-group = "nosuch"}]
"""


def test_project_dependencies_with_groups_extras_and_included_groups(tmp_path):
    site = make(tmp_path, {"pyproject.toml": PROJECT})
    chosen = from_folder(site)
    assert chosen.source == "pyproject.toml [project] dependencies"
    assert installed(chosen) == ["Django==5.2.19", "gunicorn"]
    assert chosen.other_groups == ("test", "lint", "dev", "s3")
    dev = from_folder(site, ("dev", "s3"))
    assert installed(dev) == ["Django==5.2.19", "gunicorn", "pytest", "ruff", "django-debug-toolbar", "django-storages==1.14"]
    assert dev.groups == ("dev", "s3") and dev.extras == () and dev.other_groups == ("test", "lint")
    assert installed(from_folder(site, ("lint",))) == ["Django==5.2.19", "gunicorn", "ruff", "pytest"]


def test_project_groups_refuse_an_unknown_one_naming_groups_and_extras(tmp_path):
    site = make(tmp_path, {"pyproject.toml": PROJECT})
    assert refusal(site, "docs") == "--group docs: pyproject.toml has no such group; its groups: test, lint, dev, s3"


def test_dynamic_or_absent_project_dependencies_are_no_declaration(tmp_path):
    dynamic = make(tmp_path / "d", {"pyproject.toml": '[project]\nname="x"\ndynamic=["dependencies"]\ndependencies=[]\n'})
    assert from_folder(dynamic) is None
    absent = make(tmp_path / "a", {"pyproject.toml": '[project]\nname="x"\n'})
    assert from_folder(absent) is None
    empty = make(tmp_path / "e", {"pyproject.toml": '[project]\nname="x"\ndependencies=[]\n'})
    assert from_folder(empty).files == {"requirements.txt": b"\n"}


def test_a_group_for_a_project_that_declares_nothing_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="^--group dev: the project declares no dependencies with groups$"):
        from_folder(tmp_path, ("dev",))
    assert from_folder(tmp_path) is None


def test_invalid_pyproject_toml_is_refused_naming_the_file(tmp_path):
    site = make(tmp_path, {"pyproject.toml": "[project\n", "requirements.txt": "Django\n"})
    with pytest.raises(ConfigError, match=r"pyproject.toml is not valid TOML: "):
        from_folder(site)


# -- Poetry without a lock ------------------------------------------------------------------------------


POETRY = """
[tool.poetry.dependencies]
python = "^3.11"
Django = "^5.2"
gunicorn = "*"
mylib = {path = "../mylib", develop = true}
[tool.poetry.group.dev.dependencies]
pytest = "^8.0"
Django = "5.2.19"
[tool.poetry.group.docs.dependencies]
sphinx = "*"
"""


def test_poetry_dependencies_become_requirements_and_groups_add_theirs(tmp_path):
    site = make(tmp_path, {"pyproject.toml": POETRY})
    chosen = from_folder(site)
    assert chosen.source == "pyproject.toml [tool.poetry] (no poetry.lock)"
    assert installed(chosen) == ["Django>=5.2,<6", "gunicorn"]
    assert chosen.other_groups == ("dev", "docs")
    dev = from_folder(site, ("dev",))
    assert installed(dev) == ["Django==5.2.19", "gunicorn", "pytest>=8.0,<9"], "a group's pin replaces the main one"
    assert dev.other_groups == ("docs",)
    assert refusal(site, "test") == "--group test: pyproject.toml has no such group; its groups: dev, docs"


def test_a_poetry_group_without_dependencies_adds_nothing(tmp_path):
    site = make(tmp_path, {"pyproject.toml": '[tool.poetry.dependencies]\nDjango = "*"\n'
                                             '[tool.poetry.group.docs]\noptional = true\n'})
    chosen = from_folder(site, ("docs",))
    assert installed(chosen) == ["Django"] and chosen.groups == ("docs",)


def test_poetrys_old_dev_dependencies_are_the_dev_group(tmp_path):
    old = make(tmp_path / "old", {"pyproject.toml": '[tool.poetry.dependencies]\nDjango = "*"\n'
                                                    '[tool.poetry.dev-dependencies]\npytest = "*"\n'})
    assert from_folder(old).other_groups == ("dev",)
    assert installed(from_folder(old, ("dev",))) == ["Django", "pytest"]
    both = make(tmp_path / "both", {"pyproject.toml": '[tool.poetry.dependencies]\nDjango = "*"\n'
                                                      '[tool.poetry.dev-dependencies]\nnose = "*"\n'
                                                      '[tool.poetry.group.dev.dependencies]\npytest = "*"\n'})
    assert installed(from_folder(both, ("dev",))) == ["Django", "pytest"], "the group table wins over the old one"


@pytest.mark.parametrize(
    "name, constraint, line",
    [
        ("python", "^3.11", None),
        ("Python", "^3.11", None),
        ("django", "^4.2.1", "django>=4.2.1,<5"),
        ("django", "^5", "django>=5,<6"),
        ("pkg", "^0.3", "pkg>=0.3,<0.4"),
        ("pkg", "^0.3.1", "pkg>=0.3.1,<0.4"),
        ("pkg", "^0.0.3", "pkg>=0.0.3,<0.0.4"),
        ("pkg", "^0.0", "pkg>=0.0,<0.1"),
        ("pkg", "^0", "pkg>=0,<1"),
        ("wagtail", "~6", "wagtail>=6,<7"),
        ("wagtail", "~6.1", "wagtail>=6.1,<6.2"),
        ("wagtail", "~6.1.2", "wagtail>=6.1.2,<6.2"),
        ("pkg", "~=1.2", "pkg~=1.2"),
        ("pkg", "1.2.3", "pkg==1.2.3"),
        ("pkg", "==1.2.3", "pkg==1.2.3"),
        ("pkg", ">=1.0,<2.0", "pkg>=1.0,<2.0"),
        ("pkg", "^1.2, !=1.2.5", "pkg>=1.2,<2,!=1.2.5"),
        ("pkg", " * ", "pkg"),
        ("pkg", "", "pkg"),
        ("psycopg", {"version": "3.2.9", "extras": ["binary", "pool"]}, "psycopg[binary,pool]==3.2.9"),
        ("pkg", {"version": "^1.0", "markers": "python_version < '3.12'"}, "pkg>=1.0,<2 ; python_version < '3.12'"),
        ("pkg", {"extras": ["a"]}, "pkg[a]"),
        ("pkg", [{"version": "^1.0", "markers": "sys_platform == 'linux'"}, {"version": "^2.0"}],
         "pkg>=1.0,<2 ; sys_platform == 'linux'"),
        ("pkg", [], "pkg"),
        ("local", {"path": "../lib"}, None),
        ("lib", {"git": "https://example.org/lib.git"}, "lib @ git+https://example.org/lib.git"),
        ("lib", {"git": "https://example.org/lib.git", "rev": "abc123"}, "lib @ git+https://example.org/lib.git@abc123"),
        ("lib", {"git": "https://example.org/lib.git", "tag": "v1.0"}, "lib @ git+https://example.org/lib.git@v1.0"),
        ("lib", {"git": "https://example.org/lib.git", "branch": "main"}, "lib @ git+https://example.org/lib.git@main"),
        ("lib", {"url": "https://example.org/lib-1.0.tar.gz"}, "lib @ https://example.org/lib-1.0.tar.gz"),
    ],
)
def test_poetry_constraints_become_requirement_lines(name, constraint, line):
    assert poetry_requirement(name, constraint) == line


# -- Pipenv: Pipfile.lock and Pipfile --------------------------------------------------------------------


LOCK = {
    "_meta": {"hash": {"sha256": "x"}, "sources": []},
    "default": {
        "django": {"version": "==5.2.19", "hashes": ["sha256:x"], "index": "pypi"},
        "psycopg": {"extras": ["binary", "pool"], "version": "==3.2.9"},
        "tzdata": {"version": "==2025.2", "markers": "sys_platform == 'win32'"},
        "mylib": {"path": ".", "editable": True},
        "tool": {"editable": True, "git": "https://example.org/tool.git"},
        "vendored": {"path": "./vendor/vendored-1.0-py3-none-any.whl"},
        "lib": {"git": "https://example.org/lib.git", "ref": "0a1b2c"},
        "other": {"git": "https://example.org/other.git", "extras": ["x"]},
    },
    "develop": {"pytest": {"version": "==9.2.0"}, "django": {"version": "==5.2.19"}},
    "docs": {"sphinx": {"version": "==8.0"}},
}


def test_pipfile_lock_installs_its_default_section_exactly_as_locked(tmp_path):
    site = make(tmp_path, {"Pipfile.lock": json.dumps(LOCK), "Pipfile": "[packages]\nignored = '*'\n",
                           "requirements.txt": "ignored\n"})
    chosen = from_folder(site)
    assert chosen.source == "Pipfile.lock" and chosen.groups == () and chosen.extras == ()
    assert installed(chosen) == [
        "django==5.2.19", "psycopg[binary,pool]==3.2.9", "tzdata==2025.2 ; sys_platform == 'win32'",
        "lib @ git+https://example.org/lib.git@0a1b2c", "other[x] @ git+https://example.org/other.git"]
    assert chosen.other_groups == ("dev", "docs")
    assert chosen.describe() == "installs Pipfile.lock exactly as locked; not dev, docs (add one with --group NAME)"


def test_pipfile_lock_dev_is_its_develop_section_and_other_categories_are_groups(tmp_path):
    site = make(tmp_path, {"Pipfile.lock": json.dumps(LOCK)})
    dev = from_folder(site, ("dev",))
    assert installed(dev)[-2:] == ["pytest==9.2.0", "django==5.2.19"]
    assert dev.groups == ("dev",) and dev.other_groups == ("docs",)
    docs = from_folder(site, ("docs",))
    assert installed(docs)[-1] == "sphinx==8.0" and "pytest==9.2.0" not in installed(docs)
    assert refusal(site, "develop") == "--group develop: Pipfile.lock has no such group; its groups: dev, docs"


def test_pipfile_lock_without_develop_or_with_empty_sections(tmp_path):
    site = make(tmp_path, {"Pipfile.lock": json.dumps({"_meta": {}, "default": {"django": {}}, "develop": None})})
    assert installed(from_folder(site, ("dev",))) == ["django"]


def test_an_unreadable_pipfile_lock_is_refused_naming_the_file(tmp_path):
    site = make(tmp_path, {"Pipfile.lock": "{not json"})
    with pytest.raises(ConfigError, match=r"Pipfile.lock is not valid JSON: "):
        from_folder(site)


PIPFILE = """
[[source]]
url = "https://pypi.org/simple"
name = "pypi"
[packages]
django = "==5.2.19"
gunicorn = "*"
mylib = {path = ".", editable = true}
psycopg = {version = ">=3.2", extras = ["binary", "pool"]}
tool = {git = "https://example.org/tool.git", editable = true}
whitenoise = {version = "*"}
vendored = {path = "./vendor/vendored-1.0-py3-none-any.whl"}
sentry-sdk = {extras = ["django"]}
[dev-packages]
pytest = "*"
[docs]
sphinx = ">=8"
[requires]
python_version = "3.13"
[scripts]
serve = "gunicorn x.wsgi"
[pipenv]
allow_prereleases = false
"""


def test_a_pipfile_without_its_lock_installs_packages_and_chosen_categories(tmp_path):
    site = make(tmp_path, {"Pipfile": PIPFILE})
    chosen = from_folder(site)
    assert chosen.source == "Pipfile"
    assert installed(chosen) == ["django==5.2.19", "gunicorn", "psycopg[binary,pool]>=3.2", "whitenoise", "sentry-sdk[django]"]
    assert chosen.other_groups == ("dev", "docs")
    both = from_folder(site, ("docs", "dev"))
    assert installed(both)[-2:] == ["sphinx>=8", "pytest"]
    assert both.groups == ("docs", "dev") and both.other_groups == ()
    assert refusal(site, "dev-packages") == "--group dev-packages: Pipfile has no such group; its groups: dev, docs"


def test_pipenv_readers_called_directly_take_the_groups_given(tmp_path):
    site = make(tmp_path, {"Pipfile": PIPFILE, "Pipfile.lock": json.dumps(LOCK)})
    assert installed(pipfile(site / "Pipfile", ["dev"]))[-1] == "pytest"
    assert installed(pipfile_lock(site / "Pipfile.lock", ["docs"]))[-1] == "sphinx==8.0"


def test_an_invalid_pipfile_is_refused_naming_the_file(tmp_path):
    site = make(tmp_path, {"Pipfile": "[packages\n"})
    with pytest.raises(ConfigError, match=r"Pipfile is not valid TOML: "):
        from_folder(site)


# -- locks: installed by their own tools ----------------------------------------------------------------


UV_PROJECT = """
[project]
name = "x"
dependencies = ["Django==5.2.19"]
[project.optional-dependencies]
s3 = ["django-storages"]
dev = ["also-a-group-name"]
[dependency-groups]
dev = ["pytest"]
lint = ["ruff"]
"""


def test_uv_lock_is_exported_by_uv_with_groups_and_extras_told_apart(tmp_path):
    site = make(tmp_path, {"pyproject.toml": UV_PROJECT, "uv.lock": "version = 1\n", "requirements.txt": "ignored\n"})
    chosen = from_folder(site, ("s3", "dev"))
    assert chosen.kind == "uv" and chosen.source == "uv.lock"
    assert chosen.files == {"pyproject.toml": UV_PROJECT.encode(), "uv.lock": b"version = 1\n"}
    assert (chosen.groups, chosen.extras, chosen.other_groups) == (("dev",), ("s3",), ("lint",))
    assert from_folder(site).other_groups == ("dev", "lint", "s3")
    assert from_folder(site).describe() == "installs uv.lock exactly as locked; not dev, lint, s3 (add one with --group NAME)"
    assert refusal(site, "docs") == "--group docs: pyproject.toml has no such group; its groups: dev, lint, s3"


def test_a_lock_without_a_pyproject_is_not_what_the_project_installs(tmp_path):
    site = make(tmp_path, {"uv.lock": "version = 1\n", "poetry.lock": "", "requirements.txt": "Django\n"})
    assert from_folder(site).source == "requirements.txt"


def test_poetry_lock_is_exported_by_poetry_with_its_groups_and_extras(tmp_path):
    site = make(tmp_path, {"pyproject.toml": POETRY + '[tool.poetry.extras]\ns3 = ["django-storages"]\n'
                                             '[dependency-groups]\nci = ["tox"]\n',
                           "poetry.lock": "# locked\n"})
    chosen = from_folder(site, ("dev", "s3", "ci"))
    assert chosen.kind == "poetry" and chosen.source == "poetry.lock"
    assert set(chosen.files) == {"pyproject.toml", "poetry.lock"} and chosen.files["poetry.lock"] == b"# locked\n"
    assert (chosen.groups, chosen.extras, chosen.other_groups) == (("dev", "ci"), ("s3",), ("docs",))
    assert from_folder(site).other_groups == ("ci", "dev", "docs", "s3")
    assert from_folder(site).describe().startswith("installs poetry.lock exactly as locked; not ci, dev, docs, s3")


def test_poetry_lock_takes_project_extras_when_poetry_declares_none(tmp_path):
    site = make(tmp_path, {"pyproject.toml": '[project]\nname="x"\ndependencies=[]\n'
                                             '[project.optional-dependencies]\ns3 = ["django-storages"]\n',
                           "poetry.lock": ""})
    chosen = from_folder(site, ("s3",))
    assert (chosen.kind, chosen.groups, chosen.extras, chosen.other_groups) == ("poetry", (), ("s3",), ())


# -- which way wins when a project has several --------------------------------------------------------


def test_the_ways_of_keeping_dependencies_are_read_in_order(tmp_path):
    everything = {
        "uv.lock": ("uv.lock", "version = 1\n"),
        "poetry.lock": ("poetry.lock", ""),
        "Pipfile.lock": ("Pipfile.lock", json.dumps({"default": {}})),
        "requirements.txt": ("requirements.txt", "Django\n"),
        "requirements/base.txt": ("requirements/base.txt", "Django\n"),
        "project": ("pyproject.toml [project] dependencies", None),
        "poetry": ("pyproject.toml [tool.poetry] (no poetry.lock)", None),
        "Pipfile": ("Pipfile", "[packages]\ndjango = '*'\n"),
    }
    order = list(everything)
    for number, first in enumerate(order):
        files = {name: text for name, (_, text) in everything.items() if text is not None and name not in order[:number]}
        toml = ""
        if "project" not in order[:number]:
            toml += '[project]\nname = "x"\ndependencies = ["Django"]\n'
        if "poetry" not in order[:number]:
            toml += '[tool.poetry.dependencies]\nDjango = "*"\n'
        if toml:
            files["pyproject.toml"] = toml
        assert from_folder(make(tmp_path / str(number), files)).source == everything[first][0], first


# -- --requirements FILE ---------------------------------------------------------------------------------


def test_requirements_flag_names_a_file_relative_to_where_lab_runs(tmp_path, monkeypatch):
    site = make(tmp_path / "site", {"requirements.txt": "Django\n"})
    make(tmp_path, {"deploy/prod.txt": "-r common.txt\ngunicorn\n", "deploy/common.txt": "Django==5.2.19\n"})
    monkeypatch.chdir(tmp_path)
    chosen = from_folder(site, given="deploy/prod.txt")
    assert chosen.source == "deploy/prod.txt" and installed(chosen) == ["Django==5.2.19", "gunicorn"]
    absolute = from_folder(site, given=str(tmp_path / "deploy" / "prod.txt"))
    assert installed(absolute) == ["Django==5.2.19", "gunicorn"]
    monkeypatch.setenv("HOME", str(tmp_path))
    assert installed(from_folder(site, given="~/deploy/common.txt")) == ["Django==5.2.19"]


def test_requirements_flag_refuses_a_missing_file_or_a_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "deploy").mkdir()
    for given in ("nope.txt", "deploy"):
        with pytest.raises(ConfigError) as refused:
            from_folder(tmp_path, given=given)
        assert str(refused.value) == f"--requirements {given!r}: no such file"


def test_requirements_flag_names_an_unreadable_lock_by_its_full_path(tmp_path, monkeypatch):
    make(tmp_path, {"deploy/Pipfile.lock": "{not json"})
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as refused:
        from_folder(tmp_path, given="deploy/Pipfile.lock")
    assert str(refused.value).startswith(f"{tmp_path / 'deploy' / 'Pipfile.lock'} is not valid JSON: ")


def test_requirements_flag_reads_a_pipfile_lock_with_its_groups(tmp_path):
    site = make(tmp_path, {"elsewhere/Pipfile.lock": json.dumps(LOCK)})
    chosen = from_folder(tmp_path, ("dev",), given=str(site / "elsewhere" / "Pipfile.lock"))
    assert chosen.source == "Pipfile.lock" and installed(chosen)[-1] == "django==5.2.19" and chosen.groups == ("dev",)


# -- which group has a module ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "module, names",
    [
        ("debug_toolbar.middleware", {"debug-toolbar", "django-debug-toolbar"}),
        ("django_extensions", {"django-extensions", "django-django-extensions"}),
        ("rest_framework", {"rest-framework", "django-rest-framework", "djangorestframework"}),
        ("PIL.Image", {"pil", "django-pil", "pillow"}),
        ("psycopg2", {"psycopg2", "psycopg2-binary", "django-psycopg2"}),
        ("environ", {"environ", "django-environ"}),
        ("storages.backends.s3", {"storages", "django-storages"}),
    ],
)
def test_the_distributions_that_may_provide_a_module(module, names):
    assert distribution_of(module) == names


def test_where_a_module_is_among_dependency_groups_and_extras(tmp_path):
    site = make(tmp_path, {"pyproject.toml": PROJECT + "extra = [{include-group = 'dev'}]\n"})
    assert where_module_is(site, "debug_toolbar") == "pyproject.toml's dependency group 'dev' lists it: add --group dev"
    assert where_module_is(site, "storages") == "pyproject.toml's extra 's3' lists it: add --group s3"
    assert where_module_is(site, "ruff") == "pyproject.toml's dependency group 'test' lists it: add --group test"
    assert where_module_is(site, "celery") is None


def test_where_a_module_is_among_poetry_groups_and_pipfile_categories(tmp_path):
    poetry_site = make(tmp_path / "poetry", {"pyproject.toml": POETRY})
    assert where_module_is(poetry_site, "sphinx.ext") == "pyproject.toml's Poetry group 'docs' lists it: add --group docs"
    assert where_module_is(poetry_site, "gunicorn") is None, "the main dependencies are no group"
    pipenv = make(tmp_path / "pipenv", {"Pipfile": PIPFILE.replace("pytest", "Django-Debug-Toolbar")})
    assert where_module_is(pipenv, "debug_toolbar") == "the Pipfile's [dev-packages] lists it: add --group dev"
    assert where_module_is(pipenv, "sphinx") == "the Pipfile's [docs] lists it: add --group docs"
    assert where_module_is(pipenv, "whitenoise") is None, "[packages] is installed already"


def test_where_a_module_is_among_requirements_files(tmp_path):
    site = make(tmp_path, {
        "requirements.txt": "Django\n",
        "requirements-dev.txt": "-r requirements.txt\n# django-silk\n",
        "requirements/local.txt": "django_debug_toolbar==5.0 ; python_version > '3'\n",
        "dev-requirements.txt": "-e .\nipdb\n",
    })
    assert where_module_is(site, "debug_toolbar") == "requirements/local.txt lists it: add --group local"
    assert where_module_is(site, "ipdb") == "dev-requirements.txt lists it: add --group dev"
    assert where_module_is(site, "silk") is None
    assert where_module_is(tmp_path / "nothing", "debug_toolbar") is None


def test_where_a_module_is_names_a_group_that_group_selection_accepts(tmp_path):
    site = make(tmp_path, {
        "requirements.txt": "Django\n",
        "requirements/test-requirements.txt": "--index-url https://pypi.org/simple\n-e .\nDjango-Debug-Toolbar==5.0\n",
    })
    advice = where_module_is(site, "debug_toolbar")
    assert advice == "requirements/test-requirements.txt lists it: add --group test-requirements"
    assert installed(from_folder(site, ("test-requirements",)))[-1] == "Django-Debug-Toolbar==5.0"


# -- other tools' shapes: pip-tools, PDM ---------------------------------------------------------------


def test_a_pip_tools_project_installs_its_compiled_pins_and_offers_its_dev_file(tmp_path):
    site = make(tmp_path, {
        "requirements.in": "django\n",
        "requirements.txt": (
            "#\n# This file is autogenerated by pip-compile with Python 3.13\n#\n"
            "asgiref==3.8.1 \\\n    --hash=sha256:aaa\n    # via django\n"
            "django==5.2.19 \\\n    --hash=sha256:bbb \\\n    --hash=sha256:ccc\n    # via -r requirements.in\n"
        ),
        "dev-requirements.in": "-c requirements.txt\npytest\n",
        "dev-requirements.txt": "-c requirements.txt\npytest==9.2.0\n    # via -r dev-requirements.in\n",
    })
    chosen = from_folder(site)
    assert [line.split()[0] for line in installed(chosen)] == ["asgiref==3.8.1", "django==5.2.19"]
    assert installed(chosen)[1].split()[1:] == ["--hash=sha256:bbb", "--hash=sha256:ccc"]
    assert chosen.other_groups == ("dev",)
    assert [line.split()[0] for line in installed(from_folder(site, ("dev",)))][-1] == "pytest==9.2.0"


def test_a_pdm_project_installs_its_project_table_with_its_dependency_groups(tmp_path):
    """pdm.lock is no lock the lab exports: the [project] table and PEP 735 groups are read instead."""
    site = make(tmp_path, {"pdm.lock": "# pdm\n", "pyproject.toml": (
        '[project]\nname = "x"\ndependencies = ["Django>=5.2"]\n[dependency-groups]\ntest = ["pytest"]\n'
        '[tool.pdm]\ndistribution = false\n')})
    chosen = from_folder(site, ("test",))
    assert chosen.source == "pyproject.toml [project] dependencies"
    assert installed(chosen) == ["Django>=5.2", "pytest"]
    assert "exactly as locked" not in chosen.describe()


def test_files_in_another_encoding_are_still_read(tmp_path):
    """A stray Latin-1 byte in a comment (an author's name) does not stop the lab reading the file."""
    requirements = tmp_path / "r"
    requirements.mkdir()
    (requirements / "requirements.txt").write_bytes(b"# J\xf6rg's pins\nDjango==5.2.19\n")
    assert installed(from_folder(requirements)) == ["Django==5.2.19"]
    project = tmp_path / "p"
    project.mkdir()
    (project / "pyproject.toml").write_bytes(b'# J\xf6rg\n[project]\nname = "x"\ndependencies = ["Django"]\n')
    assert installed(from_folder(project)) == ["Django"]


def test_a_group_named_for_production_is_installed_unless_groups_are_chosen(tmp_path):
    from lab import LabConfig

    site = make(tmp_path, {
        "manage.py": "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'mysite.settings')\n",
        "mysite/__init__.py": "", "mysite/settings.py": "SECRET_KEY = 'x'\n",
        "pyproject.toml": ('[project]\nname = "site"\nversion = "1"\ndependencies = ["Django==5.2.19"]\n'
                           '[dependency-groups]\nprod = ["gunicorn==23.0.0"]\ndev = ["pytest"]\n')})
    chosen = read(LabConfig(site=str(site))).dependencies
    assert chosen.groups == ("prod",) and b"gunicorn==23.0.0" in chosen.files["requirements.txt"]
    assert read(LabConfig(site=str(site), groups=("dev",))).dependencies.groups == ("dev",)
