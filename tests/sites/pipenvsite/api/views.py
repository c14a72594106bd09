from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import render

GITHUB_AUTHORIZE_URL = "https://github.com/login/oauth/authorize"


def github_login(request):
    """The only way in for people: a button that sends them to GitHub."""
    query = urlencode(
        {
            "client_id": settings.GITHUB_CLIENT_ID,
            "scope": "read:user user:email",
            "state": request.GET.get("next", settings.LOGIN_REDIRECT_URL),
        }
    )
    return render(
        request,
        "accounts/github_login.html",
        {"authorize_url": f"{GITHUB_AUTHORIZE_URL}?{query}"},
    )


def server_error(request):
    """The 500 page, in the site's layout (its menu included)."""
    return render(request, "500.html", status=500)
