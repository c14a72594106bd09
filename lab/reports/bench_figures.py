"""The terminal reports of the benchmarks that print figures (`lab bench lifecycle|profile|production|
swarm|site`): each renders what its study returned (lab.studies.*) as text; the cli prints it. The load
benchmark's report, with files, is lab.reports.bench."""

from __future__ import annotations

import re
import statistics

from lab.studies.lifecycle import TARGETS as LIFECYCLE_TARGETS
from lab.studies.sitebench import Figures
from lab.studies.swarmbench import TARGETS as SWARM_TARGETS


def lifecycle_table(figures: dict[str, list[float]], machine: str) -> str:
    lines = [f"\nlab life cycle on {machine}", f"{'step':12} {'median':>8} {'min':>8} {'max':>8} {'runs':>5} {'target':>8}"]
    for step, values in figures.items():
        if not values:
            continue
        target = f"<= {LIFECYCLE_TARGETS[step]:.0f} s" if step in LIFECYCLE_TARGETS else ""
        lines.append(
            f"{step:12} {statistics.median(values):7.2f}s {min(values):7.2f}s {max(values):7.2f}s "
            f"{len(values):5} {target:>8}"
        )
    return "\n".join(lines)


def step_profile(title: str, seconds: float, steps: dict) -> str:
    """One operation's wall time and where its time went, busiest step first."""
    lines = [f"\n{title}: {seconds:.2f} s wall", f"  {'step':34} {'runs':>5} {'busy s':>8} {'longest s':>10}"]
    for name, figures in sorted(steps.items(), key=lambda item: -item[1].total):
        lines.append(f"  {name:34} {figures.count:5} {figures.total:8.2f} {figures.longest:10.2f}")
    return "\n".join(lines)


def profile_report(results: dict) -> str:
    """Where each operation's time went, then every figure against its floor (medians of the rounds)."""
    lines = [step_profile(title, seconds, steps) for title, (seconds, steps) in results["steps"].items()]
    median = statistics.median
    figures = results["figures"]
    up, floor, switch, down = (median(figures[k]) for k in ("warm up", "up floor", "switch", "down"))
    lines.append(f"\nfigures and floors (medians of {results['rounds']} rounds)")
    lines.append(f"  warm up                {up:6.2f} s   floor {floor:5.2f} s   ratio {up / floor:4.2f}   (targets: <= 3 s, <= 1.5 x floor)")
    lines.append(f"  switch redis->memcached {switch:5.2f} s   down + up {down + up:5.2f} s   ratio {switch / (down + up):4.2f}   (target <= 0.3)")
    lines.append(f"  down                   {down:6.2f} s")
    floor_traffic = median(results["traffic"])
    for what, seconds in results["cells"].items():
        lines.append(f"  matrix cell, {what:15} {seconds:5.2f} s   traffic alone {floor_traffic:5.2f} s   ratio {seconds / floor_traffic:4.2f}")
    if results["matrix_seconds"] is not None:
        count, seconds = results["matrix_cells"], results["matrix_seconds"]
        lines.append(
            f"  full matrix ({count} cells)   {seconds:6.1f} s   traffic alone {count * floor_traffic:6.1f} s   "
            f"ratio {seconds / (count * floor_traffic):4.2f}   (target <= 90 s)"
        )
    return "\n".join(lines)


def production_table(results: dict, machine: str) -> str:
    lines = [f"\nwhat production brings next, on {machine}"]
    for row in results["deploys"]:
        lines.append(f"rolling deploy of 3 nodes: {row['deploy_seconds']:5.1f} s, {row['failed_requests']} failed requests, "
                     f"{row['users_served_both']} of {row['users']} users served both versions")
    for added, figure in results["latency"].items():
        lines.append(f"session store {added:>6} round trip: p50 {figure['p50_ms']:7.1f} ms, p95 {figure['p95_ms']:7.1f} ms")
    for row in results["channels"]:
        lines.append(f"WebSocket messages through nginx ({row['layer']}): {row['per_second']}/s delivered, "
                     f"{row['delivered']} of {row['if_shared']} if every user got every message")
    return "\n".join(lines)


def swarm_table(figures: dict[str, list[float]], load: dict[str, dict], machine: str) -> str:
    lines = [f"\nthe lab on a swarm of test hosts, on {machine}",
             f"{'step':10} {'median':>8} {'min':>8} {'max':>8} {'runs':>5} {'target':>9}"]
    for step, values in figures.items():
        if values:
            target = f"< {SWARM_TARGETS[step]:.0f} s" if step in SWARM_TARGETS else ""
            lines.append(f"{step:10} {statistics.median(values):7.2f}s {min(values):7.2f}s {max(values):7.2f}s {len(values):5} {target:>9}")
    lines.append(f"\n{'load (redis, round_robin)':26} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for where, row in load.items():
        lines.append(f"{where:26} {row['requests_per_s']:8} {row['p50_ms']:8} {row['p95_ms']:8} {row['p99_ms']:8} {row['errors']:7}")
    if len(load) == 2:
        extra = load["swarm"]["p50_ms"] - load["one engine"]["p50_ms"]
        lines.append(f"the overlay's cost per request (median): {extra:+.2f} ms")
    return "\n".join(lines)


def site_table(results: list[Figures], machine: str) -> str:
    lines = [f"\nreal project shapes (tests/sites/) on {machine}; medians; targets: warm up < 1 s, code change < 10 s",
             f"{'fixture':13} {'python':6} {'stage':>6} {'cold':>6} {'site MB':>8} {'node MB':>8} {'fresh':>6} "
             f"{'warm':>6} {'change':>7}  {'login':17} findings"]
    for f in results:
        if f.failed:
            lines.append(f"{f.fixture:13} failed: {f.failed[:150]}")
            continue
        python = re.search(r"(3\.\d+) \(Debian", f.python)
        stage = f"{f.build_stage:5.0f}s" if f.build_stage is not None else "     -"
        lines.append(
            f"{f.fixture:13} {python.group(1) if python else '?':6} {stage} {f.cold_build:5.0f}s {f.site_mb:8.0f} "
            f"{f.node_mb:8.0f} {f.fresh_up:5.1f}s {statistics.median(f.warm_up):5.2f}s "
            f"{statistics.median(f.code_change):6.1f}s  {f.login:17} {', '.join(f.findings) or '-'}"
        )
    lines.append("stage: the build stage of that interpreter, built cold (once; later sites reuse it); cold: the site's "
                 "requirements and code layers without Docker's cache")
    lines.extend(f"  {f.fixture}: {f.python}" for f in results if not f.failed)
    return "\n".join(lines)
