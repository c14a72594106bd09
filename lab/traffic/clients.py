"""Client containers: where virtual users run, on networks of their own, so nginx sees real addresses.

From this machine every request reaches nginx from one gateway address, which makes `ip_hash`
meaningless. So users run inside containers: each "direct" client sits on its own network (its own
/24, since nginx's ip_hash keys on the first three octets), and one "NAT" client carries several
users behind a single address. The clients carry the lab's labels; `lab down` removes them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from lab.engines import direct
from lab.engines.clients_port import ClientsPort
from lab.engines.parallel import in_parallel
from lab.errors import EngineError
from lab.model.plan import ContainerSpec, Plan, container_name, labels, limits
from lab.traffic.evidence import JOB_ENV, WHOAMI, UserEvidence

EVIDENCE_SCRIPT = Path(__file__).with_name("evidence.py")
SCRIPT_IN_CONTAINER = "/tmp/lab_evidence.py"
# The modules evidence.py imports, beside it in the container under the names it falls back to.
COMPANIONS = {
    "/tmp/lab_websocket.py": Path(__file__).with_name("websocket.py"),
    "/tmp/lab_observations.py": Path(__file__).with_name("observations.py"),
    "/tmp/lab_login_form.py": Path(__file__).with_name("login_form.py"),
}
AGENT_PORT = 8765
DIRECT_CLIENTS = 6
NAT_USERS = 3


def open_agent(port: ClientsPort, group: "ClientGroup", job: dict):
    """The agent's answer to `job`, open for the caller to read (and close), or None where this machine
    does not reach the container: the caller then runs the job through `docker exec`.

    A client container just started may not listen yet, so a refused connection is tried again for 10 s.
    An HTTPError (the agent answered, with an error) is the caller's to report.
    """
    address = port.address(group.container.name, group.network) if group.reachable and not direct.unreachable() else ""
    if not address:
        return None
    request = urllib.request.Request(
        f"http://{address}:{AGENT_PORT}/", data=json.dumps(job).encode(), headers={"Content-Type": "application/json"}
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            answer = urllib.request.urlopen(request, timeout=job.get("seconds", 60) + 30)
            direct.learn(None)
            return answer
        except urllib.error.HTTPError:
            raise
        except (urllib.error.URLError, OSError) as error:
            if not direct.learn(error) or time.monotonic() > deadline:
                return None
            time.sleep(0.05)


def run_job(port: ClientsPort, group: "ClientGroup", job: dict) -> tuple[int, str]:
    """Run one job of evidence.py in a client container; (exit code, output whose last line is JSON).

    Asked of the container's agent over its network where this machine reaches containers (measured:
    0.35 s less per matrix cell than a `docker exec` and a Python start in 7 containers); otherwise
    run inside it, the job in its environment. Either way the demo password in the job is never on a
    command line, which every user of the host can read.
    """
    container = group.container.name
    try:
        answer = open_agent(port, group, job)
    except urllib.error.HTTPError as error:
        return 1, f"the agent in {container} answered {error.code}: {error.read()[-1500:]!r}"
    if answer is not None:
        with answer:
            return 0, answer.read().decode()
    return port.exec(container, ["python3", SCRIPT_IN_CONTAINER], env={JOB_ENV: json.dumps(job)})


@dataclass(frozen=True)
class ClientGroup:
    """One client container on its own network, and the users it runs."""

    network: str
    container: ContainerSpec
    users: tuple[str, ...]
    reachable: bool = True  # False on an overlay network (a swarm's), which this machine does not route to

    @property
    def shares_address(self) -> bool:
        return len(self.users) > 1


def client_groups(lab: str, image: str, direct: int = DIRECT_CLIENTS, nat_users: int = NAT_USERS) -> list[ClientGroup]:
    """`direct` single-user clients, each on its own network, and one client whose users share an address."""
    parts = [(f"client-{i}", f"clients-{i}", (f"user-{i}",)) for i in range(1, direct + 1)]
    files = {SCRIPT_IN_CONTAINER: EVIDENCE_SCRIPT.read_text()}
    files.update({path: source.read_text() for path, source in COMPANIONS.items()})
    if nat_users:
        parts.append(("client-nat", "clients-nat", tuple(f"nat-{i}" for i in range(1, nat_users + 1))))
    return [
        ClientGroup(
            network=container_name(lab, network),
            container=ContainerSpec(
                name=container_name(lab, name),
                role="client",
                image=image,
                labels=labels(lab, "client"),
                command=("python3", SCRIPT_IN_CONTAINER, "serve", str(AGENT_PORT)),
                # The script's hash, so a client whose agent runs an older script is recreated.
                env={"LAB_EVIDENCE_SCRIPT": hashlib.sha256("".join(files.values()).encode()).hexdigest()[:12]},
                files=files,
                stop_timeout=1,
                **limits("client"),
            ),
            users=users,
        )
        for name, network, users in parts
    ]


class Clients:
    """The lab's client containers: make sure they exist, then run users in all of them at once.

    What they need of the lab is given: its engine's clients `port`, its `plan`, the demo user's `login`
    (name, password) and login page, the lab's CA (its text, when nginx serves https) and the network
    its engine says clients share (`LabEngine.client_network`). `Lab.clients()` gives them all.
    """

    def __init__(
        self,
        port: ClientsPort,
        plan: Plan,
        login: tuple[str, str],
        login_path: str,
        ca: str | None = None,
        shared_network: str | None = None,
        direct: int = DIRECT_CLIENTS,
        nat_users: int = NAT_USERS,
    ):
        self.port = port
        self.lab_name = plan.config.name
        self.login, self.login_path = login, login_path
        self.nginx = plan.nginx.name
        self.url = plan.nginx_url  # https://<lab>-nginx/ when nginx terminates TLS
        self.ca = ca
        self.groups = client_groups(self.lab_name, plan.client_image, direct, nat_users)
        # Where the engine's nginx is not on this machine's bridge networks, every client joins its network.
        self.shared_network = shared_network
        if self.shared_network:
            self.groups = [dataclasses.replace(group, network=self.shared_network, reachable=False) for group in self.groups]
        self._ensured_for: str | None = None  # the nginx container the clients were last attached to

    def ensure(self) -> None:
        """Create the client networks and containers, and attach nginx to every client network.

        Once done for the running nginx, a second call costs one look-up (a matrix calls it per cell).
        """
        port = self.port  # client containers run on this machine, whatever runs the lab
        if self.shared_network:
            if self._ensured_for != self.shared_network:
                in_parallel(lambda group: port.ensure_client(group.container, group.network), self.groups)
                self._ensured_for = self.shared_network
            return
        nginx_id = port.container_id(self.nginx)
        if nginx_id is not None and nginx_id == self._ensured_for:
            return

        def one(group: ClientGroup) -> None:
            # The script is among the container's files.
            port.ensure_client(group.container, group.network, labels(self.lab_name, "client-network"))
            port.attach(group.network, self.nginx)

        in_parallel(one, self.groups)
        self._ensured_for = nginx_id

    def run(
        self, requests_count: int = 20, seconds: float = 60, pause: float = 0.0, idle: float = 0.0, probe: str = WHOAMI
    ) -> list[UserEvidence]:
        """Every user logs in through the site's login page and requests `probe` `requests_count` times;
        all clients at once."""
        username, password = self.login
        login_path = self.login_path

        def one(group: ClientGroup) -> list[UserEvidence]:
            job = {
                "url": self.url,
                "ca": self.ca,
                "username": username,
                "password": password,
                "names": list(group.users),
                "requests_count": requests_count,
                "seconds": seconds,
                "pause": pause,
                "idle": idle,
                "login_path": login_path,
                "probe": probe,
            }
            code, output = run_job(self.port, group, job)
            if code != 0:
                raise EngineError(f"virtual users in {group.container.name} failed (exit {code}):\n{output[-2000:]}")
            address = self.port.address(group.container.name, group.network)
            found = [UserEvidence.from_dict(item) for item in json.loads(output.strip().splitlines()[-1])]
            for evidence in found:
                evidence.client, evidence.address = group.container.name, address
            return found

        return [user for group in in_parallel(one, self.groups) for user in group]

    def flood(self, count: int, seconds: float = 60) -> dict:
        """`count` anonymous visits from the first client, each making a new session; bounded in time."""
        group = self.groups[0]
        job = {"flood": True, "url": self.url, "ca": self.ca, "count": count, "seconds": seconds}
        code, output = run_job(self.port, group, job)
        if code != 0:
            raise EngineError(f"the session flood from {group.container.name} failed (exit {code}):\n{output[-2000:]}")
        return json.loads(output.strip().splitlines()[-1])

    def chat(self, room: str, listen: float = 3.0, messages: int = 1) -> list[dict]:
        """Every user joins `room` of the lab's channel probe at once, sends its name at the same moment,
        and records what it gets for `listen` seconds: [{name, node, received: [{text, from, to}], error}]."""
        send_at = time.time() + 3.0  # every client connected by then (one wall clock: this machine's)
        job = {"channel": True, "url": self.url, "ca": self.ca, "room": room, "send_at": send_at,
               "listen_until": send_at + listen, "messages": messages}

        def one(group: ClientGroup) -> list[dict]:
            code, output = run_job(self.port, group, {**job, "names": list(group.users)})
            if code != 0:
                raise EngineError(f"chat users in {group.container.name} failed (exit {code}):\n{output[-2000:]}")
            return json.loads(output.strip().splitlines()[-1])

        return [user for group in in_parallel(one, self.groups) for user in group]
