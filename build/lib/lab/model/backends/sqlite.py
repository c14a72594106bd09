from lab.model.backends.base import NODE_DATA_DIR, SessionBackend


class Sqlite(SessionBackend):
    name = "sqlite"
    summary = "database sessions on a per-node SQLite file"
    survives_round_robin = False
    reason = "each node has its own SQLite file, so the session row exists on one node only"
    node_commands = (("migrate", "sessions", "--database", "sessions", "--verbosity", "0"),)

    def settings(self, hosts, passwords=None):
        return {
            "SESSION_ENGINE": "django.contrib.sessions.backends.db",
            "DATABASES": {
                "sessions": {"ENGINE": "django.db.backends.sqlite3", "NAME": f"{NODE_DATA_DIR}/sessions.sqlite3"}
            },
            "DATABASE_ROUTERS": ["lab_node.routers.SessionsRouter"],
        }
