"""`lab ls`: every lab on this machine, from two sources that may disagree: the states this machine saved
(a lab brought down with --keep-data has one and no member) and the engines' labels (a lab whose state was
deleted still has members). Nothing here reads a project's folder: one that moved is only said to be gone."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

from lab.engines.choice import ENGINES
from lab.engines.interface import LabEngine
from lab.errors import LabError
from lab.model.config import LabConfig
from lab.run.lab import Lab
from lab.run.state import StateStore


@dataclass(frozen=True)
class LabRow:
    """One lab as `lab ls` shows it; None where the source that says it is missing."""

    name: str
    engine: str | None
    running: int | None  # members running, None when the engine could not be asked
    members: int | None
    url: str | None
    backend: str | None
    balance: str | None
    project: str | None
    project_gone: bool = False
    note: str = ""


def engines_of(lab: Lab) -> list[LabEngine]:
    """Every kind of engine on the lab's connection, once each (an in-memory engine stands for all kinds)."""
    found: list[LabEngine] = []
    for kind in ENGINES:
        engine = lab.engine_of(LabConfig(name=lab.name, engine=kind))
        if not any(engine is seen for seen in found):
            found.append(engine)
    return found


def labs_on(engines: Sequence[LabEngine]) -> tuple[dict[str, set[str]], dict[str, str]]:
    """The labs with members on each kind of engine, and why an engine could not be asked, by kind."""
    found: dict[str, set[str]] = {}
    unreachable: dict[str, str] = {}
    for engine in engines:
        try:
            found[engine.kind] = set(engine.lab_names())
        except LabError as error:
            unreachable[engine.kind] = str(error)
    return found, unreachable


def saved_state(states: StateStore, name: str):
    """The lab's saved state (None when there is none or it cannot be read), and what to say of it."""
    try:
        state = states.load(name)
    except LabError:
        return None, f"its state file cannot be read: `lab --name {name} down` removes the lab and the file"
    return state, "" if state else f"no state on this machine: `lab --name {name} down` removes its members"


def counted(engine: LabEngine, name: str) -> tuple[int, int] | None:
    """(members running, members) of lab `name`, None when the engine stopped answering."""
    try:
        members = engine.members(name)
    except LabError:
        return None
    return sum(member.state == "running" for member in members), len(members)


def lab_rows(states: StateStore, engines: Sequence[LabEngine]) -> list[LabRow]:
    """Every lab a state or an engine knows, sorted by name."""
    found, unreachable = labs_on(engines)
    by_kind = {engine.kind: engine for engine in engines}
    rows = []
    for name in sorted(set(states.names()).union(*found.values())):
        state, note = saved_state(states, name)
        config = state.config if state else None
        # The engine the lab's state names; without a state, the first that holds members of it.
        kind = config.engine if config else next((k for k, names in found.items() if name in names), None)
        counts = None
        if kind in found:
            counts = counted(by_kind[kind], name) if name in found[kind] else (0, 0)
        if kind in unreachable:
            note = note or f"the {kind} engine did not answer"
        rows.append(LabRow(
            name=name, engine=kind, running=counts[0] if counts else None, members=counts[1] if counts else None,
            url=Lab(name, engine=by_kind.get(kind, engines[0]), states=states).url() if config else None,
            backend=config.backend if config else None, balance=config.balance if config else None,
            project=config.site if config else None, project_gone=bool(config) and not Path(config.site).is_dir(),
            note=note,
        ))
    return rows


def members_cell(row: LabRow) -> str:
    if row.members is None:
        return "?"
    return "down" if not row.members else f"{row.running}/{row.members}"


def format_rows(rows: Sequence[LabRow]) -> str:
    """The labs as a table, a note under each that needs one."""
    if not rows:
        return "no lab on this machine: `lab up` starts one"
    width = max(16, *(len(row.name) for row in rows))  # a name is up to 31 characters
    lines = [f"{'LAB':{width}} {'ENGINE':7} {'RUNNING':8} {'URL':26} {'BACKEND/BALANCE':26} PROJECT"]
    for row in rows:
        setup = f"{row.backend}/{row.balance}" if row.backend else "-"
        project = (row.project or "-") + (" (gone)" if row.project_gone else "")
        lines.append(f"{row.name:{width}} {row.engine or '-':7} {members_cell(row):8} {row.url or '-':26} {setup:26} "
                     f"{project}")
        if row.note:
            lines.append(f"{'':{width}} {row.note}")
    return "\n".join(lines)


def command_ls(lab: Lab, args: argparse.Namespace) -> None:
    """`lab ls`: every lab on this machine and its engines."""
    rows = lab_rows(lab.states, engines_of(lab))
    print(json.dumps([asdict(row) for row in rows], indent=2) if args.json else format_rows(rows))
