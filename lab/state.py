"""A lab's state on this machine: its configuration and secrets, kept outside git and the images.

One JSON file per lab (mode 600) under $LAB_STATE_DIR, by default ~/.local/state/django-lab.
`lab down` deletes it with the volumes; `lab down --keep-data` keeps both, so the next `lab up`
finds the same users, keys and password.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from .config import MAX_NODES, LabConfig
from .plan import Secrets


def default_directory() -> Path:
    """Where lab state lives unless LAB_STATE_DIR says otherwise."""
    if os.environ.get("LAB_STATE_DIR"):
        return Path(os.environ["LAB_STATE_DIR"])
    base = Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state"))
    return base / "django-lab"


def new_key() -> str:
    """A fresh Django SECRET_KEY."""
    return secrets.token_urlsafe(50)


def new_secrets() -> Secrets:
    """Fresh random keys and demo password for a new lab."""
    return Secrets(
        secret_key=new_key(),
        node_secret_keys=tuple(new_key() for _ in range(MAX_NODES)),
        demo_user="demo",
        demo_password=secrets.token_urlsafe(9),
    )


@dataclass(frozen=True)
class LabState:
    """What the lab remembers between commands."""

    config: LabConfig
    secrets: Secrets
    prepared_image: str | None = None  # the node image whose migrations last ran

    def replace(self, **changes) -> "LabState":
        return replace(self, **changes)


class StateStore:
    """Loads and saves LabState files."""

    def __init__(self, directory: Path | None = None):
        self.directory = Path(directory) if directory else default_directory()

    def path(self, name: str) -> Path:
        return self.directory / f"{name}.json"

    def load(self, name: str) -> LabState | None:
        """The saved state of lab `name`, or None."""
        path = self.path(name)
        if not path.is_file():
            return None
        data = json.loads(path.read_text())
        saved = data["secrets"]
        saved["node_secret_keys"] = tuple(saved["node_secret_keys"])
        saved["secret_key_fallbacks"] = tuple(saved.get("secret_key_fallbacks", ()))
        return LabState(LabConfig.from_dict(data["config"]), Secrets(**saved), data.get("prepared_image"))

    def save(self, state: LabState) -> None:
        """Write the state readable by this user only."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path(state.config.name)
        data = {"config": state.config.to_dict(), "secrets": asdict(state.secrets), "prepared_image": state.prepared_image}
        temporary = path.with_suffix(".tmp")
        temporary.touch(mode=0o600)
        temporary.write_text(json.dumps(data, indent=2))
        temporary.replace(path)

    def delete(self, name: str) -> bool:
        """Forget lab `name`; True when there was something to forget."""
        path = self.path(name)
        if path.exists():
            path.unlink()
            return True
        return False

    def names(self) -> list[str]:
        """Every lab this machine remembers."""
        if not self.directory.is_dir():
            return []
        return sorted(path.stem for path in self.directory.glob("*.json"))
