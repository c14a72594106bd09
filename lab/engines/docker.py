"""DockerEngine: the one module that talks to Docker, translating its errors into the lab's.

It knows containers, networks, volumes and images, and nothing about Django or sessions: the lab
hands it specs from the plan. Every resource it creates carries the plan's labels.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import ipaddress
import os
import tarfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import PurePosixPath
from typing import Callable, Iterator, Sequence

import docker
import docker.errors
import requests

from lab.engines import waits
from lab.engines.job_output import OOM_MARK
from lab.engines.stopwatch import Stopwatch
from lab.errors import EngineError, EngineUnavailable, ImageBuildError, PortInUse
from lab.model.checks import Check
from lab.model.plan import LAB_LABEL, ROLE_LABEL, SPEC_LABEL, ContainerSpec
from lab.model.security import LOG_CONFIG, NO_NEW_PRIVILEGES

# Where a network takes its /24 when Docker's default pools are used up (lab-sized: 256 networks).
LAB_SUBNETS = ipaddress.ip_network(os.environ.get("LAB_SUBNETS", "10.213.0.0/16"))

ENGINE_HELP = (
    "run `lab setup` (as root on Debian it installs and starts Docker; elsewhere it says what to install: "
    "Docker Engine or Docker Desktop), or point DOCKER_HOST at a running engine"
)


@contextlib.contextmanager
def translated(action: str, failure: type[EngineError] = EngineError) -> Iterator[None]:
    """Turn Docker's and the transport's exceptions (timeouts too) into LabErrors that name `action`.

    `failure` is the class raised when the engine refused or failed the action.
    """
    try:
        yield
    except docker.errors.APIError as error:
        explanation = (error.explanation or str(error)).strip()
        if "port is already allocated" in explanation or "address already in use" in explanation:
            raise PortInUse(f"{action}: the port is already in use ({explanation})") from error
        raise failure(f"{action}: Docker said: {explanation}") from error
    except requests.exceptions.ConnectionError as error:  # ConnectTimeout included: nothing answered
        raise EngineUnavailable(f"{action}: cannot reach the Docker engine ({error}); {ENGINE_HELP}") from error
    except requests.exceptions.Timeout as error:
        raise failure(f"{action}: the Docker engine did not answer in time ({error})") from error
    except requests.exceptions.RequestException as error:
        raise failure(f"{action}: the connection to the Docker engine failed ({error})") from error
    except docker.errors.DockerException as error:
        raise EngineUnavailable(f"{action}: cannot reach the Docker engine ({error}); {ENGINE_HELP}") from error


def _made_from(container, fingerprint: str) -> bool:
    """Whether an existing container was created from the spec with this fingerprint."""
    return container is not None and container.labels.get(SPEC_LABEL) == fingerprint


class DockerEngine:
    """The local Docker engine, reached through the Docker SDK for Python."""

    def __init__(
        self, client: docker.DockerClient | None = None, stopwatch: Stopwatch | None = None, base_url: str | None = None
    ):
        self._client = client
        self.base_url = base_url  # another engine than the environment's (a swarm host's own)
        self.stopwatch = stopwatch or Stopwatch()  # what each kind of engine call cost, for the profile

    @property
    def client(self) -> docker.DockerClient:
        """The SDK client, connected and pinged on first use."""
        if self._client is None:
            with translated("connecting to Docker"):
                if self.base_url:
                    client = docker.DockerClient(base_url=self.base_url, timeout=120, max_pool_size=32)
                else:
                    client = docker.from_env(timeout=120, max_pool_size=32)
                client.ping()
            self._client = client
        return self._client

    def describe(self) -> str:
        """One line naming the engine, for status output."""
        with translated("asking the engine's version"):
            version = self.client.version()
        return f"Docker {version.get('Version', '?')} ({version.get('Os', '?')}/{version.get('Arch', '?')})"

    # -- networks and volumes ----------------------------------------------------------------------

    def ensure_network(self, name: str, labels: dict) -> None:
        """Create the bridge network `name` unless it exists.

        Docker's default pools hold about 30 networks, and a lab with its clients takes 8: when they run
        out, the network takes a free /24 of LAB_SUBNETS instead (a /24 each, as ip_hash keys on three octets).
        """
        with translated(f"creating network {name}"):
            if self.client.networks.list(names=[name]):
                return
            try:
                self.client.networks.create(name, driver="bridge", labels=labels)
                return
            except docker.errors.APIError as error:
                if "address pool" not in str(error):
                    raise
            used = {
                config.get("Subnet")
                for network in self.client.networks.list()
                for config in (network.attrs.get("IPAM") or {}).get("Config") or []
            }
            for subnet in LAB_SUBNETS.subnets(new_prefix=24):
                if str(subnet) in used:
                    continue
                pool = docker.types.IPAMPool(subnet=str(subnet), gateway=str(subnet.network_address + 1))
                try:
                    self.client.networks.create(name, driver="bridge", labels=labels, ipam=docker.types.IPAMConfig(pool_configs=[pool]))
                    return
                except docker.errors.APIError as error:
                    if "overlap" not in str(error):
                        raise
            raise EngineError(f"creating network {name}: no free address range, neither Docker's nor {LAB_SUBNETS}")

    def connect(self, network: str, container: str) -> None:
        """Attach a container to another network, unless it is attached already."""
        with translated(f"connecting {container} to {network}"):
            found = self.client.containers.get(container)
            if network not in found.attrs["NetworkSettings"]["Networks"]:
                self.client.networks.get(network).connect(found)

    def address(self, container: str, network: str) -> str:
        """The container's IPv4 address on `network`."""
        with translated(f"inspecting {container}"):
            networks = self.client.containers.get(container).attrs["NetworkSettings"]["Networks"]
        return networks.get(network, {}).get("IPAddress", "")

    def ensure_volume(self, name: str, labels: dict, driver_opts: dict | None = None) -> None:
        """Create volume `name` unless it exists (with the local driver's options, if any)."""
        with translated(f"creating volume {name}"):
            try:
                self.client.volumes.get(name)
            except docker.errors.NotFound:
                self.client.volumes.create(name, labels=labels, driver_opts=driver_opts or None)

    # -- containers --------------------------------------------------------------------------------

    def _get(self, name: str):
        try:
            return self.client.containers.get(name)
        except docker.errors.NotFound:
            return None

    def container_id(self, container: str) -> str | None:
        """The container's id, or None when there is none of that name."""
        with translated(f"inspecting {container}"):
            found = self._get(container)
        return found.id if found is not None else None

    def status(self, container: str) -> tuple[str, int | None]:
        """(state, exit code): state is Docker's ("running", "exited", ...) or "missing"."""
        with translated(f"inspecting {container}"):
            found = self._get(container)
            if found is None:
                return "missing", None
            state = found.attrs["State"]
            return state["Status"], state.get("ExitCode") if state["Status"] != "running" else None

    def memory_killed(self, container: str) -> int:
        """The memory limit in MB when the kernel killed the container for memory, else 0."""
        with translated(f"inspecting {container}"):
            found = self._get(container)
        if found is None or not found.attrs["State"].get("OOMKilled"):
            return 0
        return int(found.attrs["HostConfig"].get("Memory") or 0) // (1024 * 1024)

    def passes(self, check: Check, container: str) -> bool:
        """Whether the readiness check passes for the container now (lab.engines.waits asks it)."""
        return waits.passes(check, self, container)

    def matches(self, spec: ContainerSpec) -> bool:
        """Whether a container runs from exactly this spec (so ensure_container would keep it)."""
        with translated(f"inspecting {spec.name}"):
            existing = self._get(spec.name)
        return _made_from(existing, spec.fingerprint()) and existing.status == "running"

    def ensure_container(self, spec: ContainerSpec, network: str) -> str:
        """Make container `spec.name` match `spec`; return "kept", "started", "created" or "recreated"."""
        fingerprint = spec.fingerprint()
        with translated(f"inspecting {spec.name}"):
            existing = self._get(spec.name)
        action = "created"
        if existing is not None:
            if _made_from(existing, fingerprint):
                if existing.status == "running":
                    return "kept"
                self.put_files(spec)  # it starts on the plan's files, not on those it stopped with
                with translated(f"starting {spec.name}"):
                    existing.start()
                return "started"
            self.remove(spec.name, timeout=spec.stop_timeout)
            action = "recreated"
        self.create(spec, network, fingerprint)
        return action

    def create(self, spec: ContainerSpec, network: str, fingerprint: str | None = None) -> None:
        """Create and start a container from `spec` on `network`."""
        with translated(f"creating {spec.name}"), self.stopwatch.step("container create"):
            container = self.client.containers.create(
                spec.image,
                command=list(spec.command) if spec.command else None,
                name=spec.name,
                environment=dict(spec.env),
                labels={**spec.labels, SPEC_LABEL: fingerprint or spec.fingerprint()},
                network=network,
                networking_config={network: self.client.api.create_endpoint_config(aliases=list(spec.aliases))}
                if spec.aliases else None,
                volumes={m.volume: {"bind": m.target, "mode": "rw"} for m in spec.mounts},
                ports={f"{port}/tcp": bind for port, bind in spec.ports.items()},
                user=spec.user,
                # lab.security: drop every capability, add back the role's, never gain more.
                cap_drop=["ALL"],
                cap_add=list(spec.cap_add) or None,
                devices=[f"{device}:{device}:rwm" for device in spec.devices] or None,
                security_opt=[NO_NEW_PRIVILEGES, *spec.security_opt],
                mem_limit=f"{spec.memory_mb}m",
                pids_limit=spec.pids_limit,
                log_config=LOG_CONFIG,
            )
        self.put_files(spec)
        try:
            with translated(f"starting {spec.name}"), self.stopwatch.step("container start"):
                container.start()
        except PortInUse as error:
            self.remove(spec.name, timeout=0)
            host, port = next(iter(spec.ports.values()))
            raise PortInUse(
                f"port {port} on {host} is already in use, so {spec.name} cannot publish it; "
                f"pick another with `lab up --port N` (or `make lab-up PORT=N`)"
            ) from error

    def remove(self, container: str, timeout: int = 5) -> bool:
        """Stop (waiting up to `timeout` s) and remove a container; False when there was none."""
        with translated(f"removing {container}"):
            found = self._get(container)
            if found is None:
                return False
            if found.status == "running" and timeout > 0:
                with contextlib.suppress(docker.errors.NotFound), self.stopwatch.step("container stop"):
                    found.stop(timeout=timeout)
            with contextlib.suppress(docker.errors.NotFound), self.stopwatch.step("container remove"):
                found.remove(force=True)
        return True

    def stop(self, container: str, timeout: int = 5) -> None:
        """Stop a container, leaving it in place."""
        with translated(f"stopping {container}"):
            self.client.containers.get(container).stop(timeout=timeout)

    def restart(self, container: str, timeout: int = 5) -> None:
        """Stop (waiting up to `timeout` s) and start a container again."""
        with translated(f"restarting {container}"):
            self.client.containers.get(container).restart(timeout=timeout)

    def start(self, container: str) -> None:
        """Start a stopped container."""
        with translated(f"starting {container}"):
            self.client.containers.get(container).start()

    def exec(
        self, container: str, command: Sequence[str], env: dict | None = None, user: str = ""
    ) -> tuple[int, str]:
        """Run a command in a running container, as `user` (default: the container's); (exit code,
        combined output).

        Secrets go in `env`, never in `command`: a process's arguments are visible to every user.
        """
        try:
            with translated(f"running {command[0]} in {container}"):
                with self.stopwatch.step("exec (checks, jobs, traffic)"):
                    result = self.client.containers.get(container).exec_run(list(command), environment=env, user=user)
        except EngineError as error:
            limit = self.memory_killed(container) if "is not running" in str(error) else 0
            if limit:
                raise EngineError(f"running {command[0]} in {container}: the kernel killed {container}: out of memory "
                                  f"(limit {limit} MB); give each node more with `lab up --node-memory MB`") from None
            raise
        return result.exit_code, result.output.decode(errors="replace")

    def exec_stream(self, container: str, command: Sequence[str], env: dict | None = None) -> Iterator[str]:
        """Run a command in a running container and yield its output line by line, as it comes."""
        with translated(f"running {command[0]} in {container}"):
            result = self.client.containers.get(container).exec_run(list(command), environment=env, stream=True)
        pending = b""
        with translated(f"reading {command[0]} in {container}"):
            for chunk in result.output:
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    yield line.decode(errors="replace")

    def events(self, lab: str):
        """The lab's container events as they happen (start, die, kill, destroy), as a closable stream."""
        with translated(f"following the events of lab {lab}"):
            return self.client.events(decode=True, filters={"type": "container", "label": f"{LAB_LABEL}={lab}"})

    def signal(self, container: str, name: str) -> None:
        """Send a signal (e.g. "HUP") to a container's main process."""
        with translated(f"sending {name} to {container}"), self.stopwatch.step("signal"):
            self.client.containers.get(container).kill(signal=name)

    def put_files(self, spec: ContainerSpec) -> None:
        """Write every file of `spec` into its container."""
        for path, content in spec.files.items():
            self.put_file(spec.name, path, content)

    def put_file(self, container: str, path: str, content: str) -> None:
        """Write one text file into a container (running or not)."""
        target = PurePosixPath(path)
        data = content.encode()
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            info = tarfile.TarInfo(target.name)
            private = target.name.endswith("key.pem")  # a TLS key: its owner (root) only
            info.size, info.mode, info.mtime = len(data), 0o600 if private else 0o644, int(time.time())
            tar.addfile(info, io.BytesIO(data))
        with translated(f"writing {path} into {container}"):
            with self.stopwatch.step("file copy"):
                self.client.containers.get(container).put_archive(str(target.parent), buffer.getvalue())

    def logs(self, container: str, tail: int = 40) -> str:
        """The container's last `tail` log lines ("" when it does not exist)."""
        with translated(f"reading the logs of {container}"):
            found = self._get(container)
            return found.logs(tail=tail).decode(errors="replace") if found else ""

    def log_stream(self, container: str, tail: int = 100) -> Iterator[str]:
        """The container's last `tail` log lines, then its log as it is written (text as it comes), until
        it stops."""
        text = codecs.getincrementaldecoder("utf-8")(errors="replace")  # a character may span two chunks
        with translated(f"following the logs of {container}"):
            for chunk in self.client.containers.get(container).logs(stream=True, follow=True, tail=tail):
                yield text.decode(chunk)

    def run_job(self, spec: ContainerSpec, network: str, timeout: float = 180) -> tuple[int, str]:
        """Run a one-off container to completion, remove it, and return (exit code, its logs). A job the
        kernel killed for memory ends its logs with `lab-job: killed: out of memory (limit N MB)`."""
        self.remove(spec.name, timeout=0)
        self.create(spec, network)
        try:
            with translated(f"waiting up to {timeout:.0f} s for {spec.name} to finish"):
                container = self.client.containers.get(spec.name)
                result = container.wait(timeout=timeout)
                container.reload()
                if container.attrs["State"].get("OOMKilled"):
                    result["oom"] = True
        finally:
            output = self.logs(spec.name, tail=60)
            self.remove(spec.name, timeout=0)
        if result.get("oom"):
            output += f"\n{OOM_MARK} (limit {spec.memory_mb} MB)"
        return result["StatusCode"], output

    def lab_containers(self, lab: str) -> list[dict]:
        """The lab's containers: name, role, state, image and labels, sorted by name."""
        with translated(f"listing the containers of lab {lab}"):
            # ignore_removed: a container that goes while the list is read (a swarm task, a test's
            # teardown) is not an error.
            found = self.client.containers.list(all=True, filters={"label": f"{LAB_LABEL}={lab}"}, ignore_removed=True)
            rows = [
                {
                    "name": c.name,
                    "role": c.labels.get(ROLE_LABEL, "?"),
                    "state": c.status,
                    "image": c.attrs["Config"]["Image"],
                    "id": c.short_id,
                    "labels": dict(c.labels),
                }
                for c in found
            ]
        return sorted(rows, key=lambda row: row["name"])

    def labs(self) -> set[str]:
        """Names of every lab with a container on this engine."""
        with translated("listing labs"):
            found = self.client.containers.list(all=True, filters={"label": LAB_LABEL}, ignore_removed=True)
        return {c.labels[LAB_LABEL] for c in found}

    def remove_lab(self, lab: str, keep_volumes: bool = False) -> dict[str, int]:
        """Remove every container, network and (unless kept) volume labelled as lab `lab`."""
        selector = {"label": f"{LAB_LABEL}={lab}"}
        with translated(f"listing the resources of lab {lab}"):
            containers = [c.name for c in self.client.containers.list(all=True, filters=selector, ignore_removed=True)]
        with ThreadPoolExecutor(max_workers=max(1, len(containers))) as pool:
            list(pool.map(lambda name: self.remove(name, timeout=3), containers))
        removed = {"containers": len(containers), "networks": 0, "volumes": 0}
        # Another `lab down` of the same lab may remove a resource between the listing and its removal: gone is done.
        with translated(f"removing the networks of lab {lab}"):
            for network in self.client.networks.list(filters=selector):
                with contextlib.suppress(docker.errors.NotFound):
                    network.remove()
                    removed["networks"] += 1
        if not keep_volumes:
            with translated(f"removing the volumes of lab {lab}"):
                for volume in self.client.volumes.list(filters=selector):
                    with contextlib.suppress(docker.errors.NotFound):
                        volume.remove(force=True)
                        removed["volumes"] += 1
        return removed

    def lab_resources(self, lab: str) -> dict[str, list[str]]:
        """Names of the lab's labelled containers, networks and volumes."""
        selector = {"label": f"{LAB_LABEL}={lab}"}
        with translated(f"listing the resources of lab {lab}"):
            return {
                "containers": [
                    c.name for c in self.client.containers.list(all=True, filters=selector, ignore_removed=True)
                ],
                "networks": [n.name for n in self.client.networks.list(filters=selector)],
                "volumes": [v.name for v in self.client.volumes.list(filters=selector)],
            }

    # -- images ------------------------------------------------------------------------------------

    def push(self, tag: str, registry: str, on_line: Callable[[str], None] = lambda line: None) -> str:
        """Push the local image `tag` to `registry` (HOST:PORT); return the reference hosts pull."""
        reference = f"{registry}/{tag}"
        repository, version = reference.rsplit(":", 1)
        with translated(f"pushing {tag} to {registry}"):
            self.client.images.get(tag).tag(repository, version)
            for line in self.client.images.push(repository, version, stream=True, decode=True):
                if "error" in line:
                    raise EngineError(f"pushing {reference} failed: {line['error']}")
                if line.get("status") in ("Pushed", "Layer already exists"):
                    on_line(f"{tag}: layer {line.get('id', '')} {line['status'].lower()}")
        return reference

    def image_exists(self, tag: str) -> bool:
        """Whether the image `tag` is on this engine."""
        with translated(f"looking up image {tag}"):
            try:
                self.client.images.get(tag)
                return True
            except docker.errors.ImageNotFound:
                return False

    def image_mb(self, tag: str) -> float:
        """The size of image `tag` on this engine, in MB."""
        with translated(f"looking up image {tag}"):
            return self.client.images.get(tag).attrs["Size"] / 1e6

    def pull(self, name: str, tag: str) -> bool:
        """Pull `name` and tag it as `tag`; False when no registry answers."""
        try:
            image = self.client.images.pull(name)
        except (docker.errors.APIError, requests.exceptions.RequestException):
            return False
        repository, _, version = tag.partition(":")
        image.tag(repository, version or "latest")
        return True

    def import_image(self, stream, tag: str, labels: dict) -> None:
        """Import a root filesystem tar stream as image `tag`."""
        repository, _, version = tag.partition(":")
        changes = [f"LABEL {key}={value}" for key, value in labels.items()]
        with translated(f"importing image {tag}"):
            self.client.api.import_image(src=stream, repository=repository, tag=version, changes=changes)

    def build_image(
        self,
        tag: str,
        context: bytes,
        build_args: dict,
        labels: dict,
        on_line: Callable[[str], None],
        no_cache: bool = False,
    ) -> None:
        """Build `tag` from a tar context, reporting each step (and a line now and then) to `on_line`."""
        recent: list[str] = []
        last_report = time.monotonic()
        with translated(f"building image {tag}", ImageBuildError):
            stream = self.client.api.build(
                fileobj=io.BytesIO(context),
                custom_context=True,
                tag=tag,
                buildargs=build_args,
                labels=labels,
                rm=True,
                forcerm=True,
                nocache=no_cache,
                decode=True,
            )
            for chunk in stream:
                if "error" in chunk:
                    # A build step that diagnosed its own failure (lab-...: error: ...) says it in one line.
                    diagnosed = [line.split(": error: ", 1)[1] for line in recent if line.startswith("lab-") and ": error: " in line]
                    log = "\n".join(recent)
                    if diagnosed:
                        raise ImageBuildError(f"building image {tag} failed: {diagnosed[-1]}", log)
                    tail = "\n".join(recent[-25:])
                    raise ImageBuildError(f"building image {tag} failed: {chunk['error'].strip()}\n{tail}", log)
                for line in chunk.get("stream", "").splitlines():
                    line = line.rstrip()
                    if not line:
                        continue
                    recent.append(line)
                    # Steps always; other output only every 10 s, to show a long step is alive.
                    if line.startswith(("Step ", "lab-")) or time.monotonic() - last_report > 10:
                        on_line(line[:160])
                        last_report = time.monotonic()
