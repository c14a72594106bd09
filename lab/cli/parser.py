"""The `lab` command's arguments: every command and option, checked as they are parsed."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from lab.cli.completion import SHELLS, lab_names, member_names
from lab.cli.layout import LabHelp, group_commands, name_after_commands
from lab.errors import EXIT_CODES, ConfigError
from lab.model.backends import BACKENDS
from lab.model.balance import BALANCE_MODES
from lab.model.config import MAX_NODES, check_host, check_name, name_for
from lab.model.options import OPTIONS
from lab.project.interpreters import INTERPRETERS
from lab.project.site import project_here


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


def worker_machines(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= MAX_NODES:
        raise argparse.ArgumentTypeError(f"worker machines must be between 0 and {MAX_NODES}, not {value}")
    return value


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


def matrix_cell(text: str) -> tuple[str, str]:
    """A matrix cell, BACKEND/BALANCE, of a backend the lab can run."""
    backend, slash, balance = text.partition("/")
    if not slash:
        raise argparse.ArgumentTypeError(f"{text!r} is not BACKEND/BALANCE, e.g. redis/round_robin")
    if backend not in BACKENDS:
        raise argparse.ArgumentTypeError(f"unknown backend {backend!r} in {text!r}; valid: {', '.join(BACKENDS)}")
    if balance not in BALANCE_MODES:
        raise argparse.ArgumentTypeError(f"unknown balance {balance!r} in {text!r}; valid: {', '.join(BALANCE_MODES)}")
    if not BACKENDS[backend].available:
        raise argparse.ArgumentTypeError(f"backend {backend} is not available yet: {BACKENDS[backend].unavailable_reason}")
    return backend, balance


def add_ci_options(experiment, matrix, readiness) -> None:
    """What a CI job asks of the commands that judge: the verdicts as JUnit XML, and the matrix's cells it runs."""
    matrix.add_argument(
        "--cell", action="append", dest="cells", type=matrix_cell, metavar="BACKEND/BALANCE",
        help="run this cell only, e.g. redis/round_robin (repeatable; replaces the --quick set)",
    )
    for parser in (experiment, matrix, readiness):
        parser.add_argument(
            "--junit", metavar="FILE", help="also write the verdicts as JUnit XML to FILE, for a CI test report (docs/ci.md)"
        )


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
        epilog="exit codes:\n" + "\n".join(f"  {code:<4} {meaning}" for code, meaning in EXIT_CODES.items()),
        formatter_class=LabHelp,
    )
    here = project_here(Path.cwd())
    # A lab per project: named after the project this command runs in, else the sample site's djlab.
    default_name = os.environ.get("LAB_NAME") or (name_for(here) if here else "djlab")
    parser.add_argument(
        "--name", type=lab_name, default=default_name,
        help=f"lab name (default {default_name}: the project's folder, else djlab; env LAB_NAME); before or after the command",
    ).completer = lab_names
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    add_up_parser(commands)
    add_lifecycle_parsers(commands)
    add_study_parsers(commands)
    group_commands(parser)
    name_after_commands(parser, lab_name, lab_names)
    return parser


def add_up_parser(commands) -> None:
    """`lab up` and its options: the topology, the site, its environment; `lab config`, which takes the same."""
    up = commands.add_parser("up", help="bring a lab up (or bring a running one to these options)")
    for parser in (up, commands.add_parser(
        "config", help="each option `lab up` would run with, and where it comes from (flag, env, [tool.lab], project)"
    )):
        add_topology_options(parser)
        _add_up_serving_options(parser)
        _add_up_site_options(parser)
        _add_up_environment_options(parser)
        _add_up_front_options(parser)
        _add_up_machine_options(parser)
        _add_up_store_options(parser)
        _mention_env(parser)
    up.add_argument(
        "--save", action="store_true",
        help="also write the options given into the project's [tool.lab] (pyproject.toml, else lab.toml), for the team",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")


def _mention_env(parser: argparse.ArgumentParser) -> None:
    """Each option an env var gives too says so in its help (`env LAB_BACKEND`): lab.model.options lists them."""
    for action in parser._actions:
        option = next((o for o in OPTIONS if o.dest == action.dest and o.env), None)
        if option is None or not action.help or option.flag not in action.option_strings:
            continue
        closing = action.help.endswith(")")
        action.help = f"{action.help[:-1]}; env {option.env})" if closing else f"{action.help} (env {option.env})"


def _add_up_serving_options(up: argparse.ArgumentParser) -> None:
    """How nginx publishes the lab and how much each node serves with."""
    up.add_argument("--port", type=port_number, help="port nginx publishes (default 8080)")
    up.add_argument(
        "--host",
        type=host_address,
        help="IPv4 address nginx publishes on (default 127.0.0.1; any other lets other machines log in as the demo user)",
    )
    up.add_argument("--workers", type=positive, help="gunicorn workers per node, 1..16 (default 2)")
    up.add_argument("--node-memory", type=positive, metavar="MB",
                    help="memory each node may use, 256..16384 MB (default 1024; a node killed for memory says so)")


def _add_up_site_options(up: argparse.ArgumentParser) -> None:
    """The site under test: its Django, folder, settings, engine and dependencies."""
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
    up.add_argument(
        "--python", choices=list(INTERPRETERS),
        help="the interpreter, one of the Pythons Debian ships (default: the closest to what the project declares)",
    )
    up.add_argument(
        "--build-package", action="append", dest="build_packages", metavar="DEB",
        help="a Debian package the build stage adds, e.g. libldap-dev for python-ldap (repeatable)",
    )


def _add_up_environment_options(up: argparse.ArgumentParser) -> None:
    """The site's environment, release commands and login page."""
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


def _add_up_front_options(up: argparse.ArgumentParser) -> None:
    """Whether nginx terminates https and whether the nodes share one media folder."""
    tls = up.add_mutually_exclusive_group()
    tls.add_argument(
        "--https", dest="https", action="store_true", default=None,
        help="nginx terminates https with a certificate of the lab's own CA (default: when the site's settings demand it)",
    )
    tls.add_argument("--no-https", dest="https", action="store_false", help="plain http, whatever the site's settings")
    media = up.add_mutually_exclusive_group()
    media.add_argument(
        "--shared-media", dest="shared_media", action="store_true", default=None,
        help="every node mounts the lab's NFS export and the site finds it in MEDIA_ROOT (what `lab readiness --fix` reads)",
    )
    media.add_argument("--no-shared-media", dest="shared_media", action="store_false", help="each node's MEDIA_ROOT is its own")


def _add_up_machine_options(up: argparse.ArgumentParser) -> None:
    """The machines beside the nodes: the scheduler and the workers."""
    jobs = up.add_mutually_exclusive_group()
    jobs.add_argument(
        "--scheduler", nargs="?", const="auto", metavar="CMD",
        help="one more machine runs the site's scheduled jobs, with DJANGO_RUN_SCHEDULER=1 (the nodes run none of "
        "them once the site checks it): CMD, else the Procfile's clock line or a scheduler management command, "
        "else the site's own start-up",
    )
    jobs.add_argument("--no-scheduler", dest="scheduler", action="store_const", const="",
                      help="no scheduler machine (by default one runs the scheduler process type the project declares)")
    up.add_argument(
        "--worker-machines", type=worker_machines, metavar="N",
        help="machines that run the project's worker process type (celery worker, rqworker, ...): default 1 when "
        "the project declares one; 0 for none",
    )


def _add_up_store_options(up: argparse.ArgumentParser) -> None:
    """How the nodes reach the stores: channel layer, fault proxy, pooler, connection limit."""
    up.add_argument(
        "--channel-layer", choices=("memory", "redis", "site"),
        help="an ASGI site's channel layer under test: in each process's memory, channels_redis on the lab's Redis, "
        "or the site's own (the default)",
    )
    up.add_argument(
        "--fault-proxy", dest="fault_proxy", action=argparse.BooleanOptionalAction, default=None,
        help="the nodes reach every store through the lab's fault proxy, which `lab fault` slows or cuts",
    )
    up.add_argument(
        "--pooler", choices=("pgbouncer", "none"),
        help="the nodes reach PostgreSQL through PgBouncer (transaction pooling), or directly (none, the default)",
    )
    up.add_argument(
        "--max-connections", type=int, metavar="N",
        help="PostgreSQL's max_connections, e.g. your managed database's limit (default: 200)",
    )



def add_lifecycle_parsers(commands) -> None:
    """`switch`, `deploy`, `down`, `status`, `fault`, the members' commands: a lab's life after `up`."""
    switch = commands.add_parser("switch", help="change a running lab's backend or balancing mode")
    add_topology_options(switch)
    switch.add_argument(
        "--rolling", action="store_true",
        help="change the nodes one at a time, each drained from nginx first (no request dropped)",
    )

    deploy = commands.add_parser(
        "deploy", help="roll out the site as its folder is now: one node at a time, each drained from nginx first"
    )
    deploy.add_argument(
        "--keep-static", dest="keep_static", action=argparse.BooleanOptionalAction, default=None,
        help="nginx serves the previous version's static files too, so pages of the old version find theirs",
    )
    deploy.add_argument("--release", metavar="NAME", help="a label for this version, built into its image (a new one redeploys the same code)")

    down = commands.add_parser("down", help="remove the lab's containers, network and volumes")
    down.add_argument("--keep-data", action="store_true", help="keep volumes and the lab's keys and password")

    status = commands.add_parser("status", help="show the lab's containers, URL and login")
    status.add_argument("--json", action="store_true", help="print JSON")

    fault = commands.add_parser(
        "fault", help="slow or cut the network between the nodes and a store (needs `lab up --fault-proxy`)"
    )
    fault.add_argument("store", nargs="?", help="postgres, redis, memcached or pgbouncer; none with --clear")
    fault.add_argument("--rtt-ms", type=int, default=0, help="every round trip to the store takes this much longer")
    fault.add_argument("--kbps", type=int, default=0, help="each connection carries at most this many kilobits a second")
    fault.add_argument("--cut", type=float, metavar="SECONDS", help="nothing passes for SECONDS, then the network heals")
    fault.add_argument("--clear", action="store_true", help="every store reached as it is, no fault")

    add_member_parsers(commands)


def add_member_parsers(commands) -> None:
    """`logs`, `exec`, `ls`: a lab's members, and every lab on this machine."""
    logs = commands.add_parser("logs", help="show a container's log, e.g. `lab logs node-1`; `-f` follows it")
    logs.add_argument("target", help="nginx, node-N, postgres, redis, memcached").completer = member_names
    logs.add_argument("--tail", type=positive, default=100, help="lines to show (default 100)")
    logs.add_argument("-f", "--follow", action="store_true", help="then print its new lines as they come, until Ctrl-C")

    run = commands.add_parser(
        "exec", help="run a command in a member as the site's user, e.g. `lab exec node-1 -- python manage.py check`",
        description="Run a command in one of the lab's members, as the user the member runs as (the site's, on a "
        "node), in its working folder (the site's, on a node). Its output is printed when it ends, and its exit "
        "code is lab's. Nothing is read from stdin: for an interactive shell on this machine's engine, "
        "`docker exec -it LAB-node-1 bash`.",
        usage="%(prog)s [--user USER] MEMBER -- CMD ...",
    )
    run.add_argument(
        "member", metavar="MEMBER", help="nginx, node-N, postgres, redis, ... (as `lab status` names them)"
    ).completer = member_names
    # Not `command`: that is where argparse keeps which of lab's commands runs.
    run.add_argument("argv", nargs=argparse.REMAINDER, metavar="CMD", help="after --: the command and its arguments")
    run.add_argument("--user", default="", help="run as this user instead, e.g. root")

    listing = commands.add_parser("ls", help="every lab on this machine: its project, members running, URL, backend")
    listing.add_argument("--json", action="store_true", help="print JSON")



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
    add_export_parser(commands)
    readiness = commands.add_parser(
        "readiness", help="what in the site's settings and code breaks on several machines, probed on the nodes"
    )
    readiness.add_argument("--json", action="store_true", help="print JSON instead of the report")
    readiness.add_argument(
        "--baseline", metavar="FILE", help="exit 1 when a hazard is found that FILE does not list (a check for CI)"
    )
    readiness.add_argument("--save-baseline", metavar="FILE", help="write the hazards found now to FILE, as a baseline")
    readiness.add_argument(
        "--fix", action="store_true", help="write a patch against the site's files that fixes what it can (never applied by the lab)"
    )
    add_ci_options(experiment, matrix, readiness)
    commands.add_parser("rotate-key", help="new SECRET_KEY on every node, the old one kept as a fallback")

    add_bench_parser(commands)
    setup = commands.add_parser(
        "setup", help="make sure this machine can run labs: a Docker engine (as root on Debian: installs and starts one)"
    )
    setup.add_argument("--browser", action="store_true", help="also Chromium, for `lab watch --web` and browser tests")
    completion = commands.add_parser(
        "completion", help="print the shell completion script: `eval \"$(lab completion bash)\"` in ~/.bashrc"
    )
    completion.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    commands.add_parser("backends", help="list the session backends")
    commands.add_parser("balances", help="list the balancing modes")

    build = commands.add_parser("build", help="build every image the lab uses")
    build.add_argument("--rebuild", action="store_true", help="build again without Docker's cache")


def add_export_parser(commands) -> None:
    """`lab export`: the lab's plan for another tool, or the site as the lab ran it for production."""
    export = commands.add_parser(
        "export", help="write the lab's plan for another tool: `lab export compose`, or the site for production: `lab export kubernetes`"
    )
    export.add_argument(
        "format", choices=["compose", "kubernetes"],
        help="compose: a file `docker stack deploy -c` accepts (with --site: the site alone, for docker-compose); "
        "kubernetes: the site as the lab ran it, as kustomize manifests (docs/production.md)",
    )
    export.add_argument("--site", action="store_true", dest="site_only",
                        help="compose: the user's site as the lab ran it (nginx, nodes, stores, release job), not the lab's stack")
    export.add_argument("--registry", help="push the lab's images to this registry (HOST:PORT, or HOST/PATH for kubernetes) and name them there")
    export.add_argument("--external", action="append", default=[], metavar="STORE=URL",
                        help="kubernetes: a managed store (postgres, redis, memcached) at URL instead of a StatefulSet (repeatable)")
    export.add_argument("--host", dest="ingress_host", default="site.example.com",
                        help="kubernetes: the host name the Ingress answers (default site.example.com)")
    export.add_argument("--hosts", help="spread the nodes over these swarm hosts (default: the swarm's django-lab.host labels)")
    export.add_argument("--backend", choices=list(BACKENDS), help="export with this backend (the lab stays as it is)")
    export.add_argument("--balance", choices=list(BALANCE_MODES), help="export with this balancing mode")
    export.add_argument("--port", type=port_number, help="the port nginx publishes on the swarm's manager")
    export.add_argument("--output", "--out", help="the folder to write (default: compose/<lab>/, kubernetes/<lab>/)")


def add_bench_parser(commands) -> None:
    """`lab bench NAME`: one subcommand per benchmark (lab.cli.bench runs them)."""
    bench = commands.add_parser(
        "bench", help="benchmarks that print figures: lifecycle, load, profile, site, swarm (`lab bench --help`)",
        description="Benchmarks that print figures (`lab bench ...`). `lab bench lifecycle` times the lab's own life cycle:\n"
        "a cold image build, then rounds of warm `up` (to the first healthy answer through nginx), `switch`\n"
        "(redis to memcached) and `down`.",
    )
    benches = bench.add_subparsers(dest="bench_command", required=True, metavar="{lifecycle,load,profile,site,swarm,production}")
    life = benches.add_parser("lifecycle", help="time image build, up, switch and down")
    life.add_argument("--rounds", type=int, default=3, help="rounds of up/switch/down (default 3)")
    life.add_argument("--no-cold", action="store_true", help="skip the cold image build")
    load = benches.add_parser("load", help="throughput and latency per session backend and balancing mode")
    load.add_argument("--quick", action="store_true", help="four backends, 3 s each (about a minute)")
    speed = benches.add_parser("profile", help="where up, switch and a matrix cell spend their time, against floors")
    speed.add_argument("--rounds", type=int, default=3, help="rounds of floor/up/switch/down (default 3)")
    speed.add_argument("--matrix", action="store_true", help="also time the full matrix (about 2 minutes)")
    own = benches.add_parser(
        "site", help="per fixture site: interpreter, build stage, cold build, image size, fresh and warm up, a code change"
    )
    own.add_argument("--rounds", type=int, default=2, help="code changes rolled out per fixture (default 2)")
    own.add_argument("--only", action="append", help="this fixture only (repeatable), e.g. --only wagtailsite")
    over = benches.add_parser("swarm", help="the lab on the swarm's test hosts: up, switch and load against one engine")
    over.add_argument("--rounds", type=int, default=3, help="rounds of up/switch (default 3)")
    production = benches.add_parser(
        "production", help="a rolling deploy's time and failed requests, latency with a slow store, WebSocket messages per second"
    )
    production.add_argument("--rounds", type=int, default=3, help="rolling deploys (default 3)")
    production.add_argument("--site", action="append", default=[], help="an ASGI Channels site for the WebSocket figure (repeatable)")
    production.add_argument("--with-fix", action="store_true", help="each --site also with the lab's own readiness fix applied to a copy")


def version() -> str:
    """The installed lab's version."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("django-multinode-lab")
    except PackageNotFoundError:
        return "unknown (not installed)"
