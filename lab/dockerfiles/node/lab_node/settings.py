"""Settings every lab node runs: the site's own settings, then what the lab decides for this node.

The lab writes its decisions (session backend, caches, databases, SECRET_KEY) to one JSON file,
LAB_CONFIG_FILE. A switch writes the file again and restarts gunicorn inside the running container,
so the node keeps its container, volumes and address. LAB_CONFIG_ID names the file's content; every
answer carries it (X-Lab-Config-Id), so the lab sees which configuration a node really runs.
"""

import hashlib
import importlib
import json
import os

_site = importlib.import_module(os.environ.get("LAB_SITE_SETTINGS", "labsite.settings"))
globals().update({name: getattr(_site, name) for name in dir(_site) if name.isupper()})

with open(os.environ.get("LAB_CONFIG_FILE", "/etc/lab/node.json"), "rb") as _file:
    _raw = _file.read()
_lab = json.loads(_raw)
LAB_CONFIG_ID = hashlib.sha256(_raw).hexdigest()[:12]

# Dict settings (DATABASES, CACHES) merge by alias, so the lab can add a "sessions" database and keep
# "default"; everything else is replaced.
for _name, _value in _lab["settings"].items():
    _current = globals().get(_name)
    globals()[_name] = {**_current, **_value} if isinstance(_current, dict) and isinstance(_value, dict) else _value

LAB_NODE = os.environ.get("LAB_NODE", "unknown")
LAB_NODE_COMMANDS = _lab.get("commands", [])
LAB_DEMO_USER = _lab.get("demo_user", "demo")
LAB_DEMO_PASSWORD = _lab.get("demo_password")  # only the one-off job that sets the demo user gets it
SECRET_KEY = _lab["secret_key"]
# After `lab rotate-key`: sessions signed with an earlier key stay valid (Django >= 4.1).
SECRET_KEY_FALLBACKS = _lab.get("secret_key_fallbacks", [])
DEBUG = False
# Reached as 127.0.0.1:PORT from the host and by the nginx container's name from client networks.
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = [*INSTALLED_APPS, "lab_node"]  # noqa: F821 (from the site's settings)
MIDDLEWARE = ["lab_node.middleware.LabNodeMiddleware", *MIDDLEWARE]  # noqa: F821
# The lab's URLs (under /__lab__/) in front of the site's own.
LAB_SITE_URLCONF = ROOT_URLCONF  # noqa: F821
ROOT_URLCONF = "lab_node.urls"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
