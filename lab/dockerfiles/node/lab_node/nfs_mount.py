"""Mount an NFS export with no kernel NFS client: libnfs speaks NFS, FUSE presents it as a folder.

    python -m lab_node.nfs_mount 'nfs://server/export?nfsport=2049&mountport=20048' /srv/nfs-sessions

libnfs (Debian's libnfs14, through ctypes) and mfusepy (a maintained fork of fusepy, over libfuse3)
are both used from plain Python, so the node image needs no compiler. Every NFS call is bounded by
a timeout, so when the server is away a request fails in seconds instead of hanging a worker.
"""

from __future__ import annotations

import ctypes
import errno
import glob
import os
import stat
import sys
import threading
import time

import mfusepy

TIMEOUT_MS = int(os.environ.get("LAB_NFS_TIMEOUT_MS", "3000"))


class NfsStat64(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_uint64)
        for name in (
            "dev", "ino", "mode", "nlink", "uid", "gid", "rdev", "size", "blksize", "blocks",
            "atime", "mtime", "ctime", "atime_nsec", "mtime_nsec", "ctime_nsec", "used",
        )
    ]


class NfsUrl(ctypes.Structure):
    _fields_ = [("server", ctypes.c_char_p), ("path", ctypes.c_char_p), ("file", ctypes.c_char_p)]


class NfsDirent(ctypes.Structure):
    pass


NfsDirent._fields_ = [("next", ctypes.POINTER(NfsDirent)), ("name", ctypes.c_char_p)]


def _library() -> ctypes.CDLL:
    # Debian's libnfs13 (bookworm, libnfs 4) or libnfs14 (trixie, libnfs 5): the calls used here are alike.
    found = sorted(glob.glob("/usr/lib/*/libnfs.so.1[0-9]*"))
    lib = ctypes.CDLL(found[-1] if found else "libnfs.so.14", use_errno=True)
    p, i, u64, s = ctypes.c_void_p, ctypes.c_int, ctypes.c_uint64, ctypes.c_char_p
    signatures = {
        "nfs_init_context": ([], p),
        "nfs_destroy_context": ([p], None),
        "nfs_set_autoreconnect": ([p, i], None),
        "nfs_get_error": ([p], s),
        "nfs_set_timeout": ([p, i], None),
        "nfs_parse_url_dir": ([p, s], ctypes.POINTER(NfsUrl)),
        "nfs_destroy_url": ([ctypes.POINTER(NfsUrl)], None),
        "nfs_mount": ([p, s, s], i),
        "nfs_stat64": ([p, s, ctypes.POINTER(NfsStat64)], i),
        "nfs_open": ([p, s, i, ctypes.POINTER(p)], i),
        "nfs_create": ([p, s, i, i, ctypes.POINTER(p)], i),
        "nfs_close": ([p, p], i),
        # libnfs 5: offset before count (libnfs 6 swapped them; Debian trixie ships 5.0.2).
        "nfs_pread": ([p, p, u64, u64, ctypes.c_char_p], i),
        "nfs_pwrite": ([p, p, u64, u64, ctypes.c_char_p], i),
        "nfs_fsync": ([p, p], i),
        "nfs_truncate": ([p, s, u64], i),
        "nfs_ftruncate": ([p, p, u64], i),
        "nfs_unlink": ([p, s], i),
        "nfs_rename": ([p, s, s], i),
        "nfs_mkdir": ([p, s], i),
        "nfs_rmdir": ([p, s], i),
        "nfs_chmod": ([p, s, i], i),
        "nfs_opendir": ([p, s, ctypes.POINTER(p)], i),
        "nfs_readdir": ([p, p], ctypes.POINTER(NfsDirent)),
        "nfs_closedir": ([p, p], None),
    }
    for name, (arguments, result) in signatures.items():
        function = getattr(lib, name)
        function.argtypes, function.restype = arguments, result
    return lib


# Answers about the file itself; any other failure is taken as a lost connection to the server.
_FILE_ERRORS = {
    errno.ENOENT, errno.EEXIST, errno.EACCES, errno.EPERM, errno.ENOTDIR, errno.EISDIR,
    errno.ENOTEMPTY, errno.EINVAL, errno.ENAMETOOLONG, errno.EXDEV, errno.ENOSPC, errno.EROFS,
}
# The file was replaced (another node renamed a new session file over it) between a lookup and its
# use: libnfs says ESTALE, or EFAULT on a READ. The name is fine and now holds the new file.
_STALE = {errno.ESTALE, errno.EFAULT}
RECONNECT_PAUSE = 1.0  # seconds between attempts, so an outage costs each request one timeout at most
SNAPSHOT_LIMIT = 1 << 20  # a read-only open of a file up to this size reads it whole, at once


class NfsClient:
    """A synchronous libnfs context that reconnects itself after the server comes back.

    libnfs's own reconnect retries without the timeout, which hangs requests for tens of seconds
    while the server is away; so it is off, and a lost connection gets one fresh mount attempt
    (at most one a second) before the call fails with EIO.
    """

    def __init__(self, url: str):
        self.url = url
        self.lib = _library()
        self.lock = threading.Lock()
        self.context = None
        self.last_attempt = 0.0
        self.generation = 0  # counts connections; a file handle is valid only in its own
        self.connect()

    def connect(self) -> None:
        """Mount the export in a fresh context; raise OSError when the server does not answer."""
        self.last_attempt = time.monotonic()
        if self.context:
            self.lib.nfs_destroy_context(self.context)
            self.context = None
        context = self.lib.nfs_init_context()
        if not context:
            raise OSError(errno.ENOMEM, "nfs_init_context failed")
        self.lib.nfs_set_timeout(context, TIMEOUT_MS)
        self.lib.nfs_set_autoreconnect(context, 0)
        parsed = self.lib.nfs_parse_url_dir(context, self.url.encode())
        if not parsed:
            message = self.lib.nfs_get_error(context)
            self.lib.nfs_destroy_context(context)
            raise OSError(errno.EINVAL, f"bad NFS URL {self.url}: {message!r}")
        try:
            result = self.lib.nfs_mount(context, parsed.contents.server, parsed.contents.path)
        finally:
            self.lib.nfs_destroy_url(parsed)
        if result < 0:
            message = self.lib.nfs_get_error(context)
            self.lib.nfs_destroy_context(context)
            raise OSError(-result or errno.EIO, f"mounting {self.url} failed: {message!r}")
        self.context = context
        self.generation += 1

    def call(self, name: str, *arguments, by_path: bool = True):
        """Run one libnfs call. A call by path is retried when the file was replaced under it, and
        after a lost connection it gets one reconnect; a call on a handle cannot be retried."""
        with self.lock:
            stale_retries, reconnected = 3, False
            while True:
                if self.context is None:
                    if time.monotonic() - self.last_attempt < RECONNECT_PAUSE:
                        raise mfusepy.FuseOSError(errno.EIO)
                    try:
                        self.connect()
                    except OSError:
                        raise mfusepy.FuseOSError(errno.EIO) from None
                result = getattr(self.lib, name)(self.context, *arguments)
                if result >= 0:
                    return result
                error = -result
                if error in _STALE:
                    if by_path and stale_retries:
                        stale_retries -= 1
                        continue
                    raise mfusepy.FuseOSError(errno.ESTALE)
                if error not in (errno.ENOENT, errno.EEXIST):  # those two are everyday answers
                    print(f"nfs_mount: {name} failed: {errno.errorcode.get(error, error)}", file=sys.stderr, flush=True)
                if error in _FILE_ERRORS:
                    raise mfusepy.FuseOSError(error)
                # The connection is gone: forget it. A handle belongs to the old connection, so only
                # a call by path is worth retrying, once.
                self.lib.nfs_destroy_context(self.context)
                self.context = None
                if not by_path or reconnected:
                    self.last_attempt = time.monotonic()
                    raise mfusepy.FuseOSError(errno.EIO)
                self.last_attempt, reconnected = 0.0, True

    def stat(self, path: str) -> NfsStat64:
        result = NfsStat64()
        self.call("nfs_stat64", path.encode(), ctypes.byref(result))
        return result

    def open(self, path: str, flags: int) -> int:
        handle = ctypes.c_void_p()
        self.call("nfs_open", path.encode(), flags, ctypes.byref(handle))
        return handle.value

    def create(self, path: str, flags: int, mode: int) -> int:
        handle = ctypes.c_void_p()
        self.call("nfs_create", path.encode(), flags, mode, ctypes.byref(handle))
        return handle.value

    def read(self, handle: int, offset: int, size: int) -> bytes:
        buffer = ctypes.create_string_buffer(size)
        count = self.call("nfs_pread", ctypes.c_void_p(handle), offset, size, buffer, by_path=False)
        return buffer.raw[:count]

    def write(self, handle: int, offset: int, data: bytes) -> int:
        return self.call("nfs_pwrite", ctypes.c_void_p(handle), offset, len(data), data, by_path=False)

    def listdir(self, path: str) -> list[str]:
        directory = ctypes.c_void_p()
        self.call("nfs_opendir", path.encode(), ctypes.byref(directory))
        names = []
        with self.lock:
            if self.context is None:
                raise mfusepy.FuseOSError(errno.EIO)
            try:
                while True:
                    entry = self.lib.nfs_readdir(self.context, directory)
                    if not entry:
                        break
                    names.append(entry.contents.name.decode(errors="surrogateescape"))
            finally:
                self.lib.nfs_closedir(self.context, directory)
        return names


class NfsFilesystem(mfusepy.Operations):
    """The FUSE side: each file operation becomes the matching NFS call."""

    use_ns = True  # times in nanoseconds, as NFS gives them

    def __init__(self, client: NfsClient):
        self.nfs = client
        # FUSE fh -> (connection generation, libnfs handle, path, open flags, snapshot or None)
        self.handles: dict[int, tuple[int, int, str, int, bytes | None]] = {}
        self.next_fh = 1

    def _remember(self, handle: int, path: str, flags: int, snapshot: bytes | None = None) -> int:
        fh, self.next_fh = self.next_fh, self.next_fh + 1
        self.handles[fh] = (self.nfs.generation, handle, path, flags, snapshot)
        return fh

    def _handle(self, fh: int) -> int:
        generation, handle, _, _, _ = self.handles.get(fh, (None, None, None, None, None))
        if generation != self.nfs.generation:
            raise mfusepy.FuseOSError(errno.EIO)  # opened on a connection that is gone
        return handle

    def _close(self, handle: int) -> None:
        try:
            self.nfs.call("nfs_close", ctypes.c_void_p(handle), by_path=False)
        except mfusepy.FuseOSError:
            pass

    def _snapshot(self, path: str, flags: int) -> tuple[int, bytes | None]:
        """Open `path` and read it whole. Another node may rename a new file over it meanwhile (the old
        handle then goes stale): start again from the name, so the bytes always come from one file."""
        for _ in range(4):
            handle = self.nfs.open(path, flags)
            data = b""
            try:
                while len(data) <= SNAPSHOT_LIMIT:
                    chunk = self.nfs.read(handle, len(data), 65536)
                    if not chunk:
                        return handle, data
                    data += chunk
                return handle, None  # too big to keep: served from the server, read by read
            except mfusepy.FuseOSError as error:
                self._close(handle)
                if error.errno != errno.ESTALE:
                    raise
        raise mfusepy.FuseOSError(errno.ESTALE)

    def getattr(self, path, fh=None):
        st = self.nfs.stat(path)
        return {
            "st_mode": st.mode,
            "st_nlink": st.nlink,
            "st_uid": st.uid,
            "st_gid": st.gid,
            "st_size": st.size,
            "st_atime": st.atime * 10**9 + st.atime_nsec,
            "st_mtime": st.mtime * 10**9 + st.mtime_nsec,
            "st_ctime": st.ctime * 10**9 + st.ctime_nsec,
        }

    def readdir(self, path, fh):
        return self.nfs.listdir(path)

    def open(self, path, flags):
        flags &= ~(os.O_CREAT | os.O_EXCL)
        if flags & os.O_ACCMODE == os.O_RDONLY:
            # What a local file gives: the content as of the open, whatever is renamed over the name later.
            handle, snapshot = self._snapshot(path, flags)
            return self._remember(handle, path, flags, snapshot)
        return self._remember(self.nfs.open(path, flags), path, flags)

    def create(self, path, mode, flags):
        return self._remember(self.nfs.create(path, flags, stat.S_IMODE(mode)), path, flags & ~(os.O_CREAT | os.O_EXCL))

    def read(self, path, size, offset, fh):
        snapshot = self.handles.get(fh, (None,) * 5)[4]
        if snapshot is not None:
            return snapshot[offset:offset + size]
        # A file too big to snapshot, or opened for writing too: read the server. If the file was replaced
        # since the open, fail (ESTALE) rather than read another file from the middle.
        return self.nfs.read(self._handle(fh), offset, size)

    def write(self, path, data, offset, fh):
        return self.nfs.write(self._handle(fh), offset, bytes(data))

    def truncate(self, path, length, fh=None):
        if fh:
            return self.nfs.call("nfs_ftruncate", ctypes.c_void_p(self._handle(fh)), length, by_path=False)
        return self.nfs.call("nfs_truncate", path.encode(), length)

    def fsync(self, path, datasync, fh):
        return self.nfs.call("nfs_fsync", ctypes.c_void_p(self._handle(fh)), by_path=False)

    def flush(self, path, fh):
        return 0

    def release(self, path, fh):
        generation, handle, _, _, _ = self.handles.pop(fh, (None, None, None, None, None))
        if generation == self.nfs.generation:
            try:
                self.nfs.call("nfs_close", ctypes.c_void_p(handle), by_path=False)
            except mfusepy.FuseOSError:
                pass  # closing is local bookkeeping for NFSv3; a lost connection loses nothing here
        return 0

    def unlink(self, path):
        return self.nfs.call("nfs_unlink", path.encode())

    def rename(self, old, new):
        return self.nfs.call("nfs_rename", old.encode(), new.encode())

    def mkdir(self, path, mode):
        return self.nfs.call("nfs_mkdir", path.encode())

    def rmdir(self, path):
        return self.nfs.call("nfs_rmdir", path.encode())

    def chmod(self, path, mode):
        return self.nfs.call("nfs_chmod", path.encode(), stat.S_IMODE(mode))

    def utimens(self, path, times=None):
        return 0  # Django's file sessions never set times; the server stamps writes itself.

    def statfs(self, path):
        return {"f_bsize": 4096, "f_frsize": 4096, "f_blocks": 1 << 20, "f_bfree": 1 << 19, "f_bavail": 1 << 19, "f_namemax": 255}


def main(url: str, mountpoint: str) -> None:
    client = NfsClient(url)
    # No attribute or entry caching: another node may have replaced a session file a moment ago.
    mfusepy.FUSE(
        NfsFilesystem(client),
        mountpoint,
        foreground=True,
        nothreads=True,
        # Mounted by root at start; the site's user, which serves, must see it too.
        allow_other=True,
        # Rename and unlink go straight to the server. Without it libfuse first renames a target that a
        # process of this node holds open to .fuse_hidden*, and between that rename and the real one the
        # name does not exist for the other nodes (ENOENT). Open files do not need hiding: see _snapshot.
        hard_remove=True,
        fsname="libnfs:" + url.split("?")[0],
        attr_timeout=0,
        entry_timeout=0,
        negative_timeout=0,
        direct_io=True,
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
