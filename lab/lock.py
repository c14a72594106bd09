"""One change at a time: a lab's lock, so two commands never recreate the same containers at once.

An advisory lock (flock) on `<state dir>/<lab>.lock`, which holds the owner's pid. The kernel drops it
when the process ends, however it ends, so a killed command never leaves a lab locked.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from .errors import LabBusy


class LabLock:
    """Held while a command changes a lab; taking it again in the same process only counts."""

    def __init__(self, path: Path, lab: str):
        self.path, self.lab = Path(path), lab
        self._descriptor: int | None = None
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
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.read(descriptor, 32).decode(errors="replace").strip() or "unknown"
            os.close(descriptor)
            raise LabBusy(
                f"lab {self.lab} is being changed by pid {owner}; wait for that command to finish "
                f"(or stop it), then try again"
            ) from None
        os.ftruncate(descriptor, 0)
        os.write(descriptor, str(os.getpid()).encode())
        self._descriptor = descriptor

    def _release(self) -> None:
        if self._descriptor is not None:
            if not self.path.with_suffix(".json").exists():  # a refused or a finished `down`: leave no file
                self.path.unlink(missing_ok=True)
            os.ftruncate(self._descriptor, 0)
            os.close(self._descriptor)  # closing the last descriptor releases the flock
            self._descriptor = None
