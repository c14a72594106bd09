"""One contract, every backend: what the plan and the comparison rely on."""

import pytest

from lab import BACKENDS
from lab.model.stores import STORES

AVAILABLE = [backend for backend in BACKENDS.values() if backend.available]
HOSTS = {name: f"lab-{name}" for name in STORES}


@pytest.mark.parametrize("backend", AVAILABLE, ids=lambda b: b.name)
def test_settings_choose_a_django_session_engine(backend):
    settings = backend.settings(HOSTS)
    assert settings["SESSION_ENGINE"].startswith("django.contrib.sessions.backends.")


@pytest.mark.parametrize("backend", list(BACKENDS.values()), ids=lambda b: b.name)
def test_declares_its_verdict_with_a_reason_and_known_stores(backend):
    assert backend.summary and backend.reason
    assert isinstance(backend.survives_round_robin, bool)
    assert set(backend.stores) <= set(STORES)
    if not backend.available:
        assert backend.unavailable_reason


# Django's session engine each backend must choose; every backend is listed, so none is skipped.
ENGINES = {
    "local_file": "file",
    "shared_file": "file",
    "nfs": "file",
    "db": "db",
    "sqlite": "db",
    "locmem": "cache",
    "redis": "cache",
    "memcached": "cache",
    "cached_db": "cached_db",
    "signed_cookies": "signed_cookies",
}


def test_every_backend_has_its_engine_listed():
    assert set(ENGINES) == set(BACKENDS)


@pytest.mark.parametrize("backend", AVAILABLE, ids=lambda b: b.name)
def test_each_backend_chooses_its_engine_and_only_cache_engines_set_a_cache(backend):
    settings = backend.settings(HOSTS, {"redis": "pw", "postgres": "pw"})
    engine = ENGINES[backend.name]
    assert settings["SESSION_ENGINE"] == f"django.contrib.sessions.backends.{engine}"
    if engine in ("cache", "cached_db"):
        assert settings["CACHES"]["lab_sessions"]["BACKEND"].startswith("django.core.cache.backends.")
    else:
        assert "CACHES" not in settings
    if engine == "file":
        assert settings["SESSION_FILE_PATH"].startswith("/")


def test_shared_stores_point_at_the_lab_hosts():
    assert BACKENDS["redis"].settings(HOSTS)["CACHES"]["lab_sessions"]["LOCATION"] == "redis://lab-redis:6379/0"
    with_password = BACKENDS["redis"].settings(HOSTS, {"redis": "s3cret/+"})["CACHES"]["lab_sessions"]["LOCATION"]
    assert with_password == "redis://:s3cret%2F%2B@lab-redis:6379/0"
    assert BACKENDS["memcached"].settings(HOSTS)["CACHES"]["lab_sessions"]["LOCATION"] == "lab-memcached:11211"
    assert BACKENDS["cached_db"].stores == ("redis",)


def test_the_expected_breakers():
    breaks = {name for name, backend in BACKENDS.items() if not backend.survives_round_robin}
    assert breaks == {"local_file", "sqlite", "locmem"}


def test_not_implemented_names_the_method():
    from lab.model.backends import SessionBackend

    with pytest.raises(NotImplementedError, match="settings"):
        SessionBackend().settings({})
