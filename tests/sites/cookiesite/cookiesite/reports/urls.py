from django.urls import path

from .views import enqueue_view
from .views import status_view

app_name = "reports"
urlpatterns = [
    path("enqueue/", view=enqueue_view, name="enqueue"),
    path("status/", view=status_view, name="status"),
]
