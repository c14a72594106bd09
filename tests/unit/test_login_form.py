"""Login forms as sites write them: the lab fills the form a browser would submit, with the demo user's
email where the form asks for an email, and refuses a page that has no password form."""

from lab.traffic.evidence import login_form
from lab.traffic.login_form import demo_email, find_login_form

TOKEN = '<input type="hidden" name="csrfmiddlewaretoken" value="tok3n">'

DJANGO = f"""<form method="post">{TOKEN}
<input type="text" name="username" autofocus required id="id_username">
<input type="password" name="password" required id="id_password">
<button type="submit">Log in</button></form>"""

ALLAUTH_BY_EMAIL = f"""<form class="login" method="post" action="/accounts/login/">{TOKEN}
<input type="email" name="login" placeholder="Email address" required>
<input type="password" name="password" required><input type="checkbox" name="remember">
<input type="hidden" name="next" value="/dashboard/"><button type="submit">Sign In</button></form>"""

# healthchecks' login page: a magic-link form first (no password), then the password form, which says
# which of the two it is with a hidden `action`.
TWO_FORMS = f"""<form id="magic-link-form" method="post">{TOKEN}<input type="email" name="identity"></form>
<form id="login-form" method="post">{TOKEN}<input type="hidden" name="action" value="login" />
<input type="email" name="email" class="form-control input-lg"><input type="password" name="password"></form>"""

GITHUB_ONLY = f"""<form method="post" action="/accounts/github/login/">{TOKEN}<button>Log in with GitHub</button></form>"""


def test_djangos_form_gets_the_login_name_and_the_password():
    form = find_login_form(DJANGO)
    assert form.filled("demo", "pw") == {"csrfmiddlewaretoken": "tok3n", "username": "demo", "password": "pw"}


def test_a_form_that_asks_for_an_email_gets_the_demo_users_email():
    form = find_login_form(ALLAUTH_BY_EMAIL)
    assert form.action == "/accounts/login/"
    assert form.filled("demo", "pw") == {
        "csrfmiddlewaretoken": "tok3n", "next": "/dashboard/", "login": "demo@example.com", "password": "pw",
    }


def test_of_two_forms_the_one_with_the_password_is_filled_with_its_hidden_fields():
    form = find_login_form(TWO_FORMS)
    assert form.filled("demo", "pw") == {"csrfmiddlewaretoken": "tok3n", "action": "login", "email": "demo@example.com",
                                         "password": "pw"}


def test_a_page_without_a_password_field_is_no_login_form():
    assert find_login_form(GITHUB_ONLY) is None and not login_form(GITHUB_ONLY)
    assert find_login_form("<form><input type=password name=p></form>") is None  # no CSRF token: not Django's


def test_a_token_outside_the_form_still_counts():
    page = f"<head>{TOKEN}</head><form method=post><input name=username><input type=password name=password></form>"
    assert find_login_form(page).filled("demo", "pw")["csrfmiddlewaretoken"] == "tok3n"


def test_a_login_that_is_an_email_already_is_kept():
    assert demo_email("demo@example.com") == "demo@example.com" and demo_email("demo") == "demo@example.com"
