"""This machine's side of a lab: its ports, plain HTTP fetches from here, and its kernel's NFS client."""

from __future__ import annotations

import errno
import os
import socket
import ssl
import urllib.error
import urllib.request

from lab.errors import ConfigError


def port_is_free(host: str, port: int) -> bool:
    """Whether nothing on this machine listens on host:port; ConfigError when `host` is not this machine's."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRNOTAVAIL:
                raise ConfigError(f"--host {host} is not an address of this machine; use 127.0.0.1 (the default)") from None
            if error.errno == errno.EADDRINUSE:
                return False
            if error.errno != errno.EACCES:  # a low port needs root to bind here, not in Docker: fall through
                raise
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1" if host == "0.0.0.0" else host, port)) != 0


def free_port() -> int:
    """A port nothing on this machine listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# The lab's own checks of its own nginx (is it up, which configuration, is there a login form) do not
# verify its certificate: they ask whether it serves, not whom to trust. Virtual users verify it.
_UNVERIFIED = ssl._create_unverified_context()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect, urllib.request.HTTPSHandler(context=_UNVERIFIED))


def fetch(url: str, timeout: float = 3.0) -> tuple[int, dict[str, str]]:
    """GET `url` (not following redirects); (status, headers), or (0, {}) when nothing answered."""
    status, headers, _ = fetch_full(url, timeout)
    return status, headers


def fetch_page(url: str, timeout: float = 10.0) -> tuple[int, str]:
    """GET `url` (not following redirects); (status, the page's text), or (0, "") when nothing answered."""
    status, _, body = fetch_full(url, timeout)
    return status, body.decode(errors="replace")


def fetch_full(url: str, timeout: float = 3.0) -> tuple[int, dict[str, str], bytes]:
    """GET `url`; (status, headers, body), or (0, {}, b"") when nothing answered."""
    try:
        with _OPENER.open(url, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()
    except (urllib.error.URLError, OSError):
        return 0, {}, b""


def nfs_client() -> tuple[str, str]:
    """Which NFS client the nodes use ("kernel" or "fuse"), and why; LAB_NFS_CLIENT overrides."""
    forced = os.environ.get("LAB_NFS_CLIENT", "")
    if forced in ("kernel", "fuse"):
        return forced, f"LAB_NFS_CLIENT={forced}"
    local_engine = os.environ.get("DOCKER_HOST", "unix://").startswith("unix://")
    try:
        with open("/proc/filesystems") as known:
            kernel_has_nfs = any(line.split()[-1] in ("nfs", "nfs4") for line in known if line.strip())
    except OSError:
        kernel_has_nfs = False
    if local_engine and kernel_has_nfs:
        return "kernel", "this machine's kernel has an NFS client: Docker mounts the export as a volume"
    return "fuse", "no kernel NFS client here: every node mounts the export itself through FUSE and libnfs"
