"""Each readiness hazard's decision at its edges, and the evidence it cites from what was observed.

test_hazards.py holds one observation that finds each hazard and one that does not; these hold the rest of
what `lab.verdicts.hazards` decides: found, note or ok at each threshold, which alias, app, node, file:line
or command the evidence names, and the evidence lines of docs/readiness.md's example report (a real run's).
"""

import json

import pytest

from lab.verdicts import hazards
from lab.verdicts.hazards import DOCS, FOUND, NOTE, OK, Finding, Observed, cache_using_apps, client_address_apps, judge

LOCMEM = "django.core.cache.backends.locmem.LocMemCache"
REDIS = "django.core.cache.backends.redis.RedisCache"
DJANGO_REDIS = "django_redis.cache.RedisCache"
CLEAN = {
    "debug": False,
    "allowed_hosts": ["t-nginx", "127.0.0.1"],
    "databases": {"default": "django.db.backends.postgresql"},
    "conn_max_age": 0,
    "session_engine": "django.contrib.sessions.backends.db",
    "caches": {"default": {"backend": REDIS, "location": "redis://r"}},
    "ssl_redirect": False,
    "proxy_ssl_header": None,
}
KEYS = [
    "secret_key_per_process", "locmem_cache", "media_on_node_disk", "sqlite_database", "file_sessions_or_cache",
    "conn_max_age", "migrate_at_start", "scheduled_jobs", "ssl_redirect_behind_proxy", "allowed_hosts_hardcoded",
    "debug_on", "health_check_by_address", "client_address_behind_proxy", "cache_errors_hidden",
    "channels_in_memory", "state_per_process",
]


def observed(first=None, **fields) -> Observed:
    base = dict(
        nodes=3,
        workers=2,
        nginx_host="t-nginx",
        first={**CLEAN, **(first or {})},
        keys=({"secret_key_sha": "a"}, {"secret_key_sha": "a"}),
        wrote={"node": "node-1", "caches": {"default": "written"}, "media": {}},
        read={"node": "node-2", "caches": {"default": "written by node-1"}},
        max_connections=100,
    )
    return Observed(**{**base, **fields})


def finding(key: str, seen: Observed) -> Finding:
    return next(f for f in judge(seen) if f.key == key)


def caches(**aliases: str) -> dict:
    return {alias: {"backend": backend, "location": ""} for alias, backend in aliases.items()}


# Every finding


def test_every_hazard_is_judged_in_order_with_its_own_title_fix_and_page():
    findings = judge(observed())
    assert [f.key for f in findings] == KEYS
    assert len({f.title for f in findings}) == len(KEYS)
    for f in findings:
        assert f.title and f.users_see and f.fix and f.evidence
        assert f.docs.startswith(DOCS) or f.docs.startswith("https://channels.readthedocs.io/")
    by_key = {f.key: f for f in findings}
    assert by_key["secret_key_per_process"].docs == DOCS + "ref/settings/#secret-key"
    assert by_key["channels_in_memory"].docs == "https://channels.readthedocs.io/en/stable/topics/channel_layers.html"
    assert "SECURE_PROXY_SSL_HEADER" in by_key["ssl_redirect_behind_proxy"].fix
    assert "--pooler pgbouncer" in by_key["conn_max_age"].fix


def test_a_finding_and_an_observation_are_plain_data_for_the_json_report():
    seen = observed(migrate_hits=["Procfile:1: web: python manage.py migrate && gunicorn"])
    data = finding("migrate_at_start", seen).to_dict()
    assert data["key"] == "migrate_at_start" and data["level"] == FOUND
    assert data["evidence"] == ["Procfile:1: web: python manage.py migrate && gunicorn"]
    assert set(data) == {"key", "title", "level", "evidence", "users_see", "fix", "docs"}
    plain = seen.to_dict()
    assert plain["nodes"] == 3 and plain["migrate_hits"] == ["Procfile:1: web: python manage.py migrate && gunicorn"]
    assert json.loads(json.dumps(plain))["first"]["debug"] is False


def test_settings_that_do_not_load_on_the_node_are_judged_without_a_crash_as_django_leaves_them():
    # lab_node.probes answers only {"error": ...} when the settings cannot be imported.
    seen = Observed(nodes=2, workers=2, nginx_host="t-nginx", first={"error": "ImproperlyConfigured: DATABASE_URL"})
    by_key = {f.key: f for f in judge(seen)}
    assert list(by_key) == KEYS
    assert by_key["conn_max_age"].level == OK
    assert by_key["conn_max_age"].evidence == ["CONN_MAX_AGE = 0 (a connection per request)"]
    assert by_key["sqlite_database"].evidence == ["DATABASES: none"]
    assert by_key["file_sessions_or_cache"].evidence == ["SESSION_ENGINE db; no FileBasedCache"]
    assert by_key["locmem_cache"].evidence == ["no LocMemCache"]
    assert by_key["cache_errors_hidden"].evidence == ["no cache ignores its errors"]


# SECRET_KEY


def test_a_key_that_differs_per_process_cites_both_hashes():
    differs = finding("secret_key_per_process", observed(keys=({"secret_key_sha": "1f0a"}, {"secret_key_sha": "9c3e"})))
    assert differs.level == FOUND
    assert differs.evidence == [
        "the settings imported in two processes with the same environment (no key variable) give SECRET_KEY "
        "sha256 1f0a and 9c3e: a key made up per process"
    ]
    same = finding("secret_key_per_process", observed(keys=({"secret_key_sha": "1f0a"}, {"secret_key_sha": "1f0a"})))
    assert same.level == OK
    assert same.evidence[0].endswith("sha256 1f0a and 1f0a: the same key")


def test_settings_that_refuse_to_load_without_a_key_are_ok_and_say_why():
    # docs/readiness.md's example report: a missing key fails loudly, which is what a site should do.
    refused = observed(keys=({"error": "KeyError: 'DJANGO_SECRET_KEY'"}, {"secret_key_sha": "9c3e"}))
    f = finding("secret_key_per_process", refused)
    assert f.level == OK
    assert f.evidence == [
        "without DJANGO_SECRET_KEY or SECRET_KEY the settings do not load: KeyError: 'DJANGO_SECRET_KEY' "
        "(a missing key fails loudly)"
    ]


# Local-memory cache


def test_an_unused_locmem_cache_is_ok_with_the_readme_evidence():
    seen = observed({"caches": caches(default=LOCMEM)}, read={"node": "node-2", "caches": {"default": None}})
    f = finding("locmem_cache", seen)
    assert f.level == OK
    assert f.evidence == [
        "CACHES['default'] is LocMemCache (one per process)",
        "a key written on node-1 was not found on node-2 in default",
        "nothing in the site's code, and none of the installed apps the lab knows, uses the cache",
    ]


def test_a_shared_cache_is_no_locmem_hazard_whatever_uses_it():
    assert finding("locmem_cache", observed(cache_hits=["views.py:3: cache.incr(key)"])).level == OK
    assert finding("locmem_cache", observed()).evidence == ["no LocMemCache"]


def test_the_missing_key_line_names_only_the_local_aliases_written_and_not_read_back():
    seen = observed(
        {"caches": caches(default=LOCMEM, sessions=LOCMEM, pages=LOCMEM, shared=REDIS)},
        wrote={"node": "node-1", "caches": {"default": "w", "sessions": "w", "pages": "w", "shared": "w"}},
        read={"node": "node-3", "caches": {"default": None, "sessions": None, "pages": "w", "shared": None}},
        cache_hits=["views.py:3: cache.incr(key)"],
    )
    f = finding("locmem_cache", seen)
    assert f.level == FOUND
    assert f.evidence == [
        "CACHES['default'] is LocMemCache (one per process)",
        "CACHES['sessions'] is LocMemCache (one per process)",
        "CACHES['pages'] is LocMemCache (one per process)",
        "a key written on node-1 was not found on node-3 in default, sessions",
        "used by views.py:3: cache.incr(key)",
    ]
    not_written = observed({"caches": caches(default=LOCMEM)}, wrote={"node": "node-1", "caches": {}},
                           read={"node": "node-2", "caches": {}})
    assert not any(line.startswith("a key written") for line in finding("locmem_cache", not_written).evidence)


def test_sessions_on_a_local_cache_are_the_first_user_named():
    first = {"caches": caches(default=LOCMEM), "session_engine": "django.contrib.sessions.backends.cached_db",
             "session_cache_alias": "default"}
    f = finding("locmem_cache", observed(first, cache_hits=["views.py:3: cache.incr(key)"]))
    assert f.level == FOUND
    assert f.evidence[-2:] == [
        "used by SESSION_ENGINE django.contrib.sessions.backends.cached_db on CACHES['default']",
        "used by views.py:3: cache.incr(key)",
    ]
    cache_only = {**first, "session_engine": "django.contrib.sessions.backends.cache"}
    assert finding("locmem_cache", observed(cache_only)).level == FOUND


def test_sessions_on_a_shared_alias_beside_a_local_default_do_not_use_the_local_one():
    first = {"caches": caches(default=LOCMEM, sessions=REDIS), "session_engine": "django.contrib.sessions.backends.cache",
             "session_cache_alias": "sessions"}
    assert finding("locmem_cache", observed(first)).level == OK
    db_sessions = {"caches": caches(default=LOCMEM), "session_engine": "django.contrib.sessions.backends.db",
                   "session_cache_alias": "default"}
    assert finding("locmem_cache", observed(db_sessions)).level == OK
    unset = {"caches": caches(default=LOCMEM), "session_engine": None}
    assert finding("locmem_cache", observed(unset)).level == OK


def test_only_the_cache_middleware_counts_as_a_user_of_the_cache():
    first = {"caches": caches(default=LOCMEM),
             "middleware": ["django.middleware.common.CommonMiddleware", "django.middleware.cache.FetchFromCacheMiddleware"]}
    f = finding("locmem_cache", observed(first))
    assert f.level == FOUND
    assert f.evidence[-1] == "used by MIDDLEWARE django.middleware.cache.FetchFromCacheMiddleware (whole pages cached)"
    assert not any("CommonMiddleware" in line for line in f.evidence)


def test_installed_apps_count_only_when_the_default_cache_is_the_local_one():
    apps = {"installed_apps": ["allauth", "allauth.account"]}
    local_default = finding("locmem_cache", observed({**apps, "caches": caches(default=LOCMEM)}))
    assert local_default.level == FOUND and "used by " + hazards._CACHE_APPS["allauth"] in local_default.evidence
    local_other = finding("locmem_cache", observed({**apps, "caches": caches(default=REDIS, other=LOCMEM)}))
    assert local_other.level == OK


# The apps the lab knows


def apps(installed, settings=None, **first):
    return observed({"installed_apps": installed, "app_settings": settings or {}, **first})


def test_cache_using_apps_names_each_app_that_keeps_state_in_the_cache():
    everything = apps(
        ["allauth.account", "wagtail.core", "django_ratelimit", "axes"],
        {"AXES_HANDLER": "'axes.handlers.cache.AxesCacheHandler'"},
        drf_throttles=["rest_framework.throttling.AnonRateThrottle", "rest_framework.throttling.UserRateThrottle"],
    )
    assert cache_using_apps(everything) == [
        hazards._CACHE_APPS["allauth"],
        hazards._CACHE_APPS["wagtail"],
        hazards._CACHE_APPS["django_ratelimit"],
        "Django REST framework's throttles (rest_framework.throttling.AnonRateThrottle, "
        "rest_framework.throttling.UserRateThrottle) count in the default cache",
        hazards._CACHE_APPS["axes"],
    ]
    assert cache_using_apps(apps([])) == []
    assert cache_using_apps(apps(["allauthx", "wagtailmenus"])) == []


@pytest.mark.parametrize(
    "installed, settings, named",
    [
        (["allauth"], {"ACCOUNT_RATE_LIMITS": "False"}, []),
        (["allauth"], {"ACCOUNT_RATE_LIMITS": "{'login_failed': '5/5m'}"}, ["allauth"]),
        (["django_ratelimit"], {"RATELIMIT_ENABLE": "False"}, []),
        (["django_ratelimit"], {"RATELIMIT_ENABLE": "True"}, ["django_ratelimit"]),
        (["axes"], {}, []),  # axes' default handler counts in the database
        (["axes"], {"AXES_HANDLER": "'axes.handlers.database.AxesDatabaseHandler'"}, []),
        (["axes"], {"AXES_HANDLER": "'myapp.AxesCacheHandler'"}, ["axes"]),
        ([], {"AXES_HANDLER": "'axes.handlers.cache.AxesCacheHandler'"}, []),
    ],
)
def test_an_app_switched_off_or_not_on_the_cache_is_not_a_cache_user(installed, settings, named):
    assert cache_using_apps(apps(installed, settings)) == [hazards._CACHE_APPS[app] for app in named]


@pytest.mark.parametrize(
    "installed, settings, named",
    [
        (["allauth.account"], {}, {"allauth"}),
        (["allauth.account"], {"ALLAUTH_TRUSTED_PROXY_COUNT": "1"}, set()),
        (["allauth.account"], {"ALLAUTH_TRUSTED_CLIENT_IP_HEADER": "'X-Real-IP'"}, set()),
        (["allauth.account"], {"ACCOUNT_RATE_LIMITS": "False"}, set()),
        (["allauth.account"], {"ACCOUNT_RATE_LIMITS": "{'login_failed': '5/5m'}"}, {"allauth"}),
        (["django_ratelimit"], {}, {"django_ratelimit"}),
        (["django_ratelimit"], {"RATELIMIT_IP_META_KEY": "'HTTP_X_REAL_IP'"}, set()),
        (["allauth", "django_ratelimit"], {}, {"allauth", "django_ratelimit"}),
        (["wagtail", "axes"], {}, set()),
    ],
)
def test_client_address_apps_are_those_not_told_about_the_proxy(installed, settings, named):
    found = client_address_apps(apps(installed, settings))
    assert set(found) == named
    assert found == {app: hazards._CLIENT_ADDRESS_APPS[app] for app in named}


@pytest.mark.parametrize("version, keyed", [
    ("0.45.0", False), ("0.54.0", False), ("0.55.0", True), ("65.3.0", True), (None, True),
])
def test_allauth_keys_its_limits_by_address_only_from_0_55(version, keyed):
    """Before 0.55 (shynet pins 0.45) its login attempts count per login name; an unknown release is current."""
    seen = apps(["allauth.account"], {})
    if version:
        seen.first["app_versions"] = {"django-allauth": version}
    assert ("allauth" in client_address_apps(seen)) is keyed


# Media


WROTE = {"node": "node-1", "caches": {}, "storage": "django.core.files.storage.FileSystemStorage",
         "media": {"name": "lab-probe/lab-674ea736f69b.txt", "path": "/srv/site/lab-probe/lab-674ea736f69b.txt"}}


def test_a_saved_file_the_other_node_lacks_is_ok_with_nothing_storing_files():
    seen = observed(wrote={**WROTE, "storage": "FileSystemStorage"}, read={"node": "node-2", "media_exists": False})
    f = finding("media_on_node_disk", seen)
    assert f.level == OK
    assert f.evidence == [
        "saved lab-probe/lab-674ea736f69b.txt through default_storage (FileSystemStorage) on node-1 "
        "(/srv/site/lab-probe/lab-674ea736f69b.txt); node-2 does not have it",
        "no model stores a file, and no default_storage or request.FILES in the code",
    ]


def test_stores_are_named_model_fields_first_then_uploads_in_the_code():
    wrote = {**WROTE, "file_fields": ["wagtailimages.Image.file", "shop.Product.photo"]}
    seen = observed(wrote=wrote, read={"node": "node-2", "media_exists": False}, upload_hits=["shop/views.py:8: request.FILES"])
    f = finding("media_on_node_disk", seen)
    assert f.level == FOUND
    assert f.evidence[1:] == [
        "model field wagtailimages.Image.file",
        "model field shop.Product.photo",
        "uploads in shop/views.py:8: request.FILES",
    ]


def test_a_file_every_node_has_or_one_never_looked_for_is_not_lost():
    stores = ["models.py:5: FileField("]
    shared = finding("media_on_node_disk", observed(wrote=WROTE, read={"node": "node-2", "media_exists": True}, upload_hits=stores))
    assert shared.level == OK and shared.evidence[0].endswith("; node-2 has it")
    unasked = finding("media_on_node_disk", observed(wrote=WROTE, read={"node": "node-2"}, upload_hits=stores))
    assert unasked.level == OK
    no_path = {**WROTE, "media": {"name": "lab-probe/x.txt"}}
    f = finding("media_on_node_disk", observed(wrote=no_path, read={"node": "node-2", "media_exists": False}, upload_hits=stores))
    assert f.level == FOUND
    assert f.evidence[0] == (
        "saved lab-probe/x.txt through default_storage (django.core.files.storage.FileSystemStorage) on node-1; "
        "node-2 does not have it"
    )


def test_a_save_refused_is_found_only_on_the_nodes_own_disk():
    refused = {**WROTE, "media": {"error": "PermissionError: [Errno 13] Permission denied: '/data'"}}
    stores = ["models.py:5: FileField("]
    f = finding("media_on_node_disk", observed(wrote=refused, read={"node": "node-2"}, upload_hits=stores))
    assert f.level == FOUND
    assert f.evidence[0] == "default_storage cannot save on node-1: PermissionError: [Errno 13] Permission denied: '/data'"
    elsewhere = {**refused, "storage": "storages.backends.s3.S3Storage"}
    assert finding("media_on_node_disk", observed(wrote=elsewhere, read={"node": "node-2"}, upload_hits=stores)).level == OK
    unused = finding("media_on_node_disk", observed(wrote=refused, read={"node": "node-2"}))
    assert unused.level == OK
    nothing = finding("media_on_node_disk", observed(wrote={"node": "node-1", "media": {}}, read={"node": "node-2"}))
    assert nothing.evidence == ["no model stores a file, and no default_storage or request.FILES in the code"]


# SQLite, files, connections


def test_sqlite_evidence_names_each_sqlite_alias_and_its_file():
    first = {"databases": {"default": "django.db.backends.postgresql", "legacy": "django.db.backends.sqlite3"},
             "database_name": "/srv/site/db.sqlite3"}
    f = finding("sqlite_database", observed(first))
    assert f.level == FOUND
    assert f.evidence == ["DATABASES['legacy'] ENGINE django.db.backends.sqlite3 (/srv/site/db.sqlite3)"]


def test_postgresql_by_the_settings_own_switch_the_lab_set_is_a_note_naming_it():
    """linkding's and healthchecks' shape: SQLite by default, PostgreSQL when a variable says so; the lab set it,
    a deployment must too."""
    f = finding("sqlite_database", observed(database_switch=["DB=postgres (hc/settings.py:220)"]))
    assert f.level == NOTE
    assert f.evidence == ["SQLite unless DB=postgres (hc/settings.py:220); the lab set it, and every machine of a "
                          "deployment must get it too", "DATABASES: default: django.db.backends.postgresql"]
    still = {"databases": {"default": "django.db.backends.sqlite3"}, "database_name": "/srv/site/hc.sqlite"}
    assert finding("sqlite_database", observed(still, database_switch=["DB=postgres (hc/settings.py:220)"])).level == FOUND


def test_without_sqlite_the_evidence_lists_every_database():
    assert finding("sqlite_database", observed()).evidence == ["DATABASES: default: django.db.backends.postgresql"]
    two = {"databases": {"default": "django.db.backends.postgresql", "replica": "django.db.backends.mysql"}}
    assert finding("sqlite_database", observed(two)).evidence == [
        "DATABASES: default: django.db.backends.postgresql, replica: django.db.backends.mysql"
    ]
    assert finding("sqlite_database", observed({"databases": {}})).evidence == ["DATABASES: none"]


def test_file_sessions_and_file_caches_are_cited_with_their_folder():
    first = {"session_engine": "django.contrib.sessions.backends.file", "session_file_path": "/var/sessions",
             "caches": {"default": {"backend": "django.core.cache.backends.filebased.FileBasedCache", "location": "/tmp/c"},
                        "other": {"backend": REDIS, "location": "redis://r"}, "bare": {"location": ""}}}
    f = finding("file_sessions_or_cache", observed(first))
    assert f.level == FOUND
    assert f.evidence == ["SESSION_ENGINE file, in /var/sessions", "CACHES['default'] FileBasedCache in /tmp/c"]
    unset = {"session_engine": "django.contrib.sessions.backends.file", "session_file_path": None}
    assert finding("file_sessions_or_cache", observed(unset)).evidence == ["SESSION_ENGINE file, in the temporary folder"]


def test_no_file_sessions_or_cache_names_the_session_engine():
    f = finding("file_sessions_or_cache", observed())
    assert f.level == OK and f.evidence == ["SESSION_ENGINE django.contrib.sessions.backends.db; no FileBasedCache"]
    unset = finding("file_sessions_or_cache", observed({"session_engine": None}))
    assert unset.evidence == ["SESSION_ENGINE db; no FileBasedCache"]


def test_a_connection_per_request_is_ok_whatever_the_limit():
    f = finding("conn_max_age", observed({"conn_max_age": 0}, nodes=200, workers=8, max_connections=10))
    assert f.level == OK and f.evidence == ["CONN_MAX_AGE = 0 (a connection per request)"]
    unset = finding("conn_max_age", observed({"conn_max_age": None}))
    assert unset.evidence[0] == "CONN_MAX_AGE = None (persistent connections)"  # None: for ever
    one_second = finding("conn_max_age", observed({"conn_max_age": 1}))
    assert one_second.level == NOTE and one_second.evidence[0] == "CONN_MAX_AGE = 1 (persistent connections)"


def test_persistent_connections_cite_the_count_as_the_readme_shows():
    f = finding("conn_max_age", observed({"conn_max_age": 600}, nodes=3, workers=2, max_connections=200))
    assert f.level == NOTE
    assert f.evidence == [
        "CONN_MAX_AGE = 600 (persistent connections)",
        "3 nodes x 2 workers hold 6 of PostgreSQL's max_connections 200; 98 nodes like these exhaust it",
    ]


@pytest.mark.parametrize("nodes, level", [(96, NOTE), (97, NOTE), (98, FOUND)])
def test_persistent_connections_are_found_past_what_postgresql_leaves_after_its_three_reserved(nodes, level):
    # max_connections 100 keeps 3 for superusers: 97 connections of one worker per node fit, 98 do not.
    f = finding("conn_max_age", observed({"conn_max_age": 600}, nodes=nodes, workers=1, max_connections=100))
    assert f.level == level
    assert f.evidence[1].endswith(f"hold {nodes} of PostgreSQL's max_connections 100; 97 nodes like these exhaust it")


def test_nodes_like_these_counts_whole_nodes():
    f = finding("conn_max_age", observed({"conn_max_age": 600}, nodes=2, workers=2, max_connections=100))
    assert f.evidence[1].endswith("; 48 nodes like these exhaust it")


def test_max_connections_not_probed_leaves_persistent_connections_ok():
    f = finding("conn_max_age", observed({"conn_max_age": 600}, max_connections=None))
    assert f.level == OK and f.evidence == ["CONN_MAX_AGE = 600 (persistent connections)"]


def test_behind_a_pooler_the_evidence_counts_node_and_server_connections():
    f = finding("conn_max_age", observed({"conn_max_age": None}, nodes=16, workers=8, max_connections=100,
                                         pooler="pgbouncer", pool_size=20))
    assert f.level == OK
    assert f.evidence[1] == (
        "the nodes reach PostgreSQL through pgbouncer (transaction pooling): 128 node connections share at most 20 "
        "server connections of max_connections 100, whatever the node count"
    )


# migrate, schedulers


def test_migrate_at_start_cites_each_start_up_line():
    hits = ["Procfile:1: web: python manage.py migrate && gunicorn", "entrypoint.sh:4: python manage.py migrate"]
    assert finding("migrate_at_start", observed(migrate_hits=hits)).evidence == hits
    assert finding("migrate_at_start", observed()).evidence == ["no start-up file runs migrate"]


def scheduler(kind="APScheduler BackgroundScheduler", running=True, jobs=()):
    return {"kind": kind, "running": running, "jobs": list(jobs)}


def machine(*schedulers, processes=()):
    return {"schedulers": list(schedulers), "processes": list(processes)}


JOB = "clear_expired_sessions (interval[1:00:00])"


def test_the_readme_tutorial_jobs_on_every_node_then_on_the_scheduler_machine():
    every = {"node-2": machine(scheduler(jobs=[JOB])), "node-1": machine(scheduler(jobs=[JOB]))}
    f = finding("scheduled_jobs", observed(schedulers=every))
    assert f.level == FOUND
    assert f.evidence == [f"{JOB}: runs on 2 machines: node-1, node-2", "2 of 2 nodes run a scheduler"]
    once = {"node-1": machine(), "node-2": machine(), "scheduler": machine(scheduler(jobs=[JOB]))}
    f = finding("scheduled_jobs", observed(schedulers=once))
    assert f.level == OK
    assert f.evidence == [f"{JOB}: runs on 1 machine: scheduler", "0 of 2 nodes run a scheduler"]


def test_a_scheduler_with_no_jobs_yet_counts_and_a_stopped_one_does_not():
    started = {"node-1": machine(scheduler(jobs=[])), "node-2": machine(scheduler(running=False, jobs=["purge"]))}
    f = finding("scheduled_jobs", observed(schedulers=started))
    assert f.level == FOUND
    assert f.evidence == ["APScheduler BackgroundScheduler (no jobs yet): runs on 1 machine: node-1", "1 of 2 nodes run a scheduler"]


def test_a_machine_whose_probe_failed_runs_nothing_seen():
    answers = {"node-1": {"error": "Traceback ..."}, "node-2": machine()}
    f = finding("scheduled_jobs", observed(schedulers=answers))
    assert f.level == OK and f.evidence == ["0 of 2 nodes run a scheduler"]


def test_the_scheduler_machines_command_is_cited_and_a_missing_process_said():
    command = "python manage.py runapscheduler"
    ran = {"node-1": machine(), "scheduler": machine(processes=["python manage.py runapscheduler --skip-checks"])}
    f = finding("scheduled_jobs", observed(schedulers=ran, scheduler_command=command, schedule_hits=["Procfile:2: clock: ..."]))
    assert f.level == OK
    assert f.evidence == ["scheduler: runs `python manage.py runapscheduler`", "0 of 1 nodes run a scheduler", "Procfile:2: clock: ..."]
    # The command's last word is what must run there: another manage.py command is not it.
    other = {"node-1": machine(), "scheduler": machine(processes=["python manage.py shell"])}
    f = finding("scheduled_jobs", observed(schedulers=other, scheduler_command=command))
    assert f.evidence[0] == "scheduler: runs `python manage.py runapscheduler` (no such process seen)"
    failed = {"node-1": machine(), "scheduler": {"error": "No such container"}}
    f = finding("scheduled_jobs", observed(schedulers=failed, scheduler_command=command))
    assert f.evidence[0] == "scheduler: runs `python manage.py runapscheduler` (no such process seen)"


def test_a_scheduler_command_without_a_scheduler_machine_proves_nothing():
    hits = ["Procfile:2: clock: python manage.py runapscheduler"]
    f = finding("scheduled_jobs", observed(schedulers={"node-1": machine()}, scheduler_command="python manage.py runapscheduler",
                                           schedule_hits=hits))
    assert f.level == FOUND
    assert f.evidence == ["0 of 1 nodes run a scheduler", *hits]
    # A scheduler machine that runs nothing, and no command for it: the files decide.
    idle = {"node-1": machine(), "scheduler": machine()}
    assert finding("scheduled_jobs", observed(schedulers=idle, schedule_hits=hits)).level == FOUND
    assert finding("scheduled_jobs", observed(schedulers=idle)).level == OK


def test_schedules_in_the_settings_are_cited_after_the_files():
    first = {"celery_beat_schedule": {"purge": {}}, "cronjobs": [["*/5 * * * *", "app.cron.purge"]]}
    f = finding("scheduled_jobs", observed(first, schedule_hits=["app/apps.py:9: BackgroundScheduler()"]))
    assert f.level == FOUND
    assert f.evidence == ["app/apps.py:9: BackgroundScheduler()", "CELERY_BEAT_SCHEDULE in the settings", "CRONJOBS in the settings"]
    assert finding("scheduled_jobs", observed({"cronjobs": [["* * * * *", "x"]]})).evidence == ["CRONJOBS in the settings"]
    assert finding("scheduled_jobs", observed()).evidence == ["no scheduler found"]


# Settings read from the site


def test_ssl_redirect_evidence_shows_both_settings():
    f = finding("ssl_redirect_behind_proxy", observed({"ssl_redirect": True}))
    assert f.level == FOUND and f.evidence == ["SECURE_SSL_REDIRECT = True, SECURE_PROXY_SSL_HEADER = None"]
    header = finding("ssl_redirect_behind_proxy", observed({"ssl_redirect": True, "proxy_ssl_header": ["HTTP_X_FORWARDED_PROTO", "https"]}))
    assert header.level == OK
    assert header.evidence == ["SECURE_SSL_REDIRECT = True, SECURE_PROXY_SSL_HEADER = ['HTTP_X_FORWARDED_PROTO', 'https']"]


def test_hard_coded_hosts_cite_at_most_three_assignments():
    hits = [f"settings.py:{n}: ALLOWED_HOSTS = ['example.com']" for n in (10, 20, 30, 40)]
    f = finding("allowed_hosts_hardcoded", observed({"allowed_hosts": ["example.com"]}, hosts_hits=hits))
    assert f.level == FOUND
    assert f.evidence == [
        "ALLOWED_HOSTS = ['example.com'] although DJANGO_ALLOWED_HOSTS and ALLOWED_HOSTS named the lab's hosts",
        *hits[:3],
    ]


@pytest.mark.parametrize(
    "hit",
    [
        "settings.py:9: ALLOWED_HOSTS = [os.environ['DOMAIN_NAME']]",
        "settings.py:9: ALLOWED_HOSTS = [os.getenv('DOMAIN')]",
        "settings.py:9: ALLOWED_HOSTS = env.list('DJANGO_HOSTS')",
        "settings.py:9: ALLOWED_HOSTS = env('DJANGO_HOSTS')",
        "settings.py:9: ALLOWED_HOSTS = config('ALLOWED_HOSTS', cast=Csv())",
    ],
)
def test_hosts_read_from_a_variable_the_lab_does_not_set_follow_the_environment(hit):
    hits = ["settings.py:3: ALLOWED_HOSTS = []", hit, "settings.py:30: ALLOWED_HOSTS = [os.environ['OTHER']]"]
    f = finding("allowed_hosts_hardcoded", observed({"allowed_hosts": ["example.com"]}, hosts_hits=hits))
    assert f.level == OK
    assert f.evidence == [f"ALLOWED_HOSTS = ['example.com'] comes from the environment: {hit}"]


@pytest.mark.parametrize(
    "hit", ["settings.py:9: ALLOWED_HOSTS = PROD_HOSTS", "settings.py:9: ALLOWED_HOSTS = venv.hosts", "settings.py:9: ALLOWED_HOSTS = my_config"]
)
def test_hosts_from_a_constant_are_hard_coded(hit):
    assert finding("allowed_hosts_hardcoded", observed({"allowed_hosts": ["example.com"]}, hosts_hits=[hit])).level == FOUND


def test_hosts_that_list_the_labs_host_or_a_wildcard_follow_the_environment():
    env_hit = ["settings.py:9: ALLOWED_HOSTS = os.environ['DJANGO_ALLOWED_HOSTS'].split(',')"]
    listed = finding("allowed_hosts_hardcoded", observed({"allowed_hosts": ["t-nginx"]}, hosts_hits=env_hit))
    assert listed.level == OK and listed.evidence == ["ALLOWED_HOSTS follows the environment: ['t-nginx']"]
    wildcard = finding("allowed_hosts_hardcoded", observed({"allowed_hosts": ["*"]}))
    assert wildcard.level == OK and wildcard.evidence == ["ALLOWED_HOSTS follows the environment: ['*']"]


def test_settings_that_leave_allowed_hosts_at_its_empty_default_list_no_host():
    first = {key: value for key, value in CLEAN.items() if key != "allowed_hosts"}
    f = finding("allowed_hosts_hardcoded", Observed(nodes=2, workers=1, nginx_host="t-nginx", first=first))
    assert f.level == FOUND and f.evidence[0].startswith("ALLOWED_HOSTS = [] although")


def test_debug_evidence_shows_the_setting():
    assert finding("debug_on", observed({"debug": True})).evidence == ["DEBUG = True in the site's settings"]
    assert finding("debug_on", observed()).evidence == ["DEBUG = False in the site's settings"]


# What nodes answer


def test_a_health_check_refused_by_address_is_cited_as_the_readme_shows():
    f = finding("health_check_by_address", observed(host_check={"address": "192.168.48.3", "status": 400}))
    assert f.level == FOUND
    assert f.evidence[0] == (
        "GET / on a node with Host: 192.168.48.3:8000 (its own address, as a balancer's health check asks it) "
        "answered 400: Django's DisallowedHost"
    )
    # The refusal comes from the host names the lab's environment gave, as a deployment gives its domain: said so.
    hosts = observed().first["allowed_hosts"]
    assert f.evidence[1:] == ([f"ALLOWED_HOSTS = {hosts}: the lab's host names, from the environment the lab sets as a "
                               "deployment sets its domain"] if "t-nginx" in hosts else [])


@pytest.mark.parametrize("status", [200, 301, 401, 500])
def test_a_health_check_answered_otherwise_is_ok_and_says_what_it_answered(status):
    f = finding("health_check_by_address", observed(host_check={"address": "10.1.2.3", "status": status}))
    assert f.level == OK
    assert len(f.evidence) == 1 and f.evidence[0].endswith(f"check asks it) answered {status}")


def test_a_refused_health_check_is_judged_when_the_settings_probe_failed():
    """The settings could not be read (`first` holds only the error): the node's 400 is still the finding."""
    f = hazards.node_address_health_check(observed(host_check={"address": "10.1.2.3", "status": 400}))
    failed = Observed(nodes=3, workers=2, nginx_host="t-nginx", first={"error": "ImproperlyConfigured: no"},
                      host_check={"address": "10.1.2.3", "status": 400})
    g = hazards.node_address_health_check(failed)
    assert f.level == g.level == FOUND and g.evidence == [g.evidence[0]] and "DisallowedHost" in g.evidence[0]


def test_a_health_check_not_asked_says_why():
    f = finding("health_check_by_address", observed(host_check={"error": "connection refused"}))
    assert f.level == OK
    assert f.evidence == ["the front page could not be asked by the node's address: connection refused"]
    assert finding("health_check_by_address", observed()).evidence == ["the front page could not be asked by the node's address: not probed"]


BEHIND = {"node": "node-2", "remote_addr": "192.168.48.7", "forwarded_for": "192.168.48.1"}


def test_the_client_address_evidence_of_the_readme_with_nothing_reading_it():
    f = finding("client_address_behind_proxy", observed(client_view=BEHIND))
    assert f.level == OK
    assert f.evidence == [
        "through nginx, node-2 saw REMOTE_ADDR 192.168.48.7 (the balancer) and X-Forwarded-For 192.168.48.1 (the client)",
        "nothing in the site's code, and none of the installed apps the lab knows, reads REMOTE_ADDR",
    ]


def test_the_code_and_apps_that_read_remote_addr_are_each_cited():
    seen = observed({"installed_apps": ["django_ratelimit"]}, client_view=BEHIND,
                    address_hits=["accounts/views.py:12: ip = request.META['REMOTE_ADDR']"])
    f = finding("client_address_behind_proxy", seen)
    assert f.level == FOUND
    assert f.evidence[1:] == [
        "reads REMOTE_ADDR: accounts/views.py:12: ip = request.META['REMOTE_ADDR']",
        hazards._CLIENT_ADDRESS_APPS["django_ratelimit"],
    ]


@pytest.mark.parametrize(
    "view",
    [
        {"node": "node-2", "remote_addr": "172.18.0.9", "forwarded_for": ""},  # no header: the address is the client's
        {"node": "node-2", "remote_addr": "172.18.0.9"},
        {"node": "node-2", "remote_addr": "", "forwarded_for": "172.18.0.1"},
        {"node": "node-2", "remote_addr": "10.0.0.5", "forwarded_for": "10.0.0.5, 10.0.0.9"},  # the client itself
    ],
)
def test_remote_addr_that_is_the_clients_own_is_no_hazard(view):
    seen = observed(client_view=view, address_hits=["accounts/views.py:12: request.META['REMOTE_ADDR']"])
    assert finding("client_address_behind_proxy", seen).level == OK


def test_remote_addr_is_hidden_when_it_is_not_the_first_forwarded_address():
    view = {"node": "node-1", "remote_addr": "172.18.0.9", "forwarded_for": "203.0.113.5, 172.18.0.9"}
    seen = observed(client_view=view, address_hits=["accounts/views.py:12: request.META['REMOTE_ADDR']"])
    assert finding("client_address_behind_proxy", seen).level == FOUND


def test_a_client_view_not_probed_says_why_and_finds_nothing():
    hits = ["accounts/views.py:12: request.META['REMOTE_ADDR']"]
    f = finding("client_address_behind_proxy", observed(client_view={"error": "nginx answered 502"}, address_hits=hits))
    assert f.level == OK
    assert f.evidence[0] == "what a node sees of a client was not probed: nginx answered 502"
    assert finding("client_address_behind_proxy", observed()).evidence[0] == "what a node sees of a client was not probed: no answer"


# Caches that hide errors, channel layers, state per process


def test_a_cache_that_swallows_errors_is_cited_and_the_sessions_on_it_found():
    hiding = {"default": {"backend": REDIS, "location": "redis://r", "ignore_exceptions": True}}
    note = finding("cache_errors_hidden", observed({"caches": hiding}))
    assert note.level == NOTE and note.evidence == ["CACHES['default'] swallows its errors (IGNORE_EXCEPTIONS)"]
    sessions = {"caches": hiding, "session_engine": "django.contrib.sessions.backends.cache", "session_cache_alias": "default"}
    f = finding("cache_errors_hidden", observed(sessions))
    assert f.level == FOUND
    assert f.evidence == [
        "CACHES['default'] swallows its errors (IGNORE_EXCEPTIONS)",
        "SESSION_ENGINE django.contrib.sessions.backends.cache keeps sessions only there (CACHES['default'])",
    ]
    assert finding("cache_errors_hidden", observed()).evidence == ["no cache ignores its errors"]


def test_cached_db_sessions_or_sessions_on_another_cache_keep_it_a_note():
    hiding = {"default": {"backend": REDIS, "ignore_exceptions": True}, "sessions": {"backend": REDIS}}
    cached_db = {"caches": hiding, "session_engine": "django.contrib.sessions.backends.cached_db", "session_cache_alias": "default"}
    assert finding("cache_errors_hidden", observed(cached_db)).level == NOTE
    other = {"caches": hiding, "session_engine": "django.contrib.sessions.backends.cache", "session_cache_alias": "sessions"}
    assert finding("cache_errors_hidden", observed(other)).level == NOTE
    unset = {"caches": hiding, "session_engine": None}
    assert finding("cache_errors_hidden", observed(unset)).level == NOTE


def test_django_redis_told_to_ignore_exceptions_everywhere_hides_each_of_its_caches_once():
    first = {
        "caches": {
            "default": {"backend": DJANGO_REDIS, "ignore_exceptions": True},
            "local": {"backend": LOCMEM},
            "pages": {"backend": DJANGO_REDIS},
            "bare": {},
        },
        "django_redis_ignore_exceptions": True,
    }
    f = finding("cache_errors_hidden", observed(first))
    assert f.level == NOTE
    assert f.evidence == [
        "CACHES['default'] swallows its errors (IGNORE_EXCEPTIONS)",
        "CACHES['pages'] swallows its errors (IGNORE_EXCEPTIONS)",
    ]


def test_channel_layers_are_cited_each_as_set():
    assert finding("channels_in_memory", observed()).evidence == ["no CHANNEL_LAYERS"]
    asgi = finding("channels_in_memory", observed({"asgi_application": "chatsite.asgi.application"}))
    assert asgi.level == OK and asgi.evidence == ["no CHANNEL_LAYERS (ASGI_APPLICATION chatsite.asgi.application)"]
    memory = finding("channels_in_memory", observed({"channel_layers": {"default": "channels.layers.InMemoryChannelLayer"}}))
    assert memory.level == FOUND and memory.evidence == ["CHANNEL_LAYERS['default'] is InMemoryChannelLayer (one per process)"]
    redis = finding("channels_in_memory", observed({"channel_layers": {"default": "channels_redis.core.RedisChannelLayer"}}))
    assert redis.level == OK and redis.evidence == ["CHANNEL_LAYERS['default'] channels_redis.core.RedisChannelLayer"]


LOST = {"sent_on": "node-2", "received_on": "node-1", "text": "lab-probe-1",
        "sent": {"layer": "InMemoryChannelLayer"}, "received": {"layer": "InMemoryChannelLayer", "received": None}}


def test_a_message_that_did_not_cross_is_cited_with_both_nodes_and_the_layer():
    first = {"channel_layers": {"default": "channels.layers.InMemoryChannelLayer"}}
    f = finding("channels_in_memory", observed(first, channels=LOST))
    assert f.evidence[-1] == (
        "a message sent to a group on node-2 (InMemoryChannelLayer) did not reach, within 10 s, a channel of that group on node-1"
    )


@pytest.mark.parametrize("side", ["sent", "received"])
def test_a_channel_probe_that_failed_says_so_and_proves_nothing(side):
    redis = {"channel_layers": {"default": "channels_redis.core.RedisChannelLayer"}}
    probe = {**LOST, side: {"error": "ConnectionRefusedError: redis:6379"}}
    f = finding("channels_in_memory", observed(redis, channels=probe))
    assert f.level == OK
    assert f.evidence[-1] == "the channel probe failed: ConnectionRefusedError: redis:6379"


def test_a_channel_probe_failure_is_cut_to_300_characters():
    redis = {"channel_layers": {"default": "channels_redis.core.RedisChannelLayer"}}
    long = {**LOST, "received": {"error": "x" * 400}}
    line = finding("channels_in_memory", observed(redis, channels=long)).evidence[-1]
    assert line == ("the channel probe failed: " + "x" * 400)[:300] and len(line) == 300


def test_state_per_process_cites_at_most_eight_places():
    hits = [f"catalog/prices.py:{n}: @lru_cache" for n in range(1, 10)]
    f = finding("state_per_process", observed(process_hits=hits))
    assert f.level == NOTE and f.evidence == hits[:8]
    assert finding("state_per_process", observed()).evidence == ["no lru_cache, cache or `global` in the site's code"]


def test_a_beat_process_type_of_its_own_schedules_once_and_is_no_hazard():
    seen = observed({"celery_beat_schedule": True}, scheduler_process="worker-beat: `celery -A config.celery_app beat` (Procfile:4 (worker-beat))")
    finding = hazards.scheduled_jobs(seen)
    assert finding.level == OK
    assert "the project schedules in one process of its own: worker-beat: `celery -A config.celery_app beat` (Procfile:4 (worker-beat))" in finding.evidence


def test_a_job_an_app_server_attaches_to_every_instance_is_found_even_with_a_beat_of_its_own():
    seen = observed({}, instance_hits=["docker/uwsgi.ini:27: attach-daemon = ./manage.py sendalerts"],
                    scheduler_process="beat: `celery -A x beat` (Procfile:3 (beat))")
    finding = hazards.scheduled_jobs(seen)
    assert finding.level == FOUND
    assert finding.evidence[0] == ("docker/uwsgi.ini:27: attach-daemon = ./manage.py sendalerts (runs beside every instance "
                                   "of its process: on N machines, N times)")


def test_a_migrate_only_inside_a_start_scripts_condition_is_a_note():
    conditional = "docker-entrypoint.sh:12: python manage.py migrate   (only if [ \"$1\" = '/venv/bin/uwsgi' ])"
    note = hazards.migrate_at_start(observed({}, migrate_hits=[conditional]))
    assert note.level == NOTE and note.evidence == [conditional]
    assert hazards.migrate_at_start(observed({}, migrate_hits=[conditional, "Procfile:1: web: python manage.py migrate && gunicorn x"])).level == FOUND
