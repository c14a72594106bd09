"""Client containers: where virtual users run, on networks of their own, so nginx sees real addresses.

From this machine every request reaches nginx from one gateway address, which makes `ip_hash`
meaningless. So users run inside containers: each "direct" client sits on its own network (its own
/24, since nginx's ip_hash keys on the first three octets), and one "NAT" client carries several
users behind a single address. The clients carry the lab's labels; `lab down` removes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .errors import EngineError
from .evidence import JOB_ENV, UserEvidence
from .lab import Lab, in_parallel
from .plan import ContainerSpec, container_name, labels, limits

EVIDENCE_SCRIPT = Path(__file__).with_name("evidence.py")
SCRIPT_IN_CONTAINER = "/tmp/lab_evidence.py"
DIRECT_CLIENTS = 6
NAT_USERS = 3
# PID 1 ignores SIGTERM unless it traps it; trapping lets `docker stop` end a client at once.
IDLE = ("bash", "-c", "trap 'exit 0' TERM; sleep infinity & wait")


def run_job(engine, container: str, job: dict) -> tuple[int, str]:
    """Run evidence.py in a client container with `job` in its environment: the job holds the demo
    password, and a command line is visible to every user of the host."""
    return engine.exec(container, ["python3", SCRIPT_IN_CONTAINER], env={JOB_ENV: json.dumps(job)})


@dataclass(frozen=True)
class ClientGroup:
    """One client container on its own network, and the users it runs."""

    network: str
    container: ContainerSpec
    users: tuple[str, ...]

    @property
    def shares_address(self) -> bool:
        return len(self.users) > 1


def client_groups(lab: str, image: str, direct: int = DIRECT_CLIENTS, nat_users: int = NAT_USERS) -> list[ClientGroup]:
    """`direct` single-user clients, each on its own network, and one client whose users share an address."""
    parts = [(f"client-{i}", f"clients-{i}", (f"user-{i}",)) for i in range(1, direct + 1)]
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
                command=IDLE,
                stop_timeout=1,
                **limits("client"),
            ),
            users=users,
        )
        for name, network, users in parts
    ]


class Clients:
    """The lab's client containers: make sure they exist, then run users in all of them at once."""

    def __init__(self, lab: Lab, direct: int = DIRECT_CLIENTS, nat_users: int = NAT_USERS):
        self.lab = lab
        plan = lab.plan()
        self.nginx = plan.nginx.name
        self.groups = client_groups(lab.name, plan.nodes[0].image, direct, nat_users)
        self._ensured_for: str | None = None  # the nginx container the clients were last attached to

    def ensure(self) -> None:
        """Create the client networks and containers, and attach nginx to every client network.

        Once done for the running nginx, a second call costs one look-up (a matrix calls it per cell).
        """
        engine = self.lab.engine
        nginx_id = engine.container_id(self.nginx)
        if nginx_id is not None and nginx_id == self._ensured_for:
            return

        def one(group: ClientGroup) -> None:
            engine.ensure_network(group.network, labels(self.lab.name, "client-network"))
            engine.ensure_container(group.container, group.network)
            engine.connect(group.network, self.nginx)
            engine.put_file(group.container.name, SCRIPT_IN_CONTAINER, EVIDENCE_SCRIPT.read_text())

        in_parallel(one, self.groups)
        self._ensured_for = nginx_id

    def run(
        self, requests_count: int = 20, seconds: float = 60, pause: float = 0.0, idle: float = 0.0
    ) -> list[UserEvidence]:
        """Every user logs in through nginx and makes `requests_count` requests; all clients at once."""
        username, password = self.lab.login()
        engine = self.lab.engine

        def one(group: ClientGroup) -> list[UserEvidence]:
            job = {
                "url": f"http://{self.nginx}/",
                "username": username,
                "password": password,
                "names": list(group.users),
                "requests_count": requests_count,
                "seconds": seconds,
                "pause": pause,
                "idle": idle,
            }
            code, output = run_job(engine, group.container.name, job)
            if code != 0:
                raise EngineError(f"virtual users in {group.container.name} failed (exit {code}):\n{output[-2000:]}")
            address = engine.address(group.container.name, group.network)
            found = [UserEvidence.from_dict(item) for item in json.loads(output.strip().splitlines()[-1])]
            for evidence in found:
                evidence.client, evidence.address = group.container.name, address
            return found

        return [user for group in in_parallel(one, self.groups) for user in group]

    def flood(self, count: int, seconds: float = 60) -> dict:
        """`count` anonymous visits from the first client, each making a new session; bounded in time."""
        group = self.groups[0]
        job = {"flood": True, "url": f"http://{self.nginx}/", "count": count, "seconds": seconds}
        code, output = run_job(self.lab.engine, group.container.name, job)
        if code != 0:
            raise EngineError(f"the session flood from {group.container.name} failed (exit {code}):\n{output[-2000:]}")
        return json.loads(output.strip().splitlines()[-1])
