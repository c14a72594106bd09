from lab.model.backends.base import SessionBackend


class Db(SessionBackend):
    name = "db"
    summary = "database sessions on the shared PostgreSQL"
    survives_round_robin = True
    reason = "every node queries the same django_session table"

    def settings(self, hosts, passwords=None):
        return {"SESSION_ENGINE": "django.contrib.sessions.backends.db"}
