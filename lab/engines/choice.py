"""Which engine runs a lab: the one place that reads the kind a lab asked for (`--engine`), and the
connection to this machine's engine every kind is made on (`connection`), which nothing above the
engines reaches into."""

from __future__ import annotations

import os

from lab.engines.docker import DockerEngine
from lab.engines.interface import LabEngine
from lab.engines.local import LocalEngine
from lab.engines.swarm import SwarmEngine
from lab.errors import ConfigError
from lab.model.config import LabConfig

# The connection every kind of engine holds; opaque above lab/engines/.
Connection = DockerEngine

# lab.model.config.ENGINES validates the same names (tests/unit/test_engine_interface.py holds them together).
ENGINES: dict[str, type] = {engine.kind: engine for engine in (LocalEngine, SwarmEngine)}


def engine_for(config: LabConfig, docker: DockerEngine) -> LabEngine:
    """The engine `config` asks for, on the connection of `docker` (cheap: no new connection); an engine
    given whole (an in-memory one in tests) is used as it is."""
    if isinstance(docker, LabEngine):
        return docker
    if config.engine not in ENGINES:
        raise ConfigError(f"unknown engine {config.engine!r}; valid: {', '.join(ENGINES)}")
    return ENGINES[config.engine].over(docker)


def every_engine(docker: DockerEngine) -> list[LabEngine]:
    """Every kind of engine on `docker`'s connection: what removing a lab whose kind is unknown asks."""
    if isinstance(docker, LabEngine):
        return [docker]
    return [engine.over(docker) for engine in (SwarmEngine, LocalEngine)]  # a stack's clients go before its network


def connection() -> Connection:
    """A connection to this machine's Docker engine (it connects on first use)."""
    return DockerEngine()


def containers_of(lab: str) -> list[str]:
    """The names of lab `lab`'s containers on this machine's engine, sorted (clients and jobs too)."""
    return [row["name"] for row in DockerEngine().lab_containers(lab)]


def describe_machine() -> str:
    """This machine's engine and its cores, for a benchmark's heading."""
    return f"{DockerEngine().describe()}, {os.cpu_count()} cores"
