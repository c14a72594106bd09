"""Floors: what the lab's steps cost with nothing of the lab around them, to measure the lab against.

`up_floor` starts a plan's containers with plain create-and-start calls, in the only order the
work allows (the database before migrations, nginx after the nodes, every independent part at once),
and polls each readiness check every 20 ms: the lab's `up` minus all its bookkeeping. An engine of
containers on this machine (lab.engines.local) offers it as its `up_floor`; `engine` is its connection.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request

from lab.engines.parallel import in_parallel
from lab.errors import NotReady
from lab.model.plan import HEALTH, Plan


def _until(check, seconds: float = 90, what: str = "") -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise NotReady(what, f"did not answer within {seconds:.0f} s")
        time.sleep(0.02)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as answer:
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


def up_floor(engine, plan: Plan) -> float:
    """Seconds from nothing to nginx answering through a node, with plain container calls; the
    containers are left for the caller to remove (they carry the plan's labels)."""
    started = time.monotonic()
    engine.ensure_network(plan.network, dict(plan.network_labels))
    in_parallel(lambda v: engine.ensure_volume(v.name, dict(v.labels), dict(v.driver_opts)), plan.volumes)

    def start_and_wait(spec) -> None:
        engine.create(spec, plan.network)
        _until(lambda: engine.passes(spec.check, spec.name), what=spec.name)

    def database_then_migrations() -> None:
        in_parallel(start_and_wait, plan.stores)
        code, output = engine.run_job(plan.prepare, plan.network)
        if code != 0:
            raise NotReady(plan.prepare.name, f"migrations failed with exit code {code}", output)

    def nodes_then_nginx() -> None:
        in_parallel(start_and_wait, plan.nodes)
        engine.create(plan.nginx, plan.network)
        _until(lambda: _answers(f"{plan.url}{HEALTH}"), what=plan.nginx.name)

    in_parallel(lambda step: step(), [database_then_migrations, nodes_then_nginx])
    return time.monotonic() - started
