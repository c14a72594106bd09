"""The names a project's production compose file gives its stores (`db:` from a postgres image, `redis:`): settings
written for that file may reach them by those names (tabbycat's docker settings: `redis://redis:6379/1`,
`("redis", 6379)`), so the lab's own stores answer to them too."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from lab.project.recipes import development_recipes, recipes
from lab.project.site import project_folders

# A compose service's image -> the lab's store that stands for it.
_STORE_IMAGES = {"redis": re.compile(r"^(?:\S+/)?(?:redis|valkey|bitnami/redis)\b"),
                 "postgres": re.compile(r"^(?:\S+/)?(?:postgres|postgis/postgis|bitnami/postgresql)\b")}
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


def store_aliases(site: Path) -> dict[str, tuple[str, ...]]:
    """Store -> the service names the project's production compose files give it, in the order found."""
    found: dict[str, list[str]] = {}
    for folder in project_folders(site):
        skipped = development_recipes(folder)
        for relative in recipes(folder):
            if relative in skipped or not re.search(r"compose.*\.ya?ml$", relative.name):
                continue
            try:
                data = yaml.safe_load((folder / relative).read_text(errors="replace")) or {}
            except yaml.YAMLError:
                continue
            for name, service in (data.get("services") or {}).items() if isinstance(data, dict) else []:
                image = str(service.get("image", "")) if isinstance(service, dict) else ""
                for store, pattern in _STORE_IMAGES.items():
                    if pattern.match(image) and _NAME.match(str(name)) and str(name) not in found.setdefault(store, []):
                        found[store].append(str(name))
    return {store: tuple(names) for store, names in found.items() if names}
