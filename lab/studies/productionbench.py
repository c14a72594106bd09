"""`lab bench production`: what production brings next, in figures. A rolling deploy of 3 nodes under
the virtual users' traffic (total time, failed requests), p50/p95 with the session store 10 and 50 ms
away, and, on an ASGI site with Django Channels, WebSocket messages per second through nginx for its
channel layer."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from lab.engines.host import free_port
from lab.errors import ConfigError
from lab.model.config import LabConfig
from lab.run.lab import Lab
from lab.studies.experiments import EXPERIMENTS
from lab.studies.experiments.base import Case


def rolling_deploys(lab: Lab, rounds: int, progress) -> list[dict]:
    rows = []
    for number in range(1, rounds + 1):
        outcome = EXPERIMENTS["rolling-deploy"].run(lab, Case("redis", "round_robin", "rolling"))
        rows.append({**outcome.figures, "passed": outcome.passed})
        progress(f"rolling deploy {number}: {outcome.observed}")
    return rows


def store_latency(lab: Lab, progress) -> dict:
    outcome = EXPERIMENTS["slow-store"].run(lab, Case("redis", "round_robin"))
    progress(f"slow store: {outcome.observed}")
    return {key: value for key, value in outcome.figures.items() if key.startswith("+")}


def channel_rate(lab: Lab, seconds: float = 3.0, messages: int = 20) -> dict:
    """Every user sends `messages` at once into one room; deliveries per second through nginx."""
    frontend = lab.plan().frontend
    if not (frontend and frontend.websockets):
        raise ConfigError("the WebSocket figure needs an ASGI site with Django Channels: lab bench production --site PATH")
    clients = lab.clients()
    clients.ensure()
    chatters = clients.chat(room=f"bench{int(time.time())}", listen=seconds, messages=messages)
    received = [m for c in chatters for m in c["received"]]
    connected = [c for c in chatters if c.get("node")]
    first = min((m["at"] for m in received), default=0.0)
    last = max((m["at"] for m in received), default=0.0)
    return {
        "layer": ", ".join(sorted({c.get("layer") or "?" for c in connected})),
        "users": len(connected),
        "sent": len(connected) * messages,
        "delivered": len(received),
        "if_shared": len(connected) ** 2 * messages,
        "per_second": round(len(received) / max(last - first, 0.001), 1),
    }


def _channels_on(site: Path, name: str, progress) -> dict:
    chat = Lab(name, progress=lambda line: None)
    try:
        chat.up(LabConfig(name=chat.name, site=str(site), port=free_port(), nodes=3))
        row = {"site": site.name, **channel_rate(chat)}
        progress(f"channels on {site}: {row['delivered']} of {row['if_shared']} deliveries, {row['per_second']}/s ({row['layer']})")
        return row
    finally:
        chat.down()


def run(rounds: int, sites: list[str], progress, fixed_copy: Callable[[Lab, Path], Path] | None = None) -> dict:
    """Every figure. With `fixed_copy` (the lab and the site's folder -> a copy with the lab's readiness
    fix applied, lab.cli.bench gives it), each site is measured as it is and as fixed."""
    results: dict = {"deploys": [], "latency": {}, "channels": []}
    lab = Lab("bench-prod", progress=lambda line: None)
    try:
        lab.up(LabConfig(name=lab.name, port=free_port(), nodes=3))
        results["deploys"] = rolling_deploys(lab, rounds, progress)
        results["latency"] = store_latency(lab, progress)
    finally:
        lab.down()
    for number, site in enumerate(sites, 1):
        folder = Path(site).resolve()
        if fixed_copy is None:
            results["channels"].append(_channels_on(folder, f"bench-chat-{number}", progress))
            continue
        chat = Lab(f"bench-chat-{number}", progress=lambda line: None)
        try:  # the site as it is, then a copy with the lab's own fix (a shared layer) on the same measure
            chat.up(LabConfig(name=chat.name, site=str(folder), port=free_port(), nodes=3))
            row = {"site": folder.name, **channel_rate(chat)}
            results["channels"].append(row)
            progress(f"channels on {folder}: {row['delivered']} of {row['if_shared']} deliveries ({row['layer']})")
            fixed = fixed_copy(chat, folder)
        finally:
            chat.down()
        results["channels"].append(_channels_on(fixed, f"bench-chat-{number}f", progress))
    return results
