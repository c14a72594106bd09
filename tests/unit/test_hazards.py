"""Each readiness hazard judged on made-up observations: one that finds it, one that does not."""

import pytest

from lab.verdicts.hazards import FOUND, NOTE, OK, Observed, judge

LOCMEM = {"default": {"backend": "django.core.cache.backends.locmem.LocMemCache", "location": ""}}
REDIS = {"default": {"backend": "django.core.cache.backends.redis.RedisCache", "location": "redis://r"}}
CLEAN = {
    "debug": False,
    "allowed_hosts": ["t-nginx", "127.0.0.1"],
    "databases": {"default": "django.db.backends.postgresql"},
    "conn_max_age": 0,
    "session_engine": "django.contrib.sessions.backends.db",
    "caches": REDIS,
    "ssl_redirect": False,
    "proxy_ssl_header": None,
}


def seen(first=None, **fields) -> Observed:
    base = dict(
        nodes=3,
        workers=2,
        nginx_host="t-nginx",
        first={**CLEAN, **(first or {})},
        keys=({"secret_key_sha": "a"}, {"secret_key_sha": "a"}),
        wrote={"node": "node-1", "caches": {"default": "written"}, "media": {"name": None, "error": "x"}},
        read={"node": "node-2", "caches": {"default": "written by node-1"}, "media_exists": None},
        max_connections=100,
    )
    return Observed(**{**base, **fields})


def levels(observed: Observed) -> dict[str, str]:
    return {finding.key: finding.level for finding in judge(observed)}


def found(observed: Observed) -> set[str]:
    return {key for key, level in levels(observed).items() if level == FOUND}


def test_a_clean_site_has_no_finding_and_every_finding_has_evidence():
    assert found(seen()) == set()
    assert all(finding.evidence and finding.fix and finding.docs.startswith("https://") for finding in judge(seen()))


def test_a_key_made_up_per_process_is_found_and_a_missing_key_that_fails_is_not():
    assert "secret_key_per_process" in found(seen(keys=({"secret_key_sha": "a"}, {"secret_key_sha": "b"})))
    refused = seen(keys=({"error": "KeyError: 'DJANGO_SECRET_KEY'"}, {"error": "KeyError"}))
    assert "secret_key_per_process" not in found(refused)


def test_locmem_is_a_hazard_only_when_something_uses_it():
    missing = {"node": "node-2", "caches": {"default": None}, "media_exists": None}
    unused = seen({"caches": LOCMEM}, read=missing)
    assert "locmem_cache" not in found(unused)
    used = seen({"caches": LOCMEM}, read=missing, cache_hits=["views.py:3: cache.incr(key)"])
    assert "locmem_cache" in found(used)
    pages = seen({"caches": LOCMEM, "middleware": ["django.middleware.cache.UpdateCacheMiddleware"]}, read=missing)
    assert "locmem_cache" in found(pages)
    sessions = seen({"caches": LOCMEM, "session_engine": "django.contrib.sessions.backends.cache", "session_cache_alias": "default"})
    assert "locmem_cache" in found(sessions)


def test_media_on_one_node_is_found_only_for_a_site_that_stores_files():
    wrote = {"node": "node-1", "caches": {}, "media": {"name": "lab-probe/x.txt", "path": "/srv/site/x"}, "storage": "FileSystemStorage"}
    lost = {"node": "node-2", "caches": {}, "media_exists": False}
    assert "media_on_node_disk" not in found(seen(wrote=wrote, read=lost))
    assert "media_on_node_disk" in found(seen(wrote=wrote, read=lost, upload_hits=["models.py:5: FileField("]))
    from_an_app = {**wrote, "file_fields": ["wagtailimages.Image.file"]}  # a model of an installed app
    assert "media_on_node_disk" in found(seen(wrote=from_an_app, read=lost))
    shared = {"node": "node-2", "caches": {}, "media_exists": True}
    assert "media_on_node_disk" not in found(seen(wrote=wrote, read=shared, upload_hits=["models.py:5"]))
    # django CMS with MEDIA_ROOT=/data/media, which the image lacks: the node's disk cannot even take it.
    refused = {**wrote, "media": {"error": "PermissionError: [Errno 13] Permission denied: '/data'"}, "file_fields": ["filer.File.file"]}
    assert "media_on_node_disk" in found(seen(wrote=refused, read={"node": "node-2", "caches": {}}))


@pytest.mark.parametrize(
    "first, key",
    [
        ({"databases": {"default": "django.db.backends.sqlite3"}}, "sqlite_database"),
        ({"session_engine": "django.contrib.sessions.backends.file"}, "file_sessions_or_cache"),
        ({"caches": {"default": {"backend": "django.core.cache.backends.filebased.FileBasedCache", "location": "/tmp/c"}}}, "file_sessions_or_cache"),
        ({"ssl_redirect": True}, "ssl_redirect_behind_proxy"),
        ({"allowed_hosts": ["example.com"]}, "allowed_hosts_hardcoded"),
        ({"debug": True}, "debug_on"),
        ({"celery_beat_schedule": True}, "scheduled_jobs"),
    ],
)
def test_settings_hazards(first, key):
    assert found(seen(first)) == {key}


def test_ssl_redirect_with_the_proxy_header_and_a_wildcard_host_are_fine():
    assert found(seen({"ssl_redirect": True, "proxy_ssl_header": ["HTTP_X_FORWARDED_PROTO", "https"]})) == set()
    assert found(seen({"allowed_hosts": ["*"]})) == set()


def test_files_that_migrate_or_schedule_at_start_are_found():
    assert found(seen(migrate_hits=["Procfile:1: web: python manage.py migrate && gunicorn"])) == {"migrate_at_start"}
    assert found(seen(schedule_hits=["app/apps.py:9: BackgroundScheduler()"])) == {"scheduled_jobs"}


def test_persistent_connections_are_a_note_until_they_exceed_max_connections():
    assert levels(seen({"conn_max_age": 0}))["conn_max_age"] == OK
    assert levels(seen({"conn_max_age": 600}))["conn_max_age"] == NOTE
    assert levels(seen({"conn_max_age": None}, nodes=16, workers=8, max_connections=100))["conn_max_age"] == FOUND
