"""Print `make mutation`'s score per module from mutmut's results: killed / all mutants, and the survivors.

A mutant that times out counts as killed (the tests noticed: the change made them hang); one no test
reaches counts as survived, since a bug there would pass unseen too.
"""

from __future__ import annotations

import collections
import subprocess
import sys

KILLED = {"killed", "timeout"}


def results() -> list[tuple[str, str]]:
    """Every mutant mutmut ran, as (name, status)."""
    out = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"], capture_output=True, text=True,
                         check=True).stdout
    pairs = []
    for line in out.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if name.startswith("lab."):
            pairs.append((name, status))
    return pairs


def module_of(mutant: str) -> str:
    """lab.verdicts.rules.x_moved__mutmut_3 -> lab.verdicts.rules"""
    return ".".join(part for part in mutant.split(".") if not part.startswith("x"))


def main() -> int:
    by_module: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    survivors = []
    for name, status in results():
        checked = status != "not checked"
        by_module[module_of(name)]["checked" if checked else "unchecked"] += 1
        if status in KILLED:
            by_module[module_of(name)]["killed"] += 1
        elif checked:
            survivors.append(f"{name}: {status}")
    total = collections.Counter()
    print(f"{'module':34} {'mutants':>8} {'killed':>7} {'score':>7}")
    for module, counts in sorted(by_module.items()):
        total.update(counts)
        score = counts["killed"] / counts["checked"] if counts["checked"] else 0.0
        print(f"{module:34} {counts['checked']:8} {counts['killed']:7} {score:7.1%}")
    score = total["killed"] / total["checked"] if total["checked"] else 0.0
    print(f"{'all':34} {total['checked']:8} {total['killed']:7} {score:7.1%}")
    if total["unchecked"]:
        print(f"({total['unchecked']} mutants not run yet)")
    print(f"\n{len(survivors)} survivors (`mutmut show NAME` shows one):")
    for line in survivors:
        print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
