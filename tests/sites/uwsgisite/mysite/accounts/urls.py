from django.urls import path

from mysite.accounts import views

urlpatterns = [
    path("accounts/login/", views.login, name="hc-login"),
    path("accounts/logout/", views.logout, name="hc-logout"),
    path("accounts/login_link_sent/", views.login_link_sent, name="hc-login-link-sent"),
    path("accounts/check_token/<str:token>/", views.check_token, name="hc-check-token"),
]
