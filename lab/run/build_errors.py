"""Why a site's requirements did not build, in one line: the package, pip's own cause, and a fix for it.

The build stage has a C compiler and the headers Django sites commonly link, so what still fails is a
header it lacks, a Rust crate it cannot fetch, a release with nothing for this Python, or a lock that
its tool will not export. Read from the build's output; no Docker here.
"""

from __future__ import annotations

import os
import re

from lab.engines.job_output import advice, clean, download_failed
from lab.errors import ImageBuildError
from lab.model.config import LabConfig
from lab.model.site import Choice, Site
from lab.project.read import read_site
from lab.project.node_versions import NODE_BY_SUITE, PYTHON_OF_SUITE

# Headers the build stage lacks, and the Debian packages that have them.
HEADERS = {
    "crypt.h": "libcrypt-dev",
    "lber.h": "libldap-dev",
    "ldap.h": "libldap-dev",
    "sasl/sasl.h": "libsasl2-dev",
    "graphviz/cgraph.h": "libgraphviz-dev",
    "cairo.h": "libcairo2-dev",
    "gdal.h": "libgdal-dev",
    "krb5.h": "libkrb5-dev",
    "gssapi/gssapi.h": "libkrb5-dev",
    "xmlsec/xmlsec.h": "libxmlsec1-dev",
    "magic.h": "libmagic-dev",
    "snappy-c.h": "libsnappy-dev",
    "sql.h": "unixodbc-dev",
    "geos_c.h": "libgeos-dev",
    "proj.h": "libproj-dev",
    "dbus/dbus.h": "libdbus-1-dev",
    "portaudio.h": "portaudio19-dev",
    "Python.h": "the interpreter's -dev package",
}
_FAILED = [
    re.compile(r"Building wheel for ([A-Za-z0-9_.-]+) \(.*(?:error|did not run successfully)"),
    re.compile(r"ERROR: Failed building wheel for ([A-Za-z0-9_.-]+)"),
    re.compile(r"^Failed to build ([A-Za-z0-9_.-]+)\s*$", re.M),
    re.compile(r"Getting requirements to build wheel for ([A-Za-z0-9_.-]+)"),
    re.compile(r"(?:Encountered error while generating package metadata|did not run successfully)[\s\S]{0,200}?╰─> ([A-Za-z0-9_.-]+)\s*$", re.M),
    re.compile(r"╰─> ([A-Za-z0-9_.-]+)\s*$", re.M),
]
_CAUSES = [
    re.compile(r"(fatal error: [^\n]+)"),
    re.compile(r"(couldn't run '[\w-]+'[^\n]*)"),
    re.compile(r"(pg_config executable not found[^\n]*)"),
    re.compile(r"(you need a C compiler[^\n]*)"),
    re.compile(r"(can't find Rust compiler|Cargo, the Rust package manager, is not installed[^\n]*)", re.I),
    re.compile(r"(failed to (?:download|get) [^\n]*crates?[^\n]*|failed to fetch `https://index\.crates\.io[^\n]*)"),
    re.compile(r"(No matching distribution found for [^\n]+)"),
    re.compile(r"(Package '[^']+' requires a different Python: [^\n]+)"),
    re.compile(r"^\s*((?:\w*Error|Exception): [^\n]+)", re.M),
    re.compile(r"^\s*error: ([^\n]+)", re.M),
]


def _package(log: str) -> str:
    for pattern in _FAILED:
        names = [n for n in pattern.findall(log) if n.lower() not in ("installable", "one", "some", "the")]
        if names:
            return names[-1]
    collecting = re.findall(r"Collecting ([A-Za-z0-9_.-]+)", log)
    return collecting[-1] if collecting else "a requirement"


def _version(log: str, package: str) -> str:
    stem = re.escape(package).replace(r"\-", "[-_]").replace(r"\_", "[-_]")
    match = re.search(rf"(?i)\b{stem}-(\d[\w.]*?)\.(?:tar\.gz|zip)", log) or re.search(
        rf"(?i)Collecting {stem}\s*==\s*([\w.]+)", log
    )
    return f" {match.group(1)}" if match else ""


def _cause(log: str) -> str:
    for pattern in _CAUSES:
        found = pattern.findall(log)
        if found:
            return found[0].strip() if "fatal error" in pattern.pattern else found[-1].strip()
    return ""


def diagnose(log: str, config: LabConfig, site: Site | None = None) -> str:
    """One line naming what failed to build, pip's cause, and a fix for that package (`site`: as read for the
    build, else read now)."""
    site = site or read_site(config.site, config.site_choices)
    choice = site.interpreter
    python = choice.interpreter.version
    other = [v for v in ("3.11", "3.13", "3.14") if v != python]
    exported = _export_failure(log)
    if exported:
        return exported
    package = _package(log)
    version = _version(log, package)
    cause = _cause(log)
    header = re.search(r"fatal error: ([\w./+-]+\.h): No such file", log)
    if header:
        return _missing_header(header.group(1), package, version, cause)
    if re.search(r"Rust compiler|Cargo|crates", cause, re.I):
        return (
            f"building {package}{version} failed: {cause}; it has no wheel for Python {python} and building it needs "
            f"Rust crates this machine cannot download: pin a release of {package} with a wheel for Python {python}, "
            f"or run another Python with --python {'/'.join(other)}"
        )
    # The first of these that explains the log, in this order; each says "" when it does not.
    return (
        _wrong_python(log, choice, other)
        or index_unreachable(log)
        or _git_unreachable(log)
        or _no_release(log, choice, other)
        or _conflict(log, config, site)
        or _build_failed(package, version, cause, python, other)
        or _last_lines(log)
    )


def _export_failure(log: str) -> str:
    """When the project's lock tool (uv, poetry) would not export its lock: its own complaint, and the fix."""
    exported = re.search(r"lab-requirements: failed: (uv|poetry) export", log)
    if not exported:
        return ""
    tool = exported.group(1)
    lines = [line.strip() for line in log.splitlines() if line.strip() and not line.startswith(("+ ", "lab-", "Step ", " ---> "))]
    cause = next((l for l in reversed(lines) if re.search(r"error|changed|not|invalid|fail", l, re.I)), lines[-1] if lines else "")
    lock = "uv.lock" if tool == "uv" else "poetry.lock"
    return (
        f"exporting {lock} with {tool} failed: {cause.removeprefix('error: ')}; fix: run `{tool} lock` in the "
        f"project so {lock} matches pyproject.toml, then `lab up` again"
    )


def _missing_header(header: str, package: str, version: str, cause: str) -> str:
    """A source build that wanted a header the build stage lacks: the Debian package to add, when the lab knows it."""
    deb = HEADERS.get(header)
    if deb and not deb.startswith("the "):
        more = " --build-package libsasl2-dev" if deb == "libldap-dev" else ""
        fix = f"add Debian's {deb} to the build stage with `lab up --build-package {deb}{more}`, or remove {package}"
    else:
        fix = f"add the Debian package that has {header} with `lab up --build-package NAME`, or remove {package}"
    return f"building {package}{version} failed: {cause} (the lab's build stage has no {header}): {fix}"


def _wrong_python(log: str, choice: Choice, other: list[str]) -> str:
    """When a package says it needs another Python than the lab's: which, and the Pythons to choose instead."""
    wrong_python = re.search(r"Package '([^']+)' requires a different Python: (\S+) not in '([^']+)'", log)
    if not wrong_python:
        return ""
    return (
        f"{wrong_python.group(1)} needs Python {wrong_python.group(3)}, and the lab runs {choice.interpreter} "
        f"({choice.reason}): choose another with --python {'/'.join(other)}, or pin a release of "
        f"{wrong_python.group(1)} for Python {choice.interpreter.version}"
    )


def _git_unreachable(log: str) -> str:
    """When pip could not clone a git dependency because the download failed."""
    cloned = re.search(r"git clone (?:--\S+ )*(?:-q )?'?(\S+?\.git|https?://\S+?)'?\s", clean(log))
    if not (cloned and download_failed(log)):
        return ""
    return (f"pip could not fetch the git dependency {cloned.group(1)}: {download_failed(log)}: this machine "
            "cannot reach it (where it can, the lab installs it: the build stage has git)")


def _no_release(log: str, choice: Choice, other: list[str]) -> str:
    """When pip found no release of a requirement for the lab's Python: the releases PyPI does offer."""
    python = choice.interpreter.version
    missing = re.search(r"No matching distribution found for (\S+)", log)
    if not missing:
        return ""
    versions = re.search(r"Could not find a version that satisfies the requirement \S+ \(from versions: ([^)]*)\)", log)
    seen = f" (PyPI offers it for Python {python} in: {versions.group(1)[-60:]})" if versions and versions.group(1) != "none" else ""
    return (
        f"pip found no release of {missing.group(1)} for Python {python}{seen}; the lab runs {choice.interpreter} "
        f"({choice.reason}): pin a release that supports it, or choose another Python with --python "
        f"{'/'.join(other)}"
    )


def _conflict(log: str, config: LabConfig, site: Site) -> str:
    """When the site's requirements cannot be installed together: the pins that conflict, and the way out."""
    conflict = resolution_conflict(log)
    if not conflict:
        return ""
    return (
        f"pip cannot install the site's requirements ({site.dependencies.source if site.dependencies else '?'}) "
        f"together: {conflict}; pin versions that agree (lock the project again with its own tool)"
        + ("" if not config.groups else f", or leave out --group {' --group '.join(config.groups)}")
    )


def _build_failed(package: str, version: str, cause: str, python: str, other: list[str]) -> str:
    """When pip named a cause of a package's failed build: the ways around it."""
    if not cause:
        return ""
    return (
        f"building {package}{version} failed: {cause}; pin a release of {package} that builds or ships a wheel "
        f"for Python {python}, run another Python with --python {'/'.join(other)}, add a library it needs with "
        f"--build-package NAME, or remove it"
    )


def _last_lines(log: str) -> str:
    """Nothing recognised: the build's last three lines of its own (Docker's left out)."""
    tail = [line.strip() for line in clean(log).splitlines() if line.strip() and not _DOCKER_NOISE.match(line.strip())][-3:]
    return f"installing the site's requirements failed: {' / '.join(tail) or 'see the build output above'}"


# Docker's own lines around a build's output: not the build's cause.
_DOCKER_NOISE = re.compile(r"^(Step \d+/\d+ :|---> |Removing intermediate container|Running in [0-9a-f]+|Successfully built|"
                           r"\+ |lab-requirements: failed: )")


def index_unreachable(log: str) -> str:
    """When pip could not reach a package index (not "no release for this Python"): which index, and from where."""
    text = clean(log)
    declared_index = re.search(r"lab-requirements: failed: the project's package index (\S+) \(([^)]+)\) cannot be reached: ([^\n]+)", text)
    if declared_index:
        url, where, reason = declared_index.groups()
        host = re.sub(r"^https?://([^/:]+).*", r"\1", url)
        return (f"pip could not reach the package index {host} ({url}, declared in {where}): {reason.strip()[:160]}; "
                "this machine cannot reach it (a download failed): run the lab where that index answers")
    failure = re.search(r"(NameResolutionError|Failed to resolve '[^']+'|Temporary failure in name resolution|"
                        r"Failed to establish a new connection|Could not fetch URL [^:]+: [^\n]+|SSLError[^\n]*)", text)
    if not failure:
        return ""
    host = re.search(r"Failed to resolve '([^']+)'|host='([^']+)'|Could not fetch URL https?://([^/:]+)", text)
    name = next((g for g in host.groups() if g), "") if host else ""
    index = re.search(r"^\s*(?:-i|--index-url|--extra-index-url)[= ]\s*(\S+)", text, re.M)
    declared = re.search(r"Looking in (?:indexes|links): ([^\n]+)", text)
    where = f"the requirements' `{index.group(0).strip()}`" if index else (f"pip looked in {declared.group(1).strip()}" if declared else "")
    return (
        f"pip could not reach the package index{f' {name}' if name else ''}"
        + (f" ({where})" if where else "")
        + f": {failure.group(1)[:160]}; this machine cannot reach it (a download failed): point the requirements at an "
        "index it reaches (pypi.org), or run the lab where that index answers"
    )


def resolution_conflict(log: str) -> str:
    """pip's resolver's own reason, when the requirements cannot be installed together: which pins conflict."""
    text = clean(log)
    cannot = re.search(r"ERROR: Cannot install (.+?) because these package versions have conflicting dependencies", text)
    double = re.search(r"ERROR: Double requirement given: ([^\n]+)", text)
    if double:
        return f"the same package is pinned twice: {double.group(1).strip()}"
    if not cannot:
        return ""
    caused = re.search(r"The conflict is caused by:\n((?:[ \t]+\S[^\n]*\n?)+)", text)
    reasons = [line.strip() for line in caused.group(1).splitlines() if line.strip()] if caused else []
    return f"{cannot.group(1)} conflict" + (f" ({'; '.join(reasons)})" if reasons else "")


class WrongPython(ImageBuildError):
    """The site's pins have no release for the chosen interpreter (another one may do)."""


class MissingHeaders(ImageBuildError):
    """A requirement built from source needs a header the build stage lacks, in a Debian package the lab knows:
    the build stage adds it, as the project's own Dockerfile installs it (`apk add openldap-dev`)."""

    def __init__(self, message: str, log: str, packages: tuple[str, ...], needs: str):
        super().__init__(message, log)
        self.packages, self.needs = packages, needs


def header_packages(log: str) -> tuple[tuple[str, ...], str]:
    """(Debian packages, what needs them) when a source build failed for want of a header the lab knows."""
    header = re.search(r"fatal error: ([\w./+-]+\.h): No such file", log)
    deb = HEADERS.get(header.group(1)) if header else None
    if not deb or deb.startswith("the "):
        return (), ""
    packages = (deb, "libsasl2-dev") if deb == "libldap-dev" else (deb,)
    return packages, f"{_package(log)} needs {header.group(1)}"


def requirements_failure(error: ImageBuildError, config: LabConfig, site: Site | None = None) -> ImageBuildError:
    """The one-line error for a site-deps image that did not build."""
    log = error.log or str(error)
    message = diagnose(log, config, site)
    if os.environ.get("LAB_DEBUG"):
        message += "\n--- the build's last lines ---\n" + "\n".join(log.splitlines()[-60:])
    wrong = re.search(r"No matching distribution found|requires a different Python", log) and not re.search(
        r"lab-requirements: failed: (uv|poetry) export", log
    ) and not index_unreachable(log)  # an index it cannot reach has releases for no Python
    packages, needs = header_packages(log)
    if packages and not set(packages) <= set(config.build_packages):
        return MissingHeaders(message, log, packages, needs)
    return (WrongPython if wrong else ImageBuildError)(message, log)


def site_images(engine, config: LabConfig, keys, progress, site: Site | None = None) -> dict[str, str]:
    """The engine's `build_images`, with a site's requirements that did not build explained in one line
    (WrongPython when its pins are for another Python)."""
    try:
        return engine.build_images(config, keys, progress, site=site)
    except ImageBuildError as error:
        if getattr(error, "image", "") == "site-deps":
            raise requirements_failure(error, config, site) from None
        if getattr(error, "image", "") == "site":
            raise build_step_failure(error) from None
        raise


# Debian's Node.js per release the lab builds on (its Python decides the release: 3.11 bookworm, 3.13 trixie,
# 3.14 forky), for a package.json whose `engines.node` wants a newer one.


def node_advice(log: str) -> str:
    """When npm refuses the build stage's Node.js (EBADENGINE): which Debian release has a Node.js it takes."""
    wanted = re.search(r"""Required: \{[^}]*"?node"?:\s*"?>=?\s*(\d+)""", log) or re.search(
        r"""The engine "node" is incompatible with this module\. Expected version "[>=^~ ]*(\d+)""", log)  # yarn's
    if "EBADENGINE" not in log and not wanted:
        return ""
    major = int(wanted.group(1)) if wanted else 0
    fit = [suite for suite, version in NODE_BY_SUITE.items() if version >= major]
    if not fit:
        return f"; package.json asks Node.js >= {major}, newer than any Debian release the lab builds on has"
    return (f"; package.json asks Node.js >= {major}: Debian {fit[0]}'s is {NODE_BY_SUITE[fit[0]]}, the lab's image for "
            f"Python {PYTHON_OF_SUITE[fit[0]]} (`lab up --python {PYTHON_OF_SUITE[fit[0]]}`)")


def build_step_failure(error: ImageBuildError) -> ImageBuildError:
    """The one-line error for a site image whose build step failed (lab-build-step names the step)."""
    log = clean(error.log or str(error))
    failed = [line.split("lab-build: error: ", 1)[1] for line in log.splitlines() if "lab-build: error: " in line]
    if not failed:
        return error
    message = f"the site's image did not build: {failed[-1]}{advice(log)}{node_advice(log)}"
    if os.environ.get("LAB_DEBUG"):
        message += "\n--- the build's last lines ---\n" + "\n".join(log.splitlines()[-60:])
    return ImageBuildError(message, log)
