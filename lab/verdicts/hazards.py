"""Hazards of running a site on several machines, judged from what was observed on its nodes.

`judge` turns an Observed (what lab.studies.readiness saw) into findings, each with its evidence, what
users would see, the fix and Django's page on it: plain data in, plain data out, so every hazard is
unit-tested on made-up observations that find it and that do not.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

DOCS = "https://docs.djangoproject.com/en/stable/"
FOUND, NOTE, OK = "found", "note", "ok"
LOCMEM = "django.core.cache.backends.locmem.LocMemCache"


@dataclass(frozen=True)
class Finding:
    """One hazard, judged: found, a note (fine now, breaks at some size), or ok; always with evidence."""

    key: str
    title: str
    level: str
    evidence: list[str]
    users_see: str
    fix: str
    docs: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Observed:
    """Everything the probes and the site's files showed, as plain data (what `judge` decides from)."""

    nodes: int
    workers: int
    nginx_host: str
    first: dict  # the site's settings, imported on the first node with the lab's environment
    keys: tuple[dict, dict] = ({}, {})  # SECRET_KEY made without a key variable, by a process on each node
    wrote: dict = field(default_factory=dict)  # the first node's cache keys and saved file
    read: dict = field(default_factory=dict)  # what the second node found of them
    max_connections: int | None = None
    deploy_check: list[str] = field(default_factory=list)
    overrides: list[dict] = field(default_factory=list)
    migrate_hits: list[str] = field(default_factory=list)
    schedule_hits: list[str] = field(default_factory=list)
    cache_hits: list[str] = field(default_factory=list)
    upload_hits: list[str] = field(default_factory=list)
    hosts_hits: list[str] = field(default_factory=list)  # where the settings assign ALLOWED_HOSTS
    address_hits: list[str] = field(default_factory=list)  # code that reads REMOTE_ADDR
    process_hits: list[str] = field(default_factory=list)  # memoised functions, module globals rebound
    host_check: dict = field(default_factory=dict)  # GET / on a node with its own address as Host
    client_view: dict = field(default_factory=dict)  # what a node saw of a request through nginx
    # What schedules jobs on each machine (lab_node.schedulers): every node, and the scheduler machine.
    schedulers: dict = field(default_factory=dict)
    channels: dict = field(default_factory=dict)  # a channel-layer message sent on node-2, awaited on node-1
    scheduler_command: str = ""  # what the scheduler machine runs ("" : the site's own start-up)
    # The settings' own switch to PostgreSQL the lab set (lab.project.database_switch): "VAR=value (file:line)"
    database_switch: list[str] = field(default_factory=list)
    # What every instance of a process runs beside it: an app server's attached daemons (uWSGI's attach-daemon),
    # a Celery beat inside every worker (-B). Each machine that runs the process runs it too.
    instance_hits: list[str] = field(default_factory=list)
    scheduler_process: str = ""  # the project's own scheduler process type ("worker-beat: `celery ... beat` (Procfile:4)")
    pooler: str = ""  # the nodes reach PostgreSQL through it ("" : directly)
    pool_size: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class HazardText:
    """A hazard's fixed prose: its key and title, what users would see, the fix and the page on it."""

    key: str
    title: str
    users_see: str
    fix: str
    docs: str


def _judged(text: HazardText, level: str, evidence: list[str]) -> Finding:
    return Finding(text.key, text.title, level, evidence, text.users_see, text.fix, text.docs)


def _finding(text: HazardText, found, evidence: list[str]) -> Finding:
    return _judged(text, FOUND if found else OK, evidence)


def _has_app(seen: Observed, *names: str) -> bool:
    return any(app == name or app.startswith(name + ".") for app in seen.first.get("installed_apps", []) for name in names)


def _app_setting(seen: Observed, name: str) -> str | None:
    """An installed app's setting as the site sets it (repr), or None when the site leaves the default."""
    return seen.first.get("app_settings", {}).get(name)


# What an installed app keeps in the default cache that must agree across machines (evidence of its use).
_CACHE_APPS = {
    "allauth": (
        "django-allauth (INSTALLED_APPS): its rate limits (failed logins, signups, emails) count in the default cache"
    ),
    "wagtail": (
        "Wagtail (INSTALLED_APPS): the sites' root paths are cached in the default cache; a change made through one "
        "machine stays stale on the others"
    ),
    "django_ratelimit": "django-ratelimit (INSTALLED_APPS): its counts live in the cache",
    "axes": "django-axes (AXES_HANDLER): failed logins counted in the cache",
}
# Why an installed app takes REMOTE_ADDR for the client's address.
_CLIENT_ADDRESS_APPS = {
    "allauth": "django-allauth's rate limits key on REMOTE_ADDR (no ALLAUTH_TRUSTED_PROXY_COUNT or ALLAUTH_TRUSTED_CLIENT_IP_HEADER)",
    "django_ratelimit": "django-ratelimit's key='ip' reads REMOTE_ADDR (no RATELIMIT_IP_META_KEY)",
}


def cache_using_apps(seen: Observed) -> list[str]:
    """Installed apps that keep what must agree across machines in the default cache."""
    found = []
    if _has_app(seen, "allauth") and _app_setting(seen, "ACCOUNT_RATE_LIMITS") != "False":
        found.append(_CACHE_APPS["allauth"])
    if _has_app(seen, "wagtail"):
        found.append(_CACHE_APPS["wagtail"])
    if _has_app(seen, "django_ratelimit") and _app_setting(seen, "RATELIMIT_ENABLE") != "False":
        found.append(_CACHE_APPS["django_ratelimit"])
    if seen.first.get("drf_throttles"):
        found.append(f"Django REST framework's throttles ({', '.join(seen.first['drf_throttles'])}) count in the default cache")
    if _has_app(seen, "axes") and "cache" in (_app_setting(seen, "AXES_HANDLER") or "").lower():
        found.append(_CACHE_APPS["axes"])
    return found


def _release_at_least(version: str | None, floor: tuple[int, ...]) -> bool:
    """Whether an installed release is `floor` or later; an unknown one is taken as current."""
    if not version:
        return True
    parts = tuple(int(part) for part in re.findall(r"\d+", version)[: len(floor)])
    return parts >= floor


def client_address_apps(seen: Observed) -> dict[str, str]:
    """Installed apps that key on the client's address and read REMOTE_ADDR unless told otherwise: app -> why."""
    found = {}
    trusted = _app_setting(seen, "ALLAUTH_TRUSTED_PROXY_COUNT") or _app_setting(seen, "ALLAUTH_TRUSTED_CLIENT_IP_HEADER")
    if (_has_app(seen, "allauth") and _app_setting(seen, "ACCOUNT_RATE_LIMITS") != "False" and not trusted
            and _release_at_least(seen.first.get("app_versions", {}).get("django-allauth"), (0, 55))):
        found["allauth"] = _CLIENT_ADDRESS_APPS["allauth"]  # from 0.55 (ACCOUNT_RATE_LIMITS); before, by login name
    if _has_app(seen, "django_ratelimit") and not _app_setting(seen, "RATELIMIT_IP_META_KEY"):
        found["django_ratelimit"] = _CLIENT_ADDRESS_APPS["django_ratelimit"]
    return found


_SECRET_KEY_PER_PROCESS = HazardText(
    "secret_key_per_process",
    "SECRET_KEY differs per process",
    users_see="logged out whenever a request reaches another process; password-reset links and signed cookies fail",
    fix="read SECRET_KEY from one secret every machine gets, and fail at start when it is missing",
    docs=DOCS + "ref/settings/#secret-key",
)


def secret_key(seen: Observed) -> Finding:
    first, second = seen.keys
    if first.get("error"):
        evidence = [f"without DJANGO_SECRET_KEY or SECRET_KEY the settings do not load: {first['error']} (a missing key fails loudly)"]
        return _judged(_SECRET_KEY_PER_PROCESS, OK, evidence)
    found = first.get("secret_key_sha") != second.get("secret_key_sha")
    evidence = [
        "the settings imported in two processes with the same environment (no key variable) give SECRET_KEY "
        f"sha256 {first.get('secret_key_sha')} and {second.get('secret_key_sha')}"
        + (": a key made up per process" if found else ": the same key")
    ]
    return _finding(_SECRET_KEY_PER_PROCESS, found, evidence)


_LOCMEM_CACHE = HazardText(
    "locmem_cache",
    "A local-memory cache that code relies on",
    users_see=(
        "rate limits multiplied by the number of processes, cached pages that differ per machine, cached "
        "sessions lost on every other request"
    ),
    fix="point CACHES at a shared cache (Redis, Memcached) for anything that must agree across machines",
    docs=DOCS + "topics/cache/#local-memory-caching",
)


def locmem_cache(seen: Observed) -> Finding:
    caches = seen.first.get("caches", {})
    local = [alias for alias, entry in caches.items() if entry.get("backend") == LOCMEM]
    engine = seen.first.get("session_engine") or ""
    users = list(seen.cache_hits)
    users += [f"MIDDLEWARE {m} (whole pages cached)" for m in seen.first.get("middleware", []) if "CacheMiddleware" in m]
    if "default" in local:
        users += cache_using_apps(seen)
    if engine.endswith(("backends.cache", "backends.cached_db")) and seen.first.get("session_cache_alias") in local:
        users.insert(0, f"SESSION_ENGINE {engine} on CACHES[{seen.first.get('session_cache_alias')!r}]")
    evidence = [f"CACHES[{alias!r}] is LocMemCache (one per process)" for alias in local]
    missing = [alias for alias in local if seen.read.get("caches", {}).get(alias) is None and alias in seen.wrote.get("caches", {})]
    if missing:
        evidence.append(f"a key written on {seen.wrote.get('node')} was not found on {seen.read.get('node')} in {', '.join(missing)}")
    evidence += [f"used by {hit}" for hit in users] or (
        ["nothing in the site's code, and none of the installed apps the lab knows, uses the cache"] if local else []
    )
    return _finding(_LOCMEM_CACHE, bool(local and users), evidence or ["no LocMemCache"])


_MEDIA_ON_NODE_DISK = HazardText(
    "media_on_node_disk",
    "Uploaded files stay on the machine that received them",
    users_see="an uploaded file is there on one request and a 404 on the next",
    fix=(
        "store media in shared storage (django-storages with S3 or similar, or one shared volume); on Kubernetes, "
        "object storage or a ReadWriteMany PersistentVolumeClaim every pod mounts (a ReadWriteOnce one is one node's)"
    ),
    docs=DOCS + "topics/files/",
)


def media_on_disk(seen: Observed) -> Finding:
    media = seen.wrote.get("media", {})
    lost = media.get("name") and seen.read.get("media_exists") is False
    evidence = []
    if media.get("name"):
        where = f" ({media['path']})" if media.get("path") else ""
        evidence.append(
            f"saved {media['name']} through default_storage ({seen.wrote.get('storage')}) on {seen.wrote.get('node')}{where}; "
            f"{seen.read.get('node')} {'does not have it' if lost else 'has it'}"
        )
    elif media.get("error"):
        evidence.append(f"default_storage cannot save on {seen.wrote.get('node')}: {media['error']}")
    stores = [f"model field {name}" for name in seen.wrote.get("file_fields", [])] + [f"uploads in {hit}" for hit in seen.upload_hits]
    evidence += stores or ["no model stores a file, and no default_storage or request.FILES in the code"]
    return _finding(
        _MEDIA_ON_NODE_DISK,
        # A node's own disk that refuses the save (a MEDIA_ROOT the image lacks) is no shared storage either.
        bool((lost or (media.get("error") and "FileSystemStorage" in str(seen.wrote.get("storage")))) and stores),
        evidence,
    )


_SQLITE_DATABASE = HazardText(
    "sqlite_database",
    "SQLite as a database",
    users_see="each machine has its own users, orders and sessions: an account made on one machine does not exist on another",
    fix="use one database server every machine reaches (PostgreSQL, MySQL), e.g. from DATABASE_URL",
    docs=DOCS + "ref/databases/",
)


def sqlite(seen: Observed) -> Finding:
    engines = seen.first.get("databases", {})
    local = {alias: engine for alias, engine in engines.items() if "sqlite" in engine}
    if not local and seen.database_switch:
        # PostgreSQL because the lab set the settings' switch: without it, each machine keeps its own SQLite file.
        return _judged(_SQLITE_DATABASE, NOTE, [
            f"SQLite unless {switch}; the lab set it, and every machine of a deployment must get it too"
            for switch in seen.database_switch
        ] + [f"DATABASES: {', '.join(f'{a}: {e}' for a, e in engines.items())}"])
    return _finding(
        _SQLITE_DATABASE,
        bool(local),
        [f"DATABASES[{alias!r}] ENGINE {engine} ({seen.first.get('database_name')})" for alias, engine in local.items()]
        or [f"DATABASES: {', '.join(f'{a}: {e}' for a, e in engines.items()) or 'none'}"],
    )


_FILE_SESSIONS_OR_CACHE = HazardText(
    "file_sessions_or_cache",
    "Sessions or a cache in files on a local path",
    users_see="logged out (or cache misses) whenever a request lands on another machine",
    fix="keep sessions in the database, Redis or Memcached, or the files on shared storage",
    docs=DOCS + "topics/http/sessions/#using-file-based-sessions",
)


def local_files(seen: Observed) -> Finding:
    evidence = []
    engine = seen.first.get("session_engine") or ""
    if engine.endswith("backends.file"):
        evidence.append(f"SESSION_ENGINE file, in {seen.first.get('session_file_path') or 'the temporary folder'}")
    for alias, entry in seen.first.get("caches", {}).items():
        if entry.get("backend", "").endswith("FileBasedCache"):
            evidence.append(f"CACHES[{alias!r}] FileBasedCache in {entry.get('location')}")
    return _finding(
        _FILE_SESSIONS_OR_CACHE,
        bool(evidence),
        evidence or [f"SESSION_ENGINE {engine or 'db'}; no FileBasedCache"],
    )


_CONN_MAX_AGE = HazardText(
    "conn_max_age",
    "Persistent database connections x nodes x workers",
    users_see="past the limit, new requests fail with 'too many clients already'",
    fix=(
        "size max_connections for machines x workers x threads, or put a pooler in front (`lab up --pooler pgbouncer`; "
        "`lab experiment connection-budget` counts both)"
    ),
    docs=DOCS + "ref/databases/#persistent-connections",
)


def connections(seen: Observed) -> Finding:
    age = seen.first.get("conn_max_age", 0)
    persistent = age is None or (isinstance(age, (int, float)) and age > 0)
    held = seen.nodes * seen.workers
    evidence = [f"CONN_MAX_AGE = {age}" + (" (persistent connections)" if persistent else " (a connection per request)")]
    level = OK
    if seen.pooler:
        evidence.append(
            f"the nodes reach PostgreSQL through {seen.pooler} (transaction pooling): {held} node connections share "
            f"at most {seen.pool_size} server connections of max_connections {seen.max_connections}, whatever the node count"
        )
    elif persistent and seen.max_connections:
        room = seen.max_connections - 3  # superuser_reserved_connections
        evidence.append(
            f"{seen.nodes} nodes x {seen.workers} workers hold {held} of PostgreSQL's max_connections "
            f"{seen.max_connections}; {room // max(1, seen.workers)} nodes like these exhaust it"
        )
        level = FOUND if held > room else NOTE
    return _judged(_CONN_MAX_AGE, level, evidence)


_MIGRATE_AT_START = HazardText(
    "migrate_at_start",
    "`migrate` at every start",
    users_see="machines starting together migrate at once: a migration fails half-applied, or locks tables under traffic",
    fix=(
        "migrate once per release, not in the web process's start: a Procfile `release:` line (Heroku, Dokku, "
        "Scalingo), a Kubernetes Job or Helm pre-upgrade hook, a one-off `docker service create --restart-condition "
        "none` on a swarm, a pre-deploy command (Render, Fly.io's release_command); the lab runs it as such a job. "
        "On Kubernetes the Job runs to its end before the Deployment changes (`kubectl wait --for=condition=complete`), "
        "as `lab export kubernetes` writes it"
    ),
    docs=DOCS + "ref/django-admin/#migrate",
)


def migrate_at_start(seen: Observed) -> Finding:
    conditional = [hit for hit in seen.migrate_hits if "(only if " in hit]
    if seen.migrate_hits and len(conditional) == len(seen.migrate_hits):
        # Each inside a start script's condition: it runs at every start only where the condition holds.
        return _judged(_MIGRATE_AT_START, NOTE, seen.migrate_hits)
    return _finding(_MIGRATE_AT_START, bool(seen.migrate_hits), seen.migrate_hits or ["no start-up file runs migrate"])


def _running_jobs(seen: Observed) -> dict[str, list[str]]:
    """Each job (or scheduler without jobs) -> the machines whose processes run it."""
    machines: dict[str, list[str]] = {}
    for machine, answer in sorted(seen.schedulers.items()):
        for scheduler in answer.get("schedulers", []):
            if scheduler.get("running"):
                for job in scheduler.get("jobs") or [f"{scheduler['kind']} (no jobs yet)"]:
                    machines.setdefault(job, []).append(machine)
    return machines


_SCHEDULED_JOBS = HazardText(
    "scheduled_jobs",
    "Scheduled jobs that every machine would run",
    users_see="every job runs once per machine: emails sent N times, reports made N times",
    fix=(
        "run the scheduler on one machine: start it only where DJANGO_RUN_SCHEDULER is set (`lab readiness --fix` "
        "guards a start in an AppConfig's ready()) and `lab up --scheduler`; or a Procfile clock line, one beat. "
        "On Kubernetes, a Deployment of its own with one replica and strategy Recreate: a rolling update would run "
        "two for a while"
    ),
    docs=DOCS + "howto/deployment/",
)


def scheduled_jobs(seen: Observed) -> Finding:
    files = list(seen.schedule_hits)
    if seen.first.get("celery_beat_schedule"):
        files.append("CELERY_BEAT_SCHEDULE in the settings")
    if seen.first.get("cronjobs"):
        files.append("CRONJOBS in the settings")
    jobs = _running_jobs(seen)
    nodes = [machine for machine in seen.schedulers if machine != "scheduler"]
    on_nodes = sorted({machine for machines in jobs.values() for machine in machines if machine != "scheduler"})
    evidence = [
        f"{job}: runs on {len(machines)} machine{'s' if len(machines) > 1 else ''}: {', '.join(machines)}"
        for job, machines in jobs.items()
    ]
    machine = seen.schedulers.get("scheduler")
    if machine is not None and seen.scheduler_command:
        running = [line for line in machine.get("processes", []) if seen.scheduler_command.split()[-1] in line]
        evidence.append(f"scheduler: runs `{seen.scheduler_command}`" + ("" if running else " (no such process seen)"))
    if seen.schedulers:
        evidence.append(f"{len(on_nodes)} of {len(nodes)} nodes run a scheduler")
    every_instance = [f"{hit} (runs beside every instance of its process: on N machines, N times)" for hit in seen.instance_hits]
    if seen.scheduler_process:
        evidence.append(f"the project schedules in one process of its own: {seen.scheduler_process}")
    if on_nodes or every_instance:
        level = FOUND
    elif machine is not None and (jobs or seen.scheduler_command):
        level = OK  # the jobs run once, on the scheduler machine
    elif seen.scheduler_process:
        level = OK  # a beat (or clock) process type of its own: one per deployment
    else:
        level = FOUND if files else OK
    evidence = every_instance + evidence + files
    return _judged(_SCHEDULED_JOBS, level, evidence or ["no scheduler found"])


_SSL_REDIRECT_BEHIND_PROXY = HazardText(
    "ssl_redirect_behind_proxy",
    "SECURE_SSL_REDIRECT without SECURE_PROXY_SSL_HEADER",
    users_see=(
        "behind a balancer that ends TLS, every page redirects to itself ('too many redirects') unless the WSGI "
        "server trusts the balancer's X-Forwarded-Proto (gunicorn's FORWARDED_ALLOW_IPS, as in the lab); uWSGI or "
        "a server on another address does not"
    ),
    fix="set SECURE_PROXY_SSL_HEADER = ('HTTP_X_FORWARDED_PROTO', 'https') when the balancer sets that header",
    docs=DOCS + "ref/settings/#secure-proxy-ssl-header",
)


def ssl_redirect(seen: Observed) -> Finding:
    found = seen.first.get("ssl_redirect") and not seen.first.get("proxy_ssl_header")
    return _finding(
        _SSL_REDIRECT_BEHIND_PROXY,
        bool(found),
        [f"SECURE_SSL_REDIRECT = {seen.first.get('ssl_redirect')}, SECURE_PROXY_SSL_HEADER = {seen.first.get('proxy_ssl_header')}"],
    )


_ALLOWED_HOSTS_HARDCODED = HazardText(
    "allowed_hosts_hardcoded",
    "ALLOWED_HOSTS written into the code",
    users_see="400 Bad Request for every host name the code does not list (a balancer's, a new machine's)",
    fix="read ALLOWED_HOSTS from the environment",
    docs=DOCS + "ref/settings/#allowed-hosts",
)


def allowed_hosts(seen: Observed) -> Finding:
    hosts = seen.first.get("allowed_hosts", [])
    # Read from another variable (DOMAIN_NAME, DOMAIN) the lab does not set: it follows the environment.
    from_environment = [hit for hit in seen.hosts_hits if re.search(r"environ|getenv|\benv[.(]|config\(", hit)]
    found = "*" not in hosts and seen.nginx_host not in hosts and not from_environment
    if found:
        evidence = [f"ALLOWED_HOSTS = {hosts} although DJANGO_ALLOWED_HOSTS and ALLOWED_HOSTS named the lab's hosts"]
        evidence += seen.hosts_hits[:3]
    elif from_environment and seen.nginx_host not in hosts:
        evidence = [f"ALLOWED_HOSTS = {hosts} comes from the environment: {from_environment[0]}"]
    else:
        evidence = [f"ALLOWED_HOSTS follows the environment: {hosts}"]
    return _finding(_ALLOWED_HOSTS_HARDCODED, found, evidence)


_DEBUG_ON = HazardText(
    "debug_on",
    "DEBUG on",
    users_see="error pages that show settings and code to anyone; memory growing with every query",
    fix="read DEBUG from the environment, off unless asked",
    docs=DOCS + "ref/settings/#debug",
)


def debug(seen: Observed) -> Finding:
    return _finding(
        _DEBUG_ON,
        bool(seen.first.get("debug")),
        [f"DEBUG = {seen.first.get('debug')} in the site's settings"],
    )


_HEALTH_CHECK_BY_ADDRESS = HazardText(
    "health_check_by_address",
    "A health check by the node's address is refused (ALLOWED_HOSTS)",
    users_see=(
        "a balancer that checks machines by their address (cloud load balancers, container platforms) marks every "
        "one unhealthy, and the site goes down at the first check"
    ),
    fix=(
        "answer the health check in a middleware placed before CommonMiddleware, or add each machine's own address "
        "to ALLOWED_HOSTS at start, or have the balancer's check send the site's host name"
    ),
    docs=DOCS + "ref/settings/#allowed-hosts",
)


def node_address_health_check(seen: Observed) -> Finding:
    check = seen.host_check
    status = check.get("status")
    if status is None:
        evidence = [f"the front page could not be asked by the node's address: {check.get('error') or 'not probed'}"]
    else:
        evidence = [
            f"GET / on a node with Host: {check.get('address')}:8000 (its own address, as a balancer's health "
            f"check asks it) answered {status}" + (": Django's DisallowedHost" if status == 400 else "")
        ]
        hosts = seen.first.get("allowed_hosts", [])
        if status == 400 and seen.nginx_host in hosts:
            # The list the lab's environment gave: a deployment gives its own domain there, and refuses the same way.
            evidence.append(f"ALLOWED_HOSTS = {hosts}: the lab's host names, from the environment the lab sets as a "
                            "deployment sets its domain")
    return _finding(_HEALTH_CHECK_BY_ADDRESS, status == 400, evidence)


_CLIENT_ADDRESS_BEHIND_PROXY = HazardText(
    "client_address_behind_proxy",
    "Code that takes REMOTE_ADDR for the client's address",
    users_see=(
        "every user has the balancer's address: one user's failed logins lock everyone out, a rate limit counts the "
        "whole site as one client, audit logs name the balancer"
    ),
    fix=(
        "take the client's address from the X-Forwarded-For your own balancer sets (its right-most entry), e.g. "
        "ALLAUTH_TRUSTED_PROXY_COUNT = 1, RATELIMIT_IP_META_KEY, or a middleware that does it once"
    ),
    docs=DOCS + "ref/request-response/#django.http.HttpRequest.META",
)


def client_address(seen: Observed) -> Finding:
    view = seen.client_view
    remote, forwarded = view.get("remote_addr", ""), view.get("forwarded_for", "")
    readers = [f"reads REMOTE_ADDR: {hit}" for hit in seen.address_hits] + list(client_address_apps(seen).values())
    hidden = bool(remote and forwarded and remote not in forwarded.split(", ")[:1])
    evidence = (
        [f"through nginx, {view.get('node')} saw REMOTE_ADDR {remote} (the balancer) and X-Forwarded-For {forwarded} (the client)"]
        if remote else [f"what a node sees of a client was not probed: {view.get('error', 'no answer')}"]
    )
    evidence += readers or ["nothing in the site's code, and none of the installed apps the lab knows, reads REMOTE_ADDR"]
    return _finding(_CLIENT_ADDRESS_BEHIND_PROXY, bool(readers and hidden), evidence)


_CACHE_ERRORS_HIDDEN = HazardText(
    "cache_errors_hidden",
    "A cache told to swallow its errors",
    users_see=(
        "while the cache server is away every request quietly gets an empty session: users are logged out, and no "
        "error is logged or raised"
    ),
    fix=(
        "let the sessions' cache raise (no IGNORE_EXCEPTIONS there), or keep sessions in cached_db; "
        "`lab experiment store-restart` shows who is logged out while the store is away"
    ),
    docs=DOCS + "topics/http/sessions/#using-cached-sessions",
)


def cache_errors_hidden(seen: Observed) -> Finding:
    caches = seen.first.get("caches", {})
    hiding = [alias for alias, entry in caches.items() if entry.get("ignore_exceptions")]
    if seen.first.get("django_redis_ignore_exceptions"):
        hiding += [a for a, e in caches.items() if "django_redis" in e.get("backend", "") and a not in hiding]
    engine = seen.first.get("session_engine") or ""
    sessions = engine.endswith("backends.cache") and seen.first.get("session_cache_alias") in hiding
    evidence = [f"CACHES[{alias!r}] swallows its errors (IGNORE_EXCEPTIONS)" for alias in hiding]
    if sessions:
        evidence.append(f"SESSION_ENGINE {engine} keeps sessions only there (CACHES[{seen.first.get('session_cache_alias')!r}])")
    level = FOUND if sessions else NOTE if hiding else OK
    return _judged(_CACHE_ERRORS_HIDDEN, level, evidence or ["no cache ignores its errors"])


_CHANNELS_IN_MEMORY = HazardText(
    "channels_in_memory",
    "Django Channels with its in-memory channel layer",
    users_see=(
        "a message reaches only the users connected to the same process: chat messages and notifications are "
        "lost between machines"
    ),
    fix="use channels_redis (RedisChannelLayer) on a Redis every machine reaches",
    docs="https://channels.readthedocs.io/en/stable/topics/channel_layers.html",
)


def channels_in_memory(seen: Observed) -> Finding:
    layers = seen.first.get("channel_layers", {})
    memory = [alias for alias, backend in layers.items() if backend.endswith("InMemoryChannelLayer")]
    evidence = [f"CHANNEL_LAYERS[{alias!r}] is InMemoryChannelLayer (one per process)" for alias in memory]
    if not layers:
        evidence = ["no CHANNEL_LAYERS" + (f" (ASGI_APPLICATION {seen.first['asgi_application']})" if seen.first.get("asgi_application") else "")]
    elif not memory:
        evidence = [f"CHANNEL_LAYERS[{alias!r}] {backend}" for alias, backend in layers.items()]
    probe = seen.channels
    crossed = None
    if probe:
        received = probe.get("received", {})
        if "error" in received or "error" in probe.get("sent", {}):
            evidence.append(f"the channel probe failed: {received.get('error') or probe['sent'].get('error')}"[:300])
        else:
            crossed = received.get("received") == probe.get("text")
            evidence.append(
                f"a message sent to a group on {probe['sent_on']} ({received.get('layer')}) "
                + ("reached" if crossed else "did not reach, within 10 s,")
                + f" a channel of that group on {probe['received_on']}"
            )
    return _finding(_CHANNELS_IN_MEMORY, bool(memory) or crossed is False, evidence)


_STATE_PER_PROCESS = HazardText(
    "state_per_process",
    "State kept per process (memoised functions, module globals)",
    users_see="over data that changes, each machine (each worker) answers from its own copy until it restarts",
    fix=(
        "keep what changes in the database or a shared cache (cache.get_or_set with a timeout); memoise only what "
        "never changes while the site runs"
    ),
    docs=DOCS + "topics/cache/",
)


def process_state(seen: Observed) -> Finding:
    return _judged(
        _STATE_PER_PROCESS,
        NOTE if seen.process_hits else OK,
        seen.process_hits[:8] or ["no lru_cache, cache or `global` in the site's code"],
    )


HAZARDS = (
    secret_key, locmem_cache, media_on_disk, sqlite, local_files, connections,
    migrate_at_start, scheduled_jobs, ssl_redirect, allowed_hosts, debug,
    node_address_health_check, client_address, cache_errors_hidden, channels_in_memory, process_state,
)


def judge(seen: Observed) -> list[Finding]:
    """Every hazard, judged from what was seen."""
    return [hazard(seen) for hazard in HAZARDS]


# The site's user, as gunicorn runs (a node that mounts NFS starts as root, without root's powers).
