"""FakeEngine: the local engine with its containers, networks and volumes kept in memory, for unit tests
of the reconcile logic (lab.engines.reconcile) and of `Lab`'s steps without Docker.

What stands in for the real thing, and no more:
- a container is a record: its spec's fingerprint, its files, its state, and the configuration its
  process loaded (set when it starts or gets its reload signal), so a node that was handed new files but
  not signalled still fails its readiness check, as a real one does;
- a container that publishes a port is served by a small HTTP server on 127.0.0.1: nginx's health
  answer names the configuration in the nginx.conf it loaded, a node's health answer names the node, and
  a login page with a form logs the demo user in. `lab-nginx-apply` loads nginx.conf.next, as the real
  script does after `nginx -t`;
- a container or a job starts only on a network the engine has, as Docker's does;
- a one-off job exits 0; the facts job prints what Django would say of a plain site. `job_results`
  makes a job exit otherwise (name -> (code, output)); with `job_seconds` every job takes that long,
  and its call is recorded when it ends;
- `written_logs` is what following a container's log gives (then the stream ends, or Ctrl-C comes with
  `follow_interrupted`);
- `nginx_rejects` makes `lab-nginx-apply` refuse the next configuration, as `nginx -t` would: the
  running one stays.
- a container named in `crashes` exits as soon as it starts; one in `slow` passes its readiness check
  only that many seconds after it started.

- a client container (role "client") has no address this machine reaches, so its jobs come through
  `exec`: a job of evidence.py (its JSON in the environment) is answered by `answer_client_job`, by
  default every user logged in on node-1 with a counter rising by one; `client_commands` records each
  command a client ran, and `client_answers` answers other commands (by their first word).

The fake is both halves of the local engine: the `LabEngine` (it is a LocalEngine) and the Docker
connection that engine holds (`self.docker` is the fake itself), so the clients port, images, jobs and
the floor go through the real LocalEngine code onto records in memory.

`fail_next(action, name)` makes one engine call fail, as an interrupted `up` would.
"""

from __future__ import annotations

import http.server
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Iterator, Sequence

import pytest

from lab.engines.local import LocalEngine
from lab.engines.reconcile import Reconciler
from lab.engines.stopwatch import Stopwatch
from lab.errors import EngineError
from lab.model.checks import Check, ExecCheck, HttpCheck, NodeCheck
from lab.model.nginx_conf import CONF_PATH
from lab.model.plan import LAB_LABEL, NODE_CONFIG_PATH, ContainerSpec, node_config_id
from lab.traffic.evidence import JOB_ENV

SITE_FACTS = {
    "settings_module": "sample_site.settings",
    "django": "5.2",
    "login_name": "demo",
    "login_url": "/accounts/login/",
    "https": False,
}
LOGIN_PAGE = (
    '<form method="post"><input type="hidden" name="csrfmiddlewaretoken" value="fake-token">'
    '<input name="username"><input type="password" name="password"></form>'
)
_ids = itertools.count(1)


@dataclass
class Container:
    spec: ContainerSpec
    fingerprint: str
    network: str
    files: dict[str, str]
    state: str = "running"
    id: str = field(default_factory=lambda: f"c{next(_ids)}")
    loaded: dict[str, str] = field(default_factory=dict)  # the files its process read when it started
    started_at: float = 0.0

    def start(self) -> None:
        self.state = "running"
        self.loaded = dict(self.files)
        self.started_at = time.monotonic()


class FakeEngine(LocalEngine):
    """LocalEngine whose Docker is in memory; `calls` records every change it was asked to make."""

    def __init__(self) -> None:
        self.stopwatch = Stopwatch()
        super().__init__(docker=self)  # its own connection: every call that would reach Docker is in memory
        self.containers: dict[str, Container] = {}
        self.networks: dict[str, dict] = {}
        self.volumes: dict[str, dict] = {}
        self.calls: list[tuple[str, str]] = []
        self.nginx_confs: list[tuple[int, str]] = []  # (calls made by then, the configuration a reload loaded)
        self.jobs: list[str] = []
        self.job_timeouts: dict[str, float] = {}  # the time each job was given, by name
        self.job_results: dict[str, tuple[int, str]] = {}  # a job's exit code and output, by its name
        self.job_seconds = 0.0
        self.nginx_rejects = False
        self.volume_options: dict[str, dict] = {}  # the driver options each volume was created with
        self.crashes: set[str] = set()  # containers that exit as soon as they start
        self.slow: dict[str, float] = {}  # containers ready only this many seconds after they start
        self.client_commands: list[tuple[str, list[str]]] = []  # (client, command) of each exec in a client
        self.client_answers: dict[str, tuple[int, str]] = {}  # a client command's answer, by its first word
        self.written_logs: dict[str, list[str]] = {}  # what `log_stream` gives, by container
        self.follow_interrupted = False  # Ctrl-C once the written lines are followed
        self._failures: set[tuple[str, str]] = set()
        self._servers: dict[str, http.server.ThreadingHTTPServer] = {}

    def fail_next(self, action: str, name: str) -> None:
        self._failures.add((action, name))

    def _call(self, action: str, name: str) -> None:
        if (action, name) in self._failures:
            self._failures.discard((action, name))
            raise EngineError(f"{action} {name}: the engine went away (made up by the test)")
        self.calls.append((action, name))

    # -- what reconcile needs ----------------------------------------------------------------------

    def describe(self) -> str:
        return "an in-memory engine"

    def image_exists(self, tag: str) -> bool:
        return True

    def ensure_network(self, name: str, labels: dict) -> None:
        if name not in self.networks:
            self._call("network create", name)
            self.networks[name] = dict(labels)

    def connect(self, network: str, container: str) -> None:
        pass

    def ensure_volume(self, name: str, labels: dict, driver_opts: dict | None = None) -> None:
        if name not in self.volumes:
            self._call("volume create", name)
            self.volumes[name] = dict(labels)
            self.volume_options[name] = dict(driver_opts or {})

    def container_id(self, container: str) -> str | None:
        found = self.containers.get(container)
        return found.id if found else None

    def status(self, container: str) -> tuple[str, int | None]:
        found = self.containers.get(container)
        return (found.state, None if found.state == "running" else 0) if found else ("missing", None)

    def matches(self, spec: ContainerSpec) -> bool:
        found = self.containers.get(spec.name)
        return found is not None and found.fingerprint == spec.fingerprint() and found.state == "running"

    def ensure_container(self, spec: ContainerSpec, network: str) -> str:
        found = self.containers.get(spec.name)
        if found is not None and found.fingerprint == spec.fingerprint():
            if found.state == "running":
                return "kept"
            self._call("start", spec.name)
            found.files.update(spec.files)
            found.start()
            self._serve_ports(spec)
            self._crash_if_asked(spec.name)
            return "started"
        action = "recreated" if found is not None else "created"
        if found is not None:
            self.remove(spec.name, timeout=0)
        self.create(spec, network)
        return action

    def _on_network(self, network: str) -> None:
        if network not in self.networks:
            raise EngineError(f"network {network} not found")

    def create(self, spec: ContainerSpec, network: str, fingerprint: str | None = None) -> None:
        self._on_network(network)
        self._call("create", spec.name)
        container = Container(spec, fingerprint or spec.fingerprint(), network, dict(spec.files))
        container.start()
        self.containers[spec.name] = container
        self._serve_ports(spec)
        self._crash_if_asked(spec.name)

    def _crash_if_asked(self, name: str) -> None:
        if name in self.crashes:
            self.containers[name].state = "exited"

    def _serve_ports(self, spec: ContainerSpec) -> None:
        """A running container's published ports answer; a stopped one's are free."""
        if spec.name not in self._servers:
            for _, (host, port) in spec.ports.items():
                self._serve(spec.name, host, port)

    def _unserve(self, container: str) -> None:
        server = self._servers.pop(container, None)
        if server is not None:
            server.shutdown()
            server.server_close()

    def remove(self, container: str, timeout: int = 5) -> bool:
        assert isinstance(timeout, int), f"remove {container}: a stop timeout in seconds, not {timeout!r}"
        if container not in self.containers:
            return False
        self._call("remove", container)
        del self.containers[container]
        self._unserve(container)
        return True

    def stop(self, container: str, timeout: int = 5) -> None:
        self._call("stop", container)
        self.containers[container].state = "exited"
        self._unserve(container)

    def restart(self, container: str, timeout: int = 5) -> None:
        self._call("restart", container)
        self.containers[container].start()
        self._serve_ports(self.containers[container].spec)

    def passes(self, check: Check, container: str) -> bool:
        found = self.containers.get(container)
        if found is None or found.state != "running":
            return False
        if time.monotonic() < found.started_at + self.slow.get(container, 0):
            return False
        if isinstance(check, NodeCheck):
            return node_config_id(found.loaded.get(NODE_CONFIG_PATH, "")) == check.config_id
        return isinstance(check, (ExecCheck, HttpCheck))

    def address(self, container: str, network: str) -> str:
        """A container has an address on the network it was created on, none elsewhere; a client's is
        not reached from here (its jobs come through exec)."""
        found = self.containers.get(container)
        if found is None or found.spec.role == "client":
            return ""
        return "10.0.0.2" if found.network == network else ""

    def put_files(self, spec: ContainerSpec) -> None:
        for path, content in spec.files.items():
            self.put_file(spec.name, path, content)

    def put_file(self, container: str, path: str, content: str) -> None:
        self.containers[container].files[path] = content

    def signal(self, container: str, name: str) -> None:
        self._call(f"signal {name}", container)
        self.containers[container].loaded = dict(self.containers[container].files)

    def exec(self, container: str, command: Sequence[str], env: dict | None = None, user: str = "") -> tuple[int, str]:
        found = self.containers[container]
        if found.spec.role == "client":
            if found.state != "running":
                raise EngineError(f"running {command[0]} in {container}: it is not running")
            self.client_commands.append((container, list(command)))
            if env and JOB_ENV in env:
                return 0, json.dumps(self.answer_client_job(json.loads(env[JOB_ENV]))) + "\n"
            return self.client_answers.get(command[0], (0, ""))
        if list(command) == ["lab-nginx-apply"]:
            if self.nginx_rejects:  # `nginx -t` failed: the next configuration is dropped, the running one stays
                found.files.pop(CONF_PATH + ".next", None)
                return 1, "nginx: [emerg] made up by the test\nnginx: configuration file test failed"
            self._call("reload nginx", container)
            found.files[CONF_PATH] = found.files.pop(CONF_PATH + ".next")
            found.loaded = dict(found.files)
            self.nginx_confs.append((len(self.calls), found.files[CONF_PATH]))  # what each reload loaded
        return 0, ""

    def exec_stream(self, container: str, command: Sequence[str], env: dict | None = None) -> Iterator[str]:
        return iter(self.exec(container, command, env)[1].splitlines())

    def answer_client_job(self, job: dict):
        """What evidence.py in a client answers a job: cookies of logged-in users, or each user logged
        in on node-1, then `requests_count` answers showing them with a counter rising by one."""
        if job.get("cookies"):
            return [f"sessionid=fake-{number}" for number in range(job["count"])]
        observations = [
            {"index": index, "status": 200, "user": job["username"], "node": "node-1", "session": "s",
             "counter": index + 1, "seconds": 0.001}
            for index in range(job.get("requests_count", 1))
        ]
        return [{"name": name, "login_node": "node-1", "logged_in": True, "observations": observations}
                for name in job["names"]]

    def logs(self, container: str, tail: int = 40) -> str:
        return ""

    def log_stream(self, container: str, tail: int = 100) -> Iterator[str]:
        """The lines `written_logs` holds for the container (its last `tail`), then the end of the stream, as
        when it stops; with `follow_interrupted`, Ctrl-C instead, as when the user stops following."""
        if container not in self.containers:
            raise EngineError(f"following the logs of {container}: No such container")
        yield from self.written_logs.get(container, [])[-tail:]
        if self.follow_interrupted:
            raise KeyboardInterrupt

    def labs(self) -> set[str]:
        return {c.spec.labels[LAB_LABEL] for c in self.containers.values() if LAB_LABEL in c.spec.labels}

    def image_mb(self, tag: str) -> float:
        return 0.0

    def push(self, tag: str, registry: str, on_line=lambda line: None) -> str:
        self._call("push", tag)
        return f"{registry}/{tag}"

    def run_job(self, spec: ContainerSpec, network: str, timeout: float = 180) -> tuple[int, str]:
        assert isinstance(timeout, (int, float)), f"job {spec.name}: a timeout in seconds, not {timeout!r}"
        self.job_timeouts[spec.name] = timeout
        self._on_network(network)
        time.sleep(self.job_seconds)
        self._call("job", spec.name)
        self.jobs.append(spec.name)
        if spec.name in self.job_results:
            return self.job_results[spec.name]
        return 0, json.dumps(SITE_FACTS) + "\n" if spec.name.endswith("-facts") else ""

    def events(self, lab: str) -> Iterator[dict]:
        return iter(())

    def lab_containers(self, lab: str) -> list[dict]:
        return sorted(
            (
                {"name": c.spec.name, "role": c.spec.role, "state": c.state, "image": c.spec.image, "id": c.id,
                 "labels": dict(c.spec.labels)}
                for c in self.containers.values()
                if c.spec.labels.get(LAB_LABEL) == lab
            ),
            key=lambda row: row["name"],
        )

    def remove_lab(self, lab: str, keep_volumes: bool = False) -> dict[str, int]:
        names = [row["name"] for row in self.lab_containers(lab)]
        for name in names:
            self.remove(name, timeout=0)
        networks = [name for name, labels in self.networks.items() if labels.get(LAB_LABEL) == lab]
        volumes = [] if keep_volumes else [name for name, labels in self.volumes.items() if labels.get(LAB_LABEL) == lab]
        for name in networks:
            del self.networks[name]
        for name in volumes:
            del self.volumes[name]
        return {"containers": len(names), "networks": len(networks), "volumes": len(volumes)}

    def lab_resources(self, lab: str) -> dict[str, list[str]]:
        return {
            "containers": [row["name"] for row in self.lab_containers(lab)],
            "networks": sorted(name for name, labels in self.networks.items() if labels.get(LAB_LABEL) == lab),
            "volumes": sorted(name for name, labels in self.volumes.items() if labels.get(LAB_LABEL) == lab),
        }

    def reconciler(self, progress=lambda line: None) -> Reconciler:
        return Reconciler(self, progress)

    # -- what a published port answers -------------------------------------------------------------

    def _serve(self, name: str, host: str, port: int) -> None:
        engine = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _answer(self, headers: dict[str, str], body: str = "") -> None:
                running = engine.containers.get(name)
                self.send_response(200 if running and running.state == "running" else 502)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())

            def do_GET(self) -> None:
                nginx = engine.containers.get(name)
                if self.path.startswith("/nginx-health"):
                    served = re.search(r"X-Lab-Config\s+(\S+)", nginx.loaded.get(CONF_PATH, "")) if nginx else None
                    self._answer({"X-Lab-Config": served.group(1) if served else ""})
                elif self.path.startswith("/__lab__/health"):
                    self._answer({"X-Lab-Node": "node-1"})
                else:
                    self._answer({"Content-Type": "text/html"}, LOGIN_PAGE)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self._answer({"X-Lab-User": SITE_FACTS["login_name"], "X-Lab-Node": "node-1"})

        server = http.server.ThreadingHTTPServer((host if host != "0.0.0.0" else "127.0.0.1", port), Handler)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        self._servers[name] = server

    def close(self) -> None:
        for name in list(self._servers):
            server = self._servers.pop(name)
            server.shutdown()
            server.server_close()

    def push_image(self, tag: str, target: str) -> str:
        self.pushed_images = [*getattr(self, "pushed_images", []), f"{target}/{tag}"]
        return self.push(tag, target)


@pytest.fixture
def engine():
    """A FakeEngine for one test, its stand-in servers closed after it."""
    fake = FakeEngine()
    yield fake
    fake.close()
