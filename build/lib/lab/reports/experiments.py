"""The failure experiments' report: a terminal summary, and JSON, Markdown and HTML with timelines."""

from __future__ import annotations

import html
import json
import time
from pathlib import Path

from lab.reports.matrix import REPORTS, write_files
from lab.studies.experiments import Outcome

BAR = {"requests": "#9aa7b4", "failures": "#d62728", "logouts": "#ff9f1c"}


def summary_lines(outcomes: list[Outcome]) -> list[str]:
    return [
        f"{'ok ' if o.passed else 'NO '} {o.experiment:20} {o.case:28} {o.observed}  ({o.seconds:.0f} s)"
        + (f"\n{'':4}judged per user: {o.why}" if o.why else "")
        for o in outcomes
    ]


def _chart(outcome: dict) -> str:
    """Requests, failures and logged-out answers per second, with the experiment's events marked."""
    rows = outcome["timeline"]
    if not rows:
        return ""
    seconds = max(r["second"] for r in rows) + 1
    peak = max(r["requests"] for r in rows) or 1
    width, height, step = 30 + seconds * 18, 150, 18
    parts = [f'<svg width="{width}" height="{height + 30}" role="img" aria-label="timeline">']
    for r in rows:
        x = 30 + r["second"] * step
        for offset, key in enumerate(("requests", "failures", "logouts")):
            h = r[key] / peak * height
            parts.append(
                f'<rect x="{x + offset * 5}" y="{height - h:.1f}" width="5" height="{h:.1f}" fill="{BAR[key]}">'
                f"<title>second {r['second']}: {r[key]} {key}</title></rect>"
            )
        parts.append(f'<text x="{x}" y="{height + 14}" font-size="9">{r["second"]}</text>')
    for at, label in outcome["events"]:
        if at > seconds:
            continue
        x = 30 + at * step
        parts.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height}" stroke="#000" stroke-dasharray="3,3">'
                     f"<title>{html.escape(label)}</title></line>")
    parts.append(f'<text x="0" y="10" font-size="9">{peak}/s</text></svg>')
    return "".join(parts)


def markdown(data: dict) -> str:
    out = ["# Failure experiments", "", f"Measured {data['finished']} on {data['machine']}; {data['seconds']:.0f} s in all.", ""]
    out += ["| experiment | case | expected | observed | agrees |", "|---|---|---|---|---|"]
    for o in data["outcomes"]:
        out.append(f"| {o['experiment']} | {o['case']} | {o['expected']} | {o['observed']} | {'yes' if o['passed'] else '**no**'} |")
    out.append("")
    for o in data["outcomes"]:
        out += [f"## {o['experiment']}: {o['case']}", f"Expected {o['expected']}: {o['reason']}.", ""]
        out += [f"- {key}: {value}" for key, value in o["figures"].items()]
        out += [f"- lab put back as it was: {o['restored']}", ""]
    return "\n".join(out)


def html_page(data: dict) -> str:
    legend = " ".join(f'<span style="display:inline-block;width:.8em;height:.8em;background:{c}"></span> {k}' for k, c in BAR.items())
    rows = "".join(
        f"<tr class=\"{'ok' if o['passed'] else 'no'}\"><td>{o['experiment']}</td><td>{html.escape(o['case'])}</td>"
        f"<td>{html.escape(o['expected'])}</td><td>{html.escape(o['observed'])}</td></tr>"
        for o in data["outcomes"]
    )
    sections = "".join(
        f"<section><h2>{o['experiment']}: {html.escape(o['case'])}</h2><p>Expected <b>{html.escape(o['expected'])}</b>: "
        f"{html.escape(o['reason'])}.<br>Observed: {html.escape(o['observed'])}.<br>"
        f"Judged per user: {html.escape(o.get('why', ''))}.</p>{_chart(o)}"
        f"<pre>{html.escape(json.dumps(o['figures'], indent=1))}</pre></section>"
        for o in data["outcomes"]
    )
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Failure experiments</title>
<style>body {{ font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; padding: 0 1rem; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #ddd; padding: .3rem .6rem; text-align: left; }}
tr.ok {{ background: #e4f5e4; }} tr.no {{ background: #f8d7d3; }} pre {{ font-size: 12px; background: #f6f6f6; padding: .5rem; }}
</style></head><body><h1>What happens to logged-in users when the cluster changes under them?</h1>
<p>Measured {html.escape(data['finished'])} on {html.escape(data['machine'])}. Red rows: the observation
did not match the expectation.</p><table><tr><th>experiment</th><th>case</th><th>expected</th><th>observed</th></tr>{rows}</table>
<p>Timelines: per second, {legend}; dashed lines mark what the experiment did.</p>{sections}</body></html>
"""


def write_experiment_reports(outcomes: list[Outcome], seconds: float, machine: str, directory: Path = REPORTS) -> dict[str, Path]:
    """Write experiments-<time>.{json,md,html} and point latest-experiments.* at them."""
    data = {
        "finished": time.strftime("%Y-%m-%d %H:%M"),
        "machine": machine,
        "seconds": seconds,
        "outcomes": [o.to_dict() for o in outcomes],
    }
    renders = {"json": lambda d: json.dumps(d, indent=1), "md": markdown, "html": html_page}
    return write_files("experiments", data, renders, directory)
