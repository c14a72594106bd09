"""The verdicts as JUnit XML, the file CI test reporters read (Jenkins, GitLab, GitHub's report actions).

One testsuite per command: a testcase per matrix cell, per experiment case, per readiness hazard. A
testcase fails when its verdict differs from its expectation, and carries the evidence the command's own
report gives (per user, what each one saw). Plain data in, XML text out: the command writes the file.

How each outcome maps (docs/ci.md tells the same):
- a verdict as expected: passed, with a one-line summary as system-out;
- a verdict that differs: failure, with the evidence;
- a measurement that gave no verdict: error (the command exits 1 on it too);
- a cell not run (a pending backend), a channel layer the site cannot run: skipped, with why;
- a readiness hazard found: failure; with a baseline, only a new one fails and a known one is skipped
  ("known in baseline"); a note passes, its evidence and fix as system-out (it was checked and is no
  failure, which "skipped" would hide).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from lab.model.backends import BACKENDS
from lab.verdicts.hazards import FOUND, NOTE

MATRIX, READINESS, EXPERIMENT = "lab.matrix", "lab.readiness", "lab.experiment"
COUNTED = ("tests", "failures", "errors", "skipped")
# XML 1.0 has no way to write most control characters, escaped or not; a container's log may hold them.
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value) -> str:
    return NOT_XML.sub("\ufffd", str(value))


def _suite(name: str) -> ET.Element:
    return ET.Element("testsuite", name=name)


def _case(suite: ET.Element, name: str, seconds: float = 0.0) -> ET.Element:
    return ET.SubElement(suite, "testcase", classname=suite.get("name"), name=_text(name), time=f"{seconds:.3f}")


def _outcome(case: ET.Element, kind: str, message: str, lines: list[str], type_: str = "") -> None:
    """A failure, error or skipped element: the message in one line, the evidence as its text."""
    element = ET.SubElement(case, kind, message=_text(message), **({"type": type_} if type_ else {}))
    if lines:
        element.text = _text("\n".join(lines))


def _output(case: ET.Element, lines: list[str]) -> None:
    ET.SubElement(case, "system-out").text = _text("\n".join(lines))


def _counted(suite: ET.Element) -> ET.Element:
    """Fill in the suite's counts and time from its testcases, so they cannot disagree."""
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(1 for case in cases if case.find("failure") is not None)))
    suite.set("errors", str(sum(1 for case in cases if case.find("error") is not None)))
    suite.set("skipped", str(sum(1 for case in cases if case.find("skipped") is not None)))
    suite.set("time", f"{sum(float(case.get('time')) for case in cases):.3f}")
    return suite


def document(*suites: ET.Element) -> str:
    """The JUnit file's text: <testsuites> with the totals, around the suites given."""
    root = ET.Element("testsuites", name="lab")
    for key in COUNTED:
        root.set(key, str(sum(int(suite.get(key)) for suite in suites)))
    root.set("time", f"{sum(float(suite.get('time')) for suite in suites):.3f}")
    root.extend(suites)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# -- the matrix: a testcase per cell (CellResult.to_dict), and per channel layer of an ASGI site ----------


def _trace(user: dict, username: str) -> str:
    """Each request the user made, in order: the node that answered, and the counter or what went wrong."""
    steps = []
    for o in user["observations"]:
        if o["status"] != 200:
            seen = str(o["status"] or o.get("error") or "no answer")
        else:
            seen = f"#{o['counter']}" if o["user"] == username else (o["user"] or "anonymous")
        steps.append(f"{o['node'] or '-'} {seen}")
    return "requests: " + (", ".join(steps) or "none")


def user_lines(cell: dict) -> list[str]:
    """Per user, what the user saw: where its session was made, where it was lost (as the matrix report
    says it), the nodes that served it, and every request."""
    lost = {item["user"]: item for item in cell["lost"]}
    lines = []
    for user in cell["user_evidence"]:
        who = f"{user['name']} ({user['address'] or 'this machine'})"
        if not user["logged_in"]:
            lines.append(f"{who}: login failed: {user['login_error']}")
            continue
        if user["name"] in lost:
            item = lost[user["name"]]
            what = (f"request {item['request']} reached {item['hit']} and saw {item['saw']}; "
                    f"the session was made on {item['session_made_on']}")
        else:
            what = f"kept the login on every request; the session was made on {user['login_node']}"
        lines.append(f"{who}: {what}; served by {', '.join(user['nodes_seen']) or 'no node'}")
        lines.append("    " + _trace(user, cell["username"]))
    return lines


def _cell(suite: ET.Element, cell: dict) -> None:
    name = f"{cell['backend']}/{cell['balance']}"
    if cell.get("pending"):
        backend = BACKENDS.get(cell["backend"])
        why = backend.unavailable_reason if backend is not None else ""
        _outcome(_case(suite, name), "skipped", f"pending: {why or 'the backend is not available yet'}", [])
        return
    case = _case(suite, name, cell["seconds"])
    expected = f"expected {cell['expected']}: {cell['reason']}"
    observed = f"observed {cell['observed']} ({cell['users_kept']} of {cell['users']} users kept)"
    if cell.get("evidence_problem"):
        _outcome(case, "error", cell["evidence_problem"], [expected, *user_lines(cell)], "NoVerdict")
    elif not cell["passed"]:
        _outcome(case, "failure", f"expected {cell['expected']}, {observed}", [expected, *user_lines(cell)], "VerdictDiffers")
    else:
        _output(case, [f"{observed}, nodes {', '.join(cell['nodes_seen'])}", expected])


def _channel_layer(suite: ET.Element, row: dict) -> None:
    case = _case(suite, f"channel-layer/{row['layer']}")
    if row["passed"] is None:
        _outcome(case, "skipped", row["why"], [])
    elif not row["passed"]:
        lines = [f"{row['delivered']} of {row['possible']} messages delivered to {row['users']} users on "
                 f"{row['processes']} processes", f"judged per user: {row['why']}"]
        _outcome(case, "failure", f"expected: {row['expected']}", lines, "VerdictDiffers")
    else:
        _output(case, [row["why"]])


def matrix_suite(data: dict) -> ET.Element:
    """The matrix's report data (lab.studies.matrix.run_matrix) as a testsuite: a testcase per cell."""
    suite = _suite(MATRIX)
    for cell in data["cells"]:
        _cell(suite, cell)
    for row in data.get("channels") or []:
        _channel_layer(suite, row)
    return _counted(suite)


# -- an experiment: a testcase per case (lab.studies.experiments.base.Outcome) ---------------------------


def experiment_suite(name: str, outcomes: list) -> ET.Element:
    """An experiment's outcomes as a testsuite: a testcase per case, failed when its rule failed."""
    suite = _suite(f"{EXPERIMENT}.{name}")
    for outcome in outcomes:
        case = _case(suite, outcome.case, outcome.seconds)
        lines = [
            f"expected {outcome.expected}: {outcome.reason}",
            f"observed {outcome.observed}",
            *([f"judged per user: {outcome.why}"] if outcome.why else []),
            *(f"{key}: {value}" for key, value in outcome.figures.items()),
            f"lab put back as it was: {outcome.restored}",
        ]
        if outcome.passed:
            _output(case, lines)
        else:
            _outcome(case, "failure", outcome.why or f"observed {outcome.observed}", lines, "RuleFailed")
    return _counted(suite)


# -- readiness: a testcase per hazard (lab.verdicts.hazards.Finding) --------------------------------------


def _hazard_lines(finding) -> list[str]:
    return [
        *(f"evidence: {item}" for item in finding.evidence),
        f"users would see: {finding.users_see}",
        f"fix: {finding.fix} ({finding.docs})",
    ]


def readiness_suite(findings: list, known: set[str] | None = None) -> ET.Element:
    """The hazards as a testsuite. `known`: the keys a baseline lists (None: no baseline, every hazard
    found fails); with one, only a hazard it does not list fails, and a known one is skipped."""
    suite = _suite(READINESS)
    for finding in findings:
        case = _case(suite, finding.key)
        if finding.level == FOUND and known is not None and finding.key in known:
            _outcome(case, "skipped", f"known in baseline: {finding.title}", _hazard_lines(finding))
        elif finding.level == FOUND:
            new = "new since the baseline: " if known is not None else ""
            _outcome(case, "failure", f"{new}{finding.title}", _hazard_lines(finding), "Hazard")
        else:
            fixed = ["fixed since the baseline"] if known and finding.key in known else []
            if finding.level == NOTE:  # fine now, breaks at some size: what and the fix, for whoever reads
                _output(case, [f"note: {finding.title}", *fixed, *_hazard_lines(finding)])
            else:
                _output(case, [f"ok: {finding.title}", *fixed, *(f"evidence: {item}" for item in finding.evidence)])
    return _counted(suite)
