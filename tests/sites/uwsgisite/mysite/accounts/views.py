from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.models import User
from django.core import signing
from django.core.mail import send_mail
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from mysite.accounts import forms


def _redirect_after_login(request: HttpRequest) -> HttpResponse:
    redirect_url = request.GET.get("next")
    if redirect_url and url_has_allowed_host_and_scheme(
        redirect_url, allowed_hosts={request.get_host()}
    ):
        return redirect(redirect_url)

    return redirect("hc-index")


def _send_login_link(request: HttpRequest, user: User) -> None:
    token = signing.dumps(user.username, salt="login")
    path = reverse("hc-check-token", args=[token])
    send_mail(
        f"Log in to {settings.SITE_NAME}",
        f"Hello,\n\nTo log in to {settings.SITE_NAME}, please open this link:\n\n"
        f"{settings.SITE_ROOT}{path}\n\nThe link works for one hour.",
        settings.DEFAULT_FROM_EMAIL,
        [user.email],
    )


def login(request: HttpRequest) -> HttpResponse:
    form = forms.PasswordLoginForm()
    magic_form = forms.EmailLoginForm()
    if request.method == "POST":
        if request.POST.get("action") == "login":
            form = forms.PasswordLoginForm(request.POST)
            if form.is_valid():
                auth_login(request, form.user)
                return _redirect_after_login(request)

        else:
            magic_form = forms.EmailLoginForm(request.POST)
            if magic_form.is_valid():
                if magic_form.user:
                    _send_login_link(request, magic_form.user)
                return redirect("hc-login-link-sent")

    if request.user.is_authenticated:
        return _redirect_after_login(request)

    bad_link = request.session.pop("bad_link", None)
    ctx = {
        "page": "login",
        "form": form,
        "magic_form": magic_form,
        "bad_link": bad_link,
        "registration_open": settings.REGISTRATION_OPEN,
    }
    return render(request, "accounts/login.html", ctx)


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    auth_logout(request)
    return redirect("hc-login")


def login_link_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/login_link_sent.html")


def check_token(request: HttpRequest, token: str) -> HttpResponse:
    if request.user.is_authenticated:
        auth_logout(request)

    # Some email servers open links in emails to check for malicious content.
    # A GET only shows a button; the login itself is a POST.
    if request.method != "POST":
        return render(request, "accounts/check_token_submit.html")

    user = authenticate(request, token=token)
    if user is not None:
        auth_login(request, user)
        return redirect("hc-index")

    request.session["bad_link"] = True
    return redirect("hc-login")
