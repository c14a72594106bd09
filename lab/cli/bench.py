"""`lab bench ...`: one command function per benchmark. Each runs its study (lab.studies), renders what
it returned (lab.reports) and prints it; errors reach the `lab` command's one boundary (lab.cli.main),
like every other command's. The arguments are in lab.cli.parser (`add_bench_parser`)."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

from lab.engines.choice import describe_machine
from lab.engines.host import free_port
from lab.errors import LabError
from lab.model.config import LabConfig
from lab.run.lab import Lab


def say(line: str) -> None:
    print(line, flush=True)


def bench_lifecycle(args: argparse.Namespace) -> None:
    """`lab bench lifecycle`: image build, up, switch and down, timed."""
    from lab.reports.bench_figures import lifecycle_table
    from lab.studies.lifecycle import lifecycle

    figures = lifecycle(args.rounds, cold=not args.no_cold, progress=say)
    print(lifecycle_table(figures, describe_machine()))


def bench_profile(args: argparse.Namespace) -> None:
    """`lab bench profile`: where up, switch and a matrix cell spend their time, against floors."""
    from lab.reports.bench_figures import profile_report
    from lab.studies.profile import profile

    say(f"profile on {describe_machine()}")
    print(profile_report(profile(args.rounds, args.matrix, progress=say)))


def bench_load(args: argparse.Namespace) -> None:
    """`lab bench load`: a fresh lab named bench-load, the load benchmark on it, its report, and the lab removed."""
    from lab.reports.bench import table, write_bench_reports
    from lab.studies.loadbench import run

    lab = Lab("bench-load", progress=lambda line: None)
    try:
        lab.down()
        lab.up(LabConfig(name="bench-load", port=free_port(), nodes=3, workers=2))
        machine = describe_machine()
        say(f"load benchmark ({'quick' if args.quick else 'full'}) on {machine}")
        results = run(lab, args.quick, progress=say)
        results["meta"]["machine"] = machine
    finally:
        lab.down()
    print("\n" + table(results))
    print(f"report: {write_bench_reports(results)['html']}")


def bench_site(args: argparse.Namespace) -> None:
    """`lab bench site`: per fixture site, what running it costs."""
    from lab.reports.bench_figures import site_table
    from lab.studies import sitebench

    figures = sitebench.run(args.rounds, progress=say, only=args.only)
    print(site_table(figures, describe_machine()))


def bench_swarm(args: argparse.Namespace) -> None:
    """`lab bench swarm`: the lab on the swarm's test hosts against one engine."""
    from lab.reports.bench_figures import swarm_table
    from lab.studies import swarmbench

    figures, load = swarmbench.run(args.rounds, progress=say)
    print(swarm_table(figures, load, describe_machine()))


def bench_production(args: argparse.Namespace) -> None:
    """`lab bench production`: a rolling deploy, a slow store, WebSocket messages per second."""
    from lab.reports.bench_figures import production_table
    from lab.studies import productionbench

    results = productionbench.run(args.rounds, args.site, progress=say, fixed_copy=fixed_copy if args.with_fix else None)
    print(production_table(results, describe_machine()))


def fixed_copy(lab: Lab, folder: Path) -> Path:
    """A copy of the lab's site with the lab's own readiness fix applied (`lab readiness --fix`)."""
    from lab.reports.fixes import build_patch, plain_requirements
    from lab.studies.readiness import assess

    findings, seen = assess(lab)
    copy = Path(tempfile.mkdtemp(prefix="lab-bench-fixed-")) / folder.name
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns(".lab"))
    site = lab.project()
    patch = build_patch(copy, site.settings, findings, seen, requirements=plain_requirements(site))
    (copy / "lab-fix.patch").write_text(patch.text)
    applied = subprocess.run(["git", "apply", "lab-fix.patch"], cwd=copy, capture_output=True, text=True)
    if applied.returncode != 0:
        raise LabError(f"the readiness fix did not apply to a copy of {folder}: {applied.stderr.strip()}")
    return copy


BENCHES = {
    "lifecycle": bench_lifecycle,
    "load": bench_load,
    "profile": bench_profile,
    "site": bench_site,
    "swarm": bench_swarm,
    "production": bench_production,
}
