"""What a project runs before it serves, read where projects declare it, and what the lab does with each.

A Procfile's `release:` line, its Dockerfile's RUN and CMD lines, and its start or entrypoint scripts
name `manage.py` commands. The lab runs `migrate` once per lab and `collectstatic` once per site
image itself. A Dockerfile's RUN lines are build steps: they run while the site's image is built (where
the compilers, gettext, Node.js and the network are), with the environment the Dockerfile gives them
(its ENV lines, the line's own `VAR=value ...` prefix); so does `compilemessages`, wherever it is named,
since it writes next to the code. Every other command (a start script's or a Procfile's: a compressor, a
JavaScript catalogue, `manage.py build`, `createcachetable`) is a release step, run once per lab after the
migrations. Servers and development commands are not steps, and development recipes are not read when
the project has a production one. No Docker here.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from lab.project.files import matches, walk
from lab.project.recipes import has_production_recipe, is_development
from lab.project.site import project_folders
from lab.model.site import Step  # the value a Site holds

START_FILES = ("Procfile", "Dockerfile*", "*.dockerfile", "*.Dockerfile", "start", "start.sh", "start-*", "entrypoint", "entrypoint*",
               "docker-entrypoint*", "release.sh", "release", "run.sh", "boot.sh", "prestart.sh")
_MANAGE = re.compile(r"(?:(?:\S*python\S*|uv run(?: python)?|poetry run(?: python)?)\s+)?(?:\S*/)?manage\.py\s+([\w:-]+)(.*)|"
                     r"\bdjango-admin(?:\.py)?\s+([\w:-]+)(.*)")
# Commands that are not part of releasing a site: servers, shells, tests, development helpers.
NOT_RELEASE = {"runserver", "runserver_plus", "shell", "shell_plus", "dbshell", "test", "check", "createsuperuser",
               "makemigrations", "startapp", "startproject", "showmigrations", "sqlmigrate", "help", "version",
               "diffsettings", "changepassword", "sendtestemail", "runscript", "celery", "rqworker", "qcluster",
               # long-running processes of their own (workers, schedulers, consumers): process types, not steps
               "runworker", "rqscheduler", "process_tasks", "run_huey", "db_worker", "document_consumer",
               "wait_for_db", "wait_for_migrations", "wait_for_database"}
LAB_DOES = {"migrate": "the lab migrates once per lab", "collectstatic": "the lab collects static files once per site image"}
AT_BUILD = {"compilemessages": "compiled into the site's image (it writes next to the code)"}
# A front-end build (Webpack, Vite, Tailwind, Gulp) run with Node.js; development servers are not releases.
_JS = re.compile(r"^(?:npm\s+(?:ci|install|i|run|run-script|exec)\b|yarn(?:\s+(?:install|build|run)\b|\s*$)|"
                 r"pnpm\s+(?:install|build|run|exec)\b|npx\s)(.*)$")
_JS_DEVELOPMENT = re.compile(r"\b(dev|watch|start|serve|test|lint)\b")
JS_WHY = ("run in the build stage of the site's image with Debian's Node.js (of the release whose Node.js its package.json "
          "asks for); its output is copied in")
CONDITIONAL_WHY = "inside a condition of the start script: its deployment runs it only when that holds; the lab does not"
BUILD_WHY = "a Dockerfile's RUN line: run while the site's image is built, with the environment its Dockerfile gives it"


def _segments(text: str) -> list[str]:
    """Shell-ish command segments of a line: split on &&, ||, ;, | and newlines."""
    return [part.strip() for part in re.split(r"&&|\|\||;|\||\n", text) if part.strip()]


def docker_lines(text: str) -> list[tuple[int, str, str]]:
    """(line number, instruction, argument text) of a Dockerfile, continuation lines joined."""
    out, pending, start = [], "", 0
    for number, line in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        stripped = line.strip()
        if stripped.startswith("#") and not pending:
            continue
        pending += " " + stripped.rstrip("\\")
        if not stripped.endswith("\\"):
            match = re.match(r"\s*(\w+)\s+(.*)", pending)
            if match:
                argument = match.group(2)
                if argument.startswith("["):  # exec form: ["sh", "-c", "..."] or ["python", "manage.py", ...]
                    try:
                        argument = " ".join(__import__("json").loads(argument))
                    except ValueError:
                        pass
                out.append((start, match.group(1).upper(), argument))
            pending = ""
    return out


def _commands(site: Path) -> list[tuple[str, str]]:
    """(command text, where) of every manage.py or django-admin call in the project's start files, in the
    manage.py folder and the repository around it (its files named from the manage.py folder: ../Procfile).
    Development recipes are not read when the project has a production one (lab.project.recipes)."""
    found = []
    seen: set[Path] = set()
    for folder in project_folders(site):
        up = "../" * len(site.relative_to(folder).parts)
        development = has_production_recipe(folder)
        for relative in walk(folder):
            path = folder / relative
            if path in seen or not (matches(relative.name, START_FILES) or _starts_a_server(path)):
                continue
            seen.add(path)
            if development and is_development(relative.as_posix()):
                continue
            where = path.relative_to(site).as_posix() if path.is_relative_to(site) else up + relative.as_posix()
            found += _calls(path, where)
    return found


def _starts_a_server(path: Path) -> bool:
    """A shell script that ends by starting the site's server (wemake's gunicorn.sh): a start script,
    whatever its name. Other scripts (a reset-db.sh) are not read: their commands are no release."""
    if path.suffix != ".sh":
        return False
    return bool(re.search(r"\b(gunicorn|uwsgi|daphne|uvicorn|hypercorn|granian)\b", path.read_text(errors="replace")))


# A Dockerfile's environment that belongs to its own image, not to what a step computes.
_IMAGE_ONLY_ENV = re.compile(r"^(PATH|HOME|VIRTUAL_ENV|PYTHONPATH|PYTHONHOME|LANG|LC_\w+|PIP_\w+|POETRY_\w+|UV_\w+|"
                             r"PYTHONUNBUFFERED|PYTHONDONTWRITEBYTECODE|DEBIAN_FRONTEND|TZ)$")


def _env_line(argument: str) -> dict[str, str]:
    """`ENV A=1 B="two"` or `ENV A 1`: the literal values (one that refers to another variable is left out)."""
    try:
        words = shlex.split(argument)
    except ValueError:
        return {}
    if words and "=" not in words[0]:
        pairs = {words[0]: " ".join(words[1:])}
    else:
        pairs = dict(word.split("=", 1) for word in words if "=" in word)
    return {k: v for k, v in pairs.items() if "$" not in v and not _IMAGE_ONLY_ENV.match(k)}


def _calls(path: Path, where: str) -> list[tuple[str, str, dict]]:
    """(command text, where, the Dockerfile's environment so far) of the calls in one start file."""
    found = []
    text = path.read_text(errors="replace")
    if path.name == "Procfile":
        for number, line in enumerate(text.splitlines(), 1):
            process, _, command = line.partition(":")
            if command and not line.lstrip().startswith("#"):
                found += [(part, f"{where}:{number} ({process.strip()})", {}) for part in _segments(command)]
    elif path.name.lower().startswith("dockerfile") or path.name.lower().endswith(".dockerfile"):
        environment: dict[str, str] = {}
        for number, instruction, argument in docker_lines(text):
            if instruction == "FROM":
                environment = {}  # a new stage starts with the environment of its base only
            elif instruction == "ENV":
                environment.update(_env_line(argument))
            elif instruction in ("RUN", "CMD", "ENTRYPOINT"):
                found += [(part, f"{where}:{number} ({instruction})", dict(environment)) for part in _segments(argument)]
    else:
        conditions: list[tuple[int, str]] = []  # the `if`s a line is inside: (line, condition)
        for number, line in enumerate(text.splitlines(), 1):
            stripped = line.strip()
            if stripped.startswith("#"):
                continue
            opened = re.match(r"^(if|elif)\s+(.+?);?\s*(then)?\s*$", stripped)
            if stripped in ("fi", "fi;") or stripped.startswith("fi "):
                conditions = conditions[:-1]
                continue
            if opened and opened.group(1) == "if":
                conditions.append((number, opened.group(2).removesuffix("; then").strip()))
                continue
            if conditions and (opened or stripped in ("else", "else;")):  # another branch: its own condition
                said = opened.group(2).removesuffix("; then").strip() if opened else f"not ({conditions[-1][1]})"
                conditions[-1] = (number, said)
                continue
            suffix = f" (only if {conditions[-1][1]}, line {conditions[-1][0]})" if conditions else ""
            found += [(part, f"{where}:{number}{suffix}", {}) for part in _segments(line)]
    return found


def _prefix_env(text: str, start: int) -> dict[str, str]:
    """The `VAR=value` words before a command (`DEBUG=False SECRET_KEY=build-key ./manage.py compress`)."""
    try:
        words = shlex.split(text[:start])
    except ValueError:
        return {}
    return dict(word.split("=", 1) for word in words if re.match(r"^[A-Za-z_]\w*=", word))


def _normal(name: str, rest: str) -> str:
    words = shlex.split(rest.strip(), posix=True) if rest.strip() else []
    words = [w for w in words if not w.startswith("$") and w not in ("\\",)]
    return " ".join(["python", "manage.py", name, *words])


def image_workflow_steps(site: Path) -> list[tuple[str, str, dict]]:
    """Front-end builds a CI workflow runs before it builds the project's image (`working-directory: ./vue3`,
    `run: yarn build`, then docker/build-push-action): the Dockerfile copies their output, which the
    repository does not hold."""
    import yaml

    found = []
    for folder in project_folders(site):
        workflows = folder / ".github" / "workflows"
        for path in sorted(workflows.glob("*.y*ml")) if workflows.is_dir() else []:
            text = path.read_text(errors="replace")
            if not re.search(r"docker/build-push-action|docker build\b|docker buildx build", text):
                continue
            try:
                jobs = (yaml.safe_load(text) or {}).get("jobs") or {}
            except (yaml.YAMLError, AttributeError):
                continue
            where = path.relative_to(folder).as_posix()
            for job in jobs.values() if isinstance(jobs, dict) else []:
                for step in (job or {}).get("steps") or [] if isinstance(job, dict) else []:
                    run = step.get("run") if isinstance(step, dict) else None
                    if not isinstance(run, str):
                        continue
                    directory = str(step.get("working-directory") or ".").removeprefix("./").rstrip("/") or "."
                    line = text.count("\n", 0, text.find(run.splitlines()[0])) + 1 if run.strip() else 0
                    for part in _segments(run):
                        if _JS.match(part):
                            found.append((part, f"{where}:{line} (run, in {directory})", {}))
    return found


def found_steps(folder: Path) -> list[Step]:
    """Every release step the project declares, once each, in the order found; the front-end build of the
    workflow that builds its image, when no recipe of its own builds it."""
    steps: dict[str, Step] = {}
    commands = _commands(folder)
    if not any(_JS.match(text.strip()) for text, _, _ in commands):
        commands += image_workflow_steps(folder)
    for text, where, environment in commands:
        javascript = _JS.match(text.strip())
        if javascript and not _JS_DEVELOPMENT.search(javascript.group(1)):
            command = " ".join(text.split())
            steps.setdefault(command, Step(command, command.split()[0], where, "build-js", JS_WHY))
            continue
        match = _MANAGE.search(text)
        if not match:
            continue
        name, rest = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
        try:
            command = _normal(name, rest)
        except ValueError:
            command = f"python manage.py {name}"
        if name in steps or command in steps:
            continue
        if name in LAB_DOES:
            steps[name] = Step(command, name, where, "lab", LAB_DOES[name])
        elif name in AT_BUILD:
            steps[name] = Step(command, name, where, "build", AT_BUILD[name])
        elif name in NOT_RELEASE:
            continue
        elif " (only if " in where:
            steps[command] = Step(command, name, where, "skip", CONDITIONAL_WHY)
        elif re.search(r"\$\{?\w", rest) and not where.endswith("(RUN)"):
            variables = ", ".join(dict.fromkeys(f"${name}" for name in re.findall(r"\$\{?(\w+)", rest)))
            steps[command] = Step(command, name, where, "skip",
                                  f"its arguments come from its script's variables ({variables}), which the lab does not know")
        elif where.endswith("(RUN)"):
            env = tuple(sorted({**environment, **_prefix_env(text, match.start())}.items()))
            steps[command] = Step(command, name, where, "build", BUILD_WHY, env)
        else:
            steps[command] = Step(command, name, where, "run", "run once per lab, after the migrations")
    return list(steps.values())


def given_steps(commands: tuple[str, ...]) -> list[Step]:
    """--release-command CMD: run once per lab after the migrations, in the order given."""
    steps = []
    for command in commands:
        match = _MANAGE.search(command)
        name = (match.group(1) or match.group(3)) if match else command.split()[0]
        if name in AT_BUILD:
            steps.append(Step(command, name, "--release-command", "build", AT_BUILD[name]))
        else:
            steps.append(Step(command, name, "--release-command", "run", "run once per lab, after the migrations"))
    return steps


def plan_steps(folder: Path, given: tuple[str, ...] | None) -> list[Step]:
    """The steps the lab takes for a site: the ones it declares, or --release-command's instead."""
    return given_steps(given) if given is not None else found_steps(folder)
