"""Options kept in the project: [tool.lab] (or lab.toml) read, merged under LAB_* variables and flags, shown by
`lab config` with each value's source, and written by `lab up --save` keeping the file's comments."""

from __future__ import annotations

import json

import pytest

from lab.cli import commands, main
from lab.errors import ConfigError
from lab.model import options
from lab.model.config import LabConfig
from lab.model.options import FileTable, Sourced
from lab.project.lab_options import find_options, save_options, save_target
from tests.unit.projects import make

MANAGE = 'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")\n'
CODE = {"manage.py": MANAGE, "mysite/__init__.py": "", "mysite/settings.py": "SECRET_KEY = 'x'\n"}
TEAM = """[project]
name = "shop"

# What the team runs the lab with.
[tool.lab]
backend = "memcached"  # the store production uses
nodes = 4
worker_machines = 0
"""


def project(tmp_path, **files):
    """A project folder holding only its code and the files given."""
    return make(tmp_path / "shop", {**CODE, **{name.replace("__", "/").replace("_", "."): text
                                               for name, text in files.items()}})


class FakeLab:
    """A Lab that keeps `up`'s changes and resolves them as Lab._up does: over what this machine remembers."""

    def __init__(self, name="shop", remembered: LabConfig | None = None):
        self.name, self.remembered, self.calls = name, remembered, []

    def config(self):
        return self.remembered

    def up(self, **changes):
        self.calls.append(changes)
        self.remembered = (self.remembered or LabConfig(name=self.name)).replace(**changes)
        return type("Result", (), {"seconds": 0.1})()


@pytest.fixture
def quiet(monkeypatch, tmp_path):
    """No LAB_* variable of the machine running the tests, its own state folder, and no status to print."""
    for option in options.OPTIONS:
        if option.env:
            monkeypatch.delenv(option.env, raising=False)
    monkeypatch.delenv("LAB_NAME", raising=False)
    monkeypatch.setenv("LAB_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setattr(commands, "print_up", lambda lab, seconds: None)


def run_up(monkeypatch, lab, *argv):
    """`lab up ARGV` on `lab`, through the real parser and command."""
    monkeypatch.setattr("lab.cli.Lab", lambda name, progress=None: lab)
    return main(["--name", lab.name, "up", *argv])


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# -- reading the file --------------------------------------------------------------------------------------


def test_pyproject_tool_lab_is_read_with_its_place(tmp_path, monkeypatch):
    folder = project(tmp_path, pyproject_toml=TEAM)
    monkeypatch.chdir(folder)
    table = find_options(folder)
    assert table.where == "pyproject.toml:[tool.lab]"
    assert options.file_values(table) == {
        "backend": Sourced("memcached", "file", "pyproject.toml:[tool.lab]"),
        "nodes": Sourced(4, "file", "pyproject.toml:[tool.lab]"),
        "worker-machines": Sourced(0, "file", "pyproject.toml:[tool.lab]"),
    }


def test_lab_toml_beside_manage_py_has_the_keys_at_its_top_level(tmp_path, monkeypatch):
    folder = project(tmp_path, lab_toml='balance = "ip_hash"\nshared-media = true\n')
    monkeypatch.chdir(folder)
    table = find_options(folder)
    assert table.where == "lab.toml" and table.values == {"balance": "ip_hash", "shared-media": True}


def test_the_repository_root_above_manage_py_keeps_them_too(tmp_path):
    root = make(tmp_path / "repo", {"pyproject.toml": '[tool.lab]\nnodes = 2\n', ".git/HEAD": ""})
    make(root / "src", CODE)
    assert find_options(root / "src").values == {"nodes": 2}


def test_a_project_without_the_table_keeps_no_options(tmp_path):
    assert find_options(project(tmp_path)) is None
    assert find_options(project(tmp_path, pyproject_toml='[project]\nname = "x"\n')) is None


def test_malformed_toml_names_the_file_and_line(tmp_path):
    folder = project(tmp_path, pyproject_toml='[tool.lab]\nnodes = 4\nbackend = memcached\n')
    with pytest.raises(ConfigError, match=r"pyproject.toml: not valid TOML: .*line 3"):
        find_options(folder)


def test_an_unknown_key_is_refused_naming_the_file_the_key_and_the_valid_keys(tmp_path):
    folder = project(tmp_path, lab_toml='nodez = 4\n')
    with pytest.raises(ConfigError) as error:
        find_options(folder)
    assert "lab.toml" in str(error.value) and "'nodez'" in str(error.value)
    assert "valid keys: backend, balance, nodes" in str(error.value)
    assert error.value.exit_code == 2


@pytest.mark.parametrize("line, shown", [('nodes = "4"', "nodes = '4' must be a whole number"),
                                         ("https = 1", "https = 1 must be true or false"),
                                         ('groups = "prod"', "a list of strings"),
                                         ("port = true", "a whole number")])
def test_a_wrong_type_is_refused_naming_the_key(tmp_path, line, shown):
    folder = project(tmp_path, pyproject_toml=f"[tool.lab]\n{line}\n")
    with pytest.raises(ConfigError, match="pyproject.toml:\\[tool.lab\\]: ") as error:
        find_options(folder)
    assert shown in str(error.value) and "valid keys:" in str(error.value)


@pytest.mark.parametrize("text", ['[tool.lab.env]\nDJANGO_SECRET_KEY = "s3cret"\n',
                                  '[tool.lab]\nenv = { API_KEY = "s3cret" }\n',
                                  '[tool.lab]\nSENTRY_DSN = "https://key@sentry"\n'])
def test_a_variable_s_value_is_refused_with_the_way_to_env_files(tmp_path, text):
    with pytest.raises(ConfigError, match="env-files") as error:
        find_options(project(tmp_path, pyproject_toml=text))
    assert "s3cret" not in str(error.value)


def test_the_same_key_twice_and_two_files_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="a second time"):
        find_options(project(tmp_path, lab_toml='group = ["a"]\ngroups = ["b"]\n'))
    both = make(tmp_path / "both", {**CODE, "lab.toml": "nodes = 2\n", "pyproject.toml": "[tool.lab]\nnodes = 3\n"})
    with pytest.raises(ConfigError, match="keep one"):
        find_options(both)


# -- precedence: flag > env > file > this machine's lab > default --------------------------------------------


def file_table(values):
    return options.file_values(FileTable(values, "pyproject.toml", "[tool.lab]", "/p"))


def test_a_flag_wins_over_an_env_var_which_wins_over_the_file():
    flags = options.flag_values({"nodes": 5, "backend": None})
    env = options.env_values({"LAB_NODES": "6", "LAB_BALANCE": "ip_hash", "LAB_HTTPS": "off"})
    merged = options.merge(flags, env, file_table({"nodes": 2, "balance": "sticky", "backend": "db", "pooler": "none"}))
    assert {key: (s.value, s.source) for key, s in merged.items()} == {
        "backend": ("db", "file"), "balance": ("ip_hash", "env"), "nodes": (5, "flag"), "https": (False, "env"),
        "pooler": ("none", "file"),
    }
    assert merged["balance"].where == "LAB_BALANCE" and merged["nodes"].where == "--nodes"
    assert options.config_changes(merged) == {"backend": "db", "balance": "ip_hash", "nodes": 5, "https": False,
                                              "pooler": ""}


def test_a_bad_value_is_refused_naming_where_it_came_from():
    with pytest.raises(ConfigError, match=r"pyproject.toml:\[tool.lab\]: nodes = 40: nodes must be between 1 and 16"):
        options.config_changes(options.merge(file_table({"nodes": 40})))
    with pytest.raises(ConfigError, match="LAB_NODES='four'"):
        options.env_values({"LAB_NODES": "four"})
    with pytest.raises(ConfigError, match=r"LAB_PYTHON: python = '3.9'; valid: 3.11, 3.13"):
        options.config_changes(options.env_values({"LAB_PYTHON": "3.9"}), {"python": ["3.11", "3.13"]})


def test_every_env_var_is_named_in_its_flag_s_help(capsys):
    with pytest.raises(SystemExit):
        main(["up", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for option in options.OPTIONS:
        assert not option.env or f"env {option.env}" in text, option.env


def test_a_bare_up_in_a_project_runs_with_its_tool_lab(tmp_path, monkeypatch, quiet):
    folder = project(tmp_path, pyproject_toml=TEAM)
    monkeypatch.chdir(folder)
    lab = FakeLab()
    assert run_up(monkeypatch, lab) == 0
    assert lab.calls == [{"backend": "memcached", "nodes": 4, "worker_machines": 0, "site": str(folder)}]
    assert (lab.remembered.backend, lab.remembered.nodes, lab.remembered.site) == ("memcached", 4, str(folder))


def test_the_file_wins_over_what_this_machine_remembers_only_for_its_keys(tmp_path, monkeypatch, quiet):
    folder = project(tmp_path, pyproject_toml=TEAM)
    monkeypatch.chdir(folder)
    earlier = LabConfig(name="shop", site=str(folder), backend="db", nodes=2, balance="sticky", port=8090)
    lab = FakeLab(remembered=earlier)
    run_up(monkeypatch, lab)
    config = lab.remembered
    assert (config.backend, config.nodes) == ("memcached", 4)  # the team's
    assert (config.balance, config.port) == ("sticky", 8090)  # flags given earlier on this machine, kept


def test_env_vars_and_flags_win_over_the_file_in_up(tmp_path, monkeypatch, quiet):
    folder = project(tmp_path, pyproject_toml=TEAM)
    monkeypatch.chdir(folder)
    monkeypatch.setenv("LAB_BACKEND", "db")
    monkeypatch.setenv("LAB_NODES", "2")
    lab = FakeLab()
    run_up(monkeypatch, lab, "--nodes", "3")
    assert lab.calls[0]["backend"] == "db" and lab.calls[0]["nodes"] == 3 and lab.calls[0]["worker_machines"] == 0


def test_env_files_are_read_from_the_file_s_folder_and_their_values_reach_the_site(tmp_path, monkeypatch, quiet):
    folder = project(tmp_path, lab_toml='env-files = ["deploy/lab.env"]\n', deploy__lab_env="API_URL=http://api\n")
    monkeypatch.chdir(tmp_path)  # elsewhere: the path is the file's folder's
    lab = FakeLab()
    run_up(monkeypatch, lab, "--site", str(folder))
    assert lab.calls[0]["env"] == (("API_URL", "http://api"),)
    (folder / "deploy/lab.env").unlink()
    with pytest.raises(ConfigError, match=r"lab.toml: env-files names .*lab.env, which is not here"):
        commands.command_options(FakeLab(), type("Args", (), {"site": str(folder)})())


def test_a_broken_file_stops_up_with_exit_2(tmp_path, monkeypatch, quiet, capsys):
    folder = project(tmp_path, pyproject_toml='[tool.lab]\nbakend = "db"\n')
    monkeypatch.chdir(folder)
    lab = FakeLab()
    code = run_up(monkeypatch, lab)
    assert code == 2 and lab.calls == []
    assert "pyproject.toml:[tool.lab]: unknown key 'bakend'" in capsys.readouterr().err


class RunningLab(FakeLab):
    """A lab already up: `switch` and `deploy` keep what they are asked."""

    def switch(self, rolling=False, **changes):
        self.calls.append(("switch", changes))
        return type("Result", (), {"seconds": 0.1, "changed": []})()

    def deploy(self, release=None, keep_static=None, **changes):
        self.calls.append(("deploy", changes))
        return type("Result", (), {"seconds": 0.1, "changed": []})()


def test_deploy_takes_the_file_as_it_is_now_and_switch_only_its_flags(tmp_path, monkeypatch, quiet):
    folder = project(tmp_path, pyproject_toml=TEAM)
    monkeypatch.chdir(folder)
    lab = RunningLab(remembered=LabConfig(name="shop", site=str(folder), backend="db"))
    monkeypatch.setattr("lab.cli.Lab", lambda name, progress=None: lab)
    assert main(["--name", "shop", "switch", "--balance", "ip_hash"]) == 0
    assert main(["--name", "shop", "deploy"]) == 0
    assert lab.calls[0] == ("switch", {"backend": None, "balance": "ip_hash", "nodes": None, "secret_key_per_node": None})
    assert lab.calls[1] == ("deploy", {"backend": "memcached", "nodes": 4, "worker_machines": 0})


# -- lab up --save -----------------------------------------------------------------------------------------


def test_save_writes_the_flags_given_keeping_the_file_s_comments(tmp_path, monkeypatch, quiet, capsys):
    folder = project(tmp_path, pyproject_toml=TEAM)
    monkeypatch.chdir(folder)
    run_up(monkeypatch, FakeLab(), "--backend", "redis", "--worker-machines", "2", "--no-https", "--group", "prod",
           "--save")
    text = (folder / "pyproject.toml").read_text()
    assert "# What the team runs the lab with." in text and "# the store production uses" in text
    assert 'backend = "redis"  # the store production uses' in text
    assert "worker_machines = 2" in text and "worker-machines" not in text  # the file's own spelling kept
    assert find_options(folder).values == {"backend": "redis", "nodes": 4, "worker_machines": 2, "https": False,
                                           "groups": ["prod"]}
    out = capsys.readouterr().out
    assert 'saved to pyproject.toml [tool.lab]: backend = "redis", groups = ["prod"], https = false, ' \
           "worker_machines = 2" in out


def test_save_makes_the_table_in_a_pyproject_that_has_none(tmp_path, monkeypatch, quiet):
    folder = project(tmp_path, pyproject_toml='[project]\nname = "shop"  # ours\n')
    monkeypatch.chdir(folder)
    run_up(monkeypatch, FakeLab(), "--balance", "ip_hash", "--save")
    text = (folder / "pyproject.toml").read_text()
    assert text.startswith('[project]\nname = "shop"  # ours\n') and "[tool.lab]" in text
    assert find_options(folder).values == {"balance": "ip_hash"}


def test_save_writes_lab_toml_without_a_pyproject_and_env_file_paths_never_values(tmp_path, monkeypatch, quiet, capsys):
    folder = project(tmp_path, **{"lab_env": "TOKEN=s3cret\n"})
    monkeypatch.chdir(folder)
    lab = FakeLab()
    run_up(monkeypatch, lab, "--env-file", "lab.env", "--env", "OTHER=v4lue", "--nodes", "2", "--save")
    text = (folder / "lab.toml").read_text()
    assert text == 'nodes = 2\nenv-files = ["lab.env"]\n'
    assert "s3cret" not in text and "v4lue" not in text
    assert dict(lab.calls[0]["env"]) == {"TOKEN": "s3cret", "OTHER": "v4lue"}  # the run has them all the same
    out = capsys.readouterr().out
    assert "saved to lab.toml: nodes = 2, env-files" in out and "not saved: --env values" in out
    assert save_target(folder) == folder / "lab.toml"


def test_save_refuses_a_value_before_writing(tmp_path, monkeypatch, quiet):
    folder = project(tmp_path, pyproject_toml=TEAM)
    monkeypatch.chdir(folder)
    code = run_up(monkeypatch, FakeLab(), "--login-url", "accounts/login", "--save")
    assert code == 2 and (folder / "pyproject.toml").read_text() == TEAM


def test_save_options_round_trip(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text("# top\n[tool.other]\nx = 1\n")
    assert save_options(path, {"scheduler": False, "release-commands": ["python manage.py seed"]}) == [
        "release-commands = [\"python manage.py seed\"]", "scheduler = false"]
    assert path.read_text().startswith("# top\n[tool.other]\nx = 1\n")
    table = options.file_values(FileTable(find_values(path), "pyproject.toml", "[tool.lab]", str(tmp_path)))
    assert options.config_changes(table) == {"release_commands": ("python manage.py seed",), "scheduler": ""}


def find_values(path):
    import tomllib

    return tomllib.loads(path.read_text())["tool"]["lab"]


# -- lab config ----------------------------------------------------------------------------------------------


def test_config_names_each_value_s_source(tmp_path, monkeypatch, quiet, capsys):
    folder = project(tmp_path, pyproject_toml=TEAM + 'python = "3.11"\n', runtime_txt="python-3.13\n")
    monkeypatch.chdir(folder)
    monkeypatch.setenv("LAB_BALANCE", "ip_hash")
    code, out, _ = run(capsys, "--name", "shop", "config", "--port", "8090")
    assert code == 0
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert "file pyproject.toml:[tool.lab]" in lines["backend"] and "memcached" in lines["backend"]
    assert "env LAB_BALANCE" in lines["balance"] and "ip_hash" in lines["balance"]
    assert "flag --port" in lines["port"] and "8090" in lines["port"]
    assert "declared by the project: manage.py" in lines["settings"] and "mysite.settings" in lines["settings"]
    assert "file pyproject.toml" in lines["python"]  # the file's 3.11 over runtime.txt's 3.13
    assert lines["workers"].split()[1:] == ["2", "default"]
    assert lines["file"].split()[1] == "pyproject.toml:[tool.lab]" and str(folder) in lines["site"]


def test_config_says_what_the_project_declares_and_what_this_machine_remembers(tmp_path, monkeypatch, quiet, capsys):
    folder = project(tmp_path, runtime_txt="python-3.14\n")
    monkeypatch.chdir(folder)
    from lab.run.state import LabState, StateStore, new_secrets

    StateStore().save(LabState(LabConfig(name="shop", site=str(folder), nodes=5), new_secrets()))
    code, out, _ = run(capsys, "--name", "shop", "config", "--json")
    report = json.loads(out)
    assert code == 0 and report["file"] is None and report["site"] == str(folder)
    assert report["options"]["nodes"] == {"value": 5, "source": "state", "where": "an earlier `lab up` on this machine"}
    assert report["options"]["python"]["source"] == "project" and report["options"]["python"]["value"] == "3.14"
    assert "runtime.txt" in report["options"]["python"]["where"]
    assert report["options"]["backend"] == {"value": "redis", "source": "default", "where": "default"}
    assert set(report["options"]) == {option.key for option in options.OPTIONS}


def test_config_refuses_a_broken_file_like_up(tmp_path, monkeypatch, quiet, capsys):
    folder = project(tmp_path, lab_toml="nodes = 3\nbackend = [\n")
    monkeypatch.chdir(folder)
    code, _, err = run(capsys, "config")
    assert code == 2 and "lab.toml: not valid TOML" in err and "end of document" in err
