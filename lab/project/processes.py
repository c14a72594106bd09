"""A project's process types, read where it declares them: a Procfile's lines (`web:`, `worker:`,
`worker-beat:`, `clock:`) and the services of its production compose files (their command, or the start
script a Dockerfile copies to the path the command names: cookiecutter-django's `/start-celeryworker`).

Each process is judged by what it runs, not by its name: a web server (gunicorn, uWSGI, daphne, uvicorn),
a worker (`celery worker`, `rqworker`, `qcluster`, `huey_consumer`, Channels' `runworker`), a scheduler
(`celery beat`, `rqscheduler`, a clock process), or the release step. A worker started with `-B`/`--beat`
runs the schedule too. Development recipes are not read when a production one exists. No Docker here.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from lab.model.site import RELEASE, SCHEDULER, WEB, WORKER, Process  # noqa: F401 (the roles, and the value a Site holds)
from lab.project.recipes import development_recipes, production_compose_services, recipes
from lab.project.site import project_folders

_WEB = re.compile(r"\b(gunicorn|uwsgi|daphne|uvicorn|hypercorn|granian|waitress-serve|runserver)\b")
_SCHEDULER = re.compile(r"\bcelery\b.*\bbeat\b|\brqscheduler\b|\bclock\b")
_WORKER = re.compile(r"\bcelery\b.*\bworker\b|\brqworker\b|\bqcluster\b|\bhuey_consumer\b|\brun_huey\b|\brunworker\b|"
                     r"\bprocess_tasks\b|\bdramatiq\b|\bdb_worker\b")
_WITH_BEAT = re.compile(r"(?:^|\s)(-B|--beat)(?:\s|$)")


def role_of(name: str, command: str) -> str | None:
    """What a process runs: web, worker or scheduler; None for anything else (a shell, a migration)."""
    if _WEB.search(command):
        return WEB
    if _SCHEDULER.search(command) and not re.search(r"\bworker\b", command):
        return SCHEDULER
    if _WORKER.search(command):
        return WORKER
    if name in ("clock", "scheduler") and command.strip():
        return SCHEDULER
    return None


def _procfile(path: Path, where: str) -> list[Process]:
    found = []
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        name, _, command = line.partition(":")
        name, command = name.strip(), command.strip()
        if not command or line.lstrip().startswith("#") or not re.fullmatch(r"[\w-]+", name):
            continue
        role = RELEASE if name == "release" else role_of(name, command)
        if role:
            found.append(Process(name, role, command, f"{where}:{number} ({name})", bool(_WITH_BEAT.search(command))))
    return found


def _copied_to(folder: Path, target: str, dockerfiles: list[Path]) -> Path | None:
    """The repository file a Dockerfile copies to `target`: `COPY ./compose/.../start /start-celeryworker`, or
    `COPY docker/entrypoint-*.sh /` for `/entrypoint-celery-worker.sh`."""
    from lab.project.release_steps import docker_lines

    wanted = Path(target)
    for relative in dockerfiles:
        for _, instruction, argument in docker_lines((folder / relative).read_text(errors="replace")):
            words = [word for word in argument.split() if not word.startswith("--")]
            if instruction not in ("COPY", "ADD") or len(words) < 2:
                continue
            sources, destination = words[:-1], words[-1]
            for source in sources:
                for path in sorted(folder.glob(source.removeprefix("./"))) if "*" in source else [folder / source.removeprefix("./")]:
                    into_folder = destination.endswith("/") and Path(destination) == wanted.parent and path.name == wanted.name
                    if path.is_file() and (destination == target or into_folder):
                        return path
    return None


def _script_command(script: Path) -> str:
    """The last line of a start script that runs a web server, a worker or a scheduler ("" for none)."""
    text = re.sub(r"[ \t]*\\\n\s*", " ", script.read_text(errors="replace"))  # continuation lines joined
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    served = [line.removeprefix("exec ").strip() for line in lines if role_of("", line)]
    return served[-1] if served else ""


def _scripts_of(folder: Path, service: dict, dockerfiles: list[Path]) -> list[Path]:
    """The repository's scripts a compose service's command or entrypoint names (through its Dockerfile's COPY)."""
    found = []
    for key in ("command", "entrypoint"):
        command = service.get(key) or ""
        words = [str(word) for word in command] if isinstance(command, list) else str(command).split()
        for word in words:
            if not (word.startswith("/") or word.startswith("./") or word.endswith(".sh")):
                continue
            script = _copied_to(folder, word, dockerfiles)
            if script is None and not word.startswith("/") and (folder / word.removeprefix("./")).is_file():
                script = folder / word.removeprefix("./")
            if script is not None:
                found.append(script)
    return found


def _service_command(folder: Path, service: dict, dockerfiles: list[Path]) -> str:
    """What a compose service runs: its command, or the start script it names (copied into its image by
    its Dockerfile, or a file of the repository), read for the server, worker or scheduler it starts."""
    command = service.get("command") or service.get("entrypoint") or ""
    if isinstance(command, list):
        command = " ".join(str(word) for word in command)
    command = str(command).strip()
    for word in command.split():
        if not (word.startswith("/") or word.startswith("./") or word.endswith(".sh")):
            continue
        script = _copied_to(folder, word, dockerfiles)
        if script is None and (folder / word.removeprefix("./")).is_file() and not word.startswith("/"):
            script = folder / word.removeprefix("./")
        found = _script_command(script) if script is not None else ""
        if found:
            return found
    return command


def _compose(folder: Path, relative: Path, skipped: set[Path]) -> list[Process]:
    try:
        data = yaml.safe_load((folder / relative).read_text(errors="replace")) or {}
    except yaml.YAMLError:
        return []
    found = []
    every = [path for path in recipes(folder) if path.name.lower().startswith("dockerfile") and path not in skipped]
    for name, service in (data.get("services") or {}).items() if isinstance(data, dict) else []:
        if not isinstance(service, dict) or not (service.get("build") or "django" in str(service.get("image", ""))):
            continue  # a store, a proxy: an image of someone else's
        build = service.get("build") if isinstance(service.get("build"), dict) else {}
        own = Path(str(build.get("dockerfile", ""))).as_posix().removeprefix("./") if build.get("dockerfile") else ""
        dockerfiles = [path for path in every if path.as_posix() == own] or every
        command = _service_command(folder, service, dockerfiles)
        role = role_of(name, command)
        if role:
            found.append(Process(name, role, command, f"{relative.as_posix()} ({name})", bool(_WITH_BEAT.search(command))))
    return found


def _repository_root(site: Path) -> list[Path]:
    """The repository around a site deeper than its project folders (a monorepo's apps/api), if any."""
    for parent in list(site.parents)[:4]:
        if (parent / ".git").exists():
            return [] if parent in project_folders(site) else [parent]
    return []


def one_off_scripts(site: Path) -> set[Path]:
    """Scripts of production compose services declared to run once (`restart: "no"`) that start no server,
    worker or scheduler: jobs that run and exit once per deploy, as a release step does (plane's
    `migrator: {restart: no, command: ./bin/docker-entrypoint-migrator.sh}`)."""
    found: set[Path] = set()
    own = project_folders(site)
    for folder in [*own, *_repository_root(site)]:
        skipped = development_recipes(folder)
        every = [path for path in recipes(folder) if path.name.lower().startswith("dockerfile") and path not in skipped]
        for _, _, service in production_compose_services(folder):
            if not service.get("build") or service.get("restart") not in (False, "no"):
                continue
            build = service["build"] if isinstance(service["build"], dict) else {"context": service["build"]}
            context = folder / str(build.get("context") or ".").removeprefix("./")
            if folder not in own and context.resolve() != site.resolve():
                continue  # a monorepo's compose file: only the services it builds from this site
            scripts = _scripts_of(folder, service, every) or _scripts_of(context, service, [])
            if scripts and not any(_script_command(script) for script in scripts):
                found.update(script.resolve() for script in scripts)
    return found


def processes(site: Path) -> list[Process]:
    """The project's process types, from its production recipes (its Procfile first), once each by name."""
    found: dict[str, Process] = {}
    for folder in project_folders(site):
        skipped = development_recipes(folder)
        for relative in recipes(folder):
            if relative in skipped:
                continue
            where = relative.as_posix() if folder == site else ("../" * len(site.relative_to(folder).parts)) + relative.as_posix()
            if relative.name == "Procfile":
                listed = _procfile(folder / relative, where)
            elif re.search(r"compose.*\.ya?ml$", relative.name):
                listed = _compose(folder, relative, skipped)
            else:
                continue
            for process in listed:
                found.setdefault(process.name, process)
    return list(found.values())


# Wrappers a production start adds around the process (monitoring agents, a development reloader).
_WRAPPERS = re.compile(r"^(?:newrelic-admin run-program|ddtrace-run|opentelemetry-instrument|sentry-run)\s+")


def runnable(command: str) -> str:
    """The process's command as a lab machine runs it: without a monitoring agent's wrapper, and without the
    options whose value is a variable its start script set (`--queues="$QUEUES"`), which the lab does not."""
    command = _WRAPPERS.sub("", command.strip())
    words, kept, skip = command.split(), [], False
    for index, word in enumerate(words):
        if skip:
            skip = False
            continue
        if "$" in word:
            if kept and kept[-1].startswith("-") and "=" not in kept[-1] and index > 0 and words[index - 1] == kept[-1]:
                kept.pop()  # `--queues $QUEUES`: the option goes with its value
            continue
        kept.append(word)
    return " ".join(kept)


def of_role(found: list[Process], role: str) -> Process | None:
    """The first process of this role."""
    return next((process for process in found if process.role == role), None)
