from django.urls import path

from gallery import views

urlpatterns = [
    path("", views.photos, name="photos"),
    path("accounts/login/", views.RateLimitedLogin.as_view(), name="login"),
]
