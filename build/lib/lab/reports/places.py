"""Where the lab writes what a person reads: reports and exported stacks.

In a user's project, only the lab's own dot-folder, `.lab/`, which holds a `.gitignore` of `*` so git
never sees it. For the sample site: this repository's `reports/` and `compose/` when the lab runs from
its checkout, else the user's data folder (platformdirs). LAB_REPORTS_DIR overrides the reports'.
"""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_path

from lab.model.config import CHECKOUT, SAMPLE_SITE

DOT_FOLDER = ".lab"


def lab_folder(project: Path) -> Path:
    """The project's `.lab/` folder, made with a `.gitignore` that ignores all of it."""
    folder = project / DOT_FOLDER
    folder.mkdir(exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# The Django multi-node lab's reports and exports: not for git.\n*\n")
    return folder


def _own(site: str | None) -> bool:
    return bool(site) and Path(site).resolve() != SAMPLE_SITE


def _lab_data() -> Path:
    return CHECKOUT if CHECKOUT is not None else user_data_path("django-lab")


def reports_dir(site: str | None = None) -> Path:
    """Where reports about the lab of `site` go."""
    if os.environ.get("LAB_REPORTS_DIR"):
        return Path(os.environ["LAB_REPORTS_DIR"])
    if _own(site):
        return lab_folder(Path(site)) / "reports"
    return _lab_data() / "reports"


def compose_dir(site: str | None, lab: str) -> Path:
    """Where `lab export compose` writes the stack of lab `lab`."""
    if _own(site):
        return lab_folder(Path(site)) / "compose" / lab
    return _lab_data() / "compose" / lab
