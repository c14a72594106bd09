from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def home(request):
    request.session["visits"] = request.session.get("visits", 0) + 1
    return HttpResponse(f"<h1>Hello {request.user.email}</h1><p>visit {request.session['visits']}</p>")
