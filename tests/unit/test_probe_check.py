"""Before the matrix runs its cells, the page its users will browse is asked once as the demo user: a page
that answers an error is refused by name, with where it came from, instead of minutes of cells without verdicts."""

import http.server
import threading
from types import SimpleNamespace

import pytest

from lab.errors import EvidenceError
from lab.studies.matrix import check_probe

LOGIN_FORM = (b'<form method="post"><input type="hidden" name="csrfmiddlewaretoken" value="t0ken">'
              b'<input name="username"><input type="password" name="password"></form>')


class Site(http.server.BaseHTTPRequestHandler):
    """A site behind a balancer: a login page that logs anyone in, /dashboard/ for them, 404 elsewhere."""

    def answer(self, status, body=b"", **headers):
        self.send_response(status)
        for name, value in {"X-Lab-Node": "node-2", **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/accounts/login/":
            self.answer(200, LOGIN_FORM)
        elif self.path == "/accounts/login":  # APPEND_SLASH
            self.answer(301, **{"Location": "/accounts/login/"})
        elif self.path == "/sso/":  # a login elsewhere
            self.answer(302, **{"Location": "https://id.example.com/authorize?client_id=x"})
        elif self.path == "/dashboard/":
            self.answer(200, b"hello", **{"X-Lab-Username": "demo", "X-Lab-Counter": "1"})
        else:
            self.answer(404, b"not found")

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.answer(302, **{"X-Lab-User": "1", "Location": "/"})

    def log_message(self, *args):
        pass


@pytest.fixture
def lab():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Site)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    yield SimpleNamespace(url=lambda: url, ca_path=lambda: None, login_path=lambda: "accounts/login/",
                          login=lambda: ("demo", "secret"))
    server.shutdown()


def test_a_page_that_answers_the_logged_in_user_passes(lab):
    check_probe(lab, "/dashboard/", "--probe")


def test_a_page_that_answers_404_is_named_with_its_source_and_the_option_to_pick_another(lab):
    with pytest.raises(EvidenceError) as refused:
        check_probe(lab, "/nope/", "the site's LOGIN_REDIRECT_URL")
    message = str(refused.value)
    assert "/nope/ (the site's LOGIN_REDIRECT_URL), answered 404" in message
    assert "node-2" in message and "--probe PATH" in message


def test_a_site_without_a_password_form_is_told_from_a_site_whose_pages_fail(lab):
    from lab.run.site_facts import NoLoginForm, find_login_page

    plan = SimpleNamespace(url=lab.url(), config=SimpleNamespace(login_url=""))
    found = find_login_page(plan, {"login_candidates": [["/nope/", "LOGIN_URL"], ["/accounts/login/", "the admin's login"]]})
    assert found == ("/accounts/login/", "the admin's login")
    with pytest.raises(NoLoginForm) as api_only:  # an API: pages answer, none with a form
        find_login_page(plan, {"login_candidates": [["/nope/", "LOGIN_URL"], ["/dashboard/", "the admin's login"]]})
    assert not api_only.value.failing and "LOGIN_URL /nope/ answered 404" in str(api_only.value)
    with pytest.raises(NoLoginForm) as given:  # the page the user named has none: that is an error
        find_login_page(SimpleNamespace(url=lab.url(), config=SimpleNamespace(login_url="/dashboard/")), {})
    assert given.value.failing


def test_a_login_url_that_redirects_on_the_site_is_followed_as_a_browser_does(lab):
    """linkding's LOGIN_URL "/login": Django's APPEND_SLASH sends it to "/login/", where the form is."""
    from lab.run.site_facts import NoLoginForm, find_login_page

    plan = SimpleNamespace(url=lab.url(), config=SimpleNamespace(login_url=""))
    assert find_login_page(plan, {"login_candidates": [["/accounts/login", "LOGIN_URL"]]}) == ("/accounts/login/", "LOGIN_URL")
    with pytest.raises(NoLoginForm) as elsewhere:  # another site's login (OIDC) is not followed
        find_login_page(plan, {"login_candidates": [["/sso/", "LOGIN_URL"]]})
    assert "LOGIN_URL /sso/ answered 302" in str(elsewhere.value)
