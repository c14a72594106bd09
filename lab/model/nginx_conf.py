"""The balancer's nginx.conf, built as data and rendered by crossplane (which quotes every argument)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Sequence

import crossplane

from lab.model.balance import SESSION_COOKIE, BalanceMode, directive

NGINX_PORT = 80
TLS_PORT = 443
CONF_PATH = "/etc/nginx/nginx.conf"
# The lab's certificate for nginx (made per lab, see lab.tls); the key is read by nginx's master only.
TLS_DIR = "/etc/nginx/lab-tls"
UPSTREAM = "django_nodes"

# nginx's own log line: which upstream answered, and which node it said it was.
LOG_FORMAT = (
    '$remote_addr "$request" $status upstream=$upstream_addr '
    "node=$upstream_http_x_lab_node time=$request_time"
)


def block(name: str, args: Sequence[str], body: list[dict]) -> dict:
    """A directive with a { ... } block."""
    return {"directive": name, "args": list(args), "block": body}


# A node that fails a request is left out this long (nginx's passive health check).
FAIL_TIMEOUT_S = 5

# Docker's embedded DNS, inside every container on a user-defined network.
DOCKER_DNS = "127.0.0.11"


def route(server: str) -> str:
    """The sticky cookie's value for a server: its node's short name (`node-2`), since nginx takes at
    most 32 characters and a lab's name alone may take 31."""
    host = server.split(":")[0]
    return "node-" + host.rsplit("-node-", 1)[1] if "-node-" in host else host[-32:]


@dataclass(frozen=True)
class Frontend:
    """What nginx needs to know of the site beyond its nodes: where its static files are, whether it
    terminates TLS, and the name of the site's session cookie (cookie_hash keys on it)."""

    static_url: str | None = None
    tls: bool = False
    session_cookie: str = SESSION_COOKIE
    websockets: bool = False  # an ASGI site: nginx passes WebSocket upgrades through to the nodes
    # The versions whose collected static files nginx serves, each in its own folder: the current one,
    # then any kept from before (--keep-static), so a page of the old version finds its hashed files.
    static_versions: tuple[str, ...] = ()

    @property
    def port(self) -> int:
        """The port nginx listens on in its container."""
        return TLS_PORT if self.tls else NGINX_PORT

    def identity(self) -> list:
        """What of this changes the configuration id (defaults left out, so old ids stay)."""
        parts = [self.static_url] if self.static_url else []
        if self.tls:
            parts.append("tls")
        if self.session_cookie != SESSION_COOKIE:
            parts.append(self.session_cookie)
        if self.websockets:
            parts.append("websockets")
        if self.static_versions:
            parts.append(list(self.static_versions))
        return parts


def session_variable(cookie: str) -> str:
    """The nginx variable holding the session cookie: `$cookie_NAME`, or a map's for names nginx's
    variables cannot spell (`__Secure-sessionid`)."""
    return f"$cookie_{cookie}" if re.fullmatch(r"\w+", cookie) else "$lab_session_cookie"


def session_map(cookie: str) -> list[dict]:
    """A map that reads a cookie whose name has a '-' (nginx's $cookie_ variables cannot)."""
    if re.fullmatch(r"\w+", cookie):
        return []
    pattern = rf"~(?:^|;\s*){re.escape(cookie)}=([^;]+)"
    return [block("map", ["$http_cookie", "$lab_session_cookie"], [directive("default", ""), directive(pattern, "$1")])]


def upstream_block(
    servers: Sequence[str], mode: BalanceMode, session_cookie: str = SESSION_COOKIE, drained: Sequence[str] = ()
) -> dict:
    """The upstream of Django nodes, balanced by `mode`; servers are host:port strings.

    A restarted container may come back with another address, so nginx re-resolves the names
    (`resolve`, with a shared zone) instead of keeping the addresses it saw at start; `route` names
    each node, so a sticky cookie still names the same node after it moved. A `drained` server is marked
    `down`: nginx sends it no new request (a rolling deploy replaces it), and keeps its place in the hash.
    """
    lines = [
        # A failed node is skipped for a few seconds instead of being retried on every request.
        directive("server", server, "resolve", f"route={route(server)}", "max_fails=1", f"fail_timeout={FAIL_TIMEOUT_S}s",
                  *(("down",) if server in drained else ()))
        for server in servers
    ]
    directives = mode.upstream_directives(session_variable(session_cookie))
    return block("upstream", [UPSTREAM], [directive("zone", UPSTREAM, "256k"), *directives, *lines])


def config_id(
    servers: Sequence[str], mode: BalanceMode, frontend: Frontend | None = None, drained: Sequence[str] = ()
) -> str:
    """A short name for one configuration, sent as X-Lab-Config so a reload can be seen to have landed."""
    parts = [list(servers), mode.name] + (frontend or Frontend()).identity() + ([sorted(drained)] if drained else [])
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:12]


def lab_headers(servers: Sequence[str], mode: BalanceMode, frontend: Frontend, drained: Sequence[str] = ()) -> list[dict]:
    """Headers on every answer that say which balancing configuration served it."""
    return [
        directive("add_header", "X-Lab-Balance", mode.name, "always"),
        directive("add_header", "X-Lab-Config", config_id(servers, mode, frontend, drained), "always"),
    ]


def static_location(static_url: str, static_root: str, headers: list[dict], versions: Sequence[str] = ()) -> dict:
    """The site's collected static files, served by nginx itself (as in production), not by a node; with
    versions, from each version's folder in turn (the current first)."""
    if versions:
        tries = [f"/{version}/$lab_static" for version in versions]
        return block(
            "location",
            ["~", f"^{re.escape(static_url)}(?<lab_static>.*)$"],
            headers + [directive("root", static_root), directive("try_files", *tries, "=404"), directive("expires", "1h")],
        )
    return block(
        "location",
        ["^~", static_url],
        headers + [directive("alias", static_root.rstrip("/") + "/"), directive("expires", "1h")],
    )


def websocket_directives() -> list[dict]:
    """A WebSocket's upgrade passed on (HTTP/1.1, Upgrade and Connection, which a proxy drops by default),
    and an idle connection kept five minutes instead of the 15 s an HTTP answer gets."""
    return [
        directive("proxy_http_version", "1.1"),
        directive("proxy_set_header", "Upgrade", "$http_upgrade"),
        directive("proxy_set_header", "Connection", "$connection_upgrade"),
        directive("proxy_read_timeout", "300s"),
    ]


def upgrade_map() -> dict:
    """`Connection: upgrade` for a WebSocket's handshake, `close` otherwise (what nginx sends by default)."""
    return block("map", ["$http_upgrade", "$connection_upgrade"], [directive("default", "upgrade"), directive("", "close")])


def proxy_location(headers: list[dict], websockets: bool = False) -> dict:
    """Pass every request to the nodes with the client's address and the original Host."""
    timeout = [] if websockets else [directive("proxy_read_timeout", "15s")]
    return block(
        "location",
        ["/"],
        headers
        + [
            directive("proxy_pass", f"http://{UPSTREAM}"),
            directive("proxy_set_header", "Host", "$http_host"),
            directive("proxy_set_header", "X-Real-IP", "$remote_addr"),
            directive("proxy_set_header", "X-Forwarded-For", "$proxy_add_x_forwarded_for"),
            directive("proxy_set_header", "X-Forwarded-Proto", "$scheme"),
            # Bounded waits: a dead node costs at most these, never a hung request.
            directive("proxy_connect_timeout", "2s"),
            *timeout,
            *(websocket_directives() if websockets else []),
            directive("proxy_next_upstream", "error", "timeout"),
            directive("proxy_next_upstream_tries", "2"),
            directive("add_header", "X-Lab-Upstream", "$upstream_addr", "always"),
        ],
    )


def listen(frontend: Frontend) -> list[dict]:
    """The server's listening socket: plain http, or TLS with the lab's certificate."""
    if not frontend.tls:
        return [directive("listen", str(NGINX_PORT))]
    return [
        directive("listen", str(TLS_PORT), "ssl"),
        directive("ssl_certificate", f"{TLS_DIR}/cert.pem"),
        directive("ssl_certificate_key", f"{TLS_DIR}/key.pem"),
        directive("ssl_protocols", "TLSv1.2", "TLSv1.3"),
        directive("ssl_session_cache", "shared:lab_tls:1m"),
        # Plain http to this port (a typed http:// URL): nginx's code 497, answered with the https URL.
        directive("error_page", "497", "=301", "https://$http_host$request_uri"),
    ]


def render(
    servers: Sequence[str],
    mode: BalanceMode,
    frontend: Frontend | None = None,
    static_root: str = "/srv/static",
    drained: Sequence[str] = (),
) -> str:
    """The whole nginx.conf for a balancer over `servers` using `mode`, serving STATIC_URL when given;
    `drained` servers take no new request."""
    if not servers:
        raise ValueError("an upstream needs at least one server")
    frontend = frontend or Frontend()
    headers = lab_headers(servers, mode, frontend, drained)
    static_url = frontend.static_url
    static = [static_location(static_url, static_root, headers, frontend.static_versions)] if static_url else []
    payload = [
        directive("worker_processes", "auto"),
        directive("pid", "/run/nginx.pid"),
        directive("error_log", "/dev/stderr", "warn"),
        block("events", [], [directive("worker_connections", "1024")]),
        block(
            "http",
            [],
            [
                # Static files with their types (text/css, ...): a browser refuses a stylesheet sent as text/plain.
                directive("include", "/etc/nginx/mime.types"),
                directive("default_type", "application/octet-stream"),
                directive("log_format", "lab", LOG_FORMAT),
                directive("access_log", "/dev/stdout", "lab"),
                directive("server_tokens", "off"),
                directive("resolver", DOCKER_DNS, "valid=1s", "ipv6=off"),
                directive("resolver_timeout", "2s"),
                *session_map(frontend.session_cookie),
                *([upgrade_map()] if frontend.websockets else []),
                upstream_block(servers, mode, frontend.session_cookie, drained),
                block(
                    "server",
                    [],
                    [
                        *listen(frontend),
                        block("location", ["=", "/nginx-health"], headers + [directive("return", "200", "ok\n")]),
                        *static,
                        proxy_location(headers, frontend.websockets),
                    ],
                ),
            ],
        ),
    ]
    return crossplane.build(payload, indent=4) + "\n"
