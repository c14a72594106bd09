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


def test_locmem_used_by_an_installed_app_is_a_hazard_and_an_unused_one_is_not():
    missing = {"node": "node-2", "caches": {"default": None}, "media_exists": None}
    allauth = seen({"caches": LOCMEM, "installed_apps": ["django.contrib.auth", "allauth", "allauth.account"]}, read=missing)
    assert "locmem_cache" in found(allauth)
    assert any("django-allauth" in line for f in judge(allauth) if f.key == "locmem_cache" for line in f.evidence)
    switched_off = seen(
        {"caches": LOCMEM, "installed_apps": ["allauth.account"], "app_settings": {"ACCOUNT_RATE_LIMITS": "False"}}, read=missing
    )
    assert "locmem_cache" not in found(switched_off)
    assert "locmem_cache" in found(seen({"caches": LOCMEM, "installed_apps": ["wagtail", "wagtail.admin"]}, read=missing))
    throttled = seen({"caches": LOCMEM, "drf_throttles": ["rest_framework.throttling.AnonRateThrottle"]}, read=missing)
    assert "locmem_cache" in found(throttled)
    assert "locmem_cache" not in found(seen({"caches": REDIS, "installed_apps": ["allauth"]}))


def test_a_health_check_by_the_nodes_address_refused_is_found():
    assert "health_check_by_address" in found(seen(host_check={"address": "10.1.2.3", "status": 400}))
    assert "health_check_by_address" not in found(seen(host_check={"address": "10.1.2.3", "status": 200}))
    assert "health_check_by_address" not in found(seen(host_check={"address": "10.1.2.3", "status": 302}))


def test_remote_addr_behind_the_proxy_is_found_only_where_something_reads_it():
    behind = {"node": "node-1", "remote_addr": "172.18.0.9", "forwarded_for": "172.18.0.1"}
    reader = seen(client_view=behind, address_hits=["accounts/views.py:12: ip = request.META['REMOTE_ADDR']"])
    assert "client_address_behind_proxy" in found(reader)
    assert "client_address_behind_proxy" not in found(seen(client_view=behind))
    allauth = seen({"installed_apps": ["allauth.account"]}, client_view=behind)
    assert "client_address_behind_proxy" in found(allauth)
    trusted = seen({"installed_apps": ["allauth.account"], "app_settings": {"ALLAUTH_TRUSTED_PROXY_COUNT": "1"}}, client_view=behind)
    assert "client_address_behind_proxy" not in found(trusted)


def test_a_cache_that_swallows_errors_under_the_sessions_is_found_elsewhere_a_note():
    hiding = {"default": {**REDIS["default"], "ignore_exceptions": True}}
    sessions = {"caches": hiding, "session_engine": "django.contrib.sessions.backends.cache", "session_cache_alias": "default"}
    assert "cache_errors_hidden" in found(seen(sessions))
    assert levels(seen({"caches": hiding}))["cache_errors_hidden"] == NOTE
    assert levels(seen())["cache_errors_hidden"] == OK
    global_flag = {"caches": {"default": {"backend": "django_redis.cache.RedisCache", "location": "redis://r"}},
                   "django_redis_ignore_exceptions": True, "session_engine": "django.contrib.sessions.backends.cache",
                   "session_cache_alias": "default"}
    assert "cache_errors_hidden" in found(seen(global_flag))


def test_channels_in_memory_is_found_and_redis_channels_are_not():
    memory = seen({"channel_layers": {"default": "channels.layers.InMemoryChannelLayer"}})
    assert "channels_in_memory" in found(memory)
    assert "channels_in_memory" not in found(seen({"channel_layers": {"default": "channels_redis.core.RedisChannelLayer"}}))


def test_state_per_process_is_a_note_with_file_and_line():
    noted = judge(seen(process_hits=["catalog/prices.py:8: @lru_cache(maxsize=None)"]))
    finding = next(f for f in noted if f.key == "state_per_process")
    assert finding.level == NOTE and finding.evidence == ["catalog/prices.py:8: @lru_cache(maxsize=None)"]
    assert levels(seen())["state_per_process"] == OK


def test_a_baseline_fails_on_a_new_hazard_only():
    from lab.verdicts.baseline import baseline_of, compare

    before = judge(seen(host_check={"address": "10.1.2.3", "status": 400}))
    baseline = baseline_of(before)
    assert list(baseline["found"]) == ["health_check_by_address"]
    assert not compare(baseline, before).failed
    worse = judge(seen({"debug": True}, host_check={"address": "10.1.2.3", "status": 400}))
    change = compare(baseline, worse)
    assert change.failed and [f.key for f in change.new] == ["debug_on"]
    better = compare(baseline, judge(seen()))
    assert not better.failed and better.gone == ["health_check_by_address"]
    with pytest.raises(ValueError):
        compare({"found": []}, before)


def running(*jobs):
    return {"schedulers": [{"kind": "APScheduler BackgroundScheduler", "running": True, "jobs": list(jobs)}], "processes": []}


NONE_RUNNING = {"schedulers": [], "processes": ["gunicorn lab_node.wsgi"]}


def test_a_job_every_node_runs_is_found_and_one_the_scheduler_machine_alone_runs_is_ok():
    every = {"node-1": running("purge (interval[1:00:00])"), "node-2": running("purge (interval[1:00:00])")}
    finding = next(f for f in judge(seen(schedulers=every)) if f.key == "scheduled_jobs")
    assert finding.level == FOUND and "purge (interval[1:00:00]): runs on 2 machines: node-1, node-2" in finding.evidence
    once = {"node-1": NONE_RUNNING, "node-2": NONE_RUNNING, "scheduler": running("purge (interval[1:00:00])")}
    hits = ["notes/scheduler.py:3: from apscheduler.schedulers.background import BackgroundScheduler"]
    finding = next(f for f in judge(seen(schedulers=once, schedule_hits=hits)) if f.key == "scheduled_jobs")
    assert finding.level == OK and "purge (interval[1:00:00]): runs on 1 machine: scheduler" in finding.evidence
    assert "0 of 2 nodes run a scheduler" in finding.evidence
    # A scheduler machine beside nodes that still run it: N+1 copies, still found.
    both = {**every, "scheduler": running("purge (interval[1:00:00])")}
    assert levels(seen(schedulers=both))["scheduled_jobs"] == FOUND


def test_a_clock_command_on_the_scheduler_machine_is_ok_and_a_clock_line_alone_is_found():
    clock = ["Procfile:2: clock: python manage.py runapscheduler"]
    machine = {"scheduler": {"schedulers": [], "error": "refused", "processes": ["python manage.py runapscheduler"]}}
    finding = next(f for f in judge(seen(schedule_hits=clock, schedulers={"node-1": NONE_RUNNING, **machine},
                                         scheduler_command="python manage.py runapscheduler")) if f.key == "scheduled_jobs")
    assert finding.level == OK and "scheduler: runs `python manage.py runapscheduler`" in finding.evidence
    assert levels(seen(schedule_hits=clock, schedulers={"node-1": NONE_RUNNING}))["scheduled_jobs"] == FOUND


def test_behind_a_pooler_persistent_connections_are_not_held_against_max_connections():
    crowded = dict(nodes=16, workers=8, max_connections=100)
    assert levels(seen({"conn_max_age": None}, **crowded))["conn_max_age"] == FOUND
    pooled = next(f for f in judge(seen({"conn_max_age": None}, pooler="pgbouncer", pool_size=20, **crowded)) if f.key == "conn_max_age")
    assert pooled.level == OK and "128 node connections share at most 20 server connections" in pooled.evidence[-1]


def test_channels_judged_by_a_message_between_two_machines_as_well_as_by_the_setting():
    memory = {"channel_layers": {"default": "channels.layers.InMemoryChannelLayer"}}
    lost = {"sent_on": "node-2", "received_on": "node-1", "text": "lab-probe-1",
            "sent": {"layer": "InMemoryChannelLayer"}, "received": {"layer": "InMemoryChannelLayer", "received": None}}
    finding = next(f for f in judge(seen(memory, channels=lost)) if f.key == "channels_in_memory")
    assert finding.level == FOUND and "did not reach, within 10 s, a channel of that group on node-1" in finding.evidence[-1]
    redis = {"channel_layers": {"default": "channels_redis.core.RedisChannelLayer"}}
    crossed = {**lost, "received": {"layer": "RedisChannelLayer", "received": "lab-probe-1"}}
    finding = next(f for f in judge(seen(redis, channels=crossed)) if f.key == "channels_in_memory")
    assert finding.level == OK and "reached a channel of that group on node-1" in finding.evidence[-1]
    # A shared-looking layer that does not carry the message is found all the same.
    assert levels(seen(redis, channels=lost))["channels_in_memory"] == FOUND
