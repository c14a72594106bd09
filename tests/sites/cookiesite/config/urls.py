from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

urlpatterns = [
    path("", TemplateView.as_view(template_name="pages/home.html"), name="home"),
    # Django Admin, use {% url 'admin:index' %}
    path(settings.ADMIN_URL, admin.site.urls),
    # User management
    path("accounts/", include("django.contrib.auth.urls")),
    path("users/", include("cookiesite.users.urls", namespace="users")),
    # Your stuff: custom urls includes go here
    path("reports/", include("cookiesite.reports.urls", namespace="reports")),
    *static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT),
]
