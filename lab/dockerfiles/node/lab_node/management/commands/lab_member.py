import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "A lab machine beside the nodes that runs one of the project's process types (a worker: `celery "
        "worker`, `rqworker`, ...), with the nodes' settings and environment, taking no traffic. It becomes "
        "that command, in the site's folder."
    )

    def handle(self, *args, **options):
        command = settings.LAB_MEMBER_COMMAND
        if not command:
            raise CommandError("no process to run: the lab's config names none (member_command)")
        self.stdout.write(f"member: {command}")
        self.stdout.flush()
        os.chdir("/srv/site")
        os.execvp("bash", ["bash", "-c", f"exec {command}"])
