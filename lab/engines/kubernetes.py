"""The user's site as the lab ran it, as Kubernetes manifests in a kustomize layout.

The lab answers "how do I serve my site from many machines" by running it; this module writes that answer
for a cluster: the site's image (the lab's build) as a Deployment of the lab's node count behind a Service
and an ingress-nginx Ingress whose annotations give the lab's balancing, the release steps as a Job run
before the rollout, the stores the lab chose as StatefulSets (or managed ones, `--external`), the worker
and scheduler process types as Deployments of their own, shared media as a ReadWriteMany claim.

Layout: `base/` holds what every session backend shares (the workloads, the database, the Ingress);
`overlays/<backend>/` adds that backend's stores, the site's environment (a ConfigMap, and a Secret for
what must stay private) and the node's configuration file (a Secret), which differ per backend.

Each pod reads the configuration file the lab's node add-on reads (lab_node.settings), so the site runs
as it did in the lab; its Service names are the lab's host names (`<lab>-postgres`), so that file's
addresses resolve unchanged inside the namespace.

Plain data in (Plans), plain data out (documents and file texts): no cluster, no Docker, no files here.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping
from urllib.parse import urlsplit

import yaml

from lab.errors import ConfigError
from lab.model.backends import NODE_DATA_DIR, SHARED_SESSIONS_DIR
from lab.model.balance import BALANCE_MODES, SESSION_COOKIE, STICKY_COOKIE
from lab.model.nginx_conf import CONF_PATH, NGINX_PORT, Frontend, render
from lab.model.plan import (DATABASE_PART_NAMES, HEALTH, LAB_LABEL, NODE_CONFIG_PATH, NODE_PORT, ROLE_LABEL,
                            SHARED_MEDIA_ROOT, STATIC_ROOT, ContainerSpec, Plan, container_name, redis_credentials,
                            version_of)
from lab.model.stores import APP_DATABASE, DB_NAME, DB_USER, STORES

# The session backends a cluster can share between pods, by the overlay's folder name.
OVERLAYS = {"redis": "redis", "memcached": "memcached", "database": "db", "cached-db": "cached_db",
            "signed-cookies": "signed_cookies"}
# Stores the export never runs as StatefulSets: the NFS server (shared media is a ReadWriteMany claim).
NOT_EXPORTED = ("nfs",)
EXTERNAL_STORES = ("postgres", "redis", "memcached")
INGRESS = "nginx.ingress.kubernetes.io"
SESSION_AGE = 1209600  # Django's SESSION_COOKIE_AGE: two weeks, how long an affinity cookie pins a user
CONFIG_DIR = "/etc/lab/config"  # where each pod finds the node configuration files (one per process kind)
# Names whose values stay private (the lab never prints --env values either): a Secret, not a ConfigMap.
SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|PASS$|TOKEN|KEY|CREDENTIAL|PRIVATE|DSN|AUTH|SALT|CERT", re.I)
SECRET_FILES = "secret-*.yaml"  # what the folder's .gitignore keeps out of a repository
COMPONENT = "app.kubernetes.io/component"
# What a node is told of the lab's NFS export (to mount it through FUSE): a cluster mounts a claim instead.
LAB_ONLY_ENV = ("LAB_NFS_URL",)


@dataclass(frozen=True)
class IngressBalance:
    """How ingress-nginx gives one of the lab's balancing modes: its annotations, and what differs."""

    annotations: Mapping[str, str]
    note: str


def ingress_balance(mode: str, session_cookie: str = SESSION_COOKIE) -> IngressBalance:
    """The Ingress annotations for the lab's balancing `mode` (every mode of BALANCE_MODES has one)."""
    affinity = {f"{INGRESS}/affinity": "cookie", f"{INGRESS}/affinity-mode": "persistent",
                f"{INGRESS}/session-cookie-name": STICKY_COOKIE, f"{INGRESS}/session-cookie-path": "/",
                f"{INGRESS}/session-cookie-max-age": str(SESSION_AGE)}
    table = {
        "round_robin": IngressBalance({}, "round_robin: ingress-nginx's default (round robin), no annotation"),
        "sticky": IngressBalance(affinity, f"sticky: ingress-nginx's cookie affinity ({STICKY_COOKIE}), as the lab's nginx sticky cookie"),
        "cookie_hash": IngressBalance(
            affinity,
            f"cookie_hash: cookie affinity ({STICKY_COOKIE}) pins a user from the first request; the lab hashed the "
            f"session cookie instead (`{INGRESS}/upstream-hash-by: \"$cookie_{session_cookie}\"` is that exact form)"),
        "ip_hash": IngressBalance(
            {f"{INGRESS}/upstream-hash-by": "$remote_addr"},
            "ip_hash: a hash of the client's address; behind a cloud load balancer that address is the balancer's "
            "unless ingress-nginx is told to trust its forwarded headers (use-forwarded-headers) or PROXY protocol"),
        "least_conn": IngressBalance(
            {f"{INGRESS}/load-balance": "ewma"},
            "least_conn: ingress-nginx has no least_conn; ewma (peak exponentially weighted moving average of "
            "latency) also steers away from busy pods, but it is not the same thing"),
    }
    if mode not in table:
        raise ConfigError(f"balancing mode {mode!r} has no ingress-nginx form; export with --balance round_robin")
    return table[mode]


@dataclass(frozen=True)
class KubernetesOptions:
    """The user's choices for an export: the host the Ingress answers, where images are pulled from,
    the stores a provider runs (store -> URL)."""

    host: str = "site.example.com"
    registry: str | None = None
    external: Mapping[str, str] = field(default_factory=dict)
    ingress_class: str = "nginx"


class _Plain(yaml.SafeDumper):
    """YAML without anchors: a value two containers share is written out in each (kustomize reads it plainly)."""

    def ignore_aliases(self, data):
        return True


@dataclass
class KubernetesExport:
    """The folder's content: manifests by relative path (a list of documents each), and other files."""

    documents: dict[str, list[dict]] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)  # path -> lines written above its documents
    current: str = ""  # the overlay of the lab's own backend ("" when that backend cannot span pods)
    version: str = ""  # the site's version (its image's tag), which names the release Job

    def texts(self) -> dict[str, str]:
        """Every file's text by its relative path."""
        texts = dict(self.files)
        for path, documents in self.documents.items():
            comment = "".join(f"# {line}\n" for line in self.comments.get(path, "").splitlines())
            texts[path] = comment + "---\n".join(yaml.dump(doc, Dumper=_Plain, sort_keys=False, width=120) for doc in documents)
        return dict(sorted(texts.items()))

    def secret_paths(self) -> list[str]:
        return sorted(path for path in self.documents if path.rsplit("/", 1)[-1].startswith("secret-"))

    def write(self, directory: Path) -> list[Path]:
        """Write the folder under `directory` (secret files readable by their owner only); return the paths."""
        secret = set(self.secret_paths())
        written = []
        for relative, text in self.texts().items():
            path = directory / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            path.chmod(0o600 if relative in secret else 0o644)
            written.append(path)
        return written


def image(tag: str, registry: str | None) -> str:
    """Where the cluster pulls `tag` from: the registry's copy (`lab export kubernetes --registry`), else the tag."""
    return f"{registry.rstrip('/')}/{tag}" if registry else tag


def dns_label(text: str) -> str:
    """`text` as a Kubernetes name part: lowercase letters, digits and '-'."""
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:20] or "current"


def is_secret(name: str, value: str, given: set[str]) -> bool:
    """A value that stays private: one the user gave (--env), a name like a key or password, a URL with a password."""
    return name in given or bool(SECRET_NAME.search(name)) or bool(re.search(r"://[^/@]*:[^/@]*@", value))


# -- addresses of managed stores (--external) -----------------------------------------------------------


def _store_password(plan: Plan, store: str) -> str:
    spec = next((s for s in plan.stores if s.labels.get("django-lab.store") == store), None)
    env_name = STORES[store].password_env
    return spec.env.get(env_name, "") if spec is not None and env_name and "LAB_REDIS_OPEN" not in spec.env else ""


def external_rewrites(plan: Plan, external: Mapping[str, str]) -> list[tuple[str, str]]:
    """(the lab's address, the managed store's) text replacements for Redis and Memcached."""
    lab, pairs = plan.config.name, []
    for store, url in external.items():
        parts = urlsplit(url if "://" in url else f"{store}://{url}")
        host = container_name(lab, store)
        if store == "redis":
            pairs.append((f"redis://{redis_credentials(_store_password(plan, 'redis'))}{host}:6379", f"{parts.scheme}://{parts.netloc}"))
        elif store == "memcached":
            pairs.append((f"{host}:{STORES['memcached'].port}", parts.netloc.rsplit("@", 1)[-1]))
    return pairs


def _external_database(url: str) -> dict:
    parts = urlsplit(url)
    return {"HOST": parts.hostname or "", "PORT": parts.port or 5432, "NAME": parts.path.lstrip("/") or DB_NAME,
            "USER": parts.username or DB_USER, "PASSWORD": parts.password or ""}


def _rewrite_database(value, lab_host: str, managed: dict):
    """DATABASES entries on the lab's PostgreSQL, moved to the managed one (through the whole structure)."""
    if isinstance(value, dict):
        if value.get("HOST") == lab_host and "ENGINE" in value:
            return {**value, **managed}
        return {key: _rewrite_database(item, lab_host, managed) for key, item in value.items()}
    if isinstance(value, list):
        return [_rewrite_database(item, lab_host, managed) for item in value]
    return value


def _rewrite_environment(environment: Mapping[str, str], plan: Plan, external: Mapping[str, str]) -> dict[str, str]:
    rewritten = dict(environment)
    pairs = external_rewrites(plan, external)
    for name, value in rewritten.items():
        for old, new in pairs:
            value = value.replace(old, new)
        rewritten[name] = value
    if "postgres" in external:
        managed = _external_database(external["postgres"])
        rewritten["DATABASE_URL"] = external["postgres"]
        parts = {"HOST": managed["HOST"], "PORT": str(managed["PORT"]), "NAME": managed["NAME"], "USER": managed["USER"],
                 "PASSWORD": managed["PASSWORD"]}
        for prefix, names in DATABASE_PART_NAMES.items():
            rewritten.update({f"{prefix}{names.get(part, part)}": value for part, value in parts.items()})
    return rewritten


def node_configuration(spec: ContainerSpec, plan: Plan, options: KubernetesOptions) -> str:
    """The node configuration file a pod of `spec`'s kind reads: the lab's, answering the Ingress's host,
    with managed stores' addresses where the lab had its own."""
    content = json.loads(spec.files[NODE_CONFIG_PATH])
    content["hosts"] = list(dict.fromkeys([options.host, *content.get("hosts", [])]))
    content["origins"] = list(dict.fromkeys([f"https://{options.host}", f"http://{options.host}", *content.get("origins", [])]))
    content["environment"] = _rewrite_environment(content.get("environment", {}), plan, options.external)
    if "postgres" in options.external:
        content["settings"] = _rewrite_database(content["settings"], container_name(plan.config.name, APP_DATABASE),
                                                _external_database(options.external["postgres"]))
    text = json.dumps(content, sort_keys=True)
    for old, new in external_rewrites(plan, options.external):
        text = text.replace(json.dumps(old)[1:-1], json.dumps(new)[1:-1])
    return text


# -- manifests ------------------------------------------------------------------------------------------


class _Manifests:
    """The documents of one export, from the lab's plan and one plan per overlay's backend."""

    def __init__(self, plan: Plan, options: KubernetesOptions):
        self.plan, self.options = plan, options
        self.lab = plan.config.name
        self.version = version_of(plan.nodes[0].image)
        unknown = sorted(set(options.external) - set(EXTERNAL_STORES))
        if unknown:
            raise ConfigError(f"--external takes {', '.join(EXTERNAL_STORES)}, not {', '.join(unknown)}")
        if plan.config.fault_proxy:
            raise ConfigError("the fault proxy is the lab's own tool: export a lab without --fault-proxy")

    def name(self, part: str) -> str:
        return container_name(self.lab, part)

    def labels(self, role: str, **extra: str) -> dict[str, str]:
        return {LAB_LABEL: self.lab, ROLE_LABEL: role, COMPONENT: role, "app.kubernetes.io/name": self.lab,
                "app.kubernetes.io/part-of": "django-lab", **{f"django-lab.{k}": v for k, v in extra.items()}}

    def selector(self, role: str, **extra: str) -> dict[str, str]:
        return {LAB_LABEL: self.lab, ROLE_LABEL: role, **{f"django-lab.{k}": v for k, v in extra.items()}}

    def meta(self, name: str, role: str, **extra: str) -> dict:
        return {"name": name, "labels": self.labels(role, **extra)}

    # -- the site's containers --

    def security(self, add: tuple[str, ...] = ()) -> dict:
        """As in the lab (lab.model.security): every capability dropped, the role's own added back."""
        context: dict = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
        if add:
            context["capabilities"]["add"] = list(add)
        return context

    def resources(self, memory_mb: int) -> dict:
        return {"requests": {"memory": f"{memory_mb}Mi"}, "limits": {"memory": f"{memory_mb}Mi"}}

    def env_from(self) -> list[dict]:
        return [{"configMapRef": {"name": self.name("env")}}, {"secretRef": {"name": self.name("env")}}]

    def site_container(self, spec: ContainerSpec, config_key: str, name: str) -> dict:
        """A container of the site's image reading its kind's node configuration; LAB_NODE is the pod's name."""
        env = [{"name": key, "value": value} for key, value in spec.env.items() if key not in ("LAB_NODE", *LAB_ONLY_ENV)]
        env += [{"name": "LAB_CONFIG_FILE", "value": f"{CONFIG_DIR}/{config_key}"},
                {"name": "LAB_NODE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]
        container = {
            "name": name,
            "image": image(spec.image, self.options.registry),
            "command": list(spec.command) if spec.command else None,
            "envFrom": self.env_from(),
            "env": env,
            "volumeMounts": [{"name": "node-config", "mountPath": CONFIG_DIR, "readOnly": True},
                             {"name": "node-data", "mountPath": NODE_DATA_DIR},
                             {"name": "shared-sessions", "mountPath": SHARED_SESSIONS_DIR}, *self.media_mounts()],
            "resources": self.resources(spec.memory_mb),
            # The site's user, nothing added: shared media is a claim, not a FUSE mount made as root.
            "securityContext": self.security(),
        }
        if container["command"] is None:
            del container["command"]
        return container

    def media_mounts(self) -> list[dict]:
        return [{"name": "media", "mountPath": SHARED_MEDIA_ROOT}] if self.plan.config.shared_media else []

    def site_volumes(self) -> list[dict]:
        volumes = [{"name": "node-config", "secret": {"secretName": self.name("node-config"), "defaultMode": 0o444}},
                   {"name": "node-data", "emptyDir": {}}, {"name": "shared-sessions", "emptyDir": {}}]
        if self.plan.config.shared_media:
            volumes.append({"name": "media", "persistentVolumeClaim": {"claimName": self.name("media")}})
        return volumes

    def probe(self, failures: int) -> dict:
        """The node add-on's health path, which answers before the site's host check; with a Host the site
        allows anyway, since a kubelet's probe comes with the pod's IP as its Host."""
        return {"httpGet": {"path": f"/{HEALTH}", "port": NODE_PORT, "httpHeaders": [{"name": "Host", "value": self.options.host}]},
                "periodSeconds": 10, "timeoutSeconds": 3, "failureThreshold": failures}

    def nginx_conf(self) -> str:
        """The lab's nginx configuration for one pod: its own gunicorn as the only upstream, static files
        collected into the pod by the init container."""
        frontend = dataclasses.replace(self.plan.frontend or Frontend(), tls=False, static_versions=(self.version,))
        return render([f"127.0.0.1:{NODE_PORT}"], BALANCE_MODES["round_robin"], frontend, static_root=STATIC_ROOT)

    def web(self) -> list[dict]:
        node = self.plan.nodes[0]
        replicas = len(self.plan.nodes)
        site = self.site_container(node, "web.json", "site")
        site["ports"] = [{"name": "gunicorn", "containerPort": NODE_PORT}]
        site["readinessProbe"] = self.probe(3)
        site["livenessProbe"] = {**self.probe(6), "initialDelaySeconds": 30}  # a slow start is not a dead node
        static = {"name": "static", "mountPath": STATIC_ROOT}
        site["volumeMounts"].append(static)
        # The lab's own step that collects static files (lab_node.site_facts --collect), once per pod.
        collect = {**self.site_container(node, "web.json", "collectstatic"),
                   "command": ["python", "-m", "lab_node.site_facts", "--collect"]}
        collect["volumeMounts"] = [*collect["volumeMounts"], static]
        collect["image"] = image(self.plan.prepare.image, self.options.registry)
        nginx_spec = self.plan.nginx
        nginx = {
            "name": "nginx",
            "image": image(nginx_spec.image, self.options.registry),
            "ports": [{"name": "http", "containerPort": NGINX_PORT}],
            "volumeMounts": [{"name": "nginx-conf", "mountPath": CONF_PATH, "subPath": "nginx.conf", "readOnly": True},
                             {**static, "readOnly": True}],
            "readinessProbe": {"httpGet": {"path": "/nginx-health", "port": NGINX_PORT}, "periodSeconds": 10},
            "resources": self.resources(nginx_spec.memory_mb),
            "securityContext": self.security((*nginx_spec.cap_add, "NET_BIND_SERVICE")),
        }
        volumes = [*self.site_volumes(), {"name": "static", "emptyDir": {}},
                   {"name": "nginx-conf", "configMap": {"name": self.name("nginx")}}]
        deployment = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": self.meta(self.name("web"), "node"),
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": self.selector("node")},
                # One pod at a time, the old one gone first, as `lab deploy` replaces nodes.
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
                "template": {
                    "metadata": {"labels": self.labels("node")},
                    "spec": {
                        "initContainers": [collect],
                        "containers": [site, nginx],
                        "volumes": volumes,
                        "terminationGracePeriodSeconds": max(node.stop_timeout, 10),
                    },
                },
            },
        }
        return [deployment]

    def process(self, spec: ContainerSpec, part: str, replicas: int, config_key: str, recreate: bool) -> dict:
        container = self.site_container(spec, config_key, part)
        container["env"] = [item for item in container["env"] if item["name"] != "LAB_CONFIG_DIGEST"]
        strategy = {"type": "Recreate"} if recreate else {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}
        return {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": self.meta(self.name(part), spec.role),
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": self.selector(spec.role)},
                "strategy": strategy,
                "template": {"metadata": {"labels": self.labels(spec.role)},
                             "spec": {"containers": [container], "volumes": self.site_volumes()}},
            },
        }

    def release_job(self) -> dict:
        prepare = self.plan.prepare
        container = self.site_container(prepare, "release.json", "release")
        container["volumeMounts"].append({"name": "static", "mountPath": STATIC_ROOT})
        return {
            "apiVersion": "batch/v1",
            "kind": "Job",
            # Named after the site's version: each release is a new Job (a Job's pod template cannot change).
            "metadata": self.meta(self.name(f"release-{dns_label(self.version)}"), "release"),
            "spec": {
                "backoffLimit": 10,  # again until it succeeds: the database may start after it
                "template": {
                    "metadata": {"labels": self.labels("release")},
                    "spec": {"restartPolicy": "Never", "containers": [container],
                             "volumes": [*self.site_volumes(), {"name": "static", "emptyDir": {}}]},
                },
            },
        }

    def service(self) -> dict:
        return {"apiVersion": "v1", "kind": "Service", "metadata": self.meta(self.name("web"), "node"),
                "spec": {"selector": self.selector("node"), "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}

    def balance(self) -> IngressBalance:
        """The lab's balancing on ingress-nginx, for the site's own session cookie."""
        return ingress_balance(self.plan.config.balance, self.plan.frontend.session_cookie if self.plan.frontend else SESSION_COOKIE)

    def ingress(self) -> dict:
        balance = self.balance()
        metadata = self.meta(self.name("web"), "node")
        metadata["annotations"] = {f"{INGRESS}/proxy-body-size": "20m", **balance.annotations}
        rule = {"host": self.options.host, "http": {"paths": [{
            "path": "/", "pathType": "Prefix",
            "backend": {"service": {"name": self.name("web"), "port": {"name": "http"}}}}]}}
        return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": metadata,
                "spec": {"ingressClassName": self.options.ingress_class, "rules": [rule]}}

    def disruption_budget(self) -> dict:
        return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": self.meta(self.name("web"), "node"),
                "spec": {"maxUnavailable": 1, "selector": {"matchLabels": self.selector("node")}}}

    def media_claim(self) -> dict:
        return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": self.meta(self.name("media"), "data"),
                "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "10Gi"}}}}

    def nginx_config_map(self) -> dict:
        return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": self.meta(self.name("nginx"), "nginx"),
                "data": {"nginx.conf": self.nginx_conf()}}

    # -- stores --

    def store(self, spec: ContainerSpec) -> list[dict]:
        """A store as the lab ran it: its image and command, its data on a claim, a headless Service of the
        lab's host name (the node configuration's addresses resolve as they did in the lab)."""
        store_name = spec.labels["django-lab.store"]
        store = STORES[store_name]
        env = []
        for key, value in spec.env.items():
            if key == store.password_env:
                env.append({"name": key, "valueFrom": {"secretKeyRef": {"name": self.name("store-passwords"), "key": store_name}}})
            else:
                env.append({"name": key, "value": value})
        container: dict = {"name": store_name, "image": image(spec.image, self.options.registry),
                           "ports": [{"name": store_name, "containerPort": store.port}],
                           "readinessProbe": {"tcpSocket": {"port": store.port}, "periodSeconds": 5},
                           "resources": self.resources(spec.memory_mb),
                           "securityContext": self.security(tuple(spec.cap_add))}
        if spec.command:
            container["command"] = list(spec.command)
        if env:
            container["env"] = env
        statefulset_spec: dict = {
            "serviceName": spec.name,
            "replicas": 1,
            "selector": {"matchLabels": self.selector("store", store=store_name)},
            "template": {"metadata": {"labels": self.labels("store", store=store_name)},
                         "spec": {"containers": [container], "terminationGracePeriodSeconds": 30}},
        }
        if store.data_dir:
            container["volumeMounts"] = [{"name": "data", "mountPath": store.data_dir}]
            statefulset_spec["volumeClaimTemplates"] = [{
                "metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}}}]
        statefulset = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": self.meta(spec.name, "store", store=store_name),
                       "spec": statefulset_spec}
        service = {"apiVersion": "v1", "kind": "Service", "metadata": self.meta(spec.name, "store", store=store_name),
                   "spec": {"clusterIP": "None", "selector": self.selector("store", store=store_name),
                            "ports": [{"name": store_name, "port": store.port, "targetPort": store.port}]}}
        return [service, statefulset]

    def store_passwords(self, plans: list[Plan]) -> dict:
        passwords = {}
        for plan in plans:
            for spec in plan.stores:
                store_name = spec.labels["django-lab.store"]
                env_name = STORES[store_name].password_env
                if env_name and env_name in spec.env:
                    passwords[store_name] = spec.env[env_name]
        return {"apiVersion": "v1", "kind": "Secret", "metadata": self.meta(self.name("store-passwords"), "store"),
                "type": "Opaque", "stringData": dict(sorted(passwords.items()))}

    # -- configuration (per overlay) --

    def environment(self, plan: Plan) -> list[dict]:
        """The site's environment split in two: a ConfigMap, and a Secret for what must stay private."""
        node = plan.nodes[0]
        environment = json.loads(node_configuration(node, plan, self.options))["environment"]
        environment["DJANGO_ALLOWED_HOSTS"] = environment["ALLOWED_HOSTS"] = ",".join(
            json.loads(node_configuration(node, plan, self.options))["hosts"])
        given = {key for key, _ in plan.config.env}
        public = {k: v for k, v in sorted(environment.items()) if not is_secret(k, v, given)}
        private = {k: v for k, v in sorted(environment.items()) if is_secret(k, v, given)}
        return [
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": self.meta(self.name("env"), "config"), "data": public},
            {"apiVersion": "v1", "kind": "Secret", "metadata": self.meta(self.name("env"), "config"), "type": "Opaque",
             "stringData": private},
        ]

    def node_config_secret(self, plan: Plan) -> dict:
        files = {"web.json": node_configuration(plan.nodes[0], plan, self.options),
                 "release.json": node_configuration(plan.prepare, plan, self.options)}
        if plan.workers:
            files["worker.json"] = node_configuration(plan.workers[0], plan, self.options)
        if plan.scheduler:
            files["scheduler.json"] = node_configuration(plan.scheduler, plan, self.options)
        return {"apiVersion": "v1", "kind": "Secret", "metadata": self.meta(self.name("node-config"), "config"),
                "type": "Opaque", "stringData": files}


def exported_stores(plan: Plan, external: Mapping[str, str]) -> dict[str, ContainerSpec]:
    """The stores that run in the cluster, by name: not the NFS server, not those a provider runs."""
    return {spec.labels["django-lab.store"]: spec for spec in plan.stores
            if spec.labels["django-lab.store"] not in (*NOT_EXPORTED, *external)}


def exported_images(plan: Plan, external: Mapping[str, str] = {}) -> list[str]:
    """The images the manifests of `plan`'s backend name: the site's (and its release job's), nginx, the stores."""
    return sorted({plan.nodes[0].image, plan.prepare.image, plan.nginx.image,
                   *(spec.image for spec in exported_stores(plan, external).values())})


def kubernetes_export(plan: Plan, overlays: Mapping[str, Plan], options: KubernetesOptions | None = None) -> KubernetesExport:
    """The folder for `plan` (the lab as it ran) and one overlay per backend in `overlays` (folder name -> the
    lab's plan with that backend)."""
    options = options or KubernetesOptions()
    lab_plan = plan
    if plan.config.backend not in OVERLAYS.values() and "redis" in overlays:
        plan = overlays["redis"]  # sessions a cluster cannot share (files on a node, NFS): the workloads of redis's
    parts = _Manifests(plan, options)
    export = KubernetesExport(version=parts.version)
    plans = [plan, *overlays.values()]
    base_stores = set.intersection(*(set(exported_stores(p, options.external)) for p in plans))
    stores = exported_stores(plan, options.external)

    base: dict[str, list[dict]] = {
        "web.yaml": parts.web(),
        "service.yaml": [parts.service()],
        "ingress.yaml": [parts.ingress()],
        "pdb.yaml": [parts.disruption_budget()],
        "nginx-configmap.yaml": [parts.nginx_config_map()],
        "release-job.yaml": [parts.release_job()],
    }
    if plan.workers:
        base["worker.yaml"] = [parts.process(plan.workers[0], "worker", len(plan.workers), "worker.json", recreate=False)]
    if plan.scheduler:  # one scheduler, the old one gone before the new one starts: no job runs twice
        base["scheduler.yaml"] = [parts.process(plan.scheduler, "scheduler", 1, "scheduler.json", recreate=True)]
    if plan.config.shared_media:
        base["media-pvc.yaml"] = [parts.media_claim()]
    for store_name in sorted(base_stores, key=list(stores).index):
        base[f"store-{store_name}.yaml"] = parts.store(stores[store_name])
    base["secret-store-passwords.yaml"] = [parts.store_passwords(plans)]
    for path, documents in base.items():
        export.documents[f"base/{path}"] = documents
    export.comments["base/ingress.yaml"] = parts.balance().note
    export.files["base/kustomization.yaml"] = _kustomization(list(base))

    for folder, overlay_plan in overlays.items():
        own = exported_stores(overlay_plan, options.external)
        documents = {"env.yaml": parts.environment(overlay_plan)[:1], "secret-env.yaml": parts.environment(overlay_plan)[1:],
                     "secret-node-config.yaml": [parts.node_config_secret(overlay_plan)]}
        for store_name, spec in own.items():
            if store_name not in base_stores:
                documents[f"store-{store_name}.yaml"] = parts.store(spec)
        for path, docs in documents.items():
            export.documents[f"overlays/{folder}/{path}"] = docs
        export.files[f"overlays/{folder}/kustomization.yaml"] = _kustomization(["../../base", *documents])
        if overlay_plan.config.backend == lab_plan.config.backend:
            export.current = folder
    export.files[".gitignore"] = f"# keys and passwords: never in a repository\n{SECRET_FILES}\n**/{SECRET_FILES}\n"
    export.files["README.md"] = readme(lab_plan, export, options)
    return export


def _kustomization(resources: list[str]) -> str:
    return yaml.safe_dump({"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                           "resources": resources}, sort_keys=False)


def apply_steps(lab: str, overlay: str, version: str) -> list[str]:
    """The commands that roll the site out: everything but the site's processes, the release Job to its end,
    then the site's processes."""
    not_site = "app.kubernetes.io/component notin (node,worker,scheduler)"
    return [
        f"kubectl apply -k overlays/{overlay} -l '{not_site}'",
        f"kubectl wait --for=condition=complete --timeout=15m job/{container_name(lab, 'release-' + dns_label(version))}",
        f"kubectl apply -k overlays/{overlay}",
    ]


def readme(plan: Plan, export: KubernetesExport, options: KubernetesOptions) -> str:
    """What the folder holds and how to apply it."""
    lab, config = plan.config.name, plan.config
    overlay = export.current or "redis"
    why = (f"the lab ran the `{config.backend}` session backend: overlays/{overlay}" if export.current else
           f"the lab ran the `{config.backend}` session backend, which cannot share sessions between pods: overlays/redis")
    steps = "\n".join(apply_steps(lab, overlay, version_of(plan.nodes[0].image)))
    images = exported_images(plan, options.external)
    pushed = (f"pushed to {options.registry} and named there" if options.registry else
              "the lab's local tags: push them to a registry the cluster pulls from (`lab export kubernetes --registry HOST/PATH`)")
    lines = [
        f"# {lab}: the site as the lab ran it, for Kubernetes",
        "",
        f"{len(plan.nodes)} web pods ({why}), balanced by ingress-nginx as the lab's `{config.balance}`: "
        f"{ingress_balance(config.balance, plan.frontend.session_cookie if plan.frontend else SESSION_COOKIE).note}.",
        "",
        "Apply (the release Job first: migrations and the project's release steps run once, before any pod serves):",
        "",
        "```",
        steps,
        "```",
        "",
        f"The Ingress answers `{options.host}` (`--host`). Images ({pushed}):",
        "",
        *(f"- `{tag}`" for tag in images),
        "",
        "Another overlay's store (memcached's, say) names the lab's image for it, built and pushed once the lab has "
        "run that backend (`lab switch --backend memcached`, then export again).",
        "",
        "- `base/`: the web Deployment (the site's gunicorn, the lab's nginx beside it for static files, probes on the "
        f"node add-on's `/{HEALTH}`), its Service, Ingress and PodDisruptionBudget, the release Job"
        + (", the worker Deployment" if plan.workers else "") + (", the scheduler (one replica, Recreate)" if plan.scheduler else "")
        + (", the ReadWriteMany media claim" if config.shared_media else "") + ", the stores every backend needs.",
        "- `overlays/<backend>/`: that session backend's stores, the environment (`env.yaml`, a ConfigMap; "
        "`secret-env.yaml`, a Secret) and the node configuration (`secret-node-config.yaml`).",
        "",
        "`secret-*.yaml` hold keys and passwords: `.gitignore` keeps them out of a repository; keep them in a secret manager.",
        "The release Job also sets the lab's demo user (staff), as the lab's did: remove that user, or change its password, "
        "before the site is public.",
        "",
        "These manifests were validated against Kubernetes' schemas only; no cluster ran them.",
        "",
    ]
    return "\n".join(lines)
