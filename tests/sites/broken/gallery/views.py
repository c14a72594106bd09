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


@login_required
def photos(request):
    if request.method == "POST" and request.FILES.get("image"):
        Photo.objects.create(owner=request.user, image=request.FILES["image"])
    names = ", ".join(p.image.name for p in Photo.objects.filter(owner=request.user)) or "none yet"
    return HttpResponse(f"<h1>Photos of {request.user.get_username()}</h1><p>{names}</p>")
