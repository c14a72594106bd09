"""
URL configuration for api project.

The REST API lives under /api/, with the admin beside it at /api/admin/.
"""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from rest_framework import routers

from projects.views import ProjectViewSet

from . import views

router = routers.DefaultRouter()
router.register("projects", ProjectViewSet)

urlpatterns = [
    path("api/admin/", admin.site.urls),
    path("api/auth/", include("rest_framework.urls")),
    path("api/", include(router.urls)),
    path("accounts/github/login/", views.github_login, name="github-login"),
]

# The error page keeps the site's menu, so a visitor can find their way back.
handler500 = "api.views.server_error"

if "debug_toolbar" in settings.INSTALLED_APPS:
    urlpatterns += [path("__debug__/", include("debug_toolbar.urls"))]
