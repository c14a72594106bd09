"""The registry of session backends: adding one is a small module here and one line below."""

from __future__ import annotations

from .base import NODE_DATA_DIR, SHARED_SESSIONS_DIR, NodeExtras, SessionBackend
from .cached_db import CachedDb
from .db import Db
from .local_file import LocalFile
from .locmem import Locmem
from .memcached import Memcached
from .nfs import Nfs
from .redis import Redis
from .shared_file import SharedFile
from .signed_cookies import SignedCookies
from .sqlite import Sqlite

BACKENDS: dict[str, SessionBackend] = {
    backend.name: backend
    for backend in (
        LocalFile(),
        SharedFile(),
        Nfs(),
        Db(),
        Sqlite(),
        Locmem(),
        Redis(),
        Memcached(),
        CachedDb(),
        SignedCookies(),
    )
}

__all__ = ["BACKENDS", "NODE_DATA_DIR", "SHARED_SESSIONS_DIR", "NodeExtras", "SessionBackend"]
