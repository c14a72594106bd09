"""Benchmarks that print figures (`lab bench ...`). `lab bench lifecycle` times the lab's own life cycle:
a cold image build, then rounds of warm `up` (to the first healthy answer through nginx), `switch`
(redis to memcached) and `down`."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import urllib.request

from lab.engines.docker import DockerEngine
from lab.engines.host import free_port
from lab.engines.images import ensure_images, image_specs
from lab.errors import LabError
from lab.model.config import LabConfig
from lab.model.plan import HEALTH
from lab.run.lab import Lab
from lab.run.state import StateStore

TARGETS = {"warm up": 3.0, "switch": 1.5, "down": 2.0}


def timed(action) -> float:
    started = time.monotonic()
    action()
    return time.monotonic() - started


def first_healthy(url: str) -> None:
    """Confirm, from outside the lab's own code, that nginx answers a node's health check with 200."""
    with urllib.request.urlopen(url + HEALTH, timeout=5) as answer:
        if answer.status != 200:
            raise LabError(f"{url}{HEALTH} answered {answer.status}")


def lifecycle(rounds: int, cold: bool) -> dict[str, list[float]]:
    engine = DockerEngine()
    figures: dict[str, list[float]] = {"cold build": [], "warm up": [], "switch": [], "down": []}
    config = LabConfig(name="bench-lifecycle", port=free_port(), backend="redis", nodes=3)
    if cold:
        print("cold image build: every lab image without Docker's cache (the Debian base is kept)", flush=True)
        keys = list(image_specs(config))
        figures["cold build"].append(
            timed(lambda: ensure_images(engine, config, keys, lambda line: None, rebuild=True))
        )
    else:
        ensure_images(engine, config, list(image_specs(config)), print)
    lab = Lab(config.name, engine=engine, states=StateStore())
    lab.down()
    for round_number in range(1, rounds + 1):
        figures["warm up"].append(timed(lambda: (lab.up(config), first_healthy(lab.url(config)))))
        figures["switch"].append(timed(lambda: lab.switch(backend="memcached")))
        figures["down"].append(timed(lab.down))
        print(
            f"round {round_number}: up {figures['warm up'][-1]:.2f} s, switch {figures['switch'][-1]:.2f} s, "
            f"down {figures['down'][-1]:.2f} s",
            flush=True,
        )
    return figures


def print_table(figures: dict[str, list[float]], machine: str) -> None:
    print(f"\nlab life cycle on {machine}")
    print(f"{'step':12} {'median':>8} {'min':>8} {'max':>8} {'runs':>5} {'target':>8}")
    for step, values in figures.items():
        if not values:
            continue
        target = f"<= {TARGETS[step]:.0f} s" if step in TARGETS else ""
        print(
            f"{step:12} {statistics.median(values):7.2f}s {min(values):7.2f}s {max(values):7.2f}s "
            f"{len(values):5} {target:>8}"
        )


def django_load_seconds(lab: Lab) -> list[float]:
    """What loading the site and Django took in each node's last start (its own log line)."""
    found = []
    for index in range(1, lab.config().nodes + 1):
        lines = [l for l in lab.logs(f"node-{index}", tail=400).splitlines() if "lab-node: django loaded in" in l]
        if lines:
            found.append(float(lines[-1].split("loaded in ")[1].split()[0]))
    return found


def print_profile(title: str, seconds: float, steps: dict) -> None:
    """One operation's wall time and where its time went, busiest step first."""
    print(f"\n{title}: {seconds:.2f} s wall")
    print(f"  {'step':34} {'runs':>5} {'busy s':>8} {'longest s':>10}")
    for name, figures in sorted(steps.items(), key=lambda item: -item[1].total):
        print(f"  {name:34} {figures.count:5} {figures.total:8.2f} {figures.longest:10.2f}")


def profile(rounds: int, matrix: bool) -> None:
    """Profile up, switch and matrix cells against their floors; print every figure and ratio."""
    from lab.engines.images import image_specs as specs_for
    from lab.model.plan import build_plan
    from lab.run.state import new_secrets
    from lab.studies.floor import up_floor
    from lab.studies.matrix import run_cell
    from lab.traffic.clients import Clients
    from lab.verdicts.cells import all_cells

    engine = DockerEngine()
    config = LabConfig(name="bench-profile", port=free_port(), backend="redis", nodes=3)
    ensure_images(engine, config, list(image_specs(config)), print)
    lab = Lab(config.name, engine=engine, states=StateStore())
    lab.down()
    tags = {key: spec.tag for key, spec in specs_for(config).items()}
    figures: dict[str, list[float]] = {"up floor": [], "warm up": [], "switch": [], "down": []}
    last: dict[str, tuple[float, dict]] = {}
    for round_number in range(1, rounds + 1):
        figures["up floor"].append(up_floor(engine, build_plan(config, new_secrets(), tags)))
        engine.remove_lab(config.name)
        engine.stopwatch.take()
        figures["warm up"].append(timed(lambda: (lab.up(config), first_healthy(lab.url(config)))))
        last["warm up"] = (figures["warm up"][-1], engine.stopwatch.take())
        loaded = django_load_seconds(lab)
        figures["switch"].append(timed(lambda: lab.switch(backend="memcached")))
        last["switch redis -> memcached"] = (figures["switch"][-1], engine.stopwatch.take())
        figures["down"].append(timed(lab.down))
        print(
            f"round {round_number}: floor {figures['up floor'][-1]:.2f} s, up {figures['warm up'][-1]:.2f} s, "
            f"switch {figures['switch'][-1]:.2f} s, down {figures['down'][-1]:.2f} s; "
            f"django loaded in {', '.join(f'{s:.2f}' for s in loaded)} s per node",
            flush=True,
        )
    for title, (seconds, steps) in last.items():
        print_profile(f"{title} (last round)", seconds, steps)

    lab.up(config)
    clients = Clients(lab)
    clients.ensure()
    run_cell(lab, clients, "redis", "round_robin")
    cells = {}
    for backend, balance, what in (("redis", "ip_hash", "balance change"), ("memcached", "ip_hash", "backend change")):
        engine.stopwatch.take()
        result = run_cell(lab, clients, backend, balance)
        cells[what] = result.seconds
        print_profile(f"matrix cell {backend}/{balance} ({what})", result.seconds, engine.stopwatch.take())
    traffic = [timed(lambda: clients.run(20, seconds=60)) for _ in range(3)]
    matrix_seconds = None
    if matrix:
        started = time.monotonic()
        for backend, balance in all_cells():
            run_cell(lab, clients, backend, balance)
        matrix_seconds = time.monotonic() - started
    lab.down()

    median = statistics.median
    up, floor, switch, down = (median(figures[k]) for k in ("warm up", "up floor", "switch", "down"))
    print(f"\nfigures and floors (medians of {rounds} rounds)")
    print(f"  warm up                {up:6.2f} s   floor {floor:5.2f} s   ratio {up / floor:4.2f}   (targets: <= 3 s, <= 1.5 x floor)")
    print(f"  switch redis->memcached {switch:5.2f} s   down + up {down + up:5.2f} s   ratio {switch / (down + up):4.2f}   (target <= 0.3)")
    print(f"  down                   {down:6.2f} s")
    floor_traffic = median(traffic)
    for what, seconds in cells.items():
        print(f"  matrix cell, {what:15} {seconds:5.2f} s   traffic alone {floor_traffic:5.2f} s   ratio {seconds / floor_traffic:4.2f}")
    if matrix_seconds is not None:
        count = len(all_cells())
        print(
            f"  full matrix ({count} cells)   {matrix_seconds:6.1f} s   traffic alone {count * floor_traffic:6.1f} s   "
            f"ratio {matrix_seconds / (count * floor_traffic):4.2f}   (target <= 90 s)"
        )


def build_parser() -> argparse.ArgumentParser:
    """`lab bench`'s arguments: one subcommand per benchmark."""
    parser = argparse.ArgumentParser(prog="lab bench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    life = commands.add_parser("lifecycle", help="time image build, up, switch and down")
    life.add_argument("--rounds", type=int, default=3, help="rounds of up/switch/down (default 3)")
    life.add_argument("--no-cold", action="store_true", help="skip the cold image build")
    load = commands.add_parser("load", help="throughput and latency per session backend and balancing mode")
    load.add_argument("--quick", action="store_true", help="four backends, 3 s each (about a minute)")
    speed = commands.add_parser("profile", help="where up, switch and a matrix cell spend their time, against floors")
    speed.add_argument("--rounds", type=int, default=3, help="rounds of floor/up/switch/down (default 3)")
    speed.add_argument("--matrix", action="store_true", help="also time the full matrix (about 2 minutes)")
    own = commands.add_parser(
        "site", help="per fixture site: interpreter, build stage, cold build, image size, fresh and warm up, a code change"
    )
    own.add_argument("--rounds", type=int, default=2, help="code changes rolled out per fixture (default 2)")
    own.add_argument("--only", action="append", help="this fixture only (repeatable), e.g. --only wagtailsite")
    over = commands.add_parser("swarm", help="the lab on the swarm's test hosts: up, switch and load against one engine")
    over.add_argument("--rounds", type=int, default=3, help="rounds of up/switch (default 3)")
    production = commands.add_parser(
        "production", help="a rolling deploy's time and failed requests, latency with a slow store, WebSocket messages per second"
    )
    production.add_argument("--rounds", type=int, default=3, help="rolling deploys (default 3)")
    production.add_argument("--site", action="append", default=[], help="an ASGI Channels site for the WebSocket figure (repeatable)")
    production.add_argument("--with-fix", action="store_true", help="each --site also with the lab's own readiness fix applied to a copy")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "production":
        from lab.studies import productionbench

        try:
            results = productionbench.run(args.rounds, args.site, progress=lambda line: print(line, flush=True),
                                          with_fix=args.with_fix)
        except LabError as error:
            print(f"bench: error: {error}", file=sys.stderr)
            return 1
        productionbench.print_table(results, f"{DockerEngine().describe()}, {os.cpu_count()} cores")
        return 0
    if args.command == "swarm":
        from lab.studies import swarmbench

        try:
            figures, load = swarmbench.run(args.rounds, progress=lambda line: print(line, flush=True))
        except LabError as error:
            print(f"bench: error: {error}", file=sys.stderr)
            return 1
        swarmbench.print_table(figures, load, f"{DockerEngine().describe()}, {os.cpu_count()} cores")
        return 0
    if args.command == "site":
        from lab.studies import sitebench

        try:
            figures = sitebench.run(args.rounds, progress=lambda line: print(line, flush=True), only=args.only)
        except LabError as error:
            print(f"bench: error: {error}", file=sys.stderr)
            return 1
        sitebench.print_table(figures, f"{DockerEngine().describe()}, {os.cpu_count()} cores")
        return 0
    if args.command == "load":
        return load_main(args.quick)
    if args.command == "profile":
        try:
            print(f"profile on {DockerEngine().describe()}, {os.cpu_count()} cores", flush=True)
            profile(args.rounds, args.matrix)
        except LabError as error:
            print(f"bench: error: {error}", file=sys.stderr)
            return 1
        return 0
    try:
        figures = lifecycle(args.rounds, cold=not args.no_cold)
        machine = f"{DockerEngine().describe()}, {os.cpu_count()} cores"
    except LabError as error:
        print(f"bench: error: {error}", file=sys.stderr)
        return 1
    print_table(figures, machine)
    return 0


def load_main(quick: bool) -> int:
    """A fresh lab named bench-load, the load benchmark on it, its report, and the lab removed."""
    from lab.reports.bench import table, write_bench_reports
    from lab.studies.loadbench import run

    lab = Lab("bench-load", progress=lambda line: None)
    try:
        lab.down()
        lab.up(LabConfig(name="bench-load", port=free_port(), nodes=3, workers=2))
        print(f"load benchmark ({'quick' if quick else 'full'}) on {DockerEngine().describe()}, {os.cpu_count()} cores", flush=True)
        results = run(lab, quick, progress=lambda line: print(line, flush=True))
        results["meta"]["machine"] = f"{DockerEngine().describe()}, {os.cpu_count()} cores"
    except LabError as error:
        print(f"bench: error: {error}", file=sys.stderr)
        return 1
    finally:
        lab.down()
    print("\n" + table(results))
    print(f"report: {write_bench_reports(results)['html']}")
    return 0
