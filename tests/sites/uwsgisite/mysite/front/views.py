from __future__ import annotations

import sqlite3

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from mysite.api.models import Check
from mysite.front import forms


@login_required
def index(request: HttpRequest) -> HttpResponse:
    checks = Check.objects.filter(user=request.user).order_by("created")
    counts = dict(
        Check.objects.values_list("status").annotate(n=Count("id")).order_by()
    )
    ctx = {
        "page": "checks",
        "checks": checks,
        "num_down": counts.get("down", 0),
        "ping_endpoint": settings.PING_ENDPOINT,
    }
    return render(request, "front/my_checks.html", ctx)


@csrf_exempt
def docs_search(request: HttpRequest) -> HttpResponse:
    form = forms.SearchForm(request.GET)
    if not form.is_valid():
        return render(request, "front/docs_search.html", {"results": []})

    query = """
        SELECT slug, title, snippet(docs, 2, '<span>', '</span>', '&hellip;', 10)
        FROM docs
        WHERE docs MATCH ?
        ORDER BY bm25(docs, 2.0, 10.0, 1.0)
        LIMIT 8
    """

    # Wrap the query in double quotes to get a valid FTS string
    # https://www.sqlite.org/fts5.html#full_text_query_syntax
    q = '"%s"' % form.cleaned_data["q"]
    con = sqlite3.connect(settings.BASE_DIR / "search.db")
    cur = con.cursor()
    res = cur.execute(query, (q,))

    ctx = {"results": res.fetchall()}
    return render(request, "front/docs_search.html", ctx)
