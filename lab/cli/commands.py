"""One function per `lab` command: parse is done, call the library, print."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from lab.engines.images import image_specs
from lab.errors import ConfigError, EvidenceError, LabError, LabNotFound, PortInUse, VerdictFailed
from lab.model.backends import BACKENDS
from lab.model.balance import BALANCE_MODES
from lab.model import options as lab_options
from lab.model.config import SAMPLE_SITE, LabConfig, is_loopback
from lab.model.options import FileTable, Sourced
from lab.project.interpreters import INTERPRETERS
from lab.project.lab_options import (LAB_TOML, env_file_paths, find_options, relative_env_file, save_options,
                                     save_target, shown)
from lab.project.read import project_folder, read_site
from lab.project.site import project_here
from lab.reports.progress import on_stdout
from lab.run.lab import Lab
from lab.verdicts.baseline import baseline_of, checked, compare


def say(line: str) -> None:
    """One line of progress or result, on stdout at once; on a terminal, long steps as a live view."""
    on_stdout()(line)


def say_aside(line: str) -> None:
    """The same on stderr: for a command whose stdout is a machine's to read (`--json`)."""
    print(line, file=sys.stderr, flush=True)


def new_project(lab: Lab, args: argparse.Namespace) -> Path | None:
    """The project this command runs in, when no --site is given and the lab has none of its own yet."""
    if getattr(args, "site", None) or lab.config() is not None:
        return None
    return project_here(Path.cwd())


def project_site(lab: Lab, args: argparse.Namespace) -> str | None:
    """The same, said to the user."""
    here = new_project(lab, args)
    if here is not None:
        say(f"the Django project here: {here} (its manage.py); --site PATH serves another")
    return str(here) if here else None


@dataclass(frozen=True)
class CommandOptions:
    """A command's options from its flags, the LAB_* variables and the project's [tool.lab], merged."""

    folder: Path | None  # the project whose file was read (None: no project, the sample site's lab)
    table: FileTable | None  # its [tool.lab] (or lab.toml), None when it keeps none
    flags: dict[str, Sourced]
    merged: dict[str, Sourced]
    changes: dict  # LabConfig's fields the merged options set
    env_files: tuple[str, ...]  # the env files they name, as paths to read


def options_folder(lab: Lab, args: argparse.Namespace) -> Path | None:
    """The project a command's options file belongs to: --site, else the lab's, else the one here."""
    if getattr(args, "site", None):
        return project_folder(args.site)  # a folder without manage.py is refused, as `up` refuses it
    config = lab.config()
    if config is not None:
        folder = Path(config.site)
        return folder if (folder / "manage.py").is_file() else None  # a site since moved: no file to read
    return project_here(Path.cwd())


def command_options(lab: Lab, args: argparse.Namespace) -> CommandOptions:
    """Read the project's options file and merge it under the environment and the flags given."""
    folder = options_folder(lab, args)
    table = find_options(folder) if folder else None
    flags = lab_options.flag_values(vars(args))
    merged = lab_options.merge(flags, lab_options.env_values(os.environ),
                               lab_options.file_values(table) if table else {})
    changes = lab_options.config_changes(merged, {"python": list(INTERPRETERS)})
    files = env_file_paths(merged, table)
    missing = [path for path in files if not Path(path).is_file()]
    if missing and table is not None and merged["env-files"].source == lab_options.FILE:
        raise ConfigError(f"{table.where}: env-files names {shown(Path(missing[0]))}, which is not here: make it "
                          f"(KEY=VALUE lines: the project keeps the file's name, each machine its values)")
    return CommandOptions(folder, table, flags, merged, changes, files)


def up_changes(lab: Lab, args: argparse.Namespace, options: CommandOptions) -> dict:
    """What `up` changes in the lab: the merged options, the site given, the site's environment."""
    changes = dict(options.changes)
    if getattr(args, "site", None):
        changes["site"] = args.site
    if options.env_files or getattr(args, "env_pairs", None):
        changes["env"] = site_environment(lab, args, options.env_files)
    return changes


def command_up(lab: Lab, args: argparse.Namespace) -> None:
    """`lab up`: bring the lab to the options given (the project it runs in, unless --site says), over the
    project's [tool.lab]; --save keeps the flags given there."""
    here = project_site(lab, args)
    options = command_options(lab, args)
    changes = up_changes(lab, args, options)
    if here:
        changes["site"] = here
    if args.save:
        save_flags(lab, args, options, changes)
    result = lab.up(**changes)
    print_up(lab, result.seconds)


def save_flags(lab: Lab, args: argparse.Namespace, options: CommandOptions, changes: dict) -> None:
    """`lab up --save`: the flags given, written into the project's options file (never an --env value)."""
    if options.folder is None or options.folder.resolve() == SAMPLE_SITE:
        raise ConfigError("--save writes into your project's pyproject.toml: run it in a Django project, or give --site")
    (lab.config() or LabConfig(name=lab.name)).replace(**changes)  # refused here, before the file changes
    target = save_target(options.folder)
    values = lab_options.saved_values(options.flags)
    if "env-files" in values:
        values["env-files"] = [relative_env_file(path, str(target.parent)) for path in options.env_files]
    if getattr(args, "env_pairs", None):
        say("not saved: --env values stay on this machine; keep them in an env file and save its path (--env-file FILE --save)")
    if not values:
        say("nothing to save: give the options the project keeps, e.g. `lab up --backend memcached --save`")
        return
    written = save_options(target, values)
    say(f"saved to {shown(target)}{'' if target.name == LAB_TOML else ' [tool.lab]'}: {', '.join(written)}")


def command_config(lab: Lab, args: argparse.Namespace) -> None:
    """`lab config`: each option `lab up` would run with, and where it comes from; no engine needed."""
    options = command_options(lab, args)
    previous = lab.config()
    changes = dict(options.changes)
    site_given = getattr(args, "site", None) or new_project(lab, args)
    if site_given:
        changes["site"] = str(site_given)
    config = (previous or LabConfig(name=lab.name)).replace(**changes)
    site = read_site(config.site, config.site_choices)
    rows = lab_options.effective(config, previous, options.merged, site)
    where = options.table.where if options.table else None
    if args.json:
        print(json.dumps({"name": lab.name, "site": site.folder, "file": where,
                          "options": {row.key: row.to_dict() for row in rows}}, indent=2))
        return
    say(f"lab {lab.name}: the options `lab up` runs with, and where each comes from")
    say(f"  {'site':20} {site.folder}")
    say(f"  {'file':20} {where or 'none ([tool.lab] in pyproject.toml, or lab.toml beside manage.py)'}")
    for row in rows:
        say(f"  {row.key:20} {json.dumps(row.value) if not isinstance(row.value, str) else row.value:24} "
            f"{source_label(row)}")


def source_label(row: lab_options.Effective) -> str:
    """Where an option's value comes from, in words."""
    return {
        lab_options.FLAG: f"flag {row.where}",
        lab_options.ENV: f"env {row.where}",
        lab_options.FILE: f"file {row.where}",
        lab_options.STATE: f"this machine: {row.where}",
        lab_options.PROJECT: f"declared by the project: {row.where}",
    }.get(row.source, "default" if row.where == "default" else f"default: {row.where}")


def command_switch(lab: Lab, args: argparse.Namespace) -> None:
    """`lab switch`: change a running lab's backend, balance, nodes or keys: what its flags say, a step away
    from the project's options (a bare `lab up` comes back to them), which are checked all the same."""
    command_options(lab, args)
    changes = {key: getattr(args, key) for key in ("backend", "balance", "nodes", "secret_key_per_node")}
    result = lab.switch(rolling=args.rolling, **changes)
    say(f"switched in {result.seconds:.1f} s; changed: {', '.join(result.changed) or 'nothing'}")


def command_deploy(lab: Lab, args: argparse.Namespace) -> None:
    """`lab deploy`: roll the site's new version out, one node at a time, with the project's options as they
    are now (its [tool.lab], the LAB_* variables)."""
    options = command_options(lab, args)
    result = lab.deploy(release=args.release, keep_static=args.keep_static, **up_changes(lab, args, options))
    say(f"deployed in {result.seconds:.1f} s; changed: {', '.join(result.changed) or 'nothing (the site is unchanged)'}")


def command_down(lab: Lab, args: argparse.Namespace) -> None:
    """`lab down`: remove the lab's resources (and its state, unless --keep-data)."""
    removed = lab.down(keep_data=args.keep_data)
    kept = " (volumes and state kept)" if args.keep_data else ""
    say(
        f"lab {args.name}: removed {removed['containers']} containers, {removed['networks']} networks, "
        f"{removed['volumes']} volumes{kept}"
    )


def command_status(lab: Lab, args: argparse.Namespace) -> None:
    """`lab status`: containers, URL and login."""
    report = lab.status()
    print(json.dumps(report, indent=2) if args.json else format_status(report))


def command_experiments(lab: Lab, args: argparse.Namespace) -> None:
    """`lab experiments`: the failure experiments and their cases."""
    from lab.studies.experiments import EXPERIMENTS

    for item in EXPERIMENTS.values():
        say(f"{item.name:20} {item.summary}\n{'':20} cases: {', '.join(c.label for c in item.cases)}")


def command_export(lab: Lab, args: argparse.Namespace) -> None:
    """`lab export compose`: the lab's plan as a stack file (`--site`: the site alone, for docker-compose);
    `lab export kubernetes`: the site as the lab ran it, as manifests."""
    from lab.reports.places import compose_dir

    changes = {key: getattr(args, key) for key in ("backend", "balance", "port") if getattr(args, key) is not None}
    hosts = [h for h in args.hosts.split(",") if h] if args.hosts else None
    site = (lab.config() or LabConfig()).site
    if changes and (args.format == "kubernetes" or args.site_only):
        raise ConfigError("this export writes the site as the lab ran it: `lab switch` first to export another backend, "
                          "balancing or port")
    if args.format == "kubernetes":
        from lab.engines.kubernetes import KubernetesOptions, apply_steps

        external = dict(item.split("=", 1) for item in args.external if "=" in item)
        if len(external) != len(args.external):
            raise ConfigError("--external takes STORE=URL, e.g. --external redis=rediss://:password@cache.example.com:6380")
        folder = Path(args.output) if args.output else compose_dir(site, args.name).parent.parent / "kubernetes" / args.name
        export = lab.export_kubernetes(folder, KubernetesOptions(host=args.ingress_host, registry=args.registry, external=external))
        say(f"wrote {folder}: keys and passwords only in its {len(export.secret_paths())} secret-*.yaml files, "
            "which its .gitignore keeps out of git")
        say(f"apply it, in {folder}:")
        for step in apply_steps(args.name, export.current or "redis", export.version):
            say(f"  {step}")
        return
    if args.site_only:
        path = lab.export_site_compose(Path(args.output) if args.output else compose_dir(site, args.name) / "site")
        say(f"run it: docker-compose -f {path} -p {args.name}-site up -d")
        return
    folder = Path(args.output) if args.output else compose_dir(site, args.name)
    path, _ = lab.export_compose(folder, args.registry, hosts, **changes)
    say(f"deploy it: docker stack deploy --resolve-image never -c {path} {args.name}")


def command_readiness(lab: Lab, args: argparse.Namespace) -> None:
    """`lab readiness`: what in the site breaks on several machines, probed on its nodes."""
    from lab.reports.places import reports_dir
    from lab.reports.readiness import markdown, write
    from lab.studies.readiness import assess

    tell = say_aside if args.json else say  # with --json, stdout holds the JSON alone (jq, a CI step)
    command_options(lab, args)  # a broken [tool.lab] is refused here as everywhere
    site = (lab.config() or LabConfig(name=args.name)).site
    baseline = read_baseline(args.baseline) if args.baseline else None  # a bad file fails before probing
    junit = junit_target(args.junit)
    tell(f"probing the site on lab {args.name}'s nodes ...")
    findings, seen = assess(lab)
    paths = write(reports_dir(site), args.name, site, findings, seen)
    if args.json:
        print(paths["json"].read_text())
    else:
        print(markdown(site, findings, seen))
        say(f"report: {paths['markdown']} (and {paths['json'].name})")
    if args.fix:
        write_fix(lab, findings, seen, reports_dir(site), tell)
    if args.save_baseline:
        saved = baseline_of(findings)
        Path(args.save_baseline).write_text(json.dumps(saved, indent=2) + "\n")
        tell(f"baseline: {args.save_baseline} lists {len(saved['found'])} hazards")
    if junit:
        from lab.reports.junit import readiness_suite

        write_junit(junit, readiness_suite(findings, set(baseline["found"]) if baseline is not None else None), tell)
    if baseline is not None:
        change = compare(baseline, findings)
        for line in change.lines():
            tell(line)
        if change.failed:
            raise NewHazard(f"{len(change.new)} hazard(s) found that {args.baseline} does not list")


def write_fix(lab: Lab, findings, seen, directory: Path, tell=say) -> None:
    """`lab readiness --fix`: the patch, where it is, how to apply it and the `lab up` that runs it."""
    from lab.reports.fixes import build_patch, plain_requirements

    config, project = lab.config(), lab.project()  # the site as the lab runs it
    site = Path(config.site)
    patch = build_patch(site, project.settings, findings, seen, requirements=plain_requirements(project))
    for key, why in patch.left.items():
        tell(f"not in the patch: {key}: {why}")
    if not patch.fixed:
        tell("no patch: nothing found that a change of the site's files fixes")
        return
    path = directory / f"readiness-fix-{lab.name}.patch"
    path.write_text(patch.text)
    tell(f"patch: {path} fixes {', '.join(patch.fixed)} in {', '.join(patch.files)}")
    tell(f"  apply    cd {site} && git apply {path}")
    options = "".join(f" {option}" for option in patch.options)
    needs = f"{', '.join(patch.options)} gives what the patch reads" if patch.options else "nothing else is needed"
    tell(f"  run it   lab --name {lab.name} up{options}   (the site's files are read again; {needs})")
    if patch.options:
        tell(f"  keep it  lab --name {lab.name} up{options} --save   (the team's [tool.lab] then holds {', '.join(patch.options)})")
    tell(f"  prove it lab --name {lab.name} readiness")


def junit_target(path: str | None) -> Path | None:
    """Where --junit writes, its folder made now: a path that cannot be written is refused before anything runs."""
    if not path:
        return None
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(f"--junit {path}: {error}") from None
    if path.endswith(("/", os.sep)) or target.is_dir() or not os.access(target.parent, os.W_OK):
        raise ConfigError(f"--junit {path}: not a file this user can write")
    return target


def write_junit(target: Path, suite, tell=say) -> None:
    """The verdicts as a JUnit XML file (lab.reports.junit), for a CI job's test report."""
    from lab.reports.junit import document

    target.write_text(document(suite), encoding="utf-8")
    tell(f"junit: {target}")


class NewHazard(LabError):
    """`lab readiness --baseline`: a hazard the baseline does not list."""


def read_baseline(path: str) -> dict:
    try:
        return checked(json.loads(Path(path).read_text()))
    except (OSError, ValueError) as error:
        raise ConfigError(f"--baseline {path}: {error}") from None


def command_fault(lab: Lab, args: argparse.Namespace) -> None:
    """`lab fault`: what the fault proxy does to one store; a cut heals by itself after its seconds."""
    if args.clear:
        lab.set_faults({})
        say("faults cleared: every store is reached as it is")
        return
    if not args.store:
        raise ConfigError("say which store: `lab fault redis --rtt-ms 50`, or `lab fault --clear`")
    fault = {"rtt_ms": max(0, args.rtt_ms), "kbps": max(0, args.kbps), "cut": False}
    if args.cut:
        lab.set_faults({args.store: {**fault, "cut": True}})
        say(f"{args.store}: cut for {args.cut:g} s")
        try:
            time.sleep(min(args.cut, 600))  # bounded, and healed even when interrupted
        finally:
            lab.set_faults({args.store: fault})
    else:
        lab.set_faults({args.store: fault})
    say(f"{args.store}: round trip +{fault['rtt_ms']} ms, bandwidth {fault['kbps'] or 'unlimited'} kbit/s")


def command_rotate_key(lab: Lab, args: argparse.Namespace) -> None:
    """`lab rotate-key`: a new SECRET_KEY, the old one kept as a fallback."""
    result = lab.rotate_secret_key()
    say(f"SECRET_KEY rotated in {result.seconds:.1f} s; sessions signed with the old key stay valid")


def command_backends(lab: Lab, args: argparse.Namespace) -> None:
    """`lab backends`: the session backends."""
    for backend in BACKENDS.values():
        verdict = "keeps login under round-robin" if backend.survives_round_robin else "loses login under round-robin"
        note = "" if backend.available else f"  [not available yet: {backend.unavailable_reason}]"
        say(f"{backend.name:15} {backend.summary}\n{'':15} {verdict}: {backend.reason}{note}")


def command_balances(lab: Lab, args: argparse.Namespace) -> None:
    """`lab balances`: the balancing modes."""
    for mode in BALANCE_MODES.values():
        say(f"{mode.name:12} {mode.summary}")


def command_build(lab: Lab, args: argparse.Namespace) -> None:
    """`lab build`: every image the lab uses."""
    config = lab.config() or LabConfig(name=args.name)
    site = read_site(config.site, config.site_choices)
    lab.engine_of(config).build_images(config, list(image_specs(config, site)), say, rebuild=args.rebuild, site=site)
    say("images ready")


def site_environment(lab: Lab, args: argparse.Namespace, files: tuple[str, ...] = ()) -> tuple[tuple[str, str], ...]:
    """The site's environment after this `up`: what the lab kept, then the env files (--env-file, else the
    project's env-files), then --env (later wins)."""
    from lab.project import env_file

    kept = dict((lab.config().env if lab.config() and not getattr(args, "site", None) else ()))
    for path in files:
        kept.update(env_file.read(path))
    for text in getattr(args, "env_pairs", None) or ():
        key, value = env_file.pair(text)
        kept[key] = value
    return tuple(kept.items())


def setup(browser: bool) -> int:
    """What `make setup` does for the repository, on this machine: a Docker engine (and Chromium)."""
    import platform
    import shutil
    import subprocess

    from lab.resources import SETUP

    if platform.system() != "Linux" or not shutil.which("bash"):
        print(
            "lab: setup: install Docker Desktop (macOS, Windows) or Docker Engine, start it, and check that "
            "`docker info` answers; the lab needs nothing else here" + (" (and Chromium for --browser)" if browser else ""),
            file=sys.stderr,
        )
        return 0 if shutil.which("docker") else 1
    for script in ["ensure-engine.sh", *(["ensure-browser.sh"] if browser else [])]:
        code = subprocess.run(["bash", str(SETUP / script)]).returncode
        if code != 0:
            return code
    say("setup: a Docker engine answers" + (" and Chromium is here" if browser else "") + "; next: `lab up`")
    return 0


def run_watch(lab: Lab, args: argparse.Namespace) -> None:
    """Users browse the running lab until --seconds or Ctrl-C; a live view, then the summary."""
    from lab.engines.host import port_is_free
    from lab.studies.watch_feed import Feed
    from lab.traffic.evidence import WHOAMI

    if lab.config() is None:
        raise LabNotFound(f"no lab named {lab.name!r}; start one with `lab up` first")
    if args.web and not port_is_free("127.0.0.1", args.web_port):
        raise PortInUse(f"port {args.web_port} on 127.0.0.1 is already in use; pick another with --web-port N")
    feed = Feed(lab, args.seconds, probe=args.probe or WHOAMI)
    feed.start()
    try:
        if args.web:
            from lab.reports import watch_web

            watch_web.run(feed, args.seconds, args.web_port, on_ready=lambda url: say(f"watch page: {url} (Ctrl-C stops)"))
        elif args.json:
            deadline = time.monotonic() + args.seconds
            while time.monotonic() < deadline and feed.snapshot()["requests"] == 0:
                time.sleep(0.1)
            print(f"lab watch: users are browsing {feed.watch.lab_url}", file=sys.stderr, flush=True)
            time.sleep(max(0.0, deadline - time.monotonic()))
        else:
            from lab.reports import watch_terminal

            watch_terminal.run(feed, args.seconds)
    except KeyboardInterrupt:
        pass  # Ctrl-C is how a watch ends: the summary follows
    finally:
        feed.stop()
    for error in feed.errors[:3]:
        print(f"lab watch: a source stopped early: {error}", file=sys.stderr)
    if args.json:
        print(json.dumps(feed.summary(), indent=2))
    else:
        say(feed.paragraph())


def run_matrix_command(lab: Lab, args: argparse.Namespace) -> None:
    """Bring the lab up on --site when asked, run the matrix on it, and write the reports."""
    from lab.reports.matrix import terminal_table, write_reports
    from lab.reports.places import reports_dir
    from lab.studies.matrix import run_matrix

    junit = junit_target(args.junit)
    if args.site or lab.config() is None:
        site = args.site or project_site(lab, args)
        changes = up_changes(lab, args, command_options(lab, args))  # the project's [tool.lab], the LAB_* variables
        if site:
            changes["site"] = site
        result = lab.up(**changes)
        say(f"lab {lab.name} up in {result.seconds:.1f} s")
    data = run_matrix(
        lab,
        quick=args.quick,
        probe=args.probe,
        on_cell=lambda r: say(f"  {r.backend}/{r.balance}: {r.summary()} in {r.seconds:.1f} s"
                              + ("" if r.passed else f"  (expected {'kept' if r.expected.kept else 'lost'})")),
        cells=args.cells,
    )
    paths = write_reports(data, reports_dir(lab.config().site))
    say("\n" + terminal_table(data))
    say(f"report: {paths['html']} (also latest.html, latest.md, latest.json beside it); the lab stays up: `lab down`")
    if junit:
        from lab.reports.junit import matrix_suite

        write_junit(junit, matrix_suite(data))
    no_verdict, differ = matrix_outcome(data)
    if no_verdict:
        raise EvidenceError(f"{len(no_verdict)} of {len(data['cells'])} cells have no verdict; {no_verdict[0]}")
    if differ:
        raise VerdictFailed(f"{len(differ)} verdicts differ from their expectation: " + "; ".join(differ))


def matrix_outcome(data: dict) -> tuple[list[str], list[str]]:
    """The matrix's cells without a verdict, and the cells and channel layers whose verdict differs, one line each.
    (A channel layer the site cannot run, channels-redis not installed, is not judged: the report says why.)"""
    cells = [cell for cell in data["cells"] if not cell.get("pending")]
    no_verdict = [f"{c['backend']}/{c['balance']}: {c['evidence_problem']}" for c in cells if c.get("evidence_problem")]
    differ = [
        f"{c['backend']}/{c['balance']} expected {c['expected']}, observed {c['observed']} ({c['users_kept']} of "
        f"{c['users']} users kept)"
        for c in cells if not c.get("evidence_problem") and not c["passed"]
    ]
    layers = data.get("channels", [])
    differ += [f"channel layer {row['layer']}: expected {row['expected']}; {row['why']}" for row in layers if row["passed"] is False]
    return no_verdict, differ


def run_experiment(lab: Lab, args: argparse.Namespace) -> None:
    """Run an experiment's cases (or one chosen by --backend/--balance) and write its report."""
    from lab.reports.experiments import summary_lines, write_experiment_reports
    from lab.reports.places import reports_dir
    from lab.studies.experiments import EXPERIMENTS, Case

    experiment = EXPERIMENTS.get(args.experiment_name)
    if experiment is None:
        raise ConfigError(f"unknown experiment {args.experiment_name!r}; valid: {', '.join(EXPERIMENTS)}")
    if lab.config() is None:
        raise LabNotFound(f"no lab named {lab.name!r}; start one with `lab up` first")
    if experiment.several_hosts != lab.engine.several_hosts:
        need = "several hosts (`lab up --engine swarm`)" if experiment.several_hosts else "one engine (`lab up --engine local`)"
        raise ConfigError(f"{experiment.name} needs a lab on {need}")
    junit = junit_target(args.junit)
    cases = [
        c for c in experiment.cases
        if (args.backend or c.backend) == c.backend and (args.balance or c.balance) == c.balance
    ]
    if not cases:
        base = experiment.cases[0]
        cases = [Case(args.backend or base.backend, args.balance or base.balance, base.option)]
    started, outcomes = time.monotonic(), []
    for case in cases:
        say(f"{experiment.name} {case.label}: expected {experiment.expect(case)[0]}")
        outcomes.append(experiment.run(lab, case))
        say(summary_lines(outcomes[-1:])[0])
    paths = write_experiment_reports(
        outcomes, time.monotonic() - started, lab.engine.describe(), reports_dir(lab.config().site)
    )
    say(f"report: {paths['html']}")
    if junit:
        from lab.reports.junit import experiment_suite

        write_junit(junit, experiment_suite(experiment.name, outcomes))
    failed = [o for o in outcomes if not o.passed]
    if failed:
        raise VerdictFailed(
            f"{len(failed)} of {len(outcomes)} cases of {experiment.name} failed a rule: "
            + "; ".join(f"{o.case}: {o.why or o.observed}" for o in failed)
        )


def print_up(lab: Lab, seconds: float) -> None:
    report = lab.status()
    host = report["url"].split("//")[1].rsplit(":", 1)[0]
    if not is_loopback(host):
        print(
            f"lab: warning: nginx publishes on {host}, not only on this machine: anyone who reaches this "
            f"address can log in as {report['username']}",
            file=sys.stderr,
        )
    trust = f"  trust    {report['ca']} (the lab's CA: curl --cacert, or import it in the browser)\n" if report.get("ca") else ""
    # The Makefile's verbs exist only in the lab's own repository, not in a project the lab is installed into.
    in_repository = (Path.cwd() / "Makefile").is_file() and "lab-switch:" in (Path.cwd() / "Makefile").read_text()
    other = "redis" if report["backend"] == "memcached" else "memcached"  # a switch to a backend it does not run
    make_switch, make_down = (f"   (or: make lab-switch BACKEND={other})", "   (or: make lab-down)") if in_repository else ("", "")
    say(
        f"\nLab {report['name']} is up in {seconds:.1f} s: {report['nodes']} nodes, "
        f"backend {report['backend']}, balance {report['balance']}\n"
        f"  open     {report['url']}\n"
        f"{trust}"
        + (f"  log in   {report['username']} / {report['password']} at {report['login_url']}\n"
           if report.get("login_found", True) else
           f"  log in   no password form found (an API, or a login elsewhere); the demo user is {report['username']} / "
           f"{report['password']}: `lab up --login-url PATH` names its page\n")
        + f"  switch   lab switch --backend {other}{make_switch}\n"
        f"  status   lab status\n"
        f"  stop     lab down{make_down}"
    )


def format_status(report: dict) -> str:
    lines = [
        f"lab {report['name']}: {report['url']}  login {report['username']} / {report['password']}",
        f"backend {report['backend']}, balance {report['balance']}, {report['nodes']} nodes x "
        f"{report['workers']} workers, Python {report.get('python', '?')}, Django {report['django_version']}"
        + (", a SECRET_KEY per node" if report["secret_key_per_node"] else "")
        + (f", NFS client: {report['nfs_client']}" if report.get("nfs_client") else "")
        + (f", {report['engine_summary']}" if report.get("several_hosts") else ""),
        *([f"https with the lab's CA: {report['ca']} (trust it: curl --cacert {report['ca']}, or import it in the browser)"]
          if report.get("ca") else []),
        *([report["site_note"]] if report.get("site_note") else []),
        "",
        f"{'CONTAINER':28} {'ROLE':9} {'STATE':9} {'HEALTH':10} {'HOST':13} IMAGE",
    ]
    for c in report["containers"]:
        lines.append(f"{c['name']:28} {c['role']:9} {c['state']:9} {c['health']:10} {c.get('host', ''):13} {c['image']}")
    if not report["containers"]:
        lines.append("(no containers: the lab is down; `lab up` starts it)")
    return "\n".join(lines)
