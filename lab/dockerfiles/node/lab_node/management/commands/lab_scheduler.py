import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.conf import settings
from django.core.management.base import BaseCommand

from lab_node.schedulers import running


class _Answers(BaseHTTPRequestHandler):
    """The scheduler machine's two lab URLs: its health, and what schedules jobs in this process."""

    def do_GET(self):  # noqa: N802 (http.server's name)
        body = {"node": settings.LAB_NODE, "ok": True}
        if self.path == "/__lab__/schedulers":
            body.update(running())
        payload = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


class Command(BaseCommand):
    help = (
        "The lab's scheduler machine (lab up --scheduler): the one process that runs the site's scheduled "
        "jobs. With a scheduler command (a Procfile's clock line, a management command, --scheduler CMD) it "
        "becomes that command; otherwise the site's own start-up (an AppConfig's ready()) has started its "
        "schedulers in this process, with DJANGO_RUN_SCHEDULER=1, and it keeps running them."
    )

    def handle(self, *args, **options):
        command = settings.LAB_SCHEDULER_COMMAND
        if command:
            self.stdout.write(f"scheduler: {command}")
            self.stdout.flush()
            os.chdir("/srv/site")
            os.execvp("bash", ["bash", "-c", command])
        found = running()["schedulers"]
        self.stdout.write(f"scheduler: the site's own start-up, {len(found)} scheduler(s) in this process")
        self.stdout.flush()
        # PID 1 ignores TERM unless it handles it: stop at once when the container stops.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        ThreadingHTTPServer(("0.0.0.0", 8000), _Answers).serve_forever()
