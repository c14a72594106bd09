"""The names a project's production compose file gives its stores, which the lab's stores answer to. No Docker."""

import dataclasses

from lab import LabConfig
from lab.model.plan import build_plan
from lab.project.compose_services import store_aliases

from .projects import make, read
from .test_plan import SECRETS, TAGS

MANAGE = "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'app.settings')\n"
PROD = ("services:\n  db:\n    image: postgres:16-alpine\n  redis:\n    image: redis:7\n"
        "  cache:\n    image: docker.io/bitnami/redis:7.2\n  web:\n    build: .\n    command: gunicorn app.wsgi\n"
        "  mail:\n    image: mailhog/mailhog\n")


def test_stores_answer_to_the_names_of_the_production_compose_file(tmp_path):
    site = make(tmp_path, {"manage.py": MANAGE, "app/settings.py": "", "docker-compose.prod.yml": PROD,
                           "docker-compose.local.yml": "services:\n  devdb:\n    image: postgres:16\n"})
    assert store_aliases(site) == {"postgres": ("db",), "redis": ("redis", "cache")}
    config = LabConfig(name="t", site=str(site))
    plan = build_plan(config, SECRETS, {**TAGS}, site=read(config))
    stores = {spec.name: spec for spec in plan.stores}
    assert stores["t-postgres"].aliases == ("db",) and stores["t-redis"].aliases == ("redis", "cache")
    # Settings written for that file reach Redis without a password: the lab's Redis takes none, its clients send none.
    assert stores["t-redis"].env.get("LAB_REDIS_OPEN") == "1"
    assert "redis://t-redis:6379/0" in str(plan.nodes[0].files)  # the session cache, without credentials


def test_without_a_compose_file_no_alias_and_redis_keeps_its_password(tmp_path):
    site = make(tmp_path, {"manage.py": MANAGE, "app/settings.py": ""})
    assert store_aliases(site) == {}
    config = LabConfig(name="t", site=str(site))
    plan = build_plan(config, SECRETS, TAGS, site=read(config))
    redis = next(spec for spec in plan.stores if spec.name == "t-redis")
    assert redis.aliases == () and "LAB_REDIS_OPEN" not in redis.env
    assert f"redis://:{SECRETS.redis_password}@t-redis:6379/0" in str(plan.nodes[0].files)
    # A new name for a store is a new container (Docker sets a container's aliases when it joins the network).
    assert dataclasses.replace(redis, aliases=("redis",)).fingerprint() != redis.fingerprint()
