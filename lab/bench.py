"""Benchmarks that print figures. `python -m lab.bench lifecycle` times the lab's own life cycle:
a cold image build, then rounds of warm `up` (to the first healthy answer through nginx), `switch`
(redis to memcached) and `down`."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import urllib.request

from .config import LabConfig
from .engine import DockerEngine
from .errors import LabError
from .images import ensure_images, image_specs
from .lab import Lab, free_port
from .state import StateStore

TARGETS = {"warm up": 8.0, "switch": 4.0, "down": 3.0}


def timed(action) -> float:
    started = time.monotonic()
    action()
    return time.monotonic() - started


def first_healthy(url: str) -> None:
    """Confirm, from outside the lab's own code, that nginx answers /health with 200."""
    with urllib.request.urlopen(url + "health", timeout=5) as answer:
        if answer.status != 200:
            raise LabError(f"{url}health answered {answer.status}")


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
        figures["warm up"].append(timed(lambda: (lab.up(config), first_healthy(config.url))))
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.bench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    life = commands.add_parser("lifecycle", help="time image build, up, switch and down")
    life.add_argument("--rounds", type=int, default=3, help="rounds of up/switch/down (default 3)")
    life.add_argument("--no-cold", action="store_true", help="skip the cold image build")
    load = commands.add_parser("load", help="throughput and latency per session backend and balancing mode")
    load.add_argument("--quick", action="store_true", help="four backends, 3 s each (about a minute)")
    args = parser.parse_args(argv)
    if args.command == "load":
        return load_main(args.quick)
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
    from .bench_report import table, write_bench_reports
    from .loadbench import run

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


if __name__ == "__main__":
    sys.exit(main())
