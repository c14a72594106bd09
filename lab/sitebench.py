"""`python -m lab.bench site`: what running your own site costs, on the tutorial-shaped fixture site
(six requirements, Django 5.1, WhiteNoise). Prints figures against targets; no test times these.

- cold: the site's two layers (requirements, code) built without Docker's cache;
- fresh up: `lab up --site` on a machine that has the images (no lab yet);
- warm up: `lab up --site` again with nothing changed (target under 5 s);
- code change: a template edited, then `lab up` rebuilds the code layer and rolls it onto the nodes, until
  nginx serves the new code (target under 15 s).
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path

from .config import PROJECT_ROOT, LabConfig
from .engine import DockerEngine
from .evidence import VirtualUser
from .host import free_port
from .images import ensure_images, image_specs
from .lab import Lab
from .state import StateStore

FIXTURE = PROJECT_ROOT / "tests" / "sites" / "tutorial"
TARGETS = {"warm up": 5.0, "code change": 15.0}


def _serves(url: str, lab: Lab, text: str) -> bool:
    user = VirtualUser(url, login_path=lab.login_path(), probe="/")
    user.login(*lab.login())
    return text.encode() in user._request("")[2]


def run(rounds: int = 3, progress=print) -> dict[str, list[float]]:
    """Time the site's life cycle on a copy of the fixture; the lab and the copy are removed after."""
    engine = DockerEngine()
    figures: dict[str, list[float]] = {"cold build": [], "fresh up": [], "warm up": [], "code change": []}
    with tempfile.TemporaryDirectory(prefix="lab-bench-site-") as folder:
        site = Path(folder) / "tutorial"
        shutil.copytree(FIXTURE, site)
        config = LabConfig(name="bench-site", site=str(site), port=free_port(), nodes=3)
        lab = Lab(config.name, engine=engine, states=StateStore())
        lab.down()
        keys = [key for key in image_specs(config) if key in ("site-deps", "site")]
        ensure_images(engine, config, ["node"], progress)
        started = time.monotonic()
        ensure_images(engine, config, keys, lambda line: None, rebuild=True)
        figures["cold build"].append(time.monotonic() - started)
        progress(f"cold build of the site's layers ({', '.join(keys)}): {figures['cold build'][-1]:.1f} s")
        try:
            for number in range(1, rounds + 1):
                started = time.monotonic()
                lab.up(config)
                figures["fresh up"].append(time.monotonic() - started)
                started = time.monotonic()
                lab.up(config)
                figures["warm up"].append(time.monotonic() - started)
                template = site / "notes" / "templates" / "notes" / "home.html"
                template.write_text(re_mark(template.read_text(), number))
                started = time.monotonic()
                lab.up(config)
                if not _serves(config.url, lab, f"round {number}"):
                    raise RuntimeError("the new code is not served after `lab up`")
                figures["code change"].append(time.monotonic() - started)
                progress(
                    f"round {number}: fresh up {figures['fresh up'][-1]:.2f} s, warm up {figures['warm up'][-1]:.2f} s, "
                    f"code change rolled out {figures['code change'][-1]:.2f} s"
                )
                lab.down()
        finally:
            lab.down()
    return figures


def re_mark(template: str, number: int) -> str:
    """The home page says which round's code serves it."""
    marker = "<!-- round -->"
    head, _, _ = template.partition(marker)
    return f"{head.rstrip()}\n{marker}<p>round {number}</p>\n"


def print_table(figures: dict[str, list[float]], machine: str) -> None:
    print(f"\nyour own site (tests/sites/tutorial: six requirements, Django 5.1) on {machine}")
    print(f"{'step':12} {'median':>8} {'min':>8} {'max':>8} {'runs':>5} {'target':>9}")
    for step, values in figures.items():
        if values:
            target = f"< {TARGETS[step]:.0f} s" if step in TARGETS else ""
            print(
                f"{step:12} {statistics.median(values):7.2f}s {min(values):7.2f}s {max(values):7.2f}s "
                f"{len(values):5} {target:>9}"
            )
