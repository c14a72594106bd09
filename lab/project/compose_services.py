"""The names a project's production compose file gives its stores (`db:` from a postgres image, `redis:`): settings
written for that file may reach them by those names (tabbycat's docker settings: `redis://redis:6379/1`,
`("redis", 6379)`), so the lab's own stores answer to them too."""

from __future__ import annotations

import re
from pathlib import Path

from lab.project.recipes import production_compose_services
from lab.project.site import project_folders

# A compose service's image -> the lab's store that stands for it.
_STORE_IMAGES = {"redis": re.compile(r"^(?:\S+/)?(?:redis|valkey|bitnami/redis)\b"),
                 "postgres": re.compile(r"^(?:\S+/)?(?:postgres|postgis/postgis|bitnami/postgresql)\b")}
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


def store_aliases(site: Path) -> dict[str, tuple[str, ...]]:
    """Store -> the service names the project's production compose files give it, in the order found."""
    found: dict[str, list[str]] = {}
    for folder in project_folders(site):
        for _, name, service in production_compose_services(folder):
            image = str(service.get("image", ""))
            for store, pattern in _STORE_IMAGES.items():
                if pattern.match(image) and _NAME.match(name) and name not in found.setdefault(store, []):
                    found[store].append(name)
    return {store: tuple(names) for store, names in found.items() if names}
