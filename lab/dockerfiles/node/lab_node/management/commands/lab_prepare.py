import io
import re
import subprocess

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


# What `migrate --plan` says of an operation the previous version's code may still need: a column or
# table gone or renamed, a column made required. Raw SQL cannot be read, and is named too.
INCOMPATIBLE = re.compile(r"^\s*(Remove field|Rename field|Delete model|Rename model|Alter field|Raw SQL operation)", re.I)


class Command(BaseCommand):
    help = (
        "Once per lab: migrate the shared database, run the project's own release steps, and create or "
        "update the demo user through the site's own user model. (Static files are collected earlier,"
        " once per site image, before any node starts.)"
    )

    def handle(self, *args, **options):
        self.warn_incompatible()
        call_command("migrate", interactive=False, verbosity=1)
        for command in settings.LAB_RELEASE_COMMANDS:
            self.release(command)
        user, created = self.demo_user(settings.LAB_DEMO_USER, settings.LAB_DEMO_PASSWORD)
        self.stdout.write(f"demo user {user.get_username()!r} {'created' if created else 'updated'}")

    def warn_incompatible(self):
        """Name the operations of the migrations about to run that the nodes still serving the previous
        version may trip on: they run before those nodes are replaced (a rolling deploy)."""
        plan = io.StringIO()
        call_command("migrate", plan=True, stdout=plan)
        for line in plan.getvalue().splitlines():
            if INCOMPATIBLE.search(line):
                self.stdout.write(f"lab-release: incompatible: {line.strip()}")

    def release(self, command):
        """One of the project's release steps, in the site's folder, with the lab's settings."""
        self.stdout.write(f"release step: {command}")
        done = subprocess.run(["bash", "-c", command], cwd="/srv/site", capture_output=True, text=True, timeout=600)
        output = (done.stdout + done.stderr).strip()
        if output:
            self.stdout.write(output[-2000:])
        if done.returncode != 0:
            last = output.splitlines()[-1] if output else "no output"
            raise CommandError(f"lab-release: error: the release step `{command}` exited {done.returncode}: {last}")

    def demo_user(self, login, password):
        """The demo user by the model's USERNAME_FIELD (an email on some sites), staff, so the admin works."""
        model = get_user_model()
        field = model.USERNAME_FIELD
        user = model._default_manager.filter(**{field: login}).first()
        created = user is None
        if created:
            user = model(**{field: login})
        if field != "email" and hasattr(user, "email") and not user.email:
            user.email = login if "@" in login else f"{login}@example.com"
        for flag in ("is_active", "is_staff", "is_superuser"):
            if hasattr(user, flag):
                setattr(user, flag, True)
        # Set only when it differs: a new hash (a new salt) would log out every session of the demo user,
        # since Django checks a session against the password's hash (a release step under traffic).
        if created or not user.check_password(password):
            user.set_password(password)
        user.save()
        if apps.is_installed("allauth.account"):  # allauth asks for a verified address before an email login
            from allauth.account.models import EmailAddress

            email = getattr(user, "email", "") or login
            EmailAddress.objects.update_or_create(
                user=user, email=email, defaults={"verified": True, "primary": True}
            )
        return user, created
