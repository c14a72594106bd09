"""What the lab needs at run time, found inside its installed package (importlib.resources), never
through a checkout: the Dockerfiles and the node's add-on, the balancer's image, the sample site, the
setup scripts. In this repository the balancer and the sample site live at the top level (nginx/,
sample_site/) and are mapped into the package as `lab.nginx` and `lab.sample_site` (pyproject.toml).
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path


def folder(package: str) -> Path:
    """A package's folder on disk (the lab is installed as files, never zipped)."""
    return Path(str(importlib.resources.files(package)))


LAB = folder("lab")
DOCKERFILES = LAB / "dockerfiles"
SETUP = LAB / "setup"
LOAD_SCRIPT = LAB / "traffic" / "load.lua"
NGINX = folder("lab.nginx")
SAMPLE_SITE = folder("lab.sample_site")
