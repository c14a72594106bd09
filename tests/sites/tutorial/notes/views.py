from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def home(request):
    """The tutorial's page: a visit counter kept in the session."""
    request.session["visits"] = request.session.get("visits", 0) + 1
    return render(request, "notes/home.html", {"visits": request.session["visits"]})
