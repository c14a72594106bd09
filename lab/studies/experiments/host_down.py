import time

from lab.errors import NotReady
from lab.model.backends import BACKENDS
from lab.studies.experiments.base import Case, Experiment, Traffic, timeline
from lab.verdicts.rules import (
    Judgement,
    ended_logged_out,
    failures,
    logged_out_exactly_when,
    no_one_logged_out,
    node_before,
)


class HostDown(Experiment):
    name = "host-down"
    summary = "drain a host of the swarm under traffic; the lab redeploys, and swarm starts its node on another host (--engine swarm)"
    several_hosts = True
    cases = (Case("redis", "round_robin"), Case("db", "round_robin"), Case("local_file", "sticky"))
    quick = (Case("redis", "round_robin"),)

    def expect(self, case):
        if BACKENDS[case.backend].survives_round_robin:
            return "no one is logged out", "the sessions live in a store every host's nodes reach"
        return (
            "exactly the users pinned to the moved node are logged out",
            "their sessions were files on the drained host's volume; the node starts elsewhere with an empty one",
        )

    def measure(self, lab, clients, case, outcome):
        username, _ = lab.login()
        engine = lab.engine
        placement = running_placement(engine, lab.name)
        moved = node_off_the_manager(lab.name, placement)
        if moved is None:
            raise NotReady(f"{lab.name} stack", f"no node runs on a host other than the manager's: {placement}")
        host, node = placement[moved], moved.removeprefix(f"{lab.name}-")
        with Traffic(clients, seconds=30) as traffic:
            time.sleep(4)
            drained = traffic.started + traffic.mark(f"{host} drained ({node} ran there)")
            engine.set_host(host, "drain")
            try:
                back = _redeploy_off(lab, engine, traffic, host, moved, node)
                users = traffic.users()
            finally:
                engine.set_host(host, "active")
        pinned = sorted(u.name for u in users if node_before(u, drained) == node)
        _record(outcome, users, username, host, node, pinned, drained, back)
        # Evidence that the verdict could have failed: users were on the moved node, and it served them again.
        served_again = [o for u in users for o in u.observations if back and o.node == node and o.at >= back]
        outcome.figures["requests_on_new_host"] = len(served_again)
        outcome.judge(_verdict(case, users, username, node, pinned, served_again, drained, back))
        outcome.events, outcome.timeline = traffic.events, timeline(users, username, traffic.started)


def running_placement(engine, lab_name: str) -> dict[str, str]:
    """Which host each of the lab's running members is on."""
    return {member.name: member.host for member in engine.members(lab_name) if member.state == "running"}


def node_off_the_manager(lab_name: str, placement: dict[str, str]) -> str | None:
    """The first node (by name) on a host that carries neither nginx nor the stores (those stay on the manager)."""
    managers = {placement.get(f"{lab_name}-{part}") for part in ("nginx", "postgres")}
    return next((name for name, host in sorted(placement.items()) if "-node-" in name and host not in managers), None)


def _redeploy_off(lab, engine, traffic: Traffic, host: str, moved: str, node: str) -> float | None:
    """Deploy again with `host` drained and wait up to 22 s for the moved node to run elsewhere: when it did."""
    # Nodes are pinned round the active hosts (lab.compose): deploying again pins the drained
    # host's node to another one, and swarm starts it there.
    lab.up()
    deadline = time.monotonic() + 22
    while time.monotonic() < deadline:
        now = running_placement(engine, lab.name)
        if now.get(moved) not in (None, host):
            back = time.time()
            traffic.mark(f"{node} serves again on {now[moved]}")
            return back
        time.sleep(0.25)
    return None


def _record(
    outcome, users, username: str, host: str, node: str, pinned: list[str], drained: float, back: float | None
) -> None:
    """The run's figures and what it observed: who was logged out, what failed, when the node served again."""
    out = sorted(u.name for u in users if ended_logged_out(u, username))
    failed = failures(users, after=drained)
    outcome.figures = {
        "users": len(users),
        "drained_host": host,
        "moved_node": node,
        "users_on_moved_node": len(pinned),
        "logged_out": len(out),
        "failed_requests": len(failed),
        "seconds_until_node_serves_again": round(back - drained, 2) if back else None,
        "seconds_until_no_failure": round(max((o.at for o in failed), default=drained) - drained, 2),
    }
    outcome.observed = (
        f"{len(out)} of {len(users)} users logged out ({len(pinned)} were on {node}); {len(failed)} requests failed; "
        + (f"{node} served again after {back - drained:.1f} s" if back else f"{node} did not come back within 22 s")
    )


def _verdict(
    case, users, username: str, node: str, pinned: list[str], served_again: list, drained: float, back: float | None
) -> Judgement:
    """What the backend promises (no one logged out, or exactly the moved node's users), with the node back
    and evidence that the verdict could have failed."""
    came_back = Judgement(back is not None, f"{node} {'came back on another host' if back else 'did not come back'}")
    evidence = Judgement(bool(pinned), f"{len(pinned)} users were on {node} when its host was drained") & Judgement(
        bool(served_again), f"{node} answered {len(served_again)} requests on its new host"
    )
    if BACKENDS[case.backend].survives_round_robin:
        return no_one_logged_out(users, username) & came_back & evidence
    on_node = lambda user: node_before(user, drained) == node  # noqa: E731
    return (
        logged_out_exactly_when(users, username, on_node, f"were on {node} when its host was drained")
        & came_back
        & evidence
    )
