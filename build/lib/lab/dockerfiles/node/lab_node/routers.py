class SessionsRouter:
    """Keep the sessions app in the node's own "sessions" database (the per-node SQLite backend)."""

    def db_for_read(self, model, **hints):
        return "sessions" if model._meta.app_label == "sessions" else None

    db_for_write = db_for_read

    def allow_migrate(self, db, app_label, **hints):
        if db == "sessions":
            return app_label == "sessions"
        return None
