from lab.model.backends.base import NODE_DATA_DIR, SessionBackend


class LocalFile(SessionBackend):
    name = "local_file"
    summary = "file sessions on each node's own volume"
    survives_round_robin = False
    reason = "each node reads only its own directory, so another node never finds the session file"

    def settings(self, hosts, passwords=None):
        return {
            "SESSION_ENGINE": "django.contrib.sessions.backends.file",
            "SESSION_FILE_PATH": f"{NODE_DATA_DIR}/sessions",
        }
