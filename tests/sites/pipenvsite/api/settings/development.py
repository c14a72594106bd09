from .base import *  # noqa: F403
from .base import INSTALLED_APPS
from .base import MIDDLEWARE

DEBUG = True
SECRET_KEY = "django-insecure-ar9m4l97e4u-2qh=9)vqiay4$=%d(y^7zuklxj3bug9o2)hw7!"
ALLOWED_HOSTS = ["localhost", "127.0.0.1"]

# In development, log in with a password through the admin's form.
LOGIN_URL = "admin:login"
GITHUB_CLIENT_ID = ""

INSTALLED_APPS = [*INSTALLED_APPS, "debug_toolbar"]
MIDDLEWARE = ["debug_toolbar.middleware.DebugToolbarMiddleware", *MIDDLEWARE]
INTERNAL_IPS = ["127.0.0.1"]
