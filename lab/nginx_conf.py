"""The balancer's nginx.conf, built as data and rendered by crossplane (which quotes every argument)."""

from __future__ import annotations

import hashlib
import json
from typing import Sequence

import crossplane

from .balance import BalanceMode, directive

NGINX_PORT = 80
CONF_PATH = "/etc/nginx/nginx.conf"
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


def upstream_block(servers: Sequence[str], mode: BalanceMode) -> dict:
    """The upstream of Django nodes, balanced by `mode`; servers are host:port strings.

    A restarted container may come back with another address, so nginx re-resolves the names
    (`resolve`, with a shared zone) instead of keeping the addresses it saw at start; `route` names
    each node, so a sticky cookie still names the same node after it moved.
    """
    lines = [
        # A failed node is skipped for a few seconds instead of being retried on every request.
        directive("server", server, "resolve", f"route={route(server)}", "max_fails=1", f"fail_timeout={FAIL_TIMEOUT_S}s")
        for server in servers
    ]
    return block("upstream", [UPSTREAM], [directive("zone", UPSTREAM, "256k"), *mode.upstream_directives(), *lines])


def config_id(servers: Sequence[str], mode: BalanceMode, static_url: str | None = None) -> str:
    """A short name for one configuration, sent as X-Lab-Config so a reload can be seen to have landed."""
    parts = [list(servers), mode.name] + ([static_url] if static_url else [])
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:12]


def lab_headers(servers: Sequence[str], mode: BalanceMode, static_url: str | None = None) -> list[dict]:
    """Headers on every answer that say which balancing configuration served it."""
    return [
        directive("add_header", "X-Lab-Balance", mode.name, "always"),
        directive("add_header", "X-Lab-Config", config_id(servers, mode, static_url), "always"),
    ]


def static_location(static_url: str, static_root: str, headers: list[dict]) -> dict:
    """The site's collected static files, served by nginx itself (as in production), not by a node."""
    return block(
        "location",
        ["^~", static_url],
        headers + [directive("alias", static_root.rstrip("/") + "/"), directive("expires", "1h")],
    )


def proxy_location(headers: list[dict]) -> dict:
    """Pass every request to the nodes with the client's address and the original Host."""
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
            directive("proxy_read_timeout", "15s"),
            directive("proxy_next_upstream", "error", "timeout"),
            directive("proxy_next_upstream_tries", "2"),
            directive("add_header", "X-Lab-Upstream", "$upstream_addr", "always"),
        ],
    )


def render(
    servers: Sequence[str], mode: BalanceMode, static_url: str | None = None, static_root: str = "/srv/static"
) -> str:
    """The whole nginx.conf for a balancer over `servers` using `mode`, serving STATIC_URL when given."""
    if not servers:
        raise ValueError("an upstream needs at least one server")
    headers = lab_headers(servers, mode, static_url)
    static = [static_location(static_url, static_root, headers)] if static_url else []
    payload = [
        directive("worker_processes", "auto"),
        directive("pid", "/run/nginx.pid"),
        directive("error_log", "/dev/stderr", "warn"),
        block("events", [], [directive("worker_connections", "1024")]),
        block(
            "http",
            [],
            [
                directive("log_format", "lab", LOG_FORMAT),
                directive("access_log", "/dev/stdout", "lab"),
                directive("server_tokens", "off"),
                directive("resolver", DOCKER_DNS, "valid=1s", "ipv6=off"),
                directive("resolver_timeout", "2s"),
                upstream_block(servers, mode),
                block(
                    "server",
                    [],
                    [
                        directive("listen", str(NGINX_PORT)),
                        block("location", ["=", "/nginx-health"], headers + [directive("return", "200", "ok\n")]),
                        *static,
                        proxy_location(headers),
                    ],
                ),
            ],
        ),
    ]
    return crossplane.build(payload, indent=4) + "\n"
