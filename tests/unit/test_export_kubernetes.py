"""`lab export kubernetes`: the site as the lab ran it, as manifests that Kubernetes' own schemas accept
(strictly: no unknown field) for an older release and the newest one kubernetes-validate knows. No cluster."""

import copy
import json
import stat
from pathlib import Path

import pytest
import yaml

from lab import LabConfig
from lab.engines.kubernetes import (INGRESS, OVERLAYS, SECRET_FILES, KubernetesOptions, apply_steps, exported_images,
                                    ingress_balance, kubernetes_export)
from lab.errors import ConfigError
from lab.model.balance import BALANCE_MODES, STICKY_COOKIE
from lab.model.config import SAMPLE_SITE
from lab.model.plan import HEALTH, NODE_PORT, build_plan
from lab.project.read import read_site
from lab.run.state import new_secrets

kubernetes_validate = pytest.importorskip("kubernetes_validate")

VERSIONS = ("1.29.0", "1.37.0")  # an older supported release, and the newest kubernetes-validate 1.37 ships
SITES = Path(__file__).resolve().parents[1] / "sites"
TAGS = {key: f"django-lab/{key}:v1" for key in ("node", "site", "release", "nginx", "postgres", "redis", "memcached", "nfs", "pgbouncer")}
SECRETS = new_secrets()


def export_of(folder=SAMPLE_SITE, options=None, **config):
    site = read_site(Path(folder))
    lab = LabConfig(name="shop", site=str(folder), **config)
    plan = build_plan(lab, SECRETS, TAGS, site=site)
    overlays = {name: build_plan(lab.replace(backend=backend), SECRETS, TAGS, site=site) for name, backend in OVERLAYS.items()}
    return plan, kubernetes_export(plan, overlays, options or KubernetesOptions(host="shop.example.com"))


def documents(export, path=None):
    return [doc for name, docs in export.documents.items() if path in (None, name) for doc in docs]


def of_kind(export, kind, name=None):
    found = [doc for doc in documents(export) if doc["kind"] == kind and name in (None, doc["metadata"]["name"])]
    assert found, f"no {kind} {name or ''}"
    return found[0]


@pytest.fixture(scope="module")
def sample():
    return export_of(backend="redis", balance="sticky")


@pytest.fixture(scope="module")
def with_workers():
    return export_of(SITES / "cookiesite", backend="redis", balance="cookie_hash", shared_media=True)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("fixture", ["sample", "with_workers"])
def test_every_manifest_is_valid_for_kubernetes(fixture, version, request):
    _, export = request.getfixturevalue(fixture)
    checked = 0
    for path, docs in export.documents.items():
        for doc in docs:
            kubernetes_validate.validate(doc, version, strict=True)
            checked += 1
    assert checked >= 15
    for path, text in export.texts().items():  # what is written parses back to the same documents
        if path in export.documents:
            assert list(yaml.safe_load_all(text)) == export.documents[path]



@pytest.mark.parametrize("version", VERSIONS)
def test_the_schema_check_refuses_a_field_or_a_type_kubernetes_does_not_know(sample, version):
    """The check above can fail: strict validation names a misspelt field and a wrong type."""
    deployment = of_kind(sample[1], "Deployment", "shop-web")
    for change, says in ((("replicaz", 2), "'replicaz' was unexpected"), (("replicas", "two"), "'two' is not of type")):
        broken = copy.deepcopy(deployment)
        broken["spec"][change[0]] = change[1]
        with pytest.raises(kubernetes_validate.ValidationError, match=says):
            kubernetes_validate.validate(broken, version, strict=True)

def test_the_layout_is_a_kustomize_base_and_an_overlay_per_backend(sample):
    _, export = sample
    base = yaml.safe_load(export.files["base/kustomization.yaml"])
    assert base["kind"] == "Kustomization" and "web.yaml" in base["resources"] and "release-job.yaml" in base["resources"]
    assert all(Path(resource).suffix == ".yaml" for resource in base["resources"])
    for name in OVERLAYS:
        overlay = yaml.safe_load(export.files[f"overlays/{name}/kustomization.yaml"])
        assert overlay["resources"][0] == "../../base"
        assert {"env.yaml", "secret-env.yaml", "secret-node-config.yaml"} <= set(overlay["resources"])
    assert "store-redis.yaml" in yaml.safe_load(export.files["overlays/redis/kustomization.yaml"])["resources"]
    assert "store-memcached.yaml" in yaml.safe_load(export.files["overlays/memcached/kustomization.yaml"])["resources"]
    assert export.current == "redis" and "kubectl apply -k overlays/redis" in export.files["README.md"]


def test_the_web_deployment_is_the_labs_nodes_one_at_a_time(sample):
    plan, export = sample
    web = of_kind(export, "Deployment", "shop-web")
    assert web["spec"]["replicas"] == len(plan.nodes) == 3
    assert web["spec"]["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}
    site = web["spec"]["template"]["spec"]["containers"][0]
    assert site["image"] == "django-lab/site:v1"
    for probe in (site["readinessProbe"], site["livenessProbe"]):
        # The node add-on's health path, with a Host the site allows: a kubelet sends the pod's IP.
        assert probe["httpGet"]["path"] == f"/{HEALTH}" and probe["httpGet"]["port"] == NODE_PORT
        assert probe["httpGet"]["httpHeaders"] == [{"name": "Host", "value": "shop.example.com"}]
    assert of_kind(export, "PodDisruptionBudget")["spec"]["maxUnavailable"] == 1
    assert of_kind(export, "Service", "shop-web")["spec"]["selector"] == web["spec"]["selector"]["matchLabels"]


def test_the_ingress_host_is_one_the_site_allows(sample):
    _, export = sample
    config = json.loads(of_kind(export, "Secret", "shop-node-config")["stringData"]["web.json"])
    assert "shop.example.com" in config["hosts"] and "https://shop.example.com" in config["origins"]
    assert of_kind(export, "Ingress")["spec"]["rules"][0]["host"] == "shop.example.com"


@pytest.mark.parametrize("mode", list(BALANCE_MODES))
def test_each_balancing_mode_has_its_ingress_nginx_form(mode):
    _, export = export_of(balance=mode)
    annotations = of_kind(export, "Ingress")["metadata"]["annotations"]
    expected = {
        "round_robin": {},
        "sticky": {f"{INGRESS}/affinity": "cookie", f"{INGRESS}/session-cookie-name": STICKY_COOKIE},
        "cookie_hash": {f"{INGRESS}/affinity": "cookie", f"{INGRESS}/session-cookie-name": STICKY_COOKIE},
        "ip_hash": {f"{INGRESS}/upstream-hash-by": "$remote_addr"},
        "least_conn": {f"{INGRESS}/load-balance": "ewma"},
    }[mode]
    assert expected.items() <= annotations.items()
    balancing = {key for key in annotations if key != f"{INGRESS}/proxy-body-size"}
    if mode == "round_robin":
        assert balancing == set()
    if mode in ("sticky", "cookie_hash"):
        assert annotations[f"{INGRESS}/session-cookie-max-age"].isdigit()
    assert ingress_balance(mode).note.startswith(mode)
    assert export.texts()["base/ingress.yaml"].startswith(f"# {mode}:")  # what maps, above the Ingress
    if mode == "least_conn":
        assert "not the same thing" in export.files["README.md"]


def test_a_mode_without_an_ingress_form_is_refused():
    with pytest.raises(ConfigError, match="no ingress-nginx form"):
        ingress_balance("random_two_choices")


def test_the_release_job_runs_before_the_rollout(sample):
    plan, export = sample
    job = of_kind(export, "Job")
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["django-admin", "lab_prepare"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    release = json.loads(of_kind(export, "Secret", "shop-node-config")["stringData"]["release.json"])
    assert release.get("release_commands", []) == plan.release_commands
    steps = apply_steps("shop", "redis", "v1")
    assert "notin (node,worker,scheduler)" in steps[0] and steps[1].endswith(f"job/{job['metadata']['name']}")
    assert steps[2] == "kubectl apply -k overlays/redis"
    assert "\n".join(steps) in export.files["README.md"]
    # What the first step applies: everything the Job reads, nothing of the site's serving processes.
    first = {doc["metadata"]["labels"]["app.kubernetes.io/component"] for doc in documents(export)}
    assert {"config", "release", "store"} <= first


def test_workers_and_one_scheduler_for_a_site_that_has_them(with_workers):
    plan, export = with_workers
    assert plan.workers and plan.scheduler
    worker = of_kind(export, "Deployment", "shop-worker")
    beat = of_kind(export, "Deployment", "shop-scheduler")
    assert worker["spec"]["replicas"] == len(plan.workers)
    assert worker["spec"]["template"]["spec"]["containers"][0]["command"] == ["django-admin", "lab_member"]
    assert beat["spec"]["replicas"] == 1 and beat["spec"]["strategy"] == {"type": "Recreate"}
    assert beat["spec"]["template"]["spec"]["containers"][0]["command"] == ["django-admin", "lab_scheduler"]
    configs = of_kind(export, "Secret", "shop-node-config")["stringData"]
    assert "celery" in json.loads(configs["worker.json"])["member_command"]
    assert "beat" in json.loads(configs["scheduler.json"])["scheduler_command"]
    assert "shop-worker" not in [doc["metadata"]["name"] for doc in documents(sample_export())]


def sample_export():
    return export_of()[1]


def test_shared_media_is_a_read_write_many_claim_every_process_mounts(with_workers):
    _, export = with_workers
    claim = of_kind(export, "PersistentVolumeClaim", "shop-media")
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    for name in ("shop-web", "shop-worker", "shop-scheduler"):
        volumes = of_kind(export, "Deployment", name)["spec"]["template"]["spec"]["volumes"]
        assert {"name": "media", "persistentVolumeClaim": {"claimName": "shop-media"}} in volumes
    assert not [doc for doc in documents(sample_export()) if doc["kind"] == "PersistentVolumeClaim"]
    assert not [doc for doc in documents(export) if doc["metadata"]["name"] == "shop-nfs"]


def test_stores_are_stateful_sets_under_the_labs_host_names(sample):
    _, export = sample
    postgres = of_kind(export, "StatefulSet", "shop-postgres")
    assert postgres["spec"]["serviceName"] == "shop-postgres"
    assert postgres["spec"]["volumeClaimTemplates"][0]["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert of_kind(export, "Service", "shop-postgres")["spec"]["clusterIP"] == "None"
    password = postgres["spec"]["template"]["spec"]["containers"][0]["env"][0]
    assert password["valueFrom"]["secretKeyRef"] == {"name": "shop-store-passwords", "key": "postgres"}
    assert SECRETS.db_password not in export.texts()["base/store-postgres.yaml"]
    assert of_kind(export, "StatefulSet", "shop-redis")


def test_an_external_store_replaces_its_stateful_set_and_its_url_goes_into_the_secret():
    url = "rediss://:managed-pw@cache.example.com:6380"
    plan, export = export_of(backend="redis", options=KubernetesOptions(external={"redis": url}))
    assert "shop-redis" not in [doc["metadata"]["name"] for doc in documents(export)]
    secret_env = of_kind(export, "Secret", "shop-env")["stringData"]
    assert secret_env["REDIS_URL"].startswith("rediss://:managed-pw@cache.example.com:6380")
    web = json.loads(of_kind(export, "Secret", "shop-node-config")["stringData"]["web.json"])
    assert "shop-redis" not in json.dumps(web) and "cache.example.com:6380" in json.dumps(web["settings"])
    assert not any("managed-pw" in text for path, text in export.texts().items() if "secret-" not in path)
    assert "django-lab/redis:v1" not in exported_images(plan, {"redis": url})


def test_an_external_database_moves_every_database_setting():
    _, export = export_of(options=KubernetesOptions(external={"postgres": "postgres://app:pw@db.example.com:5433/site"}))
    web = json.loads(of_kind(export, "Secret", "shop-node-config")["stringData"]["web.json"])
    assert web["settings"]["DATABASES"]["default"] | {"HOST": "db.example.com", "PORT": 5433, "NAME": "site", "USER": "app"} \
        == web["settings"]["DATABASES"]["default"]
    secret_env = of_kind(export, "Secret", "shop-env")["stringData"]
    assert secret_env["DATABASE_URL"] == "postgres://app:pw@db.example.com:5433/site"
    assert of_kind(export, "ConfigMap", "shop-env")["data"]["POSTGRES_HOST"] == "db.example.com"


def test_an_unknown_external_store_is_refused():
    with pytest.raises(ConfigError, match="--external takes"):
        export_of(options=KubernetesOptions(external={"mongo": "mongodb://x"}))


def test_secrets_stay_out_of_config_maps_and_out_of_git(tmp_path):
    _, export = export_of(env=(("STRIPE_API_KEY", "sk_live_1"), ("FEATURE_FLAG", "on")))
    public = of_kind(export, "ConfigMap", "shop-env")["data"]
    private = of_kind(export, "Secret", "shop-env")["stringData"]
    assert {"SECRET_KEY", "DJANGO_SECRET_KEY", "DATABASE_URL", "STRIPE_API_KEY", "FEATURE_FLAG"} <= set(private)
    assert "DEBUG" in public and not set(public) & set(private)
    written = export.write(tmp_path)
    assert ".gitignore" in {path.name for path in written}
    ignored = (tmp_path / ".gitignore").read_text()
    assert SECRET_FILES in ignored
    for path in written:
        holds_secret = SECRETS.secret_key in path.read_text() or "sk_live_1" in path.read_text()
        if holds_secret:  # only in the files .gitignore names, readable by their owner alone
            assert path.name.startswith("secret-") and stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_the_images_a_registry_receives_are_named_from_it():
    plan, export = export_of(backend="redis", options=KubernetesOptions(registry="registry.example.com/team"))
    applied = [doc for path, docs in export.documents.items() if path.startswith(("base/", "overlays/redis/")) for doc in docs]
    images = {container["image"] for doc in applied if doc["kind"] in ("Deployment", "StatefulSet", "Job")
              for container in [*doc["spec"]["template"]["spec"]["containers"], *doc["spec"]["template"]["spec"].get("initContainers", [])]}
    assert images == {f"registry.example.com/team/{tag}" for tag in exported_images(plan)}


def test_an_engine_pushes_an_image_under_a_registry_and_path():
    from .fake_engine import FakeEngine

    engine = FakeEngine()
    assert engine.push_image("django-lab/site:v1", "127.0.0.1:5000/shop") == "127.0.0.1:5000/shop/django-lab/site:v1"
    assert engine.pushed_images == ["127.0.0.1:5000/shop/django-lab/site:v1"]


def test_a_lab_exports_what_it_last_ran_and_pushes_through_its_engine(tmp_path):
    from lab.engines.host import free_port
    from lab.run.lab import Lab
    from lab.run.state import StateStore

    from .fake_engine import FakeEngine

    engine = FakeEngine()
    try:
        lab = Lab("shop", engine=engine, states=StateStore(tmp_path / "state"))
        lab.up(LabConfig(name="shop", port=free_port(), backend="memcached", balance="ip_hash", nodes=2))
        export = lab.export_kubernetes(tmp_path / "k8s", KubernetesOptions(registry="127.0.0.1:5000/shop"))
        plan = lab.plan()
        assert export.current == "memcached"
        assert sorted(engine.pushed_images) == [f"127.0.0.1:5000/shop/{tag}" for tag in exported_images(plan)]
        web = yaml.safe_load((tmp_path / "k8s/base/web.yaml").read_text())
        assert web["spec"]["replicas"] == 2
        assert web["spec"]["template"]["spec"]["containers"][0]["image"] == f"127.0.0.1:5000/shop/{plan.nodes[0].image}"
        assert (tmp_path / "k8s/overlays/memcached/store-memcached.yaml").exists()
        path = lab.export_site_compose(tmp_path / "site")
        assert yaml.safe_load(path.read_text())["services"]["node-2"]["image"] == plan.nodes[0].image
    finally:
        engine.close()


def test_a_lab_on_sessions_a_cluster_cannot_share_exports_redis_workloads():
    plan, export = export_of(backend="nfs", shared_media=True)
    assert export.current == "" and "overlays/redis" in export.files["README.md"]
    web = of_kind(export, "Deployment", "shop-web")["spec"]["template"]["spec"]
    site = web["containers"][0]
    assert "LAB_NFS_URL" not in {item["name"] for item in site["env"]}
    assert "add" not in site["securityContext"]["capabilities"]
    assert {"name": "media", "persistentVolumeClaim": {"claimName": "shop-media"}} in web["volumes"]
    for doc in documents(export):
        kubernetes_validate.validate(doc, VERSIONS[-1], strict=True)


@pytest.mark.parametrize("argv, says", [
    (["kubernetes", "--external", "redis"], "STORE=URL"),
    (["kubernetes", "--backend", "db"], "lab switch"),
    (["compose", "--site", "--balance", "ip_hash"], "lab switch"),
    (["kubernetes"], "lab up"),
])
def test_the_command_refuses_what_it_cannot_export(argv, says, tmp_path, monkeypatch, capsys):
    from lab.cli import main

    monkeypatch.setenv("LAB_STATE_DIR", str(tmp_path))
    code = main(["--name", "nolab", "export", *argv, "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code != 0 and says in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_the_files_have_no_yaml_anchors(with_workers):
    _, export = with_workers
    assert not [path for path, text in export.texts().items() if "&id0" in text or "*id0" in text]
