"""Settings every lab node runs: the site's own settings, then what the lab decides for this node.

The lab passes its decisions as JSON in LAB_SETTINGS (the session backend, caches, databases), so the
same node image serves every backend and, later, any site.
"""

import importlib
import json
import os

_site = importlib.import_module(os.environ.get("LAB_SITE_SETTINGS", "labsite.settings"))
globals().update({name: getattr(_site, name) for name in dir(_site) if name.isupper()})

# Dict settings (DATABASES, CACHES) merge by alias, so the lab can add a "sessions" database and keep
# "default"; everything else is replaced.
for _name, _value in json.loads(os.environ.get("LAB_SETTINGS", "{}")).items():
    _current = globals().get(_name)
    globals()[_name] = {**_current, **_value} if isinstance(_current, dict) and isinstance(_value, dict) else _value

LAB_NODE = os.environ.get("LAB_NODE", "unknown")
SECRET_KEY = os.environ["LAB_SECRET_KEY"]
# After `lab rotate-key`: sessions signed with an earlier key stay valid (Django >= 4.1).
SECRET_KEY_FALLBACKS = json.loads(os.environ.get("LAB_SECRET_KEY_FALLBACKS", "[]"))
DEBUG = False
# Reached as 127.0.0.1:PORT from the host and by the nginx container's name from client networks.
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = [*INSTALLED_APPS, "lab_node"]  # noqa: F821 (from the site's settings)
MIDDLEWARE = ["lab_node.middleware.LabNodeMiddleware", *MIDDLEWARE]  # noqa: F821
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
