"""The readiness report's probes: what in a site's settings and code breaks once it runs on several
machines, seen on the lab's real nodes (lab_node.probes) and in the site's files (lab.project.site),
then judged by lab.verdicts.hazards.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from lab.engines.host import fetch_page
from lab.engines.parallel import in_parallel
from lab.errors import ConfigError
from lab.model.stores import POSTGRES_MAX_CONNECTIONS, pool_size
from lab.project import site as site_files
from lab.project.database_switch import database_switch
from lab.project.processes import SCHEDULER
from lab.verdicts.hazards import Finding, Observed, judge

SITE_USER = "django"


def _probe(engine, node: str, *arguments: str) -> dict:
    code, output = engine.exec_member(node, ["python", "-m", "lab_node.probes", *arguments], user=SITE_USER)
    lines = output.strip().splitlines()
    try:
        return json.loads(lines[-1]) if code == 0 else {"error": "\n".join(lines[-5:])}
    except (ValueError, IndexError):
        return {"error": output[-500:]}


def _client_view(url: str) -> dict:
    """What a node sees of a request from this machine through nginx (the lab's /__lab__/client)."""
    status, page = fetch_page(f"{url}__lab__/client")
    try:
        return json.loads(page) if status == 200 else {"error": f"nginx answered {status}"}
    except ValueError:
        return {"error": "the answer was not the lab's"}


def in_running_settings(hits: list, running: list[str]) -> list:
    """The hits a settings finding may cite: those in the settings that run (the module and what it imports,
    as the node loaded them) and in code that is no settings file. A settings file the running settings do not
    import (production.py beside a running local.py, a hosting platform's module) is left out. With no list
    from the node (its settings failed), every hit stays."""
    if not running:
        return hits
    def counts(hit) -> bool:
        path = Path(hit.file)
        if hit.file in running:
            return True
        settings_like = "settings" in path.name or "settings" in path.parent.name or path.name.startswith("configuration")
        return not settings_like

    return [hit for hit in hits if counts(hit)]


def gather(lab) -> Observed:
    """Run the probes on the lab's first two nodes and read the site's files."""
    plan = lab.plan()
    if len(plan.nodes) < 2:
        raise ConfigError("the readiness report compares two nodes; bring the lab up with --nodes 2 or more")
    engine = lab.engine
    asked = _ask_nodes(engine, plan)
    first = asked["first"]
    wrote, read = _media_round_trip(engine, plan)
    try:
        overrides = json.loads(asked["facts"].strip().splitlines()[-1]).get("overrides", [])
    except (ValueError, IndexError):
        overrides = []
    return Observed(
        nodes=plan.config.nodes,
        workers=plan.config.workers,
        nginx_host=plan.nginx.name,
        first=first,
        keys=asked["keys"],
        wrote=wrote,
        read=read,
        max_connections=asked["database"].get("max_connections"),
        deploy_check=asked["deploy"].get("lines", []) if isinstance(asked["deploy"], dict) else [],
        overrides=overrides,
        host_check=asked["host_check"],
        client_view=asked["client_view"],
        schedulers=_schedulers(engine, plan),
        channels=_channels(engine, plan, first),
        scheduler_command=plan.config.scheduler_run(plan.site)[0] if plan.scheduler else "",
        pooler=plan.config.pooler,
        pool_size=pool_size(plan.config.max_connections or POSTGRES_MAX_CONNECTIONS) if plan.config.pooler else 0,
        **_file_hits(plan, first.get("settings_files") or []),
    )


def _ask_nodes(engine, plan) -> dict:
    """The probes that need no order, asked at once: node-1's settings, both nodes' keys, the database, the
    deploy check, the site's facts, a request by address, and what a client sees through nginx."""
    one, two = plan.nodes[0].name, plan.nodes[1].name
    first, key_one, key_two, database, deploy, facts, host_check, client_view = in_parallel(
        lambda call: call(),
        [
            lambda: _probe(engine, one, "settings"),
            lambda: _probe(engine, one, "key"),
            lambda: _probe(engine, two, "key"),
            lambda: _probe(engine, one, "database"),
            lambda: _probe(engine, one, "deploy-check"),
            lambda: engine.exec_member(one, ["python", "-m", "lab_node.site_facts"], user=SITE_USER)[1],
            lambda: _probe(engine, one, "host-check"),
            lambda: _client_view(plan.url),
        ],
    )
    return {"first": first, "keys": (key_one, key_two), "database": database, "deploy": deploy, "facts": facts,
            "host_check": host_check, "client_view": client_view}


def _channels(engine, plan, first: dict) -> dict:
    """A message from node-2's process to a channel on node-1's, when the site has a channel layer."""
    if not first.get("channel_layers"):
        return {}
    one, two = plan.nodes[0].name, plan.nodes[1].name
    group = "lab-probe-" + secrets.token_hex(4)
    received, sent = in_parallel(
        lambda call: call(),
        [lambda: _probe(engine, one, "channel-receive", group), lambda: _probe(engine, two, "channel-send", group, group)],
    )
    return {"sent_on": "node-2", "received_on": "node-1", "sent": sent, "received": received, "text": group}


def _schedulers(engine, plan) -> dict:
    """The schedulers each machine of the site (nodes, and the scheduler machine) started, by short name."""
    machines = [*(spec.name for spec in plan.nodes), *((plan.scheduler.name,) if plan.scheduler else ())]
    answers = in_parallel(lambda name: _probe(engine, name, "schedulers"), machines)
    prefix = plan.config.name + "-"
    return {name.removeprefix(prefix): answer for name, answer in zip(machines, answers)}


def _media_round_trip(engine, plan) -> tuple[dict, dict]:
    """A file saved through the site's storage on node-1, read on node-2, then removed."""
    one, two = plan.nodes[0].name, plan.nodes[1].name
    key = "lab-" + secrets.token_hex(6)
    wrote = _probe(engine, one, "write", key)
    name = (wrote.get("media") or {}).get("name") or "-"
    read = _probe(engine, two, "read", key, name)
    _probe(engine, one, "forget", name)
    return wrote, read


def _file_hits(plan, running: list) -> dict:
    """What the site's files say, each finding as text: the scans of lab.project.site, kept to the settings
    files that ran where a finding is about settings."""
    folder = Path(plan.site.folder)
    instance = site_files.jobs_in_every_instance(folder)
    return dict(
        migrate_hits=[str(hit) for hit in site_files.migrate_at_start(folder)],
        schedule_hits=[str(hit) for hit in in_running_settings(site_files.scheduled_jobs(folder), running)
                       if hit not in instance],
        instance_hits=[str(hit) for hit in instance],
        scheduler_process=next((str(p) for p in plan.site.processes if p.role == SCHEDULER), ""),
        cache_hits=[str(hit) for hit in site_files.cache_users(folder)],
        upload_hits=[str(hit) for hit in site_files.uploads(folder)],
        hosts_hits=[str(hit) for hit in site_files.allowed_hosts(folder) if not running or hit.file in running],
        address_hits=[str(hit) for hit in site_files.client_address_readers(folder)],
        process_hits=[str(hit) for hit in site_files.process_state(folder)],
        database_switch=[f"{variable}={value} ({where.split(':', 2)[0]}:{where.split(':', 2)[1]})"
                         for variable, (value, where) in database_switch(folder).items()
                         if plan.config.site_environment(plan.site).get(variable) == value],
    )


def assess(lab) -> tuple[list[Finding], Observed]:
    """Probe the running lab and judge: the findings, and what they were judged from."""
    seen = gather(lab)
    return judge(seen), seen
