import json

import pytest

from lab import BACKENDS, LabConfig
from lab.model.plan import LAB_LABEL, NODE_CONFIG_PATH, ROLE_LABEL, SPEC_LABEL, build_plan, image_keys, node_config_id
from lab.model.site import Site
from lab.run.state import new_secrets

TAGS = {key: f"django-lab/{key}:test" for key in ("node", "site", "nginx", "postgres", "redis", "memcached", "nfs")}
SECRETS = new_secrets()
PLAIN = Site.unread("/srv/site", "labsite.settings")  # a site that declares nothing


def plan_for(**options):
    return build_plan(LabConfig(name="t", **options), SECRETS, TAGS)


def node_config(node):
    return json.loads(node.files[NODE_CONFIG_PATH])


def node_settings(node):
    return node_config(node)["settings"]


def test_names_and_counts():
    plan = plan_for(nodes=4)
    assert [n.name for n in plan.nodes] == ["t-node-1", "t-node-2", "t-node-3", "t-node-4"]
    assert [s.name for s in plan.stores] == ["t-postgres", "t-redis"]
    assert plan.nginx.name == "t-nginx" and plan.network == "t-net"


def test_everything_carries_the_lab_label():
    plan = plan_for(backend="shared_file")
    labelled = [*plan.containers(), plan.prepare, *plan.volumes]
    assert all(item.labels[LAB_LABEL] == "t" for item in labelled)
    assert plan.network_labels[LAB_LABEL] == "t"
    assert {c.labels[ROLE_LABEL] for c in plan.containers()} == {"store", "node", "nginx"}


def test_only_nginx_publishes_a_port_on_loopback():
    plan = plan_for(port=9123)
    assert plan.nginx.ports == {80: ("127.0.0.1", 9123)}
    assert all(not spec.ports for spec in (*plan.stores, *plan.nodes, plan.prepare))


def test_upstream_lists_every_node():
    plan = plan_for(nodes=5)
    for node in plan.nodes:
        assert f"{node.name}:8000" in plan.nginx_conf


@pytest.mark.parametrize("backend", [b for b in BACKENDS if BACKENDS[b].available])
def test_nodes_get_the_backend_and_the_shared_database(backend):
    plan = plan_for(backend=backend)
    settings = node_settings(plan.nodes[0])
    hosts = {"redis": "t-redis", "memcached": "t-memcached", "nfs": "t-nfs"}
    assert settings["SESSION_ENGINE"] == BACKENDS[backend].settings(hosts)["SESSION_ENGINE"]
    assert settings["DATABASES"]["default"]["HOST"] == "t-postgres"
    assert [s.name for s in plan.stores] == ["t-postgres", *(f"t-{s}" for s in BACKENDS[backend].stores)]


def test_sqlite_keeps_sessions_per_node_and_migrates_them():
    node = plan_for(backend="sqlite").nodes[0]
    settings = node_settings(node)
    assert settings["DATABASES"]["sessions"]["ENGINE"] == "django.db.backends.sqlite3"
    assert "default" in settings["DATABASES"]
    assert "migrate" in node_config(node)["commands"][0]


def test_every_node_mounts_the_one_shared_volume_so_shared_file_is_a_config_change():
    for backend in ("shared_file", "local_file", "redis"):
        plan = plan_for(backend=backend)
        shared = {m.volume for n in plan.nodes for m in n.mounts if m.target == "/srv/shared-sessions"}
        assert shared == {"t-shared-sessions"}
    settings = node_settings(plan_for(backend="shared_file").nodes[0])
    assert settings["SESSION_FILE_PATH"] == "/srv/shared-sessions"


def test_one_secret_key_unless_asked_for_one_per_node():
    assert len({node_config(n)["secret_key"] for n in plan_for().nodes}) == 1
    assert len({node_config(n)["secret_key"] for n in plan_for(secret_key_per_node=True).nodes}) == 3
    # Keys live in the node's config file, not in its environment (which `docker inspect` shows).
    assert not any(SECRETS.secret_key in value for n in plan_for().nodes for value in n.env.values())


def test_switching_balance_keeps_every_container_and_changes_only_nginx_conf():
    before, after = plan_for(balance="round_robin"), plan_for(balance="sticky")
    assert [c.fingerprint() for c in before.containers()] == [c.fingerprint() for c in after.containers()]
    assert before.nginx_conf != after.nginx_conf and before.nginx_config_id != after.nginx_config_id


@pytest.mark.parametrize("backend", ["local_file", "shared_file", "db", "sqlite", "locmem", "memcached", "cached_db", "signed_cookies"])
def test_switching_backend_reloads_nodes_instead_of_recreating_them(backend):
    before, after = plan_for(backend="redis"), plan_for(backend=backend)
    assert before.stores[0].fingerprint() == after.stores[0].fingerprint()
    assert [n.fingerprint() for n in before.nodes] == [n.fingerprint() for n in after.nodes]
    assert before.nodes[0].files != after.nodes[0].files and after.nodes[0].reload_signal == "HUP"
    # The node's readiness check names the config it must run, so a stale node is never "ready".
    assert after.nodes[0].check.command == ("lab-health", node_config_id(after.nodes[0].files[NODE_CONFIG_PATH]))
    assert before.nginx.fingerprint() == after.nginx.fingerprint()


def test_switching_to_nfs_recreates_nodes_which_must_mount_at_start():
    before, after = plan_for(backend="redis"), build_plan(LabConfig(name="t", backend="nfs"), SECRETS, TAGS)
    assert before.nodes[0].fingerprint() != after.nodes[0].fingerprint()


def test_fingerprint_is_not_a_label_of_the_spec():
    assert SPEC_LABEL not in plan_for().nodes[0].labels


def test_image_keys_follow_the_backend():
    assert image_keys(LabConfig(backend="signed_cookies"), PLAIN) == ("site", "nginx", "postgres")
    assert image_keys(LabConfig(backend="cached_db"), PLAIN) == ("site", "nginx", "postgres", "redis")
    reads_redis_url = Site("/srv/site", "labsite.settings", stores=("redis",))  # its own store, whatever the backend
    assert image_keys(LabConfig(backend="db"), reads_redis_url) == ("site", "nginx", "postgres", "redis")


def test_nfs_over_fuse_gives_nodes_fuse_and_the_server_only_what_it_needs():
    plan = build_plan(LabConfig(name="t", backend="nfs"), SECRETS, {**TAGS, "nfs": "django-lab/nfs:test"})
    server = plan.stores[1]
    assert server.name == "t-nfs" and server.cap_add == ("DAC_READ_SEARCH", "SETUID", "SETGID", "FOWNER")
    assert server.security_opt == ("seccomp=unconfined",)
    for node in plan.nodes:
        # Root only to mount; lab-node-start drops to the site's user before gunicorn.
        assert node.cap_add == ("SYS_ADMIN", "SETUID", "SETGID") and node.devices == ("/dev/fuse",)
        assert node.user == "root"
        assert node.env["LAB_NFS_URL"].startswith("nfs://t-nfs/export?nfsport=2049&mountport=20048")
        assert "uid=1000&gid=1000" in node.env["LAB_NFS_URL"], "NFS calls go out as the site's user"
        assert not {m.volume for m in node.mounts} & {m.volume for m in server.mounts}, "no shared volume"
    assert not plan.stores[0].cap_add and not plan.stores[0].devices and not plan.stores[0].security_opt
    assert plan.nginx.cap_add == ("SETUID", "SETGID", "CHOWN") and not plan.nginx.devices


def test_nodes_without_nfs_start_as_the_image_user_with_no_capability():
    for backend in ("redis", "local_file", "shared_file", "sqlite"):
        plan = build_plan(LabConfig(name="t", backend=backend), SECRETS, TAGS)
        for node in plan.nodes:
            assert node.user is None and node.cap_add == () and node.devices == ()


def test_every_container_has_a_profile_with_limits():
    plan = build_plan(LabConfig(name="t", backend="memcached", memcached_mb=100), SECRETS, TAGS)
    for spec in (*plan.containers(), plan.prepare):
        assert spec.memory_mb >= 64 and 32 <= spec.pids_limit <= 512, spec.name
    memcached = next(s for s in plan.stores if s.name == "t-memcached")
    assert memcached.memory_mb == 164, "the cache's size plus memcached's own"


def test_store_passwords_come_from_the_lab_secrets_not_the_image():
    plan = build_plan(LabConfig(name="t", backend="cached_db"), SECRETS, TAGS)
    postgres, redis = plan.stores
    assert postgres.env["LAB_DB_PASSWORD"] == SECRETS.db_password
    assert redis.env["LAB_REDIS_PASSWORD"] == SECRETS.redis_password
    settings = node_settings(plan.nodes[0])
    assert settings["DATABASES"]["default"]["PASSWORD"] == SECRETS.db_password
    assert f":{SECRETS.redis_password}@t-redis" in settings["CACHES"]["lab_sessions"]["LOCATION"]
    # No password is part of any command line.
    for spec in (*plan.containers(), plan.prepare):
        assert not any(secret in " ".join(spec.command or ()) for secret in (SECRETS.db_password, SECRETS.redis_password, SECRETS.demo_password))


def test_nfs_over_the_kernel_mounts_a_volume_that_names_the_server():
    tags = {**TAGS, "nfs": "django-lab/nfs:test"}
    config = LabConfig(name="t", backend="nfs")
    without = build_plan(config, SECRETS, tags, nfs_client="kernel")
    assert not without.nodes[0].cap_add and not without.nodes[0].user and "LAB_NFS_URL" not in without.nodes[0].env
    first = build_plan(config, SECRETS, tags, nfs_client="kernel", nfs_address="10.1.2.3")
    (volume,) = [v for v in first.volumes if v.driver_opts]
    assert volume.driver_opts["type"] == "nfs" and "addr=10.1.2.3" in volume.driver_opts["o"]
    assert "soft" in volume.driver_opts["o"]
    assert any(m.volume == volume.name and m.target == "/srv/nfs-sessions" for m in first.nodes[0].mounts)
    moved = build_plan(config, SECRETS, tags, nfs_client="kernel", nfs_address="10.1.2.4")
    assert moved.nodes[0].fingerprint() != first.nodes[0].fingerprint()


def test_a_pooler_stands_between_the_nodes_and_postgres_but_not_the_release_job():
    plan = build_plan(LabConfig(name="t", pooler="pgbouncer", max_connections=8), SECRETS, {**TAGS, "pgbouncer": "p"})
    stores = {spec.name: spec for spec in plan.stores}
    assert stores["t-postgres"].command == ("lab-postgres-start", "-c", "max_connections=8")
    bouncer = stores["t-pgbouncer"]
    assert bouncer.env == {"LAB_DB_PASSWORD": SECRETS.db_password, "LAB_DB_HOST": "t-postgres", "LAB_POOL_SIZE": "6"}
    for node in plan.nodes:
        default = node_settings(node)["DATABASES"]["default"]
        assert (default["HOST"], default["PORT"], default["DISABLE_SERVER_SIDE_CURSORS"]) == ("t-pgbouncer", 6432, True)
    prepare = node_settings(plan.prepare)["DATABASES"]["default"] if "settings" in node_config(plan.prepare) else None
    assert prepare is None or (prepare["HOST"], prepare["PORT"]) == ("t-postgres", 5432)
    direct = plan_for()
    assert [s.name for s in direct.stores] == ["t-postgres", "t-redis"] and direct.stores[0].command is None
    assert node_settings(direct.nodes[0])["DATABASES"]["default"]["HOST"] == "t-postgres"


def test_the_scheduler_machine_alone_gets_the_variable_and_takes_no_traffic():
    plan = plan_for(scheduler="auto")
    scheduler = plan.scheduler
    assert scheduler.role == "scheduler" and scheduler.command == ("django-admin", "lab_scheduler")
    assert not scheduler.ports and scheduler.reload_signal is None
    assert node_config(scheduler)["environment"]["DJANGO_RUN_SCHEDULER"] == "1"
    assert all("DJANGO_RUN_SCHEDULER" not in node_config(node)["environment"] for node in plan.nodes)
    assert "t-scheduler" not in plan.nginx_conf
    assert scheduler.env["LAB_CONFIG_DIGEST"] == node_config_id(scheduler.files[NODE_CONFIG_PATH])
    # A change of what it runs recreates it (its files never reload it).
    other = plan_for(scheduler="python manage.py runapscheduler").scheduler
    assert node_config(other)["scheduler_command"] == "python manage.py runapscheduler"
    assert other.fingerprint() != scheduler.fingerprint()
    assert plan_for().scheduler is None and all(spec.role != "scheduler" for spec in plan_for().containers())


@pytest.mark.parametrize("options", [{"pooler": "pgpool"}, {"max_connections": 2}])
def test_an_unknown_pooler_or_a_tiny_max_connections_is_refused(options):
    from lab.errors import ConfigError

    with pytest.raises(ConfigError):
        LabConfig(name="t", **options)


def test_a_fault_proxy_fronts_every_store_the_nodes_talk_to_and_the_release_job_goes_direct():
    plan = build_plan(LabConfig(name="t", fault_proxy=True, backend="cached_db"), SECRETS, {**TAGS, "faults": "f"})
    faults = next(spec for spec in plan.stores if spec.name == "t-faults")
    assert faults.command == ("lab-faults", "postgres=5432:t-postgres:5432", "redis=6379:t-redis:6379")
    settings = node_settings(plan.nodes[0])
    assert settings["DATABASES"]["default"]["HOST"] == "t-faults"
    assert "@t-faults:6379" in settings["CACHES"]["lab_sessions"]["LOCATION"]
    assert node_config(plan.nodes[0])["environment"]["DATABASE_URL"].endswith("@t-faults:5432/lab")
    prepare = node_config(plan.prepare)
    assert "t-postgres" in json.dumps(prepare) and not faults.ports
    assert "faults" in image_keys(plan.config, plan.site) and "faults" not in image_keys(LabConfig(name="t"), PLAIN)


def test_each_version_collects_its_static_files_in_a_folder_of_its_own_and_nginx_may_keep_the_last():
    plan = build_plan(LabConfig(name="t"), SECRETS, TAGS, facts={"static_url": "/static/"})
    assert node_config(plan.nodes[0])["static_root"] == "/srv/static/test"  # the site image's tag
    assert "try_files /test/$lab_static =404;" in plan.nginx_conf
    kept = build_plan(LabConfig(name="t"), SECRETS, TAGS, facts={"static_url": "/static/"}, static_kept=("old1",))
    assert "try_files /test/$lab_static /old1/$lab_static =404;" in kept.nginx_conf
    assert "try_files /test/$lab_static /old1/$lab_static =404;" in kept.drained("t-node-1").nginx_conf


def test_the_channel_layer_under_test_overrides_the_sites_and_brings_redis():
    memory = plan_for(channel_layer="memory", backend="db")
    assert node_settings(memory.nodes[0])["CHANNEL_LAYERS"] == {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    assert "t-redis" not in [spec.name for spec in memory.stores]
    redis = plan_for(channel_layer="redis", backend="db")
    layer = node_settings(redis.nodes[0])["CHANNEL_LAYERS"]["default"]
    assert layer["BACKEND"] == "channels_redis.core.RedisChannelLayer" and layer["CONFIG"]["hosts"][0].endswith("@t-redis:6379/2")
    assert "t-redis" in [spec.name for spec in redis.stores]
    assert "CHANNEL_LAYERS" not in node_settings(plan_for(backend="db").nodes[0])  # the site's own


def test_a_channel_layer_the_site_cannot_run_is_refused_with_the_fix():
    from lab.errors import ConfigError
    from lab.run.lab import Lab

    with pytest.raises(ConfigError, match="channels-redis"):
        Lab._refuse_channel_layer(LabConfig(name="t", channel_layer="redis"), {"channels": True, "channels_redis": False})
    with pytest.raises(ConfigError, match="Django Channels"):
        Lab._refuse_channel_layer(LabConfig(name="t", channel_layer="memory"), {"channels": False})
    Lab._refuse_channel_layer(LabConfig(name="t", channel_layer="redis"), {"channels": True, "channels_redis": True})


def test_a_front_end_brings_the_release_image_for_the_facts_and_release_jobs():
    """collectstatic may call a front end's Node.js tools (django-pipeline's terser): the job that collects runs
    in the release image, which has Node.js; a site without one keeps its own image."""
    from lab.model.plan import facts_job
    from lab.project.release_steps import Step

    config = LabConfig(name="t")
    site = Site("/srv/site", "labsite.settings", release_steps=(Step("npm run build", "npm", "Dockerfile:3 (RUN)", "build-js", ""),))
    assert "release" in image_keys(config, site)
    plan = build_plan(config, SECRETS, {**TAGS, "release": "django-lab/release:test"}, site=site)
    assert plan.prepare.image == "django-lab/release:test" and facts_job(plan).image == "django-lab/release:test"
    plain = plan_for()
    assert "release" not in image_keys(plain.config, plain.site)
    assert plain.prepare.image == facts_job(plain).image == TAGS["site"]
