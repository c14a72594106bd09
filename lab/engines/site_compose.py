"""The user's site as the lab ran it, as a plain compose file for docker-compose on one machine
(`lab export compose --site`): not the lab's stack, but what a person runs next.

Its stores, a one-off release job (migrations, the project's release steps) and a one-off job collecting
static files, which the nodes wait for (`condition: service_completed_successfully`), the nodes under the
lab's own names (nginx's configuration names them: `<lab>-node-1:8000`), the site's worker and scheduler
processes, and nginx with the lab's configuration, publishing the lab's port. Each container reads the
node configuration file the lab gave it, bound from `files/` (kept out of reach of other users of the
machine: the folder is its owner's only). A compose-spec file without `version`, which docker-compose 1.29
and Compose v2 both read.

Plain data in (a Plan), plain data out (the file's content): no Docker here.
"""

from __future__ import annotations

import dataclasses
import hashlib

from lab.engines.compose import ComposeFile
from lab.errors import ConfigError
from lab.model.checks import ExecCheck, NodeCheck
from lab.model.plan import (LAB_LABEL, SHARED_MEDIA_ROOT, STATIC_ROOT, ContainerSpec, Mount, Plan, container_name,
                            labels)

NOT_EXPORTED = ("nfs", "faults")  # the NFS server and the fault proxy are the lab's tools, not the site's


def _key(plan: Plan, spec: ContainerSpec) -> str:
    return spec.name.removeprefix(plan.config.name + "-")


def _healthcheck(spec: ContainerSpec) -> dict | None:
    check = spec.check.fallback if isinstance(spec.check, NodeCheck) else spec.check
    if isinstance(check, ExecCheck) and check.command != ("true",):
        return {"test": ["CMD", *check.command], "interval": "2s", "timeout": "5s", "retries": 60}
    return None


def _shared_media(plan: Plan, spec: ContainerSpec) -> ContainerSpec:
    """With --shared-media on one machine: a volume every container mounts at MEDIA_ROOT, not the lab's NFS
    export mounted through FUSE as root."""
    if not plan.config.shared_media or plan.config.backend == "nfs" or "LAB_NFS_URL" not in spec.env:
        return spec
    env = {key: value for key, value in spec.env.items() if key != "LAB_NFS_URL"}
    return dataclasses.replace(spec, env=env, devices=(), user=None, cap_add=(),
                               mounts=(*spec.mounts, Mount(container_name(plan.config.name, "media"), SHARED_MEDIA_ROOT)))


def _service(plan: Plan, spec: ContainerSpec, compose: ComposeFile) -> dict:
    spec = _shared_media(plan, spec)
    if spec.devices or spec.security_opt:
        raise ConfigError(f"{spec.name} needs {', '.join([*spec.devices, *spec.security_opt])}: export a lab whose backend is not nfs")
    service: dict = {"image": spec.image}
    if spec.command:
        service["command"] = list(spec.command)
    if spec.user:
        service["user"] = spec.user
    if spec.env:
        service["environment"] = dict(spec.env)
    # As in the lab (lab.model.security): every capability dropped, the role's own added back.
    service["cap_drop"] = ["ALL"]
    if spec.cap_add:
        service["cap_add"] = list(spec.cap_add)
    service["security_opt"] = ["no-new-privileges:true"]
    volumes = [f"{mount.volume}:{mount.target}" for mount in spec.mounts if mount.volume in compose.content["volumes"]]
    for path, content in spec.files.items():
        name = f"{_key(plan, spec)}-{hashlib.sha256(path.encode()).hexdigest()[:6]}-{path.rsplit('/', 1)[-1]}"
        compose.files[f"files/{name}"] = content
        volumes.append(f"./files/{name}:{path}:ro")
    if volumes:
        service["volumes"] = volumes
    if spec.ports:
        service["ports"] = [f"{host}:{published}:{target}" for target, (host, published) in spec.ports.items()]
    health = _healthcheck(spec)
    if health:
        service["healthcheck"] = health
    service["labels"] = dict(spec.labels)
    service["mem_limit"] = f"{spec.memory_mb}m"
    service["pids_limit"] = spec.pids_limit
    service["stop_grace_period"] = f"{spec.stop_timeout}s"
    return service


def _literal(value):
    """`value` with every `$` doubled: compose would read `$NAME` in a command as its own variable."""
    if isinstance(value, str):
        return value.replace("$", "$$")
    if isinstance(value, dict):
        return {key: _literal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_literal(item) for item in value]
    return value


def site_compose_file(plan: Plan) -> ComposeFile:
    """The site of `plan` as docker-compose runs it on one machine."""
    lab = plan.config.name
    compose = ComposeFile({"services": {}, "volumes": {}, "networks": {}})
    stores = [spec for spec in plan.stores if spec.labels.get("django-lab.store") not in NOT_EXPORTED]
    members = [*stores, plan.prepare, *plan.nodes, *plan.members(), plan.nginx]
    used = {mount.volume for spec in members for mount in spec.mounts}
    for volume in plan.volumes:
        if volume.name in used and not volume.driver_opts:
            compose.content["volumes"][volume.name] = {"labels": dict(volume.labels)}
    if plan.config.shared_media and plan.config.backend != "nfs":
        compose.content["volumes"][container_name(lab, "media")] = {"labels": labels(lab, "data")}
    services = compose.content["services"]
    for spec in stores:
        services[_key(plan, spec)] = _service(plan, spec, compose)
    services["release"] = _service(plan, plan.prepare, compose)
    # The lab's own step that collects the static files nginx serves (lab_node.site_facts --collect).
    collect = _service(plan, plan.nodes[0], compose)
    collect.update(image=plan.prepare.image, command=["python", "-m", "lab_node.site_facts", "--collect"],
                   environment={**plan.nodes[0].env, "LAB_NODE": "collectstatic"}, labels=labels(lab, "job"))
    collect.pop("healthcheck", None)
    services["collectstatic"] = collect
    healthy_stores = {_key(plan, spec): {"condition": "service_healthy" if "healthcheck" in services[_key(plan, spec)]
                                         else "service_started"} for spec in stores}
    services["release"]["depends_on"] = dict(healthy_stores)
    collect["depends_on"] = dict(healthy_stores)
    done = {"release": {"condition": "service_completed_successfully"},
            "collectstatic": {"condition": "service_completed_successfully"}}
    for spec in (*plan.nodes, *plan.members()):
        service = _service(plan, spec, compose)
        service["depends_on"] = {**healthy_stores, **done}
        service["restart"] = "unless-stopped"
        services[_key(plan, spec)] = service
    nginx = _service(plan, plan.nginx, compose)
    nginx["depends_on"] = {_key(plan, node): {"condition": "service_healthy"} for node in plan.nodes}
    nginx["restart"] = "unless-stopped"
    services["nginx"] = nginx
    # nginx's configuration names the nodes by the lab's container names: each service answers to them.
    compose.content["networks"]["default"] = {"labels": dict(plan.network_labels)}
    for spec in (*stores, *plan.nodes, *plan.members(), plan.nginx):
        services[_key(plan, spec)]["networks"] = {"default": {"aliases": [spec.name, *spec.aliases]}}
    compose.content["services"] = _literal(services)
    if not compose.content["volumes"]:
        del compose.content["volumes"]
    compose.content["x-django-lab"] = {
        "lab": lab, "backend": plan.config.backend, "balance": plan.config.balance, "static": STATIC_ROOT,
        "run": f"docker-compose -f docker-compose.yml -p {lab}-site up -d",
        "labels": f"every container, volume and network carries {LAB_LABEL}={lab}",
    }
    return compose
