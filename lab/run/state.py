"""A lab's state on this machine: its configuration and secrets, kept outside git and the images, and what it
runs: the site as its folder was read (lab.model.site) and the image tags applied, so the lab's plan is known
again without reading the folder (which may have changed or moved since).

One JSON file per lab (mode 600) under $LAB_STATE_DIR, by default ~/.local/state/django-lab.
`lab down` deletes it with the volumes; `lab down --keep-data` keeps both, so the next `lab up`
finds the same users, keys and password.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from lab.errors import LabError, StateCorrupt
from lab.model.config import MAX_NODES, LabConfig, check_name
from lab.model.plan import Secrets
from lab.model.site import Site
from lab.run.lock import LabLock


def default_directory(system: str | None = None) -> Path:
    """Where lab state lives unless LAB_STATE_DIR says otherwise: the user's state folder on this system
    (Linux: ~/.local/state/django-lab; macOS: ~/Library/Application Support/django-lab; Windows:
    %LOCALAPPDATA%\\django-lab)."""
    if os.environ.get("LAB_STATE_DIR"):
        return Path(os.environ["LAB_STATE_DIR"])
    system = system or sys.platform
    if system == "darwin":
        from platformdirs.macos import MacOS as Dirs
    elif system == "win32":
        from platformdirs.windows import Windows as Dirs
    else:
        from platformdirs.unix import Unix as Dirs
    return Path(Dirs("django-lab", appauthor=False).user_state_dir)


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
        db_password=secrets.token_urlsafe(18),
        redis_password=secrets.token_urlsafe(18),
    )


@dataclass(frozen=True)
class LabState:
    """What the lab remembers between commands."""

    config: LabConfig
    secrets: Secrets
    prepared_image: str | None = None  # the site image whose migrations last ran
    site_facts: dict | None = None  # what Django said about the site (lab_node.site_facts), with its image
    static_kept: tuple[str, ...] = ()  # earlier versions whose static files nginx still serves (--keep-static)
    site: Site | None = None  # the project folder as the last `up` read it
    tags: dict[str, str] | None = None  # the image tags the last `up` applied, by key

    def replace(self, **changes) -> "LabState":
        return replace(self, **changes)


class StateStore:
    """Loads and saves LabState files."""

    def __init__(self, directory: Path | None = None):
        self.directory = Path(directory) if directory else default_directory()

    def path(self, name: str) -> Path:
        """The state file of lab `name`; the name is checked first, so it never escapes the folder."""
        return self.directory / f"{check_name(name)}.json"

    def tls_dir(self, name: str) -> Path:
        """The lab's CA and nginx's certificate (mode 700), beside its state: `lab down` deletes them."""
        return self.directory / f"{check_name(name)}-tls"

    def lock(self, name: str) -> LabLock:
        """The lock a command holds while it changes lab `name`."""
        return LabLock(self.directory / f"{check_name(name)}.lock", name)

    def load(self, name: str) -> LabState | None:
        """The saved state of lab `name`, or None; StateCorrupt when the file is not what the lab wrote."""
        path = self.path(name)
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text())
            saved = dict(data["secrets"])
            saved["node_secret_keys"] = tuple(saved["node_secret_keys"])
            saved["secret_key_fallbacks"] = tuple(saved.get("secret_key_fallbacks", ()))
            secrets_ = Secrets(**saved)
            if len(secrets_.node_secret_keys) < MAX_NODES or not all(
                isinstance(value, str) and value for value in (secrets_.secret_key, secrets_.demo_password)
            ):
                raise ValueError("the secrets are incomplete")
            config = LabConfig.from_dict(data["config"])
            if config.name != name:
                raise ValueError(f"it describes lab {config.name!r}")
            site = Site.from_dict(data["site"]) if data.get("site") else None
            tags = {str(key): str(tag) for key, tag in data["tags"].items()} if data.get("tags") else None
        except (OSError, ValueError, KeyError, TypeError, AttributeError, LabError) as error:
            raise StateCorrupt(
                f"the state file of lab {name!r} ({path}) cannot be read: {error}. Restore it from a backup, "
                f"or run `lab --name {name} down` to remove the lab's containers, volumes and this file"
            ) from None
        # State written before the stores had passwords: give them one now (stores are recreated with it).
        fresh = new_secrets()
        if not secrets_.db_password or not secrets_.redis_password:
            secrets_ = replace(
                secrets_,
                db_password=secrets_.db_password or fresh.db_password,
                redis_password=secrets_.redis_password or fresh.redis_password,
            )
        facts = data.get("site_facts")
        kept = tuple(str(version) for version in data.get("static_kept", []) if isinstance(version, str))
        return LabState(config, secrets_, data.get("prepared_image"), facts if isinstance(facts, dict) else None, kept,
                        site, tags)

    def save(self, state: LabState) -> None:
        """Write the state readable by this user only, whatever file or mode was there before."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.path(state.config.name)
        data = {
            "config": state.config.to_dict(),
            "secrets": asdict(state.secrets),
            "prepared_image": state.prepared_image,
            "site_facts": state.site_facts,
            "static_kept": list(state.static_kept),
            "site": state.site.to_dict() if state.site else None,
            "tags": state.tags,
        }
        temporary = path.with_suffix(".tmp")
        temporary.unlink(missing_ok=True)  # a leftover may carry a wider mode; O_EXCL below makes a new one
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            os.fchmod(out.fileno(), 0o600)  # the umask cannot widen it, and cannot narrow it below need
            out.write(json.dumps(data, indent=2))
        temporary.replace(path)

    def delete(self, name: str) -> bool:
        """Forget lab `name` (its state and lock files); True when there was a state to forget."""
        path = self.path(name)
        path.with_suffix(".lock").unlink(missing_ok=True)
        path.with_suffix(".owner").unlink(missing_ok=True)
        shutil.rmtree(self.tls_dir(name), ignore_errors=True)
        if path.exists():
            path.unlink()
            return True
        return False

    def names(self) -> list[str]:
        """Every lab this machine remembers."""
        if not self.directory.is_dir():
            return []
        return sorted(path.stem for path in self.directory.glob("*.json"))
