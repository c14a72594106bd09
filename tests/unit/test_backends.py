"""One contract, every backend: what the plan and the comparison rely on."""

import pytest

from lab import BACKENDS
from lab.stores import STORES

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


@pytest.mark.parametrize("backend", AVAILABLE, ids=lambda b: b.name)
def test_cache_backends_name_their_cache(backend):
    settings = backend.settings(HOSTS)
    if settings["SESSION_ENGINE"].endswith((".cache", ".cached_db")):
        assert settings["CACHES"]["default"]["BACKEND"].startswith("django.core.cache.backends.")


def test_shared_stores_point_at_the_lab_hosts():
    assert BACKENDS["redis"].settings(HOSTS)["CACHES"]["default"]["LOCATION"] == "redis://lab-redis:6379/0"
    assert BACKENDS["memcached"].settings(HOSTS)["CACHES"]["default"]["LOCATION"] == "lab-memcached:11211"
    assert BACKENDS["cached_db"].stores == ("redis",)


def test_the_expected_breakers():
    breaks = {name for name, backend in BACKENDS.items() if not backend.survives_round_robin}
    assert breaks == {"local_file", "sqlite", "locmem"}


def test_not_implemented_names_the_method():
    from lab.backends import SessionBackend

    with pytest.raises(NotImplementedError, match="settings"):
        SessionBackend().settings({})
