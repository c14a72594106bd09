from django.contrib import admin
from django.urls import include, path

from mysite.accounts import views as accounts_views

urlpatterns = [
    path("admin/login/", accounts_views.login),
    path("admin/", admin.site.urls),
    path("", include("mysite.accounts.urls")),
    path("", include("mysite.api.urls")),
    path("", include("mysite.front.urls")),
]
