from django.urls import path

from mysite.api import views

urlpatterns = [
    path("ping/<uuid:code>", views.ping, name="hc-ping-slash"),
    path("ping/<uuid:code>/", views.ping, name="hc-ping"),
    path("api/v3/status/", views.status),
]
