from lab.model.backends.base import SHARED_SESSIONS_DIR, SessionBackend


class SharedFile(SessionBackend):
    name = "shared_file"
    summary = "file sessions on one volume mounted by every node"
    survives_round_robin = True
    reason = "every node reads and writes the same directory (one machine only: a local volume)"

    def settings(self, hosts, passwords=None):
        return {
            "SESSION_ENGINE": "django.contrib.sessions.backends.file",
            "SESSION_FILE_PATH": SHARED_SESSIONS_DIR,
        }
