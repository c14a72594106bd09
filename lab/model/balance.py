"""Balancing modes: how nginx picks a node for each request, as upstream directives.

Each mode is a small declaration; `lab.nginx_conf` turns the chosen one into configuration.
"""

from __future__ import annotations

# Django's default session cookie; cookie_hash keys on it.
SESSION_COOKIE = "sessionid"
STICKY_COOKIE = "lab_node"


def directive(name: str, *args: str) -> dict:
    """One nginx directive in the form crossplane builds from."""
    return {"directive": name, "args": list(args)}


class BalanceMode:
    """One way for nginx to choose the node that serves a request."""

    name: str = ""
    summary: str = ""
    pins_users: bool = False  # does a user keep reaching the same node?

    def upstream_directives(self, session_variable: str = f"$cookie_{SESSION_COOKIE}") -> list[dict]:
        """Directives placed in the upstream block before the server lines; `session_variable` is the
        nginx variable holding the site's session cookie."""
        return []

    def __repr__(self) -> str:
        return f"<BalanceMode {self.name}>"


class RoundRobin(BalanceMode):
    name = "round_robin"
    summary = "each request goes to the next node in turn (nginx's default)"


class LeastConn(BalanceMode):
    name = "least_conn"
    summary = "each request goes to the node with the fewest active connections"

    def upstream_directives(self, session_variable=""):  # pragma: no mutate (the variable is not read: equivalent)
        return [directive("least_conn")]


class IpHash(BalanceMode):
    name = "ip_hash"
    summary = "the client's address picks the node (IPv4: its first three octets)"
    pins_users = True

    def upstream_directives(self, session_variable=""):  # pragma: no mutate (the variable is not read: equivalent)
        return [directive("ip_hash")]


class CookieHash(BalanceMode):
    name = "cookie_hash"
    summary = f"a consistent hash of the session cookie ({SESSION_COOKIE} unless the site renames it) picks the node"
    pins_users = True

    def upstream_directives(self, session_variable=f"$cookie_{SESSION_COOKIE}"):
        return [directive("hash", session_variable, "consistent")]


class Sticky(BalanceMode):
    name = "sticky"
    summary = f"nginx sets a {STICKY_COOKIE} cookie naming the node and routes by it (nginx >= 1.29.6)"
    pins_users = True

    def upstream_directives(self, session_variable=""):  # pragma: no mutate (the variable is not read: equivalent)
        return [directive("sticky", "cookie", STICKY_COOKIE, "path=/", "httponly")]


BALANCE_MODES: dict[str, BalanceMode] = {
    mode.name: mode for mode in (RoundRobin(), LeastConn(), IpHash(), CookieHash(), Sticky())
}
