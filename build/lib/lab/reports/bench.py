"""The load benchmark's report: a terminal table, and JSON, Markdown and HTML with two charts."""

from __future__ import annotations

import html
import json
from pathlib import Path

from lab.reports.matrix import REPORTS, write_files


def table(results: dict) -> str:
    lines = [f"{'backend (round_robin)':24} {'req/s':>8} {'vs none':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7} {'login':>6}  node share"]
    for row in results["backends"]:
        share = " ".join(f"{n[-1]}:{v:.0%}" for n, v in row["node_share"].items())
        lines.append(
            f"{row['backend']:24} {row['requests_per_s']:8.0f} {row['vs_signed_cookies']:8.2f} {row['p50_ms']:8.1f} "
            f"{row['p95_ms']:8.1f} {row['p99_ms']:8.1f} {row['errors']:7} {row.get('logged_in_share', 1):6.0%}  {share}"
        )
    if results["modes"]:
        lines.append(f"\n{'balance (redis)':24} {'req/s':>8} {'':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}  node share")
        for row in results["modes"]:
            share = " ".join(f"{n[-1]}:{v:.0%}" for n, v in row["node_share"].items())
            lines.append(
                f"{row['balance']:24} {row['requests_per_s']:8.0f} {'':>8} {row['p50_ms']:8.1f} {row['p95_ms']:8.1f} "
                f"{row['p99_ms']:8.1f} {row['errors']:7}  {share}"
            )
    b, g, m = results["balancer"], results["generator"], results["meta"]
    lines.append(
        f"\nnginx adds {b['nginx_adds_ms']} ms at the median (one connection: {b['through_nginx_p50_ms']} ms through "
        f"nginx, {b['direct_to_node_p50_ms']} ms straight to node-1)"
    )
    lines.append(
        f"the load generator drives {g['requests_per_s']:.0f} req/s of nginx's static answer: "
        f"{g['times_cluster_best']}x the best cell, so the figures measure the cluster, not the client"
    )
    lines.append(
        f"{m['users']} logged-in users from {m['clients']} client containers x {m['connections_per_client']} "
        f"connections, {m['seconds_per_cell']} s per cell, {m['nodes']} nodes x {m['workers']} workers; "
        f"{m['total_seconds']} s in all; login = share of answers that still showed the user logged in "
        "(a backend that loses it serves anonymous visitors instead, which costs something else)"
    )
    return "\n".join(lines)


def _bars(rows: list[tuple[str, list[float]]], keys: list[str], colours: list[str], unit: str) -> str:
    peak = max((v for _, values in rows for v in values), default=1) or 1
    height, group = 160, 18 * len(keys) + 14
    parts = [f'<svg width="{60 + group * len(rows)}" height="{height + 40}">']
    for i, (label, values) in enumerate(rows):
        x0 = 50 + i * group
        for j, value in enumerate(values):
            h = value / peak * height
            parts.append(
                f'<rect x="{x0 + j * 18}" y="{height - h:.1f}" width="16" height="{h:.1f}" fill="{colours[j]}">'
                f"<title>{html.escape(label)} {keys[j]}: {value} {unit}</title></rect>"
            )
        parts.append(f'<text x="{x0}" y="{height + 14}" font-size="10">{html.escape(label)}</text>')
    parts.append(f'<text x="0" y="10" font-size="10">{peak:.0f} {unit}</text></svg>')
    legend = " ".join(f'<span style="color:{c}">&#9632;</span> {k}' for k, c in zip(keys, colours))
    return f"<p>{legend}</p>{''.join(parts)}"


def html_page(results: dict) -> str:
    latency = _bars(
        [(r["backend"], [r["p50_ms"], r["p95_ms"], r["p99_ms"]]) for r in results["backends"]],
        ["p50", "p95", "p99"], ["#4e79a7", "#f28e2b", "#e15759"], "ms",
    )
    modes = results["modes"] or []
    throughput = _bars([(r["balance"], [r["requests_per_s"]]) for r in modes], ["req/s"], ["#59a14f"], "req/s") if modes else ""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Session backends under load</title>
<style>body {{ font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; padding: 0 1rem; }}</style>
</head><body><h1>What each session backend and balancing mode costs</h1>
<pre>{html.escape(table(results))}</pre>
<h2>Latency per backend (round_robin)</h2>{latency}
{'<h2>Throughput per balancing mode (redis)</h2>' + throughput if throughput else ''}
</body></html>
"""


def write_bench_reports(results: dict, directory: Path = REPORTS) -> dict[str, Path]:
    """Write bench-<time>.{json,md,html} and point latest-bench.* at them."""
    renders = {
        "json": lambda r: json.dumps(r, indent=1),
        "md": lambda r: "# Session backends under load\n\n```\n" + table(r) + "\n```\n",
        "html": html_page,
    }
    return write_files("bench", results, renders, directory)
