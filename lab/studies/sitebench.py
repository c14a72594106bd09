"""`lab bench site`: what running real project shapes costs, per fixture site in tests/sites/.
Returns figures (lab.reports.bench_figures prints them against targets); no test times these.

Per fixture, on a copy of it (the repository's files stay as they are):
- the interpreter the lab chose, and why;
- the build stage: the builder image of that interpreter, built without Docker's cache (once per
  interpreter; every site on it reuses it);
- cold build: the site's own layers (requirements, code) without Docker's cache, the build stage present;
- the site image's size, and the node image's it starts from;
- fresh up: `lab up --site` with the images built, no lab yet;
- warm up: `lab up --site` again, nothing changed (target under 1 s);
- code change: a template or view edited, then `lab up` until nginx serves the new code (under 10 s);
- login: the demo user logs in through the site's own page and stays logged in across the nodes;
- findings: what `lab readiness` finds.
"""

from __future__ import annotations

import re
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from lab.engines.host import free_port
from lab.engines.images import image_specs
from lab.errors import LabError
from lab.model.config import PROJECT_ROOT, LabConfig
from lab.project.read import read_site
from lab.run.lab import Lab
from lab.run.state import StateStore
from lab.studies.readiness import assess
from lab.traffic.evidence import VirtualUser
from lab.verdicts.hazards import FOUND

SITES = PROJECT_ROOT / "tests" / "sites"
TARGETS = {"warm up": 1.0, "code change": 10.0}


@dataclass(frozen=True)
class Fixture:
    """A fixture site, what `lab up` needs for it, and a file to edit whose change a page shows."""

    name: str
    edit: str  # the file the code change edits
    page: str  # the page that shows it (logged in)
    marker_before: str = ""  # insert the marker before this text (inside a block); "" appends it
    env: tuple[tuple[str, str], ...] = ()
    env_file: str = ""


FIXTURES = [
    Fixture("tutorial", "notes/templates/notes/home.html", "/"),
    Fixture("allauthsite", "home/views.py", "/", marker_before="<h1>Hello"),
    Fixture("emailsite", "accounts/templates/registration/login.html", "/login/"),
    Fixture("uploads", "gallery/templates/registration/login.html", "/accounts/login/"),
    Fixture("wagtailsite", "home/templates/home/home_page.html", "/", marker_before="{% endblock content %}",
            env=(("DJANGO_SETTINGS_MODULE", "wagtailsite.settings.production"),)),
    Fixture("prodtemplate", "prodtemplate/templates/pages/home.html", "/", marker_before="{% endblock content %}",
            env=(("DJANGO_ADMIN_URL", "control/"),), env_file=".envs/.production/.django"),
]


@dataclass
class Figures:
    """One fixture's figures."""

    fixture: str
    python: str = ""
    build_stage: float | None = None
    cold_build: float = 0.0
    site_mb: float = 0.0
    node_mb: float = 0.0
    fresh_up: float = 0.0
    warm_up: list[float] = field(default_factory=list)
    code_change: list[float] = field(default_factory=list)
    login: str = ""
    findings: list[str] = field(default_factory=list)
    failed: str = ""


def _mark(fixture: Fixture, text: str, number: int) -> str:
    marker = f"lab-bench round {number}"
    text = re.sub(r"lab-bench round \d+", marker, text)
    if marker in text:
        return text
    if fixture.marker_before:
        return text.replace(fixture.marker_before, f"<!-- {marker} -->{fixture.marker_before}", 1)
    return text.rstrip("\n") + f"\n<!-- {marker} -->\n"


def _user(lab: Lab, probe: str) -> VirtualUser:
    user = VirtualUser(lab.url(), login_path=lab.login_path(), probe=probe)
    user.login(*lab.login())
    return user


def _serves(lab: Lab, fixture: Fixture, number: int) -> bool:
    return f"lab-bench round {number}".encode() in _user(lab, fixture.page)._request(fixture.page.lstrip("/"))[2]


def measure(fixture: Fixture, rounds: int, built_stages: set[str], progress) -> Figures:
    """Every figure of one fixture, on a copy of it; its lab is removed after."""
    figures = Figures(fixture.name)
    with tempfile.TemporaryDirectory(prefix="lab-bench-site-") as folder:
        site = Path(folder) / fixture.name
        shutil.copytree(SITES / fixture.name, site)
        env = list(fixture.env)
        if fixture.env_file:
            from lab.project.env_file import read

            env = [*read(str(site / fixture.env_file)), *env]
        config = LabConfig(name=f"bench-{fixture.name[:20]}", site=str(site), port=free_port(), nodes=3, env=tuple(env))
        figures.python = read_site(config.site, config.site_choices).interpreter.reason
        lab = Lab(config.name, states=StateStore())
        engine = lab.engine_of(config)
        lab.down()
        specs = image_specs(config)
        engine.build_images(config, ["node"], progress)
        if specs["builder"].tag not in built_stages:
            started = time.monotonic()
            engine.build_images(config, ["builder"], lambda line: None, rebuild=True)
            figures.build_stage = time.monotonic() - started
            built_stages.add(specs["builder"].tag)
        else:
            engine.build_images(config, ["builder"], progress)
        layers = [key for key in specs if key in ("site-deps", "site")]
        started = time.monotonic()
        engine.build_images(config, layers, lambda line: None, rebuild=True)
        figures.cold_build = time.monotonic() - started
        figures.site_mb, figures.node_mb = engine.image_mb(specs["site"].tag), engine.image_mb(specs["node"].tag)
        progress(f"{fixture.name}: {figures.python}; site layers built cold in {figures.cold_build:.1f} s")
        try:
            started = time.monotonic()
            lab.up(config)
            figures.fresh_up = time.monotonic() - started
            for _ in range(3):
                started = time.monotonic()
                lab.up(config)
                figures.warm_up.append(time.monotonic() - started)
            user = _user(lab, fixture.page)
            seen = user.browse(9).observations
            nodes = sorted({o.node for o in seen if o.user == lab.login()[0]})
            figures.login = f"{sum(1 for o in seen if o.user == lab.login()[0])}/{len(seen)} on {len(nodes)} nodes"
            edited = site / fixture.edit
            for number in range(1, rounds + 1):
                edited.write_text(_mark(fixture, edited.read_text(), number))
                started = time.monotonic()
                lab.up(config)
                if not _serves(lab, fixture, number):
                    raise RuntimeError(f"{fixture.name}: the new code is not served after `lab up`")
                figures.code_change.append(time.monotonic() - started)
            findings, _ = assess(lab)
            figures.findings = [finding.key for finding in findings if finding.level == FOUND]
            progress(
                f"{fixture.name}: fresh up {figures.fresh_up:.1f} s, warm up {statistics.median(figures.warm_up):.2f} s, "
                f"code change {statistics.median(figures.code_change):.1f} s, login {figures.login}"
            )
        finally:
            lab.down()
    return figures


def run(rounds: int = 2, progress=lambda line: None, only: list[str] | None = None) -> list[Figures]:
    """Figures for every fixture (or the named ones)."""
    built: set[str] = set()
    results = []
    for fixture in FIXTURES:
        if only and fixture.name not in only:
            continue
        try:
            results.append(measure(fixture, rounds, built, progress))
        except (LabError, RuntimeError) as error:  # one fixture's failure is a figure too; the others go on
            progress(f"{fixture.name}: failed: {error}")
            results.append(Figures(fixture.name, failed=str(error)))
    return results
