"""Which engine runs a lab: the one place that reads the kind a lab asked for (`--engine`)."""

from __future__ import annotations

from lab.engines.docker import DockerEngine
from lab.engines.interface import LabEngine
from lab.engines.local import LocalEngine
from lab.engines.swarm import SwarmEngine
from lab.errors import ConfigError
from lab.model.config import LabConfig

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
