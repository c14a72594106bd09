"""The readiness report, told: Markdown for people (and docs/readiness.md), JSON for scripts."""

from __future__ import annotations

import json
from pathlib import Path

from lab.verdicts.hazards import FOUND, NOTE, Finding, Observed

_MARK = {FOUND: "FOUND", NOTE: "note", "ok": "ok"}


def markdown(site: str, findings: list[Finding], seen: Observed) -> str:
    """The report as Markdown: a summary table, then each finding with its evidence and fix."""
    found = [f for f in findings if f.level == FOUND]
    lines = [
        f"# Multi-machine readiness: {site}",
        "",
        f"{len(found)} of {len(findings)} hazards found, probed on {seen.nodes} nodes x {seen.workers} workers of the lab.",
        "",
        "| hazard | verdict | evidence |",
        "|---|---|---|",
    ]
    for finding in findings:
        evidence = "; ".join(finding.evidence).replace("|", "\\|")
        lines.append(f"| {finding.title} | {_MARK[finding.level]} | {evidence} |")
    for finding in findings:
        if finding.level == "ok":
            continue
        lines += ["", f"## {_MARK[finding.level]}: {finding.title}", ""]
        lines += [f"- evidence: {item}" for item in finding.evidence]
        lines += [f"- users would see: {finding.users_see}", f"- fix: {finding.fix} ({finding.docs})"]
    lines += ["", "## What the lab overrides to run the site on several nodes", ""]
    lines += [f"- `{o['setting']}` -> {o['value']}: {o['reason']}" for o in seen.overrides] or ["- nothing"]
    lines += ["", "## Django's own `check --deploy`", "", "```", *(seen.deploy_check or ["(no output)"]), "```", ""]
    return "\n".join(lines)


def write(directory: Path, lab_name: str, site: str, findings: list[Finding], seen: Observed) -> dict[str, Path]:
    """Write readiness-<lab>.md and .json under `directory`; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {"markdown": directory / f"readiness-{lab_name}.md", "json": directory / f"readiness-{lab_name}.json"}
    paths["markdown"].write_text(markdown(site, findings, seen))
    data = {"site": site, "findings": [f.to_dict() for f in findings], "observed": seen.to_dict()}
    paths["json"].write_text(json.dumps(data, indent=2))
    return paths
