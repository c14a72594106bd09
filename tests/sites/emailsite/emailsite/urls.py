from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("me/", views.profile, name="profile"),
    path("admin/", admin.site.urls),
]
