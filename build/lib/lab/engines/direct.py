"""Whether this machine reaches container addresses itself.

A Linux engine routes its bridge networks to the host, so the lab can ask a node or a client
container over the network, which costs the engine nothing; a VM-based engine (Docker Desktop) does
not, and then the lab runs a command inside the container instead. Learned from the first attempt.
"""

from __future__ import annotations

import urllib.error

_reachable: dict[str, bool | None] = {"containers": None}


def unreachable() -> bool:
    """True once an attempt showed that container addresses cannot be reached from here."""
    return _reachable["containers"] is False


def learn(error: BaseException | None) -> bool:
    """Record what an attempt showed (None: it got an answer); return True when the address answered
    or refused (so it is routed here), False when there is no route."""
    reason = getattr(error, "reason", error) if isinstance(error, urllib.error.URLError) else error
    routed = error is None or isinstance(reason, ConnectionRefusedError)
    if routed:
        _reachable["containers"] = True
    elif _reachable["containers"] is None:
        _reachable["containers"] = False
    return routed
