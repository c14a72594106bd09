from lab.model.backends.base import SessionBackend


class SignedCookies(SessionBackend):
    name = "signed_cookies"
    summary = "the session lives in a signed cookie; no server-side store"
    survives_round_robin = True
    reason = "the browser carries the session; any node that shares the SECRET_KEY can verify it"

    def settings(self, hosts, passwords=None):
        return {"SESSION_ENGINE": "django.contrib.sessions.backends.signed_cookies"}
