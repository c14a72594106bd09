import pytest

from lab import BACKENDS, BALANCE_MODES, ConfigError, LabConfig


def test_defaults_are_the_readme_lab():
    config = LabConfig()
    assert (config.nodes, config.backend, config.balance, config.port) == (3, "redis", "round_robin", 8080)
    assert config.url == "http://127.0.0.1:8080/"


def test_unknown_backend_names_the_valid_ones():
    with pytest.raises(ConfigError) as error:
        LabConfig(backend="mongo")
    for name in BACKENDS:
        assert name in str(error.value)


def test_unknown_balance_names_the_valid_ones():
    with pytest.raises(ConfigError) as error:
        LabConfig(balance="random")
    for name in BALANCE_MODES:
        assert name in str(error.value)


@pytest.mark.parametrize("nodes", [0, 17, -1])
def test_nodes_outside_1_to_16_are_refused(nodes):
    with pytest.raises(ConfigError, match="between 1 and 16"):
        LabConfig(nodes=nodes)


@pytest.mark.parametrize("name", ["Lab", "1lab", "lab_1", "", "a" * 40])
def test_lab_names_must_be_dns_friendly(name):
    with pytest.raises(ConfigError, match="invalid lab name"):
        LabConfig(name=name)


def test_unavailable_backend_says_why(monkeypatch):
    monkeypatch.setattr(BACKENDS["db"], "available", False, raising=False)
    monkeypatch.setattr(BACKENDS["db"], "unavailable_reason", "being rebuilt", raising=False)
    with pytest.raises(ConfigError, match="not available yet: being rebuilt"):
        LabConfig(backend="db")


def test_a_config_is_plain_data_and_opens_no_file(tmp_path):
    """Validating the user's choices reads no folder: the project is read apart, once per `up` (read_site)."""
    import sys

    touched = []
    watching = [False]

    def hook(event, args):
        if watching[0] and event in ("open", "os.listdir", "os.scandir", "os.walk"):
            touched.append((event, args[0]))

    sys.addaudithook(hook)  # an audit hook stays for the process: it watches only inside this test's calls
    watching[0] = True
    try:
        LabConfig(name="x")
        LabConfig(name="y", site=str(tmp_path / "not-a-project"), python="3.12", groups=("prod",))
        LabConfig(name="z").replace(site=str(tmp_path), site_settings="mysite.settings")
    finally:
        watching[0] = False
    assert touched == []


def test_a_folder_is_only_checked_when_it_is_read(tmp_path):
    from lab.project.read import read_site

    config = LabConfig(site=str(tmp_path))  # plain data: any folder is a choice
    assert config.site == str(tmp_path)
    with pytest.raises(ConfigError, match="manage.py"):
        read_site(config.site, config.site_choices)


def test_a_settings_module_that_is_no_module_name_is_refused():
    with pytest.raises(ConfigError, match="dotted module name"):
        LabConfig(site_settings="my-site/settings.py")


def test_round_trip_through_a_dict():
    config = LabConfig(name="x", backend="memcached", balance="sticky", nodes=5)
    assert LabConfig.from_dict({**config.to_dict(), "unknown_future_key": 1}) == config


def test_replace_validates():
    with pytest.raises(ConfigError):
        LabConfig().replace(nodes=99)
