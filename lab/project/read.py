"""Reading a project folder once into a Site (lab.model.site): the one place `up`, `switch` and `deploy` learn
what the project says, which the plan and the images then take from the Site alone.

The checks that need the folder are here: no manage.py, an unknown settings module, an unknown --python or
--group raise ConfigError before anything runs.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from lab.errors import ConfigError
from lab.model.site import SCHEDULER, WORKER, Choice, Dependencies, Site, SiteChoices
from lab.project.compose_services import store_aliases
from lab.project.database_switch import database_switch
from lab.project.declared_env import declared_environment
from lab.project.dependencies import from_folder, pinned_django
from lab.project.files import code_files, env_files
from lab.project.interpreters import choose
from lab.project.processes import of_role, processes, runnable
from lab.project.release_steps import plan_steps
from lab.project.required_env import off_value, settings_chain
from lab.project.schedulers import scheduler_command
from lab.project.site import find_manage_py, needed_stores, project_folders, redis_variables, settings_choice

PRODUCTION_GROUPS = ("prod", "production")  # dependency groups a project names for its deployment


def project_folder(given: str | Path) -> Path:
    """The folder of the project's manage.py: `given`, or the one below it; ConfigError when there is none."""
    site = Path(given).expanduser().resolve()
    found = find_manage_py(site) if site.is_dir() else None
    if found is None:
        raise ConfigError(f"site {str(given)!r} has no manage.py; point --site at a Django project folder")
    return found


def read_site(folder: str | Path, choices: SiteChoices = SiteChoices()) -> Site:
    """Read the project in `folder` as `choices` steer it, once, into a Site."""
    site = project_folder(folder)
    declared = _declared_env(site)
    settings, why = _settings(site, choices, declared)
    interpreter = interpreter_choice(site, choices.python)  # an unknown --python is refused here
    dependencies = _dependencies(site, choices)  # an unknown --group too
    found = tuple(processes(site))
    worker = of_role(list(found), WORKER)
    return Site(
        folder=str(site),
        settings=settings,
        settings_why=why,
        settings_files=tuple(path.relative_to(site).as_posix() for path in settings_chain(site, settings)),
        interpreter=interpreter,
        dependencies=dependencies,
        declared_env=declared,
        env_files=env_files(site),
        release_steps=tuple(plan_steps(site, choices.release_commands)),
        processes=found,
        scheduler_run=_scheduler_run(site, found),
        worker_run=(runnable(worker.command), worker.where) if worker else None,
        debug_off=off_value(site),
        redis_variables=tuple(redis_variables(site)),
        store_aliases=store_aliases(site),
        stores=tuple(needed_stores(site)),
        code_digest=code_digest(site),
    )


def _declared_env(site: Path) -> dict[str, tuple[str, str]]:
    """What the project's deployment files set to choose its settings (DJANGO_ENV, ...), and where; and the
    settings' own switch to PostgreSQL, the database the lab runs (lab.project.database_switch)."""
    switch = {variable: (value, f"{where}: the settings' own switch to PostgreSQL, the lab's database")
              for variable, (value, where) in database_switch(site).items()}
    return {**switch, **declared_environment(site)}


def _settings(site: Path, choices: SiteChoices, declared: dict[str, tuple[str, str]]) -> tuple[str, str]:
    """The settings module and why: --settings, else DJANGO_SETTINGS_MODULE in the site's environment (as on
    a platform), else what its deployment files set, else what its files name (lab.project.site)."""
    given = choices.settings or dict(choices.env).get("DJANGO_SETTINGS_MODULE", "")
    named = declared.get("DJANGO_SETTINGS_MODULE", ("", ""))[0]
    try:
        module = settings_choice(site, given or named)[0]
    except ConfigError:
        if given or not named:
            raise
        module = settings_choice(site, "")[0]  # a deployment file's module that is not in the folder
    return module, _settings_reason(site, module, choices, declared)


def _settings_reason(site: Path, module: str, choices: SiteChoices, declared: dict[str, tuple[str, str]]) -> str:
    """Why the site runs the settings module it runs."""
    if dict(choices.env).get("DJANGO_SETTINGS_MODULE") == module:
        return "DJANGO_SETTINGS_MODULE in the site's environment"
    named = declared.get("DJANGO_SETTINGS_MODULE")
    if named and named[0] == module:
        return f"DJANGO_SETTINGS_MODULE in {named[1]}"
    try:
        found, why = settings_choice(site)
    except ConfigError:
        return "--settings"
    return why if found == module else "--settings"


def interpreter_choice(site: Path, python: str = "") -> Choice:
    """The Python the site's nodes run, and why. On a tie (3.12 asked: 3.11 and 3.13 as close), the newer
    one when the project's pinned Django needs it (Django 6 runs on Python 3.12 and later)."""
    folders = project_folders(site)
    choice = choose(folders, python)
    other = choice.as_close
    if other is not None and other.key > choice.interpreter.key and choice.interpreter.key < (3, 12):
        django = pinned_django(folders)
        if django and int(django.split(".")[0]) >= 6:
            return Choice(other, f"{choice.reason}; its Django {django} needs Python 3.12 or later: {other}",
                          choice.interpreter)
    return choice


def _dependencies(site: Path, choices: SiteChoices) -> Dependencies | None:
    """What the lab installs for the site (None: it declares nothing)."""
    folders = project_folders(site)
    # The first folder that declares dependencies (the manage.py folder, else the repository's root).
    folder = next((f for f in folders if choices.requirements or from_folder(f) is not None), folders[0])
    found = from_folder(folder, choices.groups, choices.requirements)
    # A group the project names for production (djangoproject.com's uv group `prod`) is what its deployment
    # installs: taken unless groups are chosen.
    production = [g for g in (found.other_groups if found else ()) if g in PRODUCTION_GROUPS]
    if production and not choices.groups:
        found = from_folder(folder, tuple(production[:1]), choices.requirements)
    return found


def _scheduler_run(site: Path, found: tuple) -> tuple[str, str]:
    """(command, why) a scheduler machine runs of the project's own; "" runs the site's own start-up, with
    DJANGO_RUN_SCHEDULER=1, and keeps the schedulers it starts."""
    declared = of_role(list(found), SCHEDULER)
    if declared is not None:
        return runnable(declared.command), f"the project's scheduler process type, {declared.where}"
    return scheduler_command(site) or ("", "the site's own start-up (an AppConfig's ready()), with DJANGO_RUN_SCHEDULER=1")


def code_digest(site: Path) -> str:
    """A hash of the files that enter the site's image (their names and contents)."""
    digest = hashlib.sha256()
    for name, path in code_files(site):
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]
