"""The comparison matrix, run: `run_cell` switches a running lab to a cell, lets the virtual users log in
and browse, and returns a CellResult (lab.verdicts.cells): the verdict, and the evidence that it could
have gone the other way.
"""

from __future__ import annotations

import os
import platform
import time

from lab.model.backends import BACKENDS
from lab.model.balance import BALANCE_MODES
from lab.run.lab import Lab
from lab.traffic.clients import Clients
from lab.errors import EvidenceError
from lab.traffic.evidence import WHOAMI, LoginFailed, VirtualUser
from lab.verdicts.cells import QUICK_CELLS, CellResult, all_cells
from lab.verdicts.rules import each_got_every_message, got_only_their_process

# An ASGI site's other dimension: the channel layer its WebSocket users' messages go through.
CHANNEL_LAYERS_UNDER_TEST = {
    "memory": ("each user gets only its own process's messages", "InMemoryChannelLayer: a group in one process's memory"),
    "redis": ("every user gets every message", "channels_redis: a group in the Redis every node shares"),
}


def run_cell(
    lab: Lab, clients: Clients, backend: str, balance: str, requests_count: int = 20, probe: str = WHOAMI
) -> CellResult:
    """Switch the lab to (backend, balance), run every virtual user, and judge what they saw."""
    started = time.monotonic()
    changed = lab.switch(backend=backend, balance=balance).changed
    switched = time.monotonic() - started
    clients.ensure()
    if any("-node-" in name for name in changed):
        lab.warm_up()  # new or restarted workers: so latency measures the store, not a first request
    users = clients.run(requests_count, seconds=60, probe=probe)
    username, _ = lab.login()
    return CellResult(backend, balance, username, users, time.monotonic() - started, switched, lab.engine.several_hosts)


def channel_cells(lab: Lab, clients: Clients) -> list[dict]:
    """On an ASGI site: each channel layer in turn (the lab's override), chat users in every client
    container spread over the nodes by nginx, each sending one message; judged per user."""
    facts = lab.site()
    before = lab.config().channel_layer
    rows = []
    for layer, (expected, reason) in CHANNEL_LAYERS_UNDER_TEST.items():
        row = {"layer": layer, "expected": expected, "reason": reason}
        if layer == "redis" and not facts.get("channels_redis"):
            rows.append({**row, "passed": None, "why": "no verdict: the site does not install channels-redis (`lab readiness --fix` adds it)"})
            continue
        lab.switch(channel_layer=layer)
        chatters = clients.chat(room=f"matrix-{layer}-{int(time.time())}")
        judged = got_only_their_process(chatters) if layer == "memory" else each_got_every_message(chatters)
        connected = [c for c in chatters if c.get("node")]
        rows.append({
            **row,
            "passed": judged.passed,
            "why": judged.why,
            "users": len(connected),
            "processes": len({c["node"] for c in connected}),
            "delivered": sum(len(c["received"]) for c in connected),
            "possible": len(connected) ** 2,
        })
    lab.switch(channel_layer=before)
    return rows


def report_data(lab: Lab, clients: Clients, results: list[CellResult], requests_count: int, full: bool, probe: str) -> dict:
    """The matrix report's data: the run's facts, then every cell (pending ones too, in a full run)."""
    cells = [result.to_dict() for result in results]
    if full:
        cells += [
            {"backend": b, "balance": m, "pending": True}
            for b, backend in BACKENDS.items() if not backend.available for m in BALANCE_MODES
        ]
    config = lab.config()
    return {
        "meta": {
            "finished": time.strftime("%Y-%m-%d %H:%M"),
            "machine": f"{lab.engine.describe()}, {os.cpu_count()} cores, {platform.system()}",
            "site": config.site,
            "probe": "/" + probe.lstrip("/"),
            "nodes": config.nodes,
            "workers": config.workers,
            "users_per_cell": len(results[0].users) if results else 0,
            "nat_users": sum(len(g.users) for g in clients.groups if g.shares_address),
            "requests_per_user": requests_count,
            "cells_run": len(results),
            "seconds": sum(result.seconds for result in results),  # the cells alone, not the set-up
        },
        "cells": cells,
    }


def check_probe(lab: Lab, probe: str, source: str) -> None:
    """The page the users will browse answers the demo user, once, before any cell runs: a page that fails
    everywhere would leave every cell without a verdict, after minutes, and without saying which page."""
    ca = lab.ca_path()
    user = VirtualUser(lab.url(), name="probe-check", login_path=lab.login_path(), probe=probe,
                       ca=ca.read_text() if ca else None)
    try:
        user.login(*lab.login())
    except (LoginFailed, OSError) as error:
        raise EvidenceError(f"the demo user cannot log in before the matrix: {error}") from None
    seen = user.whoami()
    if seen.status != 200:
        raise EvidenceError(
            f"the page users would browse, /{probe.lstrip('/')} ({source}), answered {seen.status or seen.error} "
            f"through nginx (node {seen.node or 'unknown'}), so no cell could give a verdict: pick a page that "
            "answers a logged-in user with --probe PATH"
        )


def run_matrix(
    lab: Lab, quick: bool, probe: str | None = None, requests_count: int = 20, on_cell=None,
    cells: list[tuple[str, str]] | None = None,
) -> dict:
    """Every cell (or the quick ones, or the `cells` chosen) on a running lab, browsing `probe` (default: the
    site's LOGIN_REDIRECT_URL, else the lab's whoami); returns the report's data."""
    facts = lab.site()
    source = "--probe" if probe else "the site's LOGIN_REDIRECT_URL" if facts.get("login_redirect_url") else "the lab's own page"
    probe = probe or facts.get("login_redirect_url") or WHOAMI
    check_probe(lab, probe, source)
    clients = lab.clients()
    clients.ensure()
    chosen = list(dict.fromkeys(cells)) if cells else QUICK_CELLS if quick else all_cells()
    to_run = [cell for cell in chosen if BACKENDS[cell[0]].available]
    results = []
    before = lab.config()
    for backend, balance in to_run:
        result = run_cell(lab, clients, backend, balance, requests_count, probe)
        results.append(result)
        if on_cell:
            on_cell(result)
    lab.switch(backend=before.backend, balance=before.balance)  # the lab as it was before the matrix
    data = report_data(lab, clients, results, requests_count, not (quick or cells), probe)
    frontend = lab.plan().frontend
    if frontend and frontend.websockets and facts.get("channels"):
        data["channels"] = channel_cells(lab, clients)
    return data
