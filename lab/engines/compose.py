"""The lab's plan as a compose file that `docker stack deploy -c` accepts: a path past one machine for
people who deploy by hand.

Every container of the plan becomes a service of the same name on one attachable overlay network,
with `endpoint_mode: dnsrr` (nginx resolves each node itself, as it does on one engine). A node's
config file carries keys and passwords, so it travels as a swarm secret; nginx.conf as a config; both
named by their content, since swarm never changes one in place. Nodes are spread over the hosts given
(labelled `django-lab.host` by `make swarm-hosts`), nginx publishes its port in host mode on a manager
(the ingress routing mesh would hide client addresses from ip_hash, and needs IPVS).

Plain data in (a Plan), plain data out (the file's content): no Docker here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from lab.errors import ConfigError
from lab.model.plan import LAB_LABEL, NODE_CONFIG_PATH, SPEC_LABEL, ContainerSpec, Plan

NETWORK = "lab"
HOST_LABEL = "django-lab.host"


@dataclass
class ComposeFile:
    """The compose file, and the files it names beside it (secrets/ readable by their owner only)."""

    content: dict
    files: dict[str, str] = field(default_factory=dict)  # path relative to the compose file -> content

    def text(self) -> str:
        return yaml.safe_dump(self.content, sort_keys=False, width=120)

    def write(self, directory: Path) -> Path:
        """Write docker-compose.yml and its files under `directory`; return the compose file's path."""
        directory.mkdir(parents=True, exist_ok=True)
        for relative, content in self.files.items():
            path = directory / relative
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            path.write_text(content)
            path.chmod(0o600 if relative.startswith("secrets/") else 0o644)
        target = directory / "docker-compose.yml"
        target.write_text(self.text())
        target.chmod(0o600)  # the stores' passwords are in their environment
        return target


def image_reference(tag: str, registry: str | None) -> str:
    """Where every host pulls `tag` from: the registry's copy, or the tag itself (one host only)."""
    return f"{registry}/{tag}" if registry else tag


def service_spec(spec: ContainerSpec) -> str:
    """What a service is made from (the spec and its files): a redeploy that keeps it keeps the service."""
    files = "".join(f"{path}\0{content}\0" for path, content in sorted(spec.files.items()))
    return hashlib.sha256((spec.fingerprint() + files).encode()).hexdigest()[:16]


def _named(kind: str, owner: str, content: str) -> str:
    return f"{owner}-{kind}-{hashlib.sha256(content.encode()).hexdigest()[:8]}"


def _key(spec: ContainerSpec) -> str:
    """The service's name in the stack: its part after the lab's name (`node-2`), since swarm prefixes
    the stack's name and allows 63 characters; the full name stays the service's alias on the network."""
    prefix = spec.labels[LAB_LABEL] + "-"
    return spec.name.removeprefix(prefix)


def _service(spec: ContainerSpec, registry: str | None, compose: ComposeFile, placement: list[str]) -> dict:
    if spec.devices or spec.security_opt:
        raise ConfigError(
            f"{spec.name} needs {', '.join([*spec.devices, *spec.security_opt])}, which swarm services cannot have: "
            "export a lab whose backend is not nfs"
        )
    environment = dict(spec.env)
    service: dict = {"image": image_reference(spec.image, registry)}
    if spec.command:
        service["command"] = list(spec.command)
    if spec.user:
        service["user"] = spec.user
    # As on one engine (lab.security): every capability dropped, the role's own added back.
    service["cap_drop"] = ["ALL"]
    if spec.cap_add:
        service["cap_add"] = list(spec.cap_add)
    for path, content in spec.files.items():
        if path == NODE_CONFIG_PATH:  # keys and passwords: a secret, which the node reads where it lands
            name = _named("config", _key(spec), content)
            compose.files[f"secrets/{name}.json"] = content
            compose.content["secrets"][name] = {"file": f"./secrets/{name}.json", "labels": {LAB_LABEL: spec.labels[LAB_LABEL]}}
            service.setdefault("secrets", []).append({"source": name, "target": f"{name}.json", "mode": 0o400, "uid": "1000"})
            environment["LAB_CONFIG_FILE"] = f"/run/secrets/{name}.json"
        else:
            name = _named("file", _key(spec), content)
            compose.content["configs"][name] = {"file": f"./files/{name}", "labels": {LAB_LABEL: spec.labels[LAB_LABEL]}}
            compose.files[f"files/{name}"] = content
            service.setdefault("configs", []).append({"source": name, "target": path})
    if environment:
        service["environment"] = environment
    if spec.mounts:
        service["volumes"] = [f"{mount.volume}:{mount.target}" for mount in spec.mounts]
    if spec.ports:
        service["ports"] = [
            {"target": target, "published": published, "protocol": "tcp", "mode": "host"}
            for target, (_, published) in spec.ports.items()
        ]
    service["networks"] = {NETWORK: {"aliases": [spec.name, *spec.aliases]}}  # nginx and the nodes use the full names
    service["labels"] = dict(spec.labels)
    deploy: dict = {
        "labels": {**spec.labels, SPEC_LABEL: service_spec(spec)},
        "endpoint_mode": "dnsrr",
        "resources": {"limits": {"memory": f"{spec.memory_mb}M"}},
    }
    if spec.role == "node":  # a new version replaces nodes one at a time, as `lab deploy` does locally
        deploy["update_config"] = {"parallelism": 1, "delay": "1s", "order": "stop-first"}
    if spec.role == "job":  # the one-off job: again until it succeeds (the database may start after it)
        deploy["restart_policy"] = {"condition": "on-failure", "delay": "2s", "max_attempts": 30}
    if placement:
        deploy["placement"] = {"constraints": list(placement)}
    service["deploy"] = deploy
    service["stop_grace_period"] = f"{spec.stop_timeout}s"
    return service


def compose_file(plan: Plan, registry: str | None = None, hosts: list[str] | None = None) -> ComposeFile:
    """The plan as a stack: stores and nginx on a manager, node N on hosts[(N-1) % len(hosts)]."""
    lab = plan.config.name
    compose = ComposeFile({"version": "3.8", "services": {}, "networks": {}, "volumes": {}, "secrets": {}, "configs": {}})
    services = compose.content["services"]
    manager = ["node.role == manager"]
    for spec in plan.stores:
        services[_key(spec)] = _service(spec, registry, compose, manager)
    services[_key(plan.prepare)] = _service(plan.prepare, registry, compose, [])
    for index, spec in enumerate(plan.nodes):
        # Pinned round the hosts: swarm's spread preference places one-replica services as it likes (all
        # on one host, measured), and the matrix needs nodes on different hosts. A drained host's node
        # moves when the lab deploys again (hosts are the active ones).
        placement = [f"node.labels.{HOST_LABEL} == {hosts[index % len(hosts)]}"] if hosts else []
        services[_key(spec)] = _service(spec, registry, compose, placement)
    for index, spec in enumerate(plan.workers):  # workers round the hosts too, so stopping one host leaves others
        placement = [f"node.labels.{HOST_LABEL} == {hosts[(index + 1) % len(hosts)]}"] if hosts else []
        services[_key(spec)] = _service(spec, registry, compose, placement)
    if plan.scheduler:
        services[_key(plan.scheduler)] = _service(plan.scheduler, registry, compose, manager)
    services[_key(plan.nginx)] = _service(plan.nginx, registry, compose, manager)
    compose.content["networks"][NETWORK] = {
        "name": f"{plan.network}-overlay",  # beside the lab's own bridge network of the same lab
        "driver": "overlay",
        "attachable": True,
        "labels": dict(plan.network_labels),
    }
    for volume in plan.volumes:
        if volume.driver_opts:
            raise ConfigError(f"volume {volume.name} is mounted from this machine's kernel; export a lab whose backend is not nfs")
        used = any(mount.volume == volume.name for spec in (*plan.containers(), plan.prepare) for mount in spec.mounts)
        if used:
            compose.content["volumes"][volume.name] = {"name": volume.name, "labels": dict(volume.labels)}
    for key in ("secrets", "configs", "volumes"):
        if not compose.content[key]:
            del compose.content[key]
    compose.content["x-django-lab"] = {
        "lab": lab,
        "backend": plan.config.backend,
        "balance": plan.config.balance,
        "deploy": f"docker stack deploy --resolve-image never -c docker-compose.yml {lab}",
    }
    return compose
