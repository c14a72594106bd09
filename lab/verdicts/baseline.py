"""A readiness baseline: the hazards a project knows it has, so CI fails only on a new one.

`lab readiness --save-baseline FILE` writes what was found; `lab readiness --baseline FILE` compares the
findings with it: a hazard found now that the baseline does not list makes the command exit 1. Plain
data in and out; the files are read and written by the command.
"""

from __future__ import annotations

from dataclasses import dataclass

from lab.verdicts.hazards import FOUND, Finding

FORMAT = 1


def baseline_of(findings: list[Finding]) -> dict:
    """What a baseline file holds: the hazards found, by key, with their titles for people."""
    return {"format": FORMAT, "found": {f.key: f.title for f in findings if f.level == FOUND}}


@dataclass(frozen=True)
class BaselineChange:
    """The findings against a baseline: hazards new since it, and hazards it lists that are gone."""

    new: list[Finding]
    gone: list[str]

    @property
    def failed(self) -> bool:
        return bool(self.new)

    def lines(self) -> list[str]:
        lines = [f"new since the baseline: {f.key}: {f.title} ({f.evidence[0] if f.evidence else 'no evidence'})" for f in self.new]
        lines += [f"fixed since the baseline: {key}" for key in self.gone]
        return lines or ["no hazard found that the baseline does not list"]


def checked(baseline) -> dict:
    """`baseline` when it is one `baseline_of` wrote; ValueError otherwise."""
    if not isinstance(baseline, dict) or baseline.get("format") != FORMAT or not isinstance(baseline.get("found"), dict):
        raise ValueError("not a readiness baseline (write one with `lab readiness --save-baseline FILE`)")
    return baseline


def compare(baseline: dict, findings: list[Finding]) -> BaselineChange:
    """The findings against `baseline` (as `baseline_of` wrote it)."""
    known = set(checked(baseline)["found"])
    found = [f for f in findings if f.level == FOUND]
    return BaselineChange(
        new=[f for f in found if f.key not in known],
        gone=sorted(known - {f.key for f in found}),
    )
