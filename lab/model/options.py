"""A lab's options from their four sources, merged: a flag given > an env var (LAB_BACKEND) > the project's
file ([tool.lab] in pyproject.toml, or lab.toml) > what the lab already runs > the default.

Pure: the file is read elsewhere (lab.project.lab_options) and handed in as plain data; nothing here opens a
file or asks the environment. Each value keeps where it came from, for `lab config` and for error messages.
Values are in the flags' own words (`pooler = "none"`, `channel-layer = "site"`) and become LabConfig's
through the same conversion, whatever their source.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from lab.errors import ConfigError
from lab.model.config import LabConfig

FLAG, ENV, FILE = "flag", "env", "file"


def _same(value: Any) -> Any:
    return value


def _scheduler(value: Any) -> str:
    """`scheduler = true` is --scheduler (auto), `false` or "none" is --no-scheduler, a string is CMD."""
    if value is True:
        return "auto"
    if value is False or value == "none":
        return ""
    return value


@dataclass(frozen=True)
class Option:
    """One option the three sources may give: its key in the file (the flag's spelling), its LabConfig field,
    the TOML type it takes, its flag and its env var."""

    key: str  # "worker-machines"; the file may spell it worker_machines too
    field: str  # LabConfig's field; "" for one the command turns into others (env-files)
    kind: type | tuple[type, ...]  # str, int, bool, list (of strings), or several
    flag: str  # "--worker-machines"
    env: str = ""  # "LAB_WORKER_MACHINES"; "" when a list, which a variable does not hold well
    convert: Callable[[Any], Any] = _same  # the flag's words -> LabConfig's value
    aliases: tuple[str, ...] = ()  # the repeatable flag's own spelling: `group` beside `groups`

    @property
    def dest(self) -> str:
        """The parsed flag's attribute on argparse's namespace."""
        return {"settings": "site_settings", "env-files": "env_file"}.get(self.key, self.key.replace("-", "_"))

    def spellings(self) -> set[str]:
        return {name for key in (self.key, *self.aliases) for name in (key, key.replace("-", "_"))}


def scalar(key: str, kind: type | tuple[type, ...], convert: Callable[[Any], Any] = _same, field: str = "") -> Option:
    """An option with one value: its field, flag and env var are spelled from its key."""
    return Option(key, field or key.replace("-", "_"), kind, f"--{key}", "LAB_" + key.upper().replace("-", "_"), convert)


def repeated(key: str, field: str, flag: str, kind: type | tuple[type, ...] = list,
             convert: Callable[[Any], Any] = tuple) -> Option:
    """A repeatable flag's option: a list in the file, no env var; the flag's own spelling is a key too."""
    return Option(key, field, kind, f"--{flag}", convert=convert, aliases=(flag,))


OPTIONS: tuple[Option, ...] = (
    scalar("backend", str),
    scalar("balance", str),
    scalar("nodes", int),
    scalar("secret-key-per-node", bool),
    scalar("port", int),
    scalar("host", str),
    scalar("workers", int),
    scalar("node-memory", int),
    scalar("django-version", str),
    scalar("settings", str, field="site_settings"),
    scalar("engine", str),
    scalar("registry", str),
    scalar("requirements", str),
    repeated("groups", "groups", "group"),
    scalar("python", str),
    repeated("build-packages", "build_packages", "build-package"),
    repeated("env-files", "", "env-file", (str, list), convert=lambda v: (v,) if isinstance(v, str) else tuple(v)),
    repeated("release-commands", "release_commands", "release-command"),
    scalar("login-url", str),
    scalar("https", bool),
    scalar("shared-media", bool),
    scalar("scheduler", (str, bool), convert=_scheduler),
    scalar("worker-machines", int),
    scalar("channel-layer", str, convert=lambda v: "" if v == "site" else v),
    scalar("fault-proxy", bool),
    scalar("pooler", str, convert=lambda v: "" if v == "none" else v),
    scalar("max-connections", int),
)
BY_KEY = {option.key: option for option in OPTIONS}
# Keys that would put a secret's value in a file a team commits: the values belong in an env file.
SECRET_KEYS = {"env", "environment", "env-vars", "env_vars", "variables", "secrets", "secret-key", "secret_key"}
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def env_help(key: str) -> str:
    """What a flag's --help adds: the variable that gives the option too."""
    option = BY_KEY[key]
    return f"; env {option.env}" if option.env else ""


@dataclass(frozen=True)
class Sourced:
    """One option's value (in the flag's words) and where it came from."""

    value: Any
    source: str  # FLAG, ENV or FILE
    where: str  # "--nodes", "LAB_NODES", "pyproject.toml:[tool.lab]"


@dataclass(frozen=True)
class FileTable:
    """The project's options table as its file holds it: keys as written, TOML values."""

    values: dict[str, Any]
    path: str  # the file, as a person reads it
    table: str  # "[tool.lab]" in a pyproject.toml; "" for lab.toml, whose top level is the table
    folder: str  # the file's folder: env-files are relative to it

    @property
    def where(self) -> str:
        return f"{self.path}:{self.table}" if self.table else self.path


def _type_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "a whole number", bool: "true or false", list: "a list of strings"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names[k] for k in kinds)


def _has_type(value: Any, kind: type | tuple[type, ...]) -> bool:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool):
        return bool in kinds  # TOML's true is no whole number here
    if isinstance(value, list):
        return list in kinds and all(isinstance(item, str) for item in value)
    return any(isinstance(value, k) for k in kinds if k is not list)


def valid_keys() -> str:
    return ", ".join(option.key for option in OPTIONS)


def file_values(table: FileTable) -> dict[str, Sourced]:
    """The file's options by key, checked: an unknown key, a key given twice (`group` and `groups`), a value of
    the wrong type, or a secret's value is refused naming the file and the key."""
    found: dict[str, Sourced] = {}
    for written, value in table.values.items():
        if written in SECRET_KEYS or written.isupper():
            raise ConfigError(
                f"{table.where}: {written!r}: the file holds no variable's value (a team commits it); keep the "
                f"site's variables in an env file and name it: env-files = [\".env.lab\"]"
            )
        option = next((o for o in OPTIONS if written in o.spellings()), None)
        if option is None:
            raise ConfigError(f"{table.where}: unknown key {written!r}; valid keys: {valid_keys()}")
        if option.key in found:
            raise ConfigError(f"{table.where}: {written!r} gives {option.key} a second time")
        if not _has_type(value, option.kind):
            raise ConfigError(
                f"{table.where}: {written} = {value!r} must be {_type_name(option.kind)}; valid keys: {valid_keys()}"
            )
        found[option.key] = Sourced(value, FILE, table.where)
    return found


def env_values(environ: Mapping[str, str]) -> dict[str, Sourced]:
    """The options the environment gives (LAB_BACKEND=memcached), read as the flags read them."""
    found: dict[str, Sourced] = {}
    for option in OPTIONS:
        text = environ.get(option.env) if option.env else None
        if text is None or text == "":
            continue
        found[option.key] = Sourced(_from_text(option, text.strip()), ENV, option.env)
    return found


def _from_text(option: Option, text: str) -> Any:
    kinds = option.kind if isinstance(option.kind, tuple) else (option.kind,)
    if int in kinds:
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f"{option.env}={text!r}: {option.key} is a whole number") from None
    if kinds == (bool,):
        if text.lower() not in _TRUE | _FALSE:
            raise ConfigError(f"{option.env}={text!r}: {option.key} is 1 or 0 (true, false, yes, no, on, off)")
        return text.lower() in _TRUE
    return text


def flag_values(parsed: Mapping[str, Any]) -> dict[str, Sourced]:
    """The options given on the command line (argparse leaves the others None)."""
    found: dict[str, Sourced] = {}
    for option in OPTIONS:
        value = parsed.get(option.dest)
        if value is None:
            continue
        if isinstance(value, tuple):
            value = list(value)
        found[option.key] = Sourced(value, FLAG, _flag_shown(option, value))
    return found


def _flag_shown(option: Option, value: Any) -> str:
    """The flag as the user typed it: --no-https for https false."""
    if value is False and option.kind is bool and option.key != "secret-key-per-node":
        return option.flag.replace("--", "--no-", 1)
    if option.key == "scheduler" and value == "":
        return "--no-scheduler"
    if option.key == "secret-key-per-node" and value is False:
        return "--shared-secret-key"
    return option.flag


def merge(*sources: dict[str, Sourced]) -> dict[str, Sourced]:
    """The options from `sources`, the first that gives a key winning (flags, env, file)."""
    merged: dict[str, Sourced] = {}
    for source in reversed(sources):
        merged.update(source)
    return {option.key: merged[option.key] for option in OPTIONS if option.key in merged}


def config_changes(merged: dict[str, Sourced], choices: Mapping[str, Any] = {}) -> dict[str, Any]:
    """LabConfig's fields the merged options set (env-files are the command's to read), each checked alone
    so a bad value is refused naming where it came from; `choices` lists what the model cannot check alone
    (the Pythons: {"python": INTERPRETERS})."""
    changes: dict[str, Any] = {}
    for key, sourced in merged.items():
        option = BY_KEY[key]
        if not option.field:
            continue
        value = option.convert(sourced.value)
        if key in choices and value not in choices[key]:
            raise ConfigError(f"{sourced.where}: {option.key} = {sourced.value!r}; valid: {', '.join(choices[key])}")
        try:
            LabConfig(**{option.field: value})
        except ConfigError as error:
            raise ConfigError(f"{sourced.where}: {option.key} = {sourced.value!r}: {error}") from None
        changes[option.field] = value
    return changes


def env_files(merged: dict[str, Sourced]) -> tuple[str, ...]:
    """The env files the options name (their paths; the command reads them)."""
    sourced = merged.get("env-files")
    return BY_KEY["env-files"].convert(sourced.value) if sourced else ()


def saved_values(flags: dict[str, Sourced]) -> dict[str, Any]:
    """What `lab up --save` writes: the flags given, in the file's words (never an env var's value)."""
    saved = {}
    for key, sourced in flags.items():
        value = sourced.value
        if key == "scheduler" and value == "":
            value = False
        saved[key] = value
    return saved


# -- what each option comes to, and from where (`lab config`) ---------------------------------------------

STATE, PROJECT, DEFAULT = "state", "project", "default"


@dataclass(frozen=True)
class Effective:
    """One option as a lab would run with it: its value in the flag's words, and where it came from."""

    key: str
    value: Any
    source: str  # FLAG, ENV, FILE, STATE (an earlier `lab up` on this machine), PROJECT or DEFAULT
    where: str  # "--nodes", "LAB_NODES", "pyproject.toml:[tool.lab]", "manage.py", ...

    def to_dict(self) -> dict:
        return {"value": self.value, "source": self.source, "where": self.where}


def in_flag_words(key: str, value: Any) -> Any:
    """LabConfig's value as the flag and the file say it (pooler "" is "none")."""
    if isinstance(value, tuple):
        return list(value)
    if key == "pooler" and value == "":
        return "none"
    if key == "channel-layer" and value == "":
        return "site"
    if key == "scheduler" and value == "":
        return "none"
    return value


def effective(config: LabConfig, previous: LabConfig | None, merged: dict[str, Sourced], site: Any) -> list[Effective]:
    """Every option's value under `config` (the merged options applied to what the lab runs) and its source:
    the merged source that gave it, else what this machine's lab runs, else what the project (`site`, a
    lab.model.site.Site) declares, else the default."""
    rows = []
    defaults = LabConfig()
    for option in OPTIONS:
        given = merged.get(option.key)
        if option.key == "env-files":
            rows.append(Effective(option.key, list(env_files(merged)), given.source if given else DEFAULT,
                                  given.where if given else "none"))
            continue
        value = getattr(config, option.field)
        if given is not None:
            rows.append(Effective(option.key, in_flag_words(option.key, value), given.source, given.where))
        elif previous is not None and previous.site == config.site and value == getattr(previous, option.field) \
                and value != getattr(defaults, option.field):
            rows.append(Effective(option.key, in_flag_words(option.key, value), STATE, "an earlier `lab up` on this machine"))
        else:
            rows.append(_unset(option.key, value, config, site))
    return rows


def _unset(key: str, value: Any, config: LabConfig, site: Any) -> Effective:
    """An option no source gives: what the project declares, else the default (and what it comes to)."""
    declared = _declared(key, config, site)
    if declared is not None:
        return Effective(key, *declared)
    meaning = {
        "https": "when the site's settings demand it",
        "login-url": "LOGIN_URL, else the admin's",
        "registry": "the swarm hosts' own",
        "requirements": "the project declares no dependencies",
        "max-connections": "0 is the lab's 200",
    }.get(key, "default")
    shown = "auto" if key == "https" and value is None else in_flag_words(key, value)
    return Effective(key, shown, DEFAULT, meaning)


def _declared(key: str, config: LabConfig, site: Any) -> tuple[Any, str, str] | None:
    """(value, source, why) when the project decides `key` (its settings module, Python, groups, release steps,
    scheduler, workers, and the Django its Python runs), or says it has none of it."""
    if site is None:
        return None
    dependencies = site.dependencies
    if key == "settings" and not config.site_settings:
        return site.settings, PROJECT, site.settings_why
    if key == "python" and not config.python and site.interpreter is not None:
        said = "declares no Python" not in site.interpreter.reason
        return site.interpreter.interpreter.version, PROJECT if said else DEFAULT, site.interpreter.reason
    if key == "django-version" and not config.django_version and site.interpreter is not None:
        return config.django_for(site), DEFAULT, "the newest Django its Python runs; the site's pin wins"
    if key == "groups" and not config.groups and dependencies and (dependencies.groups or dependencies.extras):
        return [*dependencies.groups, *dependencies.extras], PROJECT, dependencies.describe()
    if key == "requirements" and not config.requirements and dependencies:
        return dependencies.source, PROJECT, "the project's dependencies"
    if key == "release-commands" and config.release_commands is None:
        steps = [step.command for step in site.release_steps if step.action == "run"]
        return (steps, PROJECT, "the release steps the project declares") if steps else (
            [], DEFAULT, "none: the project declares no release step")
    if key == "scheduler" and config.scheduler == "project":
        return (site.scheduler_run[0] or "the site's own start-up", PROJECT, site.scheduler_run[1]) \
            if site.declares_scheduler else ("none", DEFAULT, "the project declares no scheduler process")
    if key == "worker-machines" and config.worker_machines == -1:
        return (1, PROJECT, f"the project's worker process type, {site.worker_run[1]}") if site.worker_run else (
            0, DEFAULT, "the project declares no worker process")
    return None
