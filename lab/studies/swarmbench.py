"""`lab bench swarm`: the lab on the swarm of test hosts (`make swarm-hosts HOSTS=3`) against the
same lab on one engine, against targets; no test times these.

- cold up: the first `lab up --engine swarm` (images pushed to the registry and pulled on every host);
- warm up: `lab up` again with nothing changed (target under 20 s);
- switch: redis <-> memcached, nodes replaced by swarm (target under 10 s);
- load: the same wrk load (redis, round_robin) on one engine and on the swarm: the overlay's cost.

Returns the figures; lab.reports.bench_figures prints them.
"""

from __future__ import annotations

from lab.engines.host import free_port
from lab.errors import ConfigError
from lab.model.config import LabConfig
from lab.run.lab import Lab
from lab.run.state import StateStore
from lab.studies.loadbench import LoadBench
from lab.studies.timing import timed

TARGETS = {"warm up": 20.0, "switch": 10.0}


def run(rounds: int = 3, seconds: float = 5.0, progress=lambda line: None) -> tuple[dict[str, list[float]], dict[str, dict]]:
    """Time the swarm lab's life cycle and load it; the same load on one engine; both labs removed after."""
    swarm = Lab("bench-swarm", states=StateStore(), progress=lambda line: None)
    local = Lab("bench-local", states=StateStore(), progress=lambda line: None)
    config = LabConfig(name=swarm.name, nodes=3, backend="redis", port=free_port(), engine="swarm")
    hosts = swarm.engine_of(config).swarm_hosts
    if len(hosts()) < 2:
        raise ConfigError("the swarm benchmark needs test hosts: run `make swarm-hosts HOSTS=3` first")
    figures: dict[str, list[float]] = {"cold up": [], "warm up": [], "switch": []}
    load: dict[str, dict] = {}
    try:
        swarm.down()
        figures["cold up"].append(timed(lambda: swarm.up(config)))
        progress(f"cold up on {', '.join(hosts())}: {figures['cold up'][-1]:.1f} s")
        for number in range(rounds):
            figures["warm up"].append(timed(lambda: swarm.up()))
            figures["switch"].append(timed(lambda: swarm.switch(backend="memcached")))
            figures["switch"].append(timed(lambda: swarm.switch(backend="redis")))
            progress(f"round {number + 1}: warm up {figures['warm up'][-1]:.2f} s, switches {figures['switch'][-2]:.2f} s "
                     f"and {figures['switch'][-1]:.2f} s")
        load["swarm"] = LoadBench(swarm, seconds).cell("redis", "round_robin")
        progress(f"load on the swarm: {load['swarm']['requests_per_s']} req/s, p50 {load['swarm']['p50_ms']} ms")
        swarm.down()
        local.down()
        local.up(LabConfig(name=local.name, nodes=3, backend="redis", port=free_port()))
        load["one engine"] = LoadBench(local, seconds).cell("redis", "round_robin")
        progress(f"load on one engine: {load['one engine']['requests_per_s']} req/s, p50 {load['one engine']['p50_ms']} ms")
    finally:
        swarm.down()
        local.down()
    return figures, load
