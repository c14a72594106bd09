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


# What a failed download looks like in Python's, pip's, curl's and wget's words: this machine reaches only
# PyPI, Debian's archive and npm, so a step that fetches from elsewhere fails here and not on a user's.
_DOWNLOAD = re.compile(
    r"Temporary failure in name resolution|Name or service not known|Could not resolve host|unable to resolve host|"
    r"Failed to establish a new connection|urlopen error|Network is unreachable|getaddrinfo|nodename nor servname|"
    r"Connection refused|Connection timed out|ConnectTimeout|ConnectionError|Max retries exceeded|"
    r"Could not read from remote repository|unable to access 'https?://|"
    # npm's: a registry that does not answer, or does not have the package this machine asks it for
    r"\b404 Not Found - GET\b|\bE(?:NOTFOUND|AI_AGAIN|TIMEDOUT|CONNREFUSED|CONNRESET)\b", re.I)
# A service a site connects to at run time (a broker, a cache) by a host name: what its settings point at.
_SERVICE = re.compile(r"(?:host='|connecting to |connect to |Error \d+ connecting to |server at \"|on host ')([\w.-]+)['\"]?(?:, port=|:)(\d+)")
_LOCAL = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}
_URL = re.compile(r"https?://[^\s'\"<>)]+")
# Tools a project's own step runs that a node lacks, and the Debian package that has each.
TOOLS = {"msgfmt": "gettext", "msgmerge": "gettext", "xgettext": "gettext", "node": "nodejs", "npm": "npm",
         "npx": "npm", "git": "git", "pg_dump": "postgresql-client", "psql": "postgresql-client",
         "convert": "imagemagick", "sassc": "sassc", "make": "make", "gcc": "gcc", "curl": "curl", "wget": "wget"}
_MISSING_TOOL = re.compile(r"(?:Can't find|command not found:?|No such file or directory: '?|not found: )\s*'?([\w.+-]+)'?"
                           r"|([\w.+-]+): (?:command )?not found")


def service_unreachable(output: str) -> str:
    """`HOST:PORT` of a service the site could not connect to, when that is a name of its own or this machine
    (localhost, `rabbitmq`: something the site expects to run beside it), not a download; else ""."""
    for host, port in _SERVICE.findall(clean(output)):
        if host in _LOCAL or "." not in host:
            return f"{host}:{port}"
    return ""


def download_failed(output: str) -> str:
    """`a download from HOST failed (URL)` when the output shows one, else ""."""
    text = clean(output)
    failure = _DOWNLOAD.search(text)
    if not failure or service_unreachable(text):
        return ""
    urls = _URL.findall(text[: failure.end() + 400])
    url = urls[-1].rstrip(".,;:") if urls else ""
    named = re.search(r"resolve host(?: address)?:? '?([\w.-]+)", text)
    host = re.sub(r"^https?://([^/:]+).*$", r"\1", url) if url else (named.group(1) if named else "")
    return f"a download{f' from {host}' if host else ''} failed ({url or failure.group(0)})"


def missing_tool(output: str) -> tuple[str, str] | None:
    """(tool, Debian package) when the output says a known tool is not installed."""
    for match in _MISSING_TOOL.finditer(clean(output)):
        tool = (match.group(1) or match.group(2)).rstrip(".")
        if tool in TOOLS:
            return tool, TOOLS[tool]
    return None


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
    said = errors[-1] if errors else f"{job} exited {code}{during}" + (f": {last_error_line(text)}" if last_error_line(text) else "")
    return said + advice(text)


def advice(output: str) -> str:
    """What to do about a failed step's cause, where the lab knows: a download this machine cannot reach, or a
    tool the image lacks (the Debian package, for --build-package)."""
    service = service_unreachable(output)
    if service:
        return (f"; it could not connect to {service}, a service the site's settings point at that the lab does not run "
                "(the lab gives a database, Redis and their URLs; point the setting at them with --env, or skip the step)")
    download = download_failed(output)
    if download:
        return f"; {download}: this machine cannot reach it (where the step can download, it runs)"
    tool = missing_tool(output)
    if tool:
        return f"; {tool[0]} is not installed: add Debian's {tool[1]} with `lab up --build-package {tool[1]}`"
    return ""
