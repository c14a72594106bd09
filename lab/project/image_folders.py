"""Folders a project's production Dockerfile makes inside its app (`RUN mkdir data`) that the repository does
not hold: a site that keeps its SQLite task queue or uploads there fails to start without them, so the
site's image has them too."""

from __future__ import annotations

import re
import shlex
from pathlib import Path, PurePosixPath

from lab.project.files import walk
from lab.project.recipes import has_production_recipe, is_development
from lab.project.release_steps import _segments, docker_lines
from lab.project.site import project_folders


def made_folders(site: Path) -> list[tuple[str, str]]:
    """(folder relative to the site, where it is made) for each `mkdir` of a production Dockerfile's RUN line
    inside its WORKDIR (the app, as `COPY . .` puts it there), once each."""
    found: dict[str, str] = {}
    for folder in project_folders(site):
        production = has_production_recipe(folder)
        for relative in walk(folder):
            if not relative.name.lower().startswith("dockerfile") and not relative.name.lower().endswith(".dockerfile"):
                continue
            if production and is_development(relative.as_posix()):
                continue
            workdir, app_here = PurePosixPath("/"), False
            text = (folder / relative).read_text(errors="replace")
            for number, instruction, argument in docker_lines(text):
                if instruction == "FROM":
                    workdir, app_here = PurePosixPath("/"), False
                elif instruction == "WORKDIR" and "$" not in argument:
                    workdir = workdir / argument.strip()
                elif instruction in ("COPY", "ADD"):
                    # the app itself: `COPY . .` or `COPY . /app` into the WORKDIR
                    words = [word for word in argument.split() if not word.startswith("--")]
                    if len(words) == 2 and words[0] in (".", "./") and workdir / words[1] == workdir:
                        app_here = True
                elif instruction == "RUN" and app_here and workdir != PurePosixPath("/"):
                    for made in _mkdirs(argument):
                        path = workdir / made
                        if not path.is_relative_to(workdir) or path == workdir:
                            continue
                        inside = (folder / path.relative_to(workdir)).resolve()
                        if not inside.is_relative_to(site.resolve()) or inside.is_file():
                            continue
                        name = inside.relative_to(site.resolve()).as_posix()
                        if name != "." and not inside.is_dir():
                            found.setdefault(name, f"{relative.as_posix()}:{number} (RUN mkdir)")
    return list(found.items())


def _mkdirs(argument: str) -> list[str]:
    """The paths of each `mkdir` in a RUN line's commands, without options or shell variables."""
    paths = []
    for segment in _segments(argument):
        try:
            words = shlex.split(segment)
        except ValueError:
            continue
        if words[:1] != ["mkdir"]:
            continue
        paths += [word for word in words[1:] if not word.startswith(("-", "~")) and "$" not in word and not re.search(r"[*?{]", word)]
    return paths
