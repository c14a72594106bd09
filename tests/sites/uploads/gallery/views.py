from functools import lru_cache

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseForbidden

from .models import Photo

LOGIN_ATTEMPTS_PER_MINUTE = 50


class RateLimitedLogin(auth_views.LoginView):
    """At most LOGIN_ATTEMPTS_PER_MINUTE login posts per address, counted in the cache."""

    def post(self, request, *args, **kwargs):
        key = f"login-attempts:{request.META.get('REMOTE_ADDR')}"
        cache.add(key, 0, 60)
        if cache.incr(key) > LOGIN_ATTEMPTS_PER_MINUTE:
            return HttpResponseForbidden("too many login attempts; wait a minute")
        return super().post(request, *args, **kwargs)


@lru_cache(maxsize=None)
def photos_on_site() -> int:
    """How many photos the site holds, for the heading: counted once per process."""
    return Photo.objects.count()


@login_required
def photos(request):
    if request.method == "POST" and request.FILES.get("image"):
        Photo.objects.create(owner=request.user, image=request.FILES["image"])
    names = ", ".join(p.image.name for p in Photo.objects.filter(owner=request.user)) or "none yet"
    heading = f"Photos of {request.user.get_username()} ({photos_on_site()} on the site)"
    return HttpResponse(f"<h1>{heading}</h1><p>{names}</p>")
