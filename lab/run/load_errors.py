"""Why Django could not load a site, in one line: the file and line of the site's code, the cause, the fix.

Read from the traceback of the one-off container that first imports the site's settings. A missing
environment variable names `--env`; a missing module names the dependency group or file that lists
it. The site's own traceback is shown only with LAB_DEBUG=1. No Docker here.
"""

from __future__ import annotations

import re
from pathlib import Path

from lab.model.config import LabConfig
from lab.model.site import Site
from lab.project.read import read_site
from lab.model.plan import LAB_ENVIRONMENT
from lab.project.dependencies import where_module_is
from lab.project.required_env import required_variables

SITE_ROOT = "/srv/site/"
# A traceback's frame; a SyntaxError's location has the same line without ", in" (no function ran there).
_FRAME = re.compile(r'File "([^"]+)", line (\d+)(?:, in [^\n]*)?\n\s*([^\n]*)')
_EXCEPTION = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Configured|Exit|KeyError|Interrupt)\w*):? ?(.*)$", re.M)
_VARIABLE = [
    re.compile(r"Set the (\w+) environment variable"),  # django-environ
    re.compile(r"environment variable (\w+) (?:is )?(?:not set|missing|required)", re.I),
    re.compile(r"(\w+) (?:environment variable )?(?:is )?(?:not set|missing|required)", re.I),
    re.compile(r"UndefinedValueError: (\w+) not found"),  # python-decouple
]


def _site_frame(output: str) -> str:
    """`path:line: code` of the last traceback frame inside the site's folder."""
    frames = [(path, line, code) for path, line, code in _FRAME.findall(output) if path.startswith(SITE_ROOT)]
    if not frames:
        return ""
    path, line, code = frames[-1]
    return f"{path.removeprefix(SITE_ROOT)}:{line}: {code.strip()}"


# Variables a lab option provides (what `lab readiness --fix` makes the settings read).
_OPTION_FOR = {"MEDIA_ROOT": "`lab up --shared-media` sets it to the lab's NFS export, which every node mounts"}


def _needs_variable(settings: str, variable: str, at: str, config: LabConfig | None = None, site: Site | None = None) -> str:
    option = f"; or {_OPTION_FOR[variable]}" if variable in _OPTION_FOR else ""
    others = [] if config is None or site is None else [
        required for required in required_variables(Path(site.folder), settings)
        if required.name != variable and required.name not in _provided(config, site)
    ]
    if others:  # every variable the settings read without a default, so one `lab up` can give them all
        names = [variable, *(required.name for required in others)]
        return (
            f"the site's settings {settings} need the environment variables {variable}{at}, "
            + ", ".join(str(required) for required in others)
            + f": pass them with `lab up {' '.join(f'--env {name}=...' for name in names)}` (or --env-file FILE)"
            + f"{option}; the lab keeps them in its state, never in an image"
        )
    return (
        f"the site's settings {settings} need the environment variable {variable}{at}: pass it with "
        f"`lab up --env {variable}=...` (or --env-file FILE){option}; the lab keeps it in its state, never in an image"
    )


def _provided(config: LabConfig, site: Site) -> set[str]:
    """The variables the site finds set: the lab's own (its database, Redis, keys, hosts) and the user's."""
    return {*LAB_ENVIRONMENT, *config.site_environment(site), *_OPTION_FOR}


def explain(output: str, config: LabConfig, site: Site | None = None) -> str:
    """One line for a site whose settings or apps did not load; `output` is the job's log (`site`: as the lab
    read it, else read now)."""
    site = site or read_site(config.site, config.site_choices)
    exceptions = _EXCEPTION.findall(output)
    kind, message = exceptions[-1] if exceptions else ("", "")
    where = _site_frame(output)
    at = f" ({where})" if where else ""
    settings = site.settings
    if kind.endswith("KeyError") and re.fullmatch(r"'\w+'", message.strip()):
        return _needs_variable(settings, message.strip().strip("'"), at, config, site)
    for pattern in _VARIABLE:
        match = pattern.search(message) or pattern.search(output)
        if match and match.group(1).isupper():
            return _needs_variable(settings, match.group(1), at, config, site)
    missing = re.search(r"No module named '([\w.]+)'", message)
    if kind.endswith(("ModuleNotFoundError", "ImportError")) and missing:
        module = missing.group(1)
        where_listed = where_module_is(Path(site.folder), module)
        dependencies = site.dependencies
        installed = dependencies.describe().removeprefix("installs ") if dependencies else "nothing (it declares no dependencies)"
        if where_listed:
            fix = f"{where_listed}, or serve other settings with --settings MODULE"
        else:
            fix = "add it to the project's dependencies, or serve other settings with --settings MODULE"
        return f"the site's settings {settings} import {module}{at}, which is not installed (the lab installed {installed}): {fix}"
    cause = f"{kind.rsplit('.', 1)[-1]}: {message}".strip(": ") if kind else "it exited before saying why"
    return (
        f"Django could not load the site with settings {settings}{at}: {cause}; "
        "LAB_DEBUG=1 shows the site's traceback"
    )
