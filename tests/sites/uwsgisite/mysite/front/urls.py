from django.urls import path

from mysite.front import views

urlpatterns = [
    path("", views.index, name="hc-index"),
    path("docs/search/", views.docs_search, name="hc-docs-search"),
]
