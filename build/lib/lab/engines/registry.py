"""The registry of the lab's test hosts: Debian's docker-registry (Distribution 2.8) in a container on this
machine's engine, at 127.0.0.1:5000. Every engine trusts a registry on 127.0.0.0/8 without TLS, and
`make swarm-hosts` forwards 127.0.0.1:5000 of each test host to it, so one image name serves all hosts.

`python -m lab.engines.registry up|down` (make swarm-hosts / swarm-hosts-down). A real cluster names its own
registry with `lab export compose --registry HOST:PORT`.
"""

from __future__ import annotations

import sys

from lab.engines.docker import DockerEngine
from lab.engines.images import ensure_images
from lab.errors import LabError
from lab.model.config import LabConfig
from lab.model.plan import ContainerSpec, Mount, labels, limits

NAME = "lab-registry"
ADDRESS = "127.0.0.1:5000"
VOLUME = "lab-registry-data"
OWNER = "swarm-hosts"  # the registry belongs to the test hosts, not to one lab


def up(engine: DockerEngine, progress=print) -> str:
    """Start the registry unless it runs; return its address."""
    tag = ensure_images(engine, LabConfig(), ["registry"], progress)["registry"]
    engine.ensure_volume(VOLUME, labels(OWNER, "registry"))
    host, port = ADDRESS.split(":")
    spec = ContainerSpec(
        name=NAME,
        role="registry",
        image=tag,
        labels=labels(OWNER, "registry"),
        ports={5000: (host, int(port))},
        mounts=(Mount(VOLUME, "/var/lib/docker-registry"),),
        **limits("client"),
    )
    action = engine.ensure_container(spec, "bridge")
    progress(f"registry {action}: {ADDRESS}")
    return ADDRESS


def down(engine: DockerEngine, progress=print) -> None:
    """Remove the registry and what it stored."""
    removed = engine.remove_lab(OWNER)
    progress(f"registry removed ({removed['containers']} container, {removed['volumes']} volume)")


if __name__ == "__main__":
    try:
        {"up": up, "down": down}[sys.argv[1]](DockerEngine())
    except LabError as error:
        print(f"registry: error: {error}", file=sys.stderr)
        sys.exit(1)
