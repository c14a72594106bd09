"""`lab bench profile`: where `up`, `switch` and a matrix cell spend their time, against their floors.

Each round measures the floor of `up` (the engine's `up_floor`: plain calls, none of the lab's
bookkeeping), a warm `up`, a `switch` and a `down`; the engine's stopwatch says where the last round's
time went. Then two matrix cells against the virtual users' traffic alone, and, when asked, the whole
matrix. Returns the figures; lab.reports.bench_figures renders them.
"""

from __future__ import annotations

import time

from lab.engines.host import free_port
from lab.engines.images import image_specs
from lab.model.config import LabConfig
from lab.model.plan import build_plan
from lab.run.lab import Lab
from lab.run.state import StateStore, new_secrets
from lab.studies.matrix import run_cell
from lab.studies.timing import first_healthy, timed
from lab.verdicts.cells import all_cells


def django_load_seconds(lab: Lab) -> list[float]:
    """What loading the site and Django took in each node's last start (its own log line)."""
    found = []
    for index in range(1, lab.config().nodes + 1):
        lines = [l for l in lab.logs(f"node-{index}", tail=400).splitlines() if "lab-node: django loaded in" in l]
        if lines:
            found.append(float(lines[-1].split("loaded in ")[1].split()[0]))
    return found


def profile(rounds: int, matrix: bool, progress=lambda line: None, lab: Lab | None = None) -> dict:
    """Every figure: per-round seconds ("figures"), where the last round's `up` and `switch` spent their
    time ("steps": title -> (seconds, stopwatch steps)), two matrix cells against traffic alone."""
    config = LabConfig(name="bench-profile", port=free_port(), backend="redis", nodes=3)
    lab = lab or Lab(config.name, states=StateStore())
    engine = lab.engine_of(config)
    tags = engine.build_images(config, list(image_specs(config)), progress)
    lab.down()
    figures: dict[str, list[float]] = {"up floor": [], "warm up": [], "switch": [], "down": []}
    steps: dict[str, tuple[float, dict]] = {}
    for round_number in range(1, rounds + 1):
        figures["up floor"].append(engine.up_floor(build_plan(config, new_secrets(), tags)))
        engine.remove_lab(config.name)
        engine.stopwatch.take()
        figures["warm up"].append(timed(lambda: (lab.up(config), first_healthy(lab.url(config)))))
        steps["warm up (last round)"] = (figures["warm up"][-1], engine.stopwatch.take())
        loaded = django_load_seconds(lab)
        figures["switch"].append(timed(lambda: lab.switch(backend="memcached")))
        steps["switch redis -> memcached (last round)"] = (figures["switch"][-1], engine.stopwatch.take())
        figures["down"].append(timed(lab.down))
        progress(
            f"round {round_number}: floor {figures['up floor'][-1]:.2f} s, up {figures['warm up'][-1]:.2f} s, "
            f"switch {figures['switch'][-1]:.2f} s, down {figures['down'][-1]:.2f} s; "
            f"django loaded in {', '.join(f'{s:.2f}' for s in loaded)} s per node"
        )

    lab.up(config)
    clients = lab.clients()
    clients.ensure()
    run_cell(lab, clients, "redis", "round_robin")
    cells = {}
    for backend, balance, what in (("redis", "ip_hash", "balance change"), ("memcached", "ip_hash", "backend change")):
        engine.stopwatch.take()
        result = run_cell(lab, clients, backend, balance)
        cells[what] = result.seconds
        steps[f"matrix cell {backend}/{balance} ({what})"] = (result.seconds, engine.stopwatch.take())
    traffic = [timed(lambda: clients.run(20, seconds=60)) for _ in range(3)]
    matrix_seconds = None
    if matrix:
        started = time.monotonic()
        for backend, balance in all_cells():
            run_cell(lab, clients, backend, balance)
        matrix_seconds = time.monotonic() - started
    lab.down()
    return {"rounds": rounds, "figures": figures, "steps": steps, "cells": cells, "traffic": traffic,
            "matrix_seconds": matrix_seconds, "matrix_cells": len(all_cells())}
