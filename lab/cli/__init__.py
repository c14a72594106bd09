"""The `lab` command: parse, call the library, print. Errors go to stderr with a non-zero exit."""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Sequence

from lab.engines.docker import DockerEngine
from lab.engines.images import ensure_images, image_specs
from lab.errors import ConfigError, EvidenceError, LabError, LabNotFound, PortInUse
from lab.model.backends import BACKENDS
from lab.model.balance import BALANCE_MODES
from lab.model.config import MAX_NODES, LabConfig, check_host, check_name, is_loopback, name_for
from lab.project.site import project_here
from lab.run.lab import Lab


def say(line: str) -> None:
    print(line, flush=True)


def node_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= MAX_NODES:
        raise argparse.ArgumentTypeError(f"nodes must be between 1 and {MAX_NODES}, not {value}")
    return value


def lab_name(text: str) -> str:
    try:
        return check_name(text)
    except ConfigError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def host_address(text: str) -> str:
    try:
        return check_host(text)
    except ConfigError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def port_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be between 1 and 65535, not {value}")
    return value


def add_topology_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by `up` and `switch`; unset ones keep the lab's current value."""
    parser.add_argument("--backend", choices=list(BACKENDS), help="session backend (see `lab backends`)")
    parser.add_argument("--balance", choices=list(BALANCE_MODES), help="nginx balancing mode (see `lab balances`)")
    parser.add_argument("--nodes", type=node_count, help=f"number of Django nodes, 1..{MAX_NODES} (default 3)")
    keys = parser.add_mutually_exclusive_group()
    keys.add_argument(
        "--secret-key-per-node",
        dest="secret_key_per_node",
        action="store_true",
        default=None,
        help="give every node its own SECRET_KEY, to see what that breaks",
    )
    keys.add_argument(
        "--shared-secret-key",
        dest="secret_key_per_node",
        action="store_false",
        help="every node uses the lab's one SECRET_KEY (the default)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lab",
        description="Serve one Django site from several containers behind nginx, and see which session "
        "set-ups keep users logged in.",
    )
    here = project_here(Path.cwd())
    # A lab per project: named after the project this command runs in, else the sample site's djlab.
    default_name = os.environ.get("LAB_NAME") or (name_for(here) if here else "djlab")
    parser.add_argument(
        "--name", type=lab_name, default=default_name,
        help=f"lab name (default {default_name}: the project's folder, else djlab; env LAB_NAME)",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    add_up_parser(commands)
    add_lifecycle_parsers(commands)
    add_study_parsers(commands)
    return parser


def add_up_parser(commands) -> None:
    """`lab up` and its options: the topology, the site, its environment."""
    up = commands.add_parser("up", help="bring a lab up (or bring a running one to these options)")
    add_topology_options(up)
    up.add_argument("--port", type=port_number, help="port nginx publishes (default 8080)")
    up.add_argument(
        "--host",
        type=host_address,
        help="IPv4 address nginx publishes on (default 127.0.0.1; any other lets other machines log in as the demo user)",
    )
    up.add_argument("--workers", type=positive, help="gunicorn workers per node, 1..16 (default 2)")
    up.add_argument(
        "--django-version", help="Django release the node image installs before the site's pins (default: the newest its Python runs)"
    )
    up.add_argument("--site", help="your Django project folder (the one with manage.py; default: sample_site)")
    up.add_argument(
        "--settings",
        dest="site_settings",
        help="the site's settings module, e.g. mysite.settings.production (default: DJANGO_SETTINGS_MODULE in --env, "
        "else the one its Dockerfile or wsgi.py names, else manage.py's)",
    )
    up.add_argument(
        "--engine",
        choices=["local", "swarm"],
        help="local: containers on this engine (default); swarm: a stack on the swarm this Docker endpoint manages",
    )
    up.add_argument("--registry", help="with --engine swarm: where every host pulls the lab's images (HOST:PORT)")
    up.add_argument(
        "--requirements",
        help="the site's requirements file (default: its lock, requirements file(s), pyproject or Pipfile)",
    )
    up.add_argument(
        "--group", action="append", dest="groups", metavar="NAME",
        help="also install this dependency group, extra, Poetry group, Pipfile category or requirements/NAME.txt (repeatable)",
    )
    up.add_argument("--python", help="the interpreter, e.g. 3.11 (default: the closest to what the project declares)")
    up.add_argument(
        "--build-package", action="append", dest="build_packages", metavar="DEB",
        help="a Debian package the build stage adds, e.g. libldap-dev for python-ldap (repeatable)",
    )
    up.add_argument(
        "--env", action="append", dest="env_pairs", metavar="KEY=VALUE",
        help="a variable of the site's environment, kept in the lab's state, never printed (repeatable)",
    )
    up.add_argument("--env-file", metavar="FILE", help="variables from a .env file (KEY=VALUE lines), like --env")
    up.add_argument(
        "--release-command", action="append", dest="release_commands", metavar="CMD",
        help="run CMD once per lab after the migrations, instead of the release steps the project declares (repeatable)",
    )
    up.add_argument("--login-url", help="the path of the site's login page (default: LOGIN_URL, else the admin's)")
    tls = up.add_mutually_exclusive_group()
    tls.add_argument(
        "--https", dest="https", action="store_true", default=None,
        help="nginx terminates https with a certificate of the lab's own CA (default: when the site's settings demand it)",
    )
    tls.add_argument("--no-https", dest="https", action="store_false", help="plain http, whatever the site's settings")



def add_lifecycle_parsers(commands) -> None:
    """`switch`, `down`, `status`, `logs`: a lab's life after `up`."""
    switch = commands.add_parser("switch", help="change a running lab's backend or balancing mode")
    add_topology_options(switch)

    down = commands.add_parser("down", help="remove the lab's containers, network and volumes")
    down.add_argument("--keep-data", action="store_true", help="keep volumes and the lab's keys and password")

    status = commands.add_parser("status", help="show the lab's containers, URL and login")
    status.add_argument("--json", action="store_true", help="print JSON")

    logs = commands.add_parser("logs", help="show a container's log, e.g. `lab logs node-1`")
    logs.add_argument("target", help="nginx, node-N, postgres, redis, memcached")
    logs.add_argument("--tail", type=positive, default=100, help="lines to show (default 100)")



def add_study_parsers(commands) -> None:
    """What runs on a lab, and the lab's own tools: experiments, matrix, watch, export, readiness, bench, setup."""
    experiment = commands.add_parser(
        "experiment", help="disturb the running lab under traffic and measure what users saw (see `lab experiments`)"
    )
    experiment.add_argument("experiment_name", metavar="NAME", help="an experiment from `lab experiments`")
    experiment.add_argument("--backend", choices=list(BACKENDS), help="run the case with this backend only")
    experiment.add_argument("--balance", choices=list(BALANCE_MODES), help="run the case with this mode only")
    commands.add_parser("experiments", help="list the failure experiments and their cases")
    matrix = commands.add_parser(
        "matrix", help="every backend x balancing mode on the lab's site, judged with evidence; writes a report"
    )
    matrix.add_argument("--site", help="bring the lab up with this Django project folder first")
    matrix.add_argument("--quick", action="store_true", help="seven telling cells instead of all fifty")
    matrix.add_argument("--probe", help="the page virtual users browse (default: the site's LOGIN_REDIRECT_URL)")
    watch = commands.add_parser(
        "watch", help="watch virtual users move across nodes, live, while you switch, break and scale the lab"
    )
    watch.add_argument("--seconds", type=positive, default=3600, help="stop after this long (default 3600; Ctrl-C stops too)")
    watch.add_argument("--json", action="store_true", help="no live view: print the summary as JSON at the end")
    watch.add_argument("--web", action="store_true", help="show the view as a page in the browser, on 127.0.0.1")
    watch.add_argument("--web-port", type=port_number, default=8099, help="the page's port (default 8099)")
    watch.add_argument("--probe", help="the page users browse (default: the lab's /__lab__/whoami)")
    export = commands.add_parser("export", help="write the lab's plan for another tool: `lab export compose`")
    export.add_argument("format", choices=["compose"], help="compose: a file `docker stack deploy -c` accepts")
    export.add_argument("--registry", help="push the lab's images to this registry (HOST:PORT) and name them there")
    export.add_argument("--hosts", help="spread the nodes over these swarm hosts (default: the swarm's django-lab.host labels)")
    export.add_argument("--backend", choices=list(BACKENDS), help="export with this backend (the lab stays as it is)")
    export.add_argument("--balance", choices=list(BALANCE_MODES), help="export with this balancing mode")
    export.add_argument("--port", type=port_number, help="the port nginx publishes on the swarm's manager")
    export.add_argument("--output", help="the folder to write (default: compose/<lab>/)")
    readiness = commands.add_parser(
        "readiness", help="what in the site's settings and code breaks on several machines, probed on the nodes"
    )
    readiness.add_argument("--json", action="store_true", help="print JSON instead of the report")
    commands.add_parser("rotate-key", help="new SECRET_KEY on every node, the old one kept as a fallback")

    bench = commands.add_parser(
        "bench", help="benchmarks that print figures: lifecycle, load, profile, site, swarm (`lab bench --help`)",
        add_help=False,
    )
    bench.add_argument("bench_args", nargs=argparse.REMAINDER)
    setup = commands.add_parser(
        "setup", help="make sure this machine can run labs: a Docker engine (as root on Debian: installs and starts one)"
    )
    setup.add_argument("--browser", action="store_true", help="also Chromium, for `lab watch --web` and browser tests")
    commands.add_parser("backends", help="list the session backends")
    commands.add_parser("balances", help="list the balancing modes")

    build = commands.add_parser("build", help="build every image the lab uses")
    build.add_argument("--rebuild", action="store_true", help="build again without Docker's cache")


def version() -> str:
    """The installed lab's version."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("django-multinode-lab")
    except PackageNotFoundError:
        return "unknown (not installed)"


def project_site(lab: Lab, args: argparse.Namespace) -> str | None:
    """The project this command runs in, when no --site is given and the lab has none of its own yet."""
    if getattr(args, "site", None) or lab.config() is not None:
        return None
    here = project_here(Path.cwd())
    if here is not None:
        say(f"the Django project here: {here} (its manage.py); --site PATH serves another")
    return str(here) if here else None


def command_up(lab: Lab, args: argparse.Namespace) -> None:
    """`lab up`: bring the lab to the options given (the project it runs in, unless --site says)."""
    changes = {
        key: getattr(args, key)
        for key in ("backend", "balance", "nodes", "port", "host", "workers", "django_version", "site",
                    "site_settings", "requirements", "secret_key_per_node", "engine", "registry", "python",
                    "login_url", "https")
        if getattr(args, key) is not None
    }
    for key in ("groups", "build_packages", "release_commands"):
        if getattr(args, key) is not None:
            changes[key] = tuple(getattr(args, key))
    if args.env_file or args.env_pairs:
        changes["env"] = site_environment(lab, args)
    here = project_site(lab, args)
    if here:
        changes["site"] = here
    result = lab.up(**changes)
    print_up(lab, result.seconds)


def command_switch(lab: Lab, args: argparse.Namespace) -> None:
    """`lab switch`: change a running lab's backend, balance, nodes or keys."""
    changes = {key: getattr(args, key) for key in ("backend", "balance", "nodes", "secret_key_per_node")}
    result = lab.switch(**changes)
    say(f"switched in {result.seconds:.1f} s; changed: {', '.join(result.changed) or 'nothing'}")


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


def command_logs(lab: Lab, args: argparse.Namespace) -> None:
    """`lab logs TARGET`: one container's log."""
    sys.stdout.write(lab.logs(args.target, tail=args.tail))


def command_experiments(lab: Lab, args: argparse.Namespace) -> None:
    """`lab experiments`: the failure experiments and their cases."""
    from lab.studies.experiments import EXPERIMENTS

    for item in EXPERIMENTS.values():
        say(f"{item.name:20} {item.summary}\n{'':20} cases: {', '.join(c.label for c in item.cases)}")


def command_export(lab: Lab, args: argparse.Namespace) -> None:
    """`lab export compose`: the lab's plan as a stack file."""
    from lab.reports.places import compose_dir

    changes = {key: getattr(args, key) for key in ("backend", "balance", "port") if getattr(args, key) is not None}
    hosts = [h for h in args.hosts.split(",") if h] if args.hosts else None
    folder = Path(args.output) if args.output else compose_dir((lab.config() or LabConfig()).site, args.name)
    path, _ = lab.export_compose(folder, args.registry, hosts, **changes)
    say(f"deploy it: docker stack deploy --resolve-image never -c {path} {args.name}")


def command_readiness(lab: Lab, args: argparse.Namespace) -> None:
    """`lab readiness`: what in the site breaks on several machines, probed on its nodes."""
    from lab.reports.places import reports_dir
    from lab.reports.readiness import markdown, write
    from lab.studies.readiness import assess

    site = (lab.config() or LabConfig(name=args.name)).site
    say(f"probing the site on lab {args.name}'s nodes ...")
    findings, seen = assess(lab)
    paths = write(reports_dir(site), args.name, site, findings, seen)
    if args.json:
        print(paths["json"].read_text())
    else:
        print(markdown(site, findings, seen))
        say(f"report: {paths['markdown']} (and {paths['json'].name})")


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
    ensure_images(DockerEngine(), config, list(image_specs(config)), say, rebuild=args.rebuild)
    say("images ready")


def run(args: argparse.Namespace) -> int:
    """Run the parsed command; its errors reach `main`."""
    if args.command == "setup":
        return setup(args.browser)
    if args.command == "bench":
        from lab.cli.bench import main as bench

        return bench(args.bench_args)
    commands = {
        "up": command_up, "switch": command_switch, "down": command_down, "status": command_status,
        "logs": command_logs, "experiments": command_experiments, "experiment": run_experiment,
        "matrix": run_matrix_command, "export": command_export, "watch": run_watch, "readiness": command_readiness,
        "rotate-key": command_rotate_key, "backends": command_backends, "balances": command_balances,
        "build": command_build,
    }
    commands[args.command](Lab(args.name, progress=say), args)
    return 0


def site_environment(lab: Lab, args: argparse.Namespace) -> tuple[tuple[str, str], ...]:
    """The site's environment after this `up`: what the lab kept, then --env-file, then --env (later wins)."""
    from lab.project import env_file

    kept = dict((lab.config().env if lab.config() and not args.site else ()))
    if args.env_file:
        kept.update(env_file.read(args.env_file))
    for text in args.env_pairs or ():
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

    if args.site or lab.config() is None:
        site = args.site or project_site(lab, args)
        result = lab.up(**({"site": site} if site else {}))
        say(f"lab {lab.name} up in {result.seconds:.1f} s")
    data = run_matrix(
        lab,
        quick=args.quick,
        probe=args.probe,
        on_cell=lambda r: say(f"  {r.backend}/{r.balance}: {r.summary()} in {r.seconds:.1f} s"
                              + ("" if r.passed else f"  (expected {'kept' if r.expected.kept else 'lost'})")),
    )
    paths = write_reports(data, reports_dir(lab.config().site))
    say("\n" + terminal_table(data))
    say(f"report: {paths['html']} (also latest.html, latest.md, latest.json beside it); the lab stays up: `lab down`")
    problems = [cell for cell in data["cells"] if cell.get("evidence_problem")]
    if problems:
        first = problems[0]
        raise EvidenceError(
            f"{len(problems)} of {len(data['cells'])} cells have no verdict; {first['backend']}/{first['balance']}: "
            f"{first['evidence_problem']}"
        )


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
    if experiment.engine != lab.config().engine:
        raise ConfigError(f"{experiment.name} needs a lab on the {experiment.engine} engine: `lab up --engine {experiment.engine}`")
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
    say(
        f"\nLab {report['name']} is up in {seconds:.1f} s: {report['nodes']} nodes, "
        f"backend {report['backend']}, balance {report['balance']}\n"
        f"  open     {report['url']}\n"
        f"{trust}"
        f"  log in   {report['username']} / {report['password']} at {report['login_url']}\n"
        f"  switch   lab switch --backend memcached   (or: make lab-switch BACKEND=memcached)\n"
        f"  status   lab status\n"
        f"  stop     lab down   (or: make lab-down)"
    )


def format_status(report: dict) -> str:
    lines = [
        f"lab {report['name']}: {report['url']}  login {report['username']} / {report['password']}",
        f"backend {report['backend']}, balance {report['balance']}, {report['nodes']} nodes x "
        f"{report['workers']} workers, Python {report.get('python', '?')}, Django {report['django_version']}"
        + (", a SECRET_KEY per node" if report["secret_key_per_node"] else "")
        + (f", NFS client: {report['nfs_client']}" if report.get("nfs_client") else "")
        + (", on a swarm" if report.get("engine") == "swarm" else ""),
        *([f"https with the lab's CA: {report['ca']} (trust it: curl --cacert {report['ca']}, or import it in the browser)"]
          if report.get("ca") else []),
        "",
        f"{'CONTAINER':28} {'ROLE':7} {'STATE':9} {'HEALTH':10} {'HOST':13} IMAGE",
    ]
    for c in report["containers"]:
        lines.append(f"{c['name']:28} {c['role']:7} {c['state']:9} {c['health']:10} {c.get('host', ''):13} {c['image']}")
    if not report["containers"]:
        lines.append("(no containers: the lab is down; `lab up` starts it)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `lab` command."""
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if args.command == "bench":  # its own options, `lab bench --help` among them
        args.bench_args = [*args.bench_args, *rest]
    elif rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    try:
        return run(args)
    except LabError as error:
        print(f"lab: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print(f"lab: interrupted; {what_was_left(args.name)}", file=sys.stderr)
        return 130
    except Exception as error:  # a bug: still one line, and the way to the traceback
        if os.environ.get("LAB_DEBUG"):
            raise
        print(f"lab: internal error: {type(error).__name__}: {error} (LAB_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 1


def what_was_left(name: str) -> str:
    """After Ctrl-C: the lab's containers, asked of the engine for at most a second and a half."""
    found: list = []

    def ask() -> None:
        try:
            found.append(DockerEngine().lab_containers(name))
        except LabError:
            pass

    asker = threading.Thread(target=ask, daemon=True)
    asker.start()
    asker.join(1.5)
    if not found:
        left = "the lab may be partly up"
    elif not found[0]:
        left = f"no container of lab {name} was started"
    else:
        left = f"{len(found[0])} containers of lab {name} are left ({', '.join(c['name'] for c in found[0][:4])}" + (
            ", ...)" if len(found[0]) > 4 else ")"
        )
    return f"{left}; `lab --name {name} up` completes it, `lab --name {name} down` removes it"


if __name__ == "__main__":
    sys.exit(main())
