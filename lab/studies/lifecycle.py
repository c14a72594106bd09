"""`lab bench lifecycle`: the lab's own life cycle, timed. A cold image build, then rounds of warm `up`
(to the first healthy answer through nginx), `switch` (redis to memcached) and `down`. Returns the
figures; lab.reports.bench_figures prints them against TARGETS."""

from __future__ import annotations

from lab.engines.host import free_port
from lab.engines.images import image_specs
from lab.model.config import LabConfig
from lab.run.lab import Lab
from lab.run.state import StateStore
from lab.studies.timing import first_healthy, timed

TARGETS = {"warm up": 3.0, "switch": 1.5, "down": 2.0}


def lifecycle(rounds: int, cold: bool, progress=lambda line: None, lab: Lab | None = None) -> dict[str, list[float]]:
    """Seconds per step and round, on a lab named bench-lifecycle (removed after each round)."""
    figures: dict[str, list[float]] = {"cold build": [], "warm up": [], "switch": [], "down": []}
    config = LabConfig(name="bench-lifecycle", port=free_port(), backend="redis", nodes=3)
    lab = lab or Lab(config.name, states=StateStore())
    engine = lab.engine_of(config)
    keys = list(image_specs(config))
    if cold:
        progress("cold image build: every lab image without Docker's cache (the Debian base is kept)")
        figures["cold build"].append(timed(lambda: engine.build_images(config, keys, lambda line: None, rebuild=True)))
    else:
        engine.build_images(config, keys, progress)
    lab.down()
    for round_number in range(1, rounds + 1):
        figures["warm up"].append(timed(lambda: (lab.up(config), first_healthy(lab.url(config)))))
        figures["switch"].append(timed(lambda: lab.switch(backend="memcached")))
        figures["down"].append(timed(lab.down))
        progress(
            f"round {round_number}: up {figures['warm up'][-1]:.2f} s, switch {figures['switch'][-1]:.2f} s, "
            f"down {figures['down'][-1]:.2f} s"
        )
    return figures
