"""worker-down: a worker machine stops while tasks are queued; every task must still run, once.

The lab queues its own Celery task (lab_node.tasks, found by the site's autodiscover_tasks()) through the
site's app and broker, from node-1: a batch before the stop, a batch while worker-1 is stopped, then
worker-1 starts again. Each run writes a row in the lab's database (key, machine), so each task is judged
on its own: none lost, none run twice; with another worker, the tasks queued during the stop ran there.
"""

from __future__ import annotations

import json
import re
import secrets
import time

from lab.errors import ConfigError, EvidenceError
from lab.studies.experiments.base import Case, Experiment
from lab.verdicts.rules import Judgement

SITE_USER = "django"
BATCH = 6
WAIT_SECONDS = 60


def _probe(lab, member: str, *arguments: str) -> dict:
    code, output = lab.engine.exec_member(member, ["python", "-m", "lab_node.probes", *arguments], user=SITE_USER)
    lines = output.strip().splitlines()
    try:
        answer = json.loads(lines[-1]) if code == 0 and lines else None
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise EvidenceError(f"the lab's task probe failed on {member} (exit {code}): {' / '.join(lines[-3:]) or 'no output'}")
    return answer


def celery_app_of(command: str) -> str:
    """The app a `celery -A X worker` command names ("" when it names none)."""
    match = re.search(r"(?:-A|--app)[= ](\S+)", command)
    return match.group(1).split(":")[0] if match else ""


def judge_runs(keys: list[str], runs: list[list], stopped: str, queued_while_stopped: list[str], others: int) -> Judgement:
    """Every key ran exactly once; with other workers, the ones queued during the stop ran elsewhere."""
    ran: dict[str, list[str]] = {}
    for key, machine, _ in runs:
        ran.setdefault(key, []).append(machine)
    lost = [key for key in keys if key not in ran]
    twice = [key for key in keys if len(ran.get(key, [])) > 1]
    verdict = Judgement(not lost, f"{len(lost)} of {len(keys)} tasks never ran: {', '.join(lost[:4])}" if lost
                        else f"all {len(keys)} tasks ran")
    verdict &= Judgement(not twice, f"{len(twice)} tasks ran twice: {', '.join(twice[:4])}" if twice else "none ran twice")
    during = [machine for key in queued_while_stopped for machine in ran.get(key, [])]
    if others:
        elsewhere = [machine for machine in during if machine != stopped]
        verdict &= Judgement(len(elsewhere) == len(queued_while_stopped),
                             f"{len(elsewhere)} of the {len(queued_while_stopped)} tasks queued while {stopped} was stopped "
                             "ran on another worker")
    else:
        verdict &= Judgement(bool(during) and all(machine == stopped for machine in during),
                             f"the {len(queued_while_stopped)} tasks queued while {stopped} was stopped waited, and ran "
                             "once it was back")
    return verdict


class WorkerDown(Experiment):
    name = "worker-down"
    summary = "stop a worker machine while tasks are queued; every task still runs, once (a site with a Celery worker)"
    cases = (Case("redis", "round_robin"),)
    quick = (Case("redis", "round_robin"),)
    needs_workers = True

    def expect(self, case):
        return ("every task runs exactly once", "the broker keeps a queued task until a worker takes it; a worker that "
                "stops gracefully hands back what it had reserved")

    def prepare(self, lab, case):
        plan = lab.plan()
        if not plan.workers:
            raise ConfigError("worker-down needs a site with a worker process type (a Procfile's `worker: celery ... "
                              "worker`); `lab up --worker-machines 2` runs two")
        command = plan.site.worker_run[0]
        if not celery_app_of(command) and "celery" not in command:
            raise ConfigError(f"worker-down queues the lab's own Celery task; the site's worker runs "
                              f"`{command}`, which is not Celery")
        lab.switch(backend=case.backend, balance=case.balance)

    def measure(self, lab, clients, case, outcome):
        plan = lab.plan()
        node = plan.nodes[0].name
        workers = [spec.name for spec in plan.workers]
        app = celery_app_of(plan.site.worker_run[0])
        run = "lab-" + secrets.token_hex(4)
        before = [f"{run}-before-{i}" for i in range(BATCH)]
        during = [f"{run}-during-{i}" for i in range(BATCH)]
        started = time.time()
        _probe(lab, node, "task-send", app, *before)
        stopped_at = time.time()
        lab.engine.stop_member(workers[0], timeout=10)  # a graceful stop: Celery's warm shutdown
        events = [(stopped_at - started, f"{workers[0]} stopped")]
        _probe(lab, node, "task-send", app, *during)
        time.sleep(3)  # while it is stopped: another worker takes them, or they wait in the broker
        lab.up()  # the stopped worker starts again (the plan still has it)
        events.append((time.time() - started, f"{workers[0]} started again"))
        deadline, runs = time.monotonic() + WAIT_SECONDS, []
        while time.monotonic() < deadline:
            runs = _probe(lab, node, "task-runs", run)["runs"]
            if {key for key, _, _ in runs} >= {*before, *during}:
                break
            time.sleep(1)
        stopped = workers[0].removeprefix(f"{lab.name}-")
        machines = sorted({machine for _, machine, _ in runs})
        outcome.figures = {"workers": len(workers), "tasks": len(before) + len(during), "runs": len(runs),
                           "machines": machines, "queued_while_stopped": len(during)}
        outcome.observed = f"{len(runs)} runs of {len(before) + len(during)} tasks, on {', '.join(machines) or 'no machine'}"
        outcome.judge(judge_runs([*before, *during], runs, stopped, during, len(workers) - 1))
        outcome.events = events
