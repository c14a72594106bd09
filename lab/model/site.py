"""Site: what a Django project folder said when the lab last read it, as plain data.

`lab.project.read.read_site` reads a folder once per `up` (or `switch`, `deploy`) into a Site; the plan is
built from the configuration and the Site, and the lab's state keeps both, so a later command plans again
without reading the folder (which may have changed, moved or gone since). The value types a Site holds
(the interpreter, the dependencies, release steps, process types) are defined here, beside it, so the model
never imports the layer that reads folders.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass, field, fields

# What a process type runs (lab.project.processes tells them apart).
WEB, WORKER, SCHEDULER, RELEASE = "web", "worker", "scheduler", "release"
# The variable the scheduler machine runs with: a site's own start-up starts its schedulers under it.
RUN_SCHEDULER = "DJANGO_RUN_SCHEDULER"


@dataclass(frozen=True)
class Interpreter:
    """One Python that Debian's archive offers: its version and the release that ships it."""

    version: str  # "3.11"
    suite: str  # the Debian release the node image is built on
    # Django's newest release for this Python when the site pins none (Django 6 needs Python 3.12).
    django: str

    @property
    def package(self) -> str:
        """Debian's package of this interpreter (its -venv and -dev packages share the prefix)."""
        return f"python{self.version}"

    @property
    def key(self) -> tuple[int, int]:
        major, minor = self.version.split(".")
        return int(major), int(minor)

    def __str__(self) -> str:
        return f"{self.version} (Debian {self.suite})"


@dataclass(frozen=True)
class Choice:
    """The interpreter a site runs, and in one line why."""

    interpreter: Interpreter
    reason: str
    # As close to what the project asks, on the other side (3.12 asked: 3.11 chosen, 3.13 as close): the
    # lab tries it when the chosen one cannot install the project's pins.
    as_close: Interpreter | None = None


@dataclass(frozen=True)
class Dependencies:
    """What the lab installs for a site: the kind the build stage handles, and the files it reads."""

    kind: str  # "requirements" (a file the lab wrote), "uv" or "poetry" (a lock the tool exports)
    source: str  # what a person reads: "uv.lock", "requirements/production.txt", ...
    files: dict[str, bytes] = field(default_factory=dict)  # the build context's deps/ folder
    groups: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()
    other_groups: tuple[str, ...] = ()  # what `--group` could add

    def spec(self) -> bytes:
        """lab-deps.json for the build stage."""
        return json.dumps({"kind": self.kind, "groups": list(self.groups), "extras": list(self.extras)}).encode()

    def describe(self) -> str:
        """One line for `lab up`: which file and groups, and how to choose others."""
        chosen = [*self.groups, *self.extras]
        line = f"installs {self.source}" + (" exactly as locked" if self.kind in ("uv", "poetry") or "lock" in self.source else "")
        line += f" with {', '.join(chosen)}" if chosen else ""
        if self.other_groups:
            line += f"; not {', '.join(self.other_groups)} (add one with --group NAME)"
        return line


@dataclass(frozen=True)
class Step:
    """One command a project runs before serving, where it was found, and what the lab does with it."""

    command: str  # "python manage.py compress --force"
    name: str  # "compress"
    where: str  # "Procfile:1 (release)"
    action: str  # "run" (once per lab, after migrate) | "build" | "build-js" (in the image) | "lab" | "skip"
    why: str
    env: tuple[tuple[str, str], ...] = ()  # a build step's environment: its Dockerfile's ENV, its line's prefix

    def __str__(self) -> str:
        return f"`{self.command}` ({self.where}): {self.why}"


@dataclass(frozen=True)
class Process:
    """One process type: what it runs, what kind of process that is, and where the project says so."""

    name: str  # "worker-beat", "celeryworker"
    role: str  # web | worker | scheduler | release
    command: str  # "celery -A config.celery_app beat -l INFO"
    where: str  # "Procfile:4 (worker-beat)", "docker-compose.production.yml (celerybeat)"
    schedules: bool = False  # also runs the periodic tasks (a scheduler in every such process)

    def __str__(self) -> str:
        return f"{self.name}: `{self.command}` ({self.where})"


@dataclass(frozen=True)
class SiteChoices:
    """The user's choices that steer how a folder is read (LabConfig.site_choices)."""

    settings: str = ""  # --settings; "" means: the one the project's files name
    requirements: str = ""
    groups: tuple[str, ...] = ()
    python: str = ""
    env: tuple[tuple[str, str], ...] = ()  # --env, --env-file: DJANGO_SETTINGS_MODULE there chooses the settings
    release_commands: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Site:
    """A project folder as the lab read it: everything the plan and the images take from it."""

    folder: str  # the folder of its manage.py, resolved
    settings: str  # its settings module
    settings_why: str = ""  # where that choice comes from ("manage.py", "--settings", ...)
    settings_files: tuple[str, ...] = ()  # the settings module and the project's modules it imports, as paths
    interpreter: Choice | None = None
    dependencies: Dependencies | None = None  # None: it declares nothing
    declared_env: dict[str, tuple[str, str]] = field(default_factory=dict)  # variable -> (value, where)
    env_files: dict[str, str] = field(default_factory=dict)  # its .env files by relative path
    release_steps: tuple[Step, ...] = ()
    processes: tuple[Process, ...] = ()
    # (command, why) a scheduler machine runs of the project's own: its scheduler process type, else a clock
    # line or management command, else "" (its own start-up with DJANGO_RUN_SCHEDULER=1).
    scheduler_run: tuple[str, str] = ("", "the site's own start-up (an AppConfig's ready()), with DJANGO_RUN_SCHEDULER=1")
    worker_run: tuple[str, str] | None = None  # (command, where) worker machines run, when it declares a worker
    debug_off: str = "False"  # DEBUG's "off" as its settings read it
    redis_variables: tuple[str, ...] = ()  # the Redis variables its code reads (REDIS_URL, CELERY_BROKER_URL, ...)
    store_aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)  # store -> its compose file's names
    stores: tuple[str, ...] = ()  # stores its own settings need whatever the backend (redis)
    code_digest: str = ""  # a hash of the files that enter its image

    @classmethod
    def unread(cls, folder: str, settings: str) -> "Site":
        """A site known only by its folder and settings module: it declares nothing (a plan in a test,
        a floor measured on the sample site)."""
        return cls(folder=folder, settings=settings)

    @property
    def declares_scheduler(self) -> bool:
        """Whether one of its process types is a scheduler (`celery beat`)."""
        return any(process.role == SCHEDULER for process in self.processes)

    def environment(self, given: tuple[tuple[str, str], ...] = ()) -> dict[str, str]:
        """Its own environment: what it declares for production, then `given` (--env, which wins)."""
        return {**{key: value for key, (value, _) in self.declared_env.items()}, **dict(given)}

    def to_dict(self) -> dict:
        """Plain JSON-able form, for the lab's state (a dependency file's bytes as base64)."""
        data = asdict(self)
        if self.dependencies is not None:
            data["dependencies"]["files"] = {name: base64.b64encode(content).decode()
                                             for name, content in self.dependencies.files.items()}
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Site":
        """Rebuild a Site saved by to_dict (keys this version does not know are ignored)."""
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        if values.get("interpreter"):
            chosen = values["interpreter"]
            values["interpreter"] = Choice(Interpreter(**chosen["interpreter"]), chosen["reason"],
                                           Interpreter(**chosen["as_close"]) if chosen.get("as_close") else None)
        if values.get("dependencies"):
            saved = dict(values["dependencies"])
            saved["files"] = {name: base64.b64decode(content) for name, content in saved.get("files", {}).items()}
            for key in ("groups", "extras", "other_groups"):
                saved[key] = tuple(saved.get(key, ()))
            values["dependencies"] = Dependencies(**saved)
        values["declared_env"] = {key: tuple(pair) for key, pair in values.get("declared_env", {}).items()}
        values["release_steps"] = tuple(Step(**{**step, "env": tuple(tuple(pair) for pair in step.get("env", ()))})
                                        for step in values.get("release_steps", ()))
        values["processes"] = tuple(Process(**process) for process in values.get("processes", ()))
        values["store_aliases"] = {key: tuple(names) for key, names in values.get("store_aliases", {}).items()}
        for key in ("settings_files", "redis_variables", "stores"):
            values[key] = tuple(values.get(key, ()))
        values["scheduler_run"] = tuple(values.get("scheduler_run", ("", "")))
        if values.get("worker_run") is not None:
            values["worker_run"] = tuple(values["worker_run"])
        return cls(**values)
