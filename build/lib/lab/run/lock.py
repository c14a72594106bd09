"""One change at a time: a lab's lock, so two commands never recreate the same containers at once.

A file lock (filelock: the system's own locking on Linux, macOS and Windows) on `<state dir>/<lab>.lock`;
the owner's pid is written beside it (`<lab>.owner`) for the message another command shows. The system
drops the lock when the process ends, however it ends, so a killed command never leaves a lab locked.
"""

from __future__ import annotations

import os
from pathlib import Path

from filelock import FileLock, Timeout

from lab.errors import LabBusy


class LabLock:
    """Held while a command changes a lab; taking it again in the same process only counts."""

    def __init__(self, path: Path, lab: str):
        self.path, self.lab = Path(path), lab
        self.owner = self.path.with_suffix(".owner")
        self._lock: FileLock | None = None
        self._depth = 0

    def __enter__(self) -> "LabLock":
        if self._depth == 0:
            self._acquire()
        self._depth += 1
        return self

    def __exit__(self, *exc) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._release()

    def _acquire(self) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        lock = FileLock(str(self.path), timeout=0, mode=0o600)
        try:
            lock.acquire()
        except Timeout:
            try:
                owner = self.owner.read_text().strip() or "unknown"
            except OSError:
                owner = "unknown"
            raise LabBusy(
                f"lab {self.lab} is being changed by pid {owner}; wait for that command to finish "
                f"(or stop it), then try again"
            ) from None
        self.owner.write_text(str(os.getpid()))
        self._lock = lock

    def _release(self) -> None:
        if self._lock is not None:
            self.owner.unlink(missing_ok=True)
            self._lock.release()
            if not self.path.with_suffix(".json").exists():  # a refused or a finished `down`: leave no file
                self.path.unlink(missing_ok=True)
            self._lock = None
