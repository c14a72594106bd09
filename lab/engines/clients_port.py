"""ClientsPort: what virtual users need of an engine, and no more. Client containers run on this
machine, on networks of their own (lab.traffic.clients says which); a study that drives them takes this
port, not the whole engine.

`DockerClients` is the port on a Docker connection: the local and the swarm engine both hand it out,
since a swarm lab's clients run on this machine too (they join the stack's attachable network).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Iterator, Sequence

from lab.model.plan import ContainerSpec


class ClientsPort(ABC):
    """Client containers: made, given files, asked to run commands, attached to networks."""

    @abstractmethod
    def ensure_client(self, spec: ContainerSpec, network: str, network_labels: dict | None = None) -> str:
        """Make the client container `spec` run on `network` (created first, with these labels, when
        given); "kept", "started", "created" or "recreated"."""

    @abstractmethod
    def attach(self, network: str, container: str) -> None:
        """Connect a container (nginx, a client) to another network, unless it is on it already."""

    @abstractmethod
    def container_id(self, container: str) -> str | None:
        """The container's id, or None when there is none of that name (a new nginx has a new id)."""

    @abstractmethod
    def address(self, container: str, network: str) -> str:
        """The container's address on `network`, "" when it has none there."""

    @abstractmethod
    def put_file(self, container: str, path: str, content: str) -> None:
        """Write one text file into a client container."""

    @abstractmethod
    def exec(self, container: str, command: Sequence[str], env: dict | None = None) -> tuple[int, str]:
        """Run a command in a client container; (exit code, output). Secrets go in `env`."""

    @abstractmethod
    def exec_stream(self, container: str, command: Sequence[str], env: dict | None = None) -> Iterator[str]:
        """Run a command in a client container and yield its output line by line, as it comes."""


class DockerClients(ClientsPort):
    """Client containers on one Docker connection (a DockerEngine, or anything with its container calls)."""

    def __init__(self, docker) -> None:
        self.docker = docker

    def ensure_client(self, spec: ContainerSpec, network: str, network_labels: dict | None = None) -> str:
        if network_labels is not None:
            self.docker.ensure_network(network, network_labels)
        return self.docker.ensure_container(spec, network)

    def attach(self, network: str, container: str) -> None:
        self.docker.connect(network, container)

    def container_id(self, container: str) -> str | None:
        return self.docker.container_id(container)

    def address(self, container: str, network: str) -> str:
        return self.docker.address(container, network)

    def put_file(self, container: str, path: str, content: str) -> None:
        self.docker.put_file(container, path, content)

    def exec(self, container: str, command: Sequence[str], env: dict | None = None) -> tuple[int, str]:
        return self.docker.exec(container, command, env=env)

    def exec_stream(self, container: str, command: Sequence[str], env: dict | None = None) -> Iterator[str]:
        return self.docker.exec_stream(container, command, env=env)
