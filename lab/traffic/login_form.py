"""A page's login form, read as a browser reads it: the form that holds a password field, every field it
would send (hidden ones such as Django's CSRF token or an `action=login` included), and the field that
asks who you are: a user name, or an email where the form asks for one (`type="email"`, or a field named
for it), whatever the user model's USERNAME_FIELD.

Standard library only: the file also runs in client containers, beside evidence.py (as lab_login_form.py).
"""

from __future__ import annotations

import html.parser
from dataclasses import dataclass, field

CSRF_FIELD = "csrfmiddlewaretoken"
# What sites call the field that asks who you are: Django's AuthenticationForm ("username", whatever
# USERNAME_FIELD is), django-allauth ("login"), hand-written forms ("email", "identity").
IDENTITY_NAMES = ("username", "login", "email", "identity", "identification", "user")
TEXT_TYPES = ("text", "email", "")
DEMO_EMAIL_DOMAIN = "example.com"  # the demo user's email, where its login name is not one (lab_prepare)


def demo_email(login: str) -> str:
    """The demo user's email address: its login when that is one, else LOGIN@example.com."""
    return login if "@" in login else f"{login}@{DEMO_EMAIL_DOMAIN}"


@dataclass
class LoginForm:
    """One form of the page: where it posts, and its named inputs as (name, type, value)."""

    action: str = ""
    inputs: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def password_field(self) -> str | None:
        return next((name for name, kind, _ in self.inputs if kind == "password"), None)

    @property
    def identity(self) -> tuple[str, str] | None:
        """(name, what it asks: "email" or "name") of the field that asks who logs in."""
        text = [(name, kind) for name, kind, _ in self.inputs if kind in TEXT_TYPES]
        chosen = next((pair for wanted in IDENTITY_NAMES for pair in text if pair[0] == wanted), text[0] if text else None)
        if chosen is None:
            return None
        name, kind = chosen
        return name, "email" if kind == "email" or "email" in name.lower() else "name"

    @property
    def has_csrf_token(self) -> bool:
        return any(name == CSRF_FIELD for name, _, _ in self.inputs)

    def filled(self, login: str, password: str) -> dict[str, str]:
        """What submitting the form as the demo user sends: its hidden fields as they are, the identity
        (the login name, or the demo user's email where the form asks for an email) and the password."""
        data = {name: value for name, kind, value in self.inputs if kind == "hidden"}
        identity = self.identity
        if identity is not None:
            name, asks = identity
            data[name] = demo_email(login) if asks == "email" else login
        data[self.password_field or "password"] = password
        return data


class _Forms(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[LoginForm] = []
        self.current: LoginForm | None = None
        self.loose: list[tuple[str, str, str]] = []  # inputs outside any form (a token in the page's head)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.current = LoginForm(values.get("action", ""))
            self.forms.append(self.current)
        elif tag == "input" and values.get("name"):
            kind = values.get("type", "").lower()
            if kind in ("submit", "button", "image", "reset", "file") or (kind in ("checkbox", "radio") and "checked" not in values):
                return
            entry = (values["name"], kind, values.get("value", ""))
            (self.current.inputs if self.current is not None else self.loose).append(entry)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None


def find_login_form(page: str) -> LoginForm | None:
    """The page's login form: the first form with a password field and a CSRF token (in the form, or
    anywhere in the page), or None: a page with only a "log in with GitHub" button is no login form."""
    parser = _Forms()
    try:
        parser.feed(page)
        parser.close()
    except (AssertionError, ValueError):  # markup html.parser cannot make sense of
        return None
    for form in parser.forms:
        if form.password_field is None:
            continue
        if not form.has_csrf_token:
            token = next((entry for entry in parser.loose if entry[0] == CSRF_FIELD), None)
            if token is None:
                continue
            form.inputs.append((CSRF_FIELD, "hidden", token[2]))
        return form
    return None
