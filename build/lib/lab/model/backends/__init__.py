"""The registry of session backends: adding one is a small module here and one line below."""

from __future__ import annotations

from lab.model.backends.base import NODE_DATA_DIR, SHARED_SESSIONS_DIR, NodeExtras, SessionBackend
from lab.model.backends.cached_db import CachedDb
from lab.model.backends.db import Db
from lab.model.backends.local_file import LocalFile
from lab.model.backends.locmem import Locmem
from lab.model.backends.memcached import Memcached
from lab.model.backends.nfs import Nfs
from lab.model.backends.redis import Redis
from lab.model.backends.shared_file import SharedFile
from lab.model.backends.signed_cookies import SignedCookies
from lab.model.backends.sqlite import Sqlite

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
