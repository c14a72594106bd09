"""What a one-off job's output says when it fails: the step it was in, the error it named, and whether the
kernel killed it for memory. One line, without terminal escapes, for the release job (`lab_prepare`:
`lab-release: running: STEP (WHERE)`, then `lab-release: error: ...`) and the site-facts job alike.
"""

from __future__ import annotations

import re

OOM_MARK = "lab-job: killed: out of memory"  # the engine ends a job's log with it (and the limit)
_RUNNING = "lab-release: running: "
_ERROR = "lab-release: error: "
_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_ERROR_LINE = re.compile(r"(Error|Exception|error:|ERROR|failed|Failed|not found|No such|Can't|cannot|denied|Killed)")


def clean(text: str) -> str:
    """Text without terminal escape sequences (colours, cursor moves) and carriage returns."""
    return _ESCAPES.sub("", text).replace("\r", "")


def step_running(output: str) -> str:
    """The last step the job said it was starting, e.g. "`python manage.py build` (Procfile:1 (release))"."""
    steps = [line.split(_RUNNING, 1)[1].strip() for line in clean(output).splitlines() if _RUNNING in line]
    return steps[-1] if steps else ""


def last_error_line(output: str) -> str:
    """The last line that names an error, else the last line ("" for no output)."""
    lines = [line.strip() for line in clean(output).splitlines() if line.strip() and OOM_MARK not in line]
    return next((line for line in reversed(lines) if _ERROR_LINE.search(line)), lines[-1] if lines else "")[:300]


def explain(job: str, code: int, output: str) -> str:
    """Why the job failed, in one line: the step and its own error, or the memory kill, or the exit code."""
    text = clean(output)
    errors = [line.split(_ERROR, 1)[1].strip() for line in text.splitlines() if _ERROR in line]
    step = step_running(text)
    during = f" during {step}" if step else ""
    oom = next((line.strip() for line in text.splitlines() if OOM_MARK in line), "")
    if oom or code == 137:
        limit = re.search(r"\(limit (\d+) MB\)", oom)
        said = f"limit {limit.group(1)} MB" if limit else "exit 137: SIGKILL, the kernel's out-of-memory killer or a stop"
        return f"{job} was killed: out of memory ({said}){during}"
    if errors:
        return errors[-1]
    cause = last_error_line(text)
    return f"{job} exited {code}{during}" + (f": {cause}" if cause else "")
