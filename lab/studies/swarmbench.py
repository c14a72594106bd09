"""`lab bench swarm`: the lab on the swarm of test hosts (`make swarm-hosts HOSTS=3`) against the
same lab on one engine. Prints figures against targets; no test times these.

- cold up: the first `lab up --engine swarm` (images pushed to the registry and pulled on every host);
- warm up: `lab up` again with nothing changed (target under 20 s);
- switch: redis <-> memcached, nodes replaced by swarm (target under 10 s);
- load: the same wrk load (redis, round_robin) on one engine and on the swarm: the overlay's cost.
"""

from __future__ import annotations

import statistics
import time

from lab.engines.docker import DockerEngine
from lab.engines.host import free_port
from lab.engines.swarm import SwarmEngine
from lab.errors import ConfigError
from lab.model.config import LabConfig
from lab.run.lab import Lab
from lab.run.state import StateStore
from lab.studies.loadbench import LoadBench

TARGETS = {"warm up": 20.0, "switch": 10.0}


def timed(action) -> float:
    started = time.monotonic()
    action()
    return time.monotonic() - started


def run(rounds: int = 3, seconds: float = 5.0, progress=print) -> tuple[dict[str, list[float]], dict[str, dict]]:
    """Time the swarm lab's life cycle and load it; the same load on one engine; both labs removed after."""
    engine = DockerEngine()
    hosts = SwarmEngine.over(engine).swarm_hosts
    if len(hosts()) < 2:
        raise ConfigError("the swarm benchmark needs test hosts: run `make swarm-hosts HOSTS=3` first")
    figures: dict[str, list[float]] = {"cold up": [], "warm up": [], "switch": []}
    load: dict[str, dict] = {}
    swarm = Lab("bench-swarm", engine=engine, states=StateStore(), progress=lambda line: None)
    local = Lab("bench-local", engine=engine, states=StateStore(), progress=lambda line: None)
    try:
        swarm.down()
        config = LabConfig(name=swarm.name, nodes=3, backend="redis", port=free_port(), engine="swarm")
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


def print_table(figures: dict[str, list[float]], load: dict[str, dict], machine: str) -> None:
    print(f"\nthe lab on a swarm of test hosts, on {machine}")
    print(f"{'step':10} {'median':>8} {'min':>8} {'max':>8} {'runs':>5} {'target':>9}")
    for step, values in figures.items():
        if values:
            target = f"< {TARGETS[step]:.0f} s" if step in TARGETS else ""
            print(f"{step:10} {statistics.median(values):7.2f}s {min(values):7.2f}s {max(values):7.2f}s {len(values):5} {target:>9}")
    print(f"\n{'load (redis, round_robin)':26} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for where, row in load.items():
        print(f"{where:26} {row['requests_per_s']:8} {row['p50_ms']:8} {row['p95_ms']:8} {row['p99_ms']:8} {row['errors']:7}")
    if len(load) == 2:
        extra = load["swarm"]["p50_ms"] - load["one engine"]["p50_ms"]
        print(f"the overlay's cost per request (median): {extra:+.2f} ms")
