"""Process types as lab members: what a project's Procfile and production compose files run, judged by the
command (a worker, a scheduler, a web server), and the machines the plan gives each. No Docker."""

from lab import LabConfig
from lab.project.processes import RELEASE, SCHEDULER, WEB, WORKER, processes, role_of, runnable

from .projects import make, read

MANAGE = "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings')\n"
SITE = {"manage.py": MANAGE, "config/__init__.py": "", "config/settings.py": "SECRET_KEY = 'x'\n"}


def test_roles_come_from_what_a_process_runs_not_its_name():
    assert role_of("worker-beat", "celery -A config.celery_app beat -l INFO") == SCHEDULER
    assert role_of("worker", "celery -A config.celery_app worker -l INFO") == WORKER
    assert role_of("worker", "celery -A app worker -B") == WORKER  # a worker that also schedules
    assert role_of("web", "newrelic-admin run-program gunicorn pontoon.wsgi:application") == WEB
    assert role_of("queue", "python manage.py rqworker high default") == WORKER
    assert role_of("jobs", "python manage.py rqscheduler") == SCHEDULER
    assert role_of("clock", "python clock.py") == SCHEDULER
    assert role_of("shell", "python manage.py shell") is None


def test_a_procfile_with_beat_as_its_own_process_type(tmp_path):
    site = make(tmp_path, {**SITE, "Procfile": (
        "release: python manage.py migrate\nweb: gunicorn config.wsgi\n"
        "worker: celery -A config.celery_app worker -l INFO\nworker-beat: celery -A config.celery_app beat -l INFO\n")})
    found = {p.name: (p.role, p.where, p.schedules) for p in processes(site)}
    assert found == {"release": (RELEASE, "Procfile:1 (release)", False), "web": (WEB, "Procfile:2 (web)", False),
                     "worker": (WORKER, "Procfile:3 (worker)", False),
                     "worker-beat": (SCHEDULER, "Procfile:4 (worker-beat)", False)}
    config = LabConfig(site=str(site))
    found = read(config)
    assert config.worker_count(found) == 1
    assert found.worker_run == ("celery -A config.celery_app worker -l INFO", "Procfile:3 (worker)")
    assert config.runs_scheduler(found) and found.scheduler_run[0] == "celery -A config.celery_app beat -l INFO"


def test_compose_services_through_the_start_scripts_their_dockerfile_copies(tmp_path):
    site = make(tmp_path, {**SITE,
        "compose/production/django/Dockerfile": (
            "FROM python:3.13-slim\nCOPY ./compose/production/django/start /start\n"
            "COPY --chown=django:django ./compose/production/django/celery/worker/start /start-celeryworker\n"),
        "compose/production/django/start": "#!/bin/bash\npython manage.py collectstatic --noinput\nexec gunicorn config.wsgi\n",
        "compose/production/django/celery/worker/start": (
            "#!/bin/bash\nexec newrelic-admin run-program celery -A config.celery_app worker \\\n  --queues=\"$QUEUES\" -l INFO\n"),
        "compose/local/django/Dockerfile": "FROM python:3.13\nCOPY ./compose/local/django/celery/worker/start /start-celeryworker\n",
        "compose/local/django/celery/worker/start": "#!/bin/bash\nexec watchfiles celery.__main__.main --args 'worker'\n",
        "docker-compose.production.yml": (
            "services:\n  django: &django\n    build:\n      context: .\n      dockerfile: ./compose/production/django/Dockerfile\n"
            "    command: /start\n  celeryworker:\n    <<: *django\n    command: /start-celeryworker\n"
            "  redis:\n    image: redis:7\n"),
        "docker-compose.local.yml": "services:\n  django:\n    build: .\n    command: python manage.py runserver\n"})
    found = {p.name: (p.role, p.command) for p in processes(site)}
    assert found == {"django": (WEB, "gunicorn config.wsgi"),
                     "celeryworker": (WORKER, 'newrelic-admin run-program celery -A config.celery_app worker --queues="$QUEUES" -l INFO')}
    assert read(LabConfig(site=str(site))).worker_run[0] == "celery -A config.celery_app worker -l INFO"


def test_a_lab_option_sets_the_number_of_worker_machines_and_none_without_a_worker(tmp_path):
    site = make(tmp_path / "w", {**SITE, "Procfile": "web: gunicorn config.wsgi\nworker: python manage.py rqworker default\n"})
    worker, plain = read(LabConfig(site=str(site))), read(LabConfig(site=str(make(tmp_path / "p", {**SITE, "Procfile": "web: gunicorn config.wsgi\n"}))))
    assert LabConfig(worker_machines=3).worker_count(worker) == 3
    assert LabConfig(worker_machines=0).worker_count(worker) == 0
    assert LabConfig().worker_count(plain) == 0 and not LabConfig().runs_scheduler(plain)
    assert LabConfig(worker_machines=2).worker_count(plain) == 0  # nothing to run


def test_what_a_machine_runs_leaves_out_monitoring_wrappers_and_options_its_script_filled_in():
    assert runnable('newrelic-admin run-program celery -A app worker --queues="$QUEUES" -l INFO') == "celery -A app worker -l INFO"
    assert runnable("celery --app=dojo worker --concurrency ${N:-1} -l INFO") == "celery --app=dojo worker -l INFO"


def test_the_plan_runs_each_worker_machine_and_one_scheduler_beside_the_nodes(tmp_path):
    import json

    from lab.model.plan import NODE_CONFIG_PATH, ROLE_LABEL, build_plan
    from lab.run.state import new_secrets

    site = make(tmp_path, {**SITE, "Procfile": ("web: gunicorn config.wsgi\nworker: celery -A config.celery_app worker\n"
                                                "beat: celery -A config.celery_app beat\n")})
    tags = {"site": "django-lab/site:x", "nginx": "django-lab/nginx:x", "postgres": "django-lab/postgres:x",
            "redis": "django-lab/redis:x", "node": "django-lab/node:x"}
    config = LabConfig(name="t", site=str(site), worker_machines=2)
    plan = build_plan(config, new_secrets(), tags, site=read(config))
    assert [spec.name for spec in plan.workers] == ["t-worker-1", "t-worker-2"]
    assert plan.scheduler is not None and plan.scheduler.name == "t-scheduler"
    for worker in plan.workers:
        assert worker.labels[ROLE_LABEL] == "worker" and worker.command == ("django-admin", "lab_member")
        assert json.loads(worker.files[NODE_CONFIG_PATH])["member_command"] == "celery -A config.celery_app worker"
        assert not worker.ports
    assert [spec.name for spec in plan.members()] == ["t-worker-1", "t-worker-2", "t-scheduler"]
    assert all(member in plan.containers() for member in plan.members())
    # nginx sends no request to a worker
    assert "t-worker" not in plan.nginx_conf


def test_jobs_an_app_server_attaches_to_every_instance_and_its_migrate_are_found(tmp_path):
    from lab.project.site import migrate_at_start, scheduled_jobs

    site = make(tmp_path, {**SITE, "docker/uwsgi.ini": (
        "[uwsgi]\nhttp-socket = :8000\nmodule = config.wsgi:application\nhook-pre-app = exec:./manage.py migrate\n"
        "attach-daemon = ./manage.py sendalerts --skip-checks\n; attach-daemon = ./manage.py smtpd\n"),
        "Procfile": "web: gunicorn config.wsgi\nworker: celery -A config.celery_app worker -B\nbeat: celery -A x beat\n"})
    assert [str(hit) for hit in migrate_at_start(site)] == ["docker/uwsgi.ini:4: hook-pre-app = exec:./manage.py migrate"]
    assert [str(hit) for hit in scheduled_jobs(site)] == [
        "Procfile:2: worker: celery -A config.celery_app worker -B",  # beat inside every worker
        "docker/uwsgi.ini:5: attach-daemon = ./manage.py sendalerts --skip-checks",
    ]  # the beat process type of its own is no hit


def test_a_development_recipes_migrate_is_no_evidence_when_a_production_recipe_exists(tmp_path):
    from lab.project.site import migrate_at_start

    site = make(tmp_path, {**SITE, "compose/production/django/start": "#!/bin/bash\nexec gunicorn config.wsgi\n",
                           "compose/production/django/Dockerfile": "FROM python:3.13\n",
                           "compose/local/django/start": "#!/bin/bash\npython manage.py migrate\nexec python manage.py runserver\n"})
    assert migrate_at_start(site) == []


def test_a_migrator_job_a_deploy_script_and_a_runserver_script_are_no_migrate_at_every_start(tmp_path):
    """A compose service declared to run once (`restart: "no"`, a monorepo's root compose file building this
    folder), a deploy script's `compose run --rm`, a start script that serves with runserver: none is a web
    process's start. A web service's entrypoint that migrates stays a hit."""
    import subprocess

    from lab.project.site import migrate_at_start

    repo = tmp_path / "repo"
    site = make(repo / "apps" / "api", {
        **SITE, "Dockerfile.api": "FROM python:3.12\nWORKDIR /code\nCOPY . .\nCMD ./bin/web.sh\n",
        "bin/migrator.sh": "#!/bin/bash\nset -e\npython manage.py wait_for_db\npython manage.py migrate $1\n",
        "bin/web.sh": "#!/bin/bash\npython manage.py migrate\nexec gunicorn config.wsgi -b :8000\n",
        "deploy.sh": "#!/bin/bash\n$COMPOSE run --rm django python manage.py migrate\n$COMPOSE up -d\n",
        "docker/dev.sh": "#!/bin/bash\npython manage.py migrate\nexec python manage.py runserver 0.0.0.0:8000\n",
    })
    (repo / "docker-compose.yml").write_text(
        "services:\n"
        "  api:\n    build: {context: ./apps/api, dockerfile: Dockerfile.api}\n    restart: always\n"
        "    command: ./bin/web.sh\n"
        "  migrator:\n    build: {context: ./apps/api, dockerfile: Dockerfile.api}\n    restart: no\n"
        "    command: ./bin/migrator.sh\n")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    assert [str(hit) for hit in migrate_at_start(site)] == ["bin/web.sh:2: python manage.py migrate"]
    (repo / "docker-compose.yml").write_text((repo / "docker-compose.yml").read_text().replace("restart: no", "restart: always"))
    assert [str(hit) for hit in migrate_at_start(site)] == ["bin/migrator.sh:4: python manage.py migrate $1",
                                                           "bin/web.sh:2: python manage.py migrate"]
