import io
import re
import subprocess
import sys
import traceback

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

# What `migrate --plan` says of an operation the previous version's code may still need: a column or
# table gone or renamed, a column made required. Raw SQL cannot be read, and is named too.
INCOMPATIBLE = re.compile(r"^\s*(Remove field|Rename field|Delete model|Rename model|Alter field|Raw SQL operation)", re.I)
# A line that says what went wrong, in a command's output (the last one is the cause's nearest statement).
ERROR_LINE = re.compile(r"(Error|Exception|error:|ERROR|failed|Failed|not found|No such|Can't|cannot|denied)")
ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
DATABASE_CACHE = "django.core.cache.backends.db.DatabaseCache"


def last_error_line(output: str) -> str:
    """The last line of `output` that names an error (else its last line), without terminal escapes."""
    lines = [ESCAPES.sub("", line).strip() for line in output.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return "no output"
    return next((line for line in reversed(lines) if ERROR_LINE.search(line)), lines[-1])[:300]


class Command(BaseCommand):
    help = (
        "Once per lab: migrate the shared database, create the cache tables a DatabaseCache needs, run the "
        "project's own release steps, and create or update the demo user through the site's own user model. "
        "(Static files are collected earlier, once per site image, before any node starts.) Each step says "
        "`lab-release: running: STEP (WHERE)` first; a failure says `lab-release: error: ...` and exits 1."
    )

    def handle(self, *args, **options):
        self.step("migrate", "the lab migrates once per lab", self.migrate)
        cached = [alias for alias, cache in settings.CACHES.items() if cache.get("BACKEND") == DATABASE_CACHE]
        if cached:
            self.step("createcachetable", f"CACHES {', '.join(cached)} is a DatabaseCache (Django's documented set-up step)",
                      lambda: call_command("createcachetable", verbosity=1))
        sources = list(settings.LAB_RELEASE_SOURCES) + [""] * len(settings.LAB_RELEASE_COMMANDS)
        for command, where in zip(settings.LAB_RELEASE_COMMANDS, sources):
            self.release(command, where or "--release-command")
        self.step("demo user", "the lab's login", self.demo_user_step)

    def say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()

    def step(self, name: str, where: str, action) -> None:
        """Run one step of the lab's own; an exception ends the job with the step named."""
        self.say(f"lab-release: running: {name} ({where})")
        try:
            action()
        except Exception as error:  # the site's migrations or models fail in their own ways
            self.stderr.write(traceback.format_exc())
            cause = last_error_line(f"{type(error).__name__}: {error}")
            self.say(f"lab-release: error: {name} ({where}) failed: {cause}")
            sys.exit(1)

    def migrate(self) -> None:
        self.warn_incompatible()
        call_command("migrate", interactive=False, verbosity=1)

    def warn_incompatible(self):
        """Name the operations of the migrations about to run that the nodes still serving the previous
        version may trip on: they run before those nodes are replaced (a rolling deploy)."""
        plan = io.StringIO()
        call_command("migrate", plan=True, stdout=plan)
        for line in plan.getvalue().splitlines():
            if INCOMPATIBLE.search(line):
                self.say(f"lab-release: incompatible: {line.strip()}")

    def release(self, command: str, where: str) -> None:
        """One of the project's release steps, in the site's folder, with the lab's settings."""
        self.say(f"lab-release: running: `{command}` ({where})")
        done = subprocess.run(["bash", "-c", command], cwd="/srv/site", capture_output=True, text=True, timeout=600)
        output = (done.stdout + done.stderr).strip()
        if output:
            self.say(output[-2000:])
        if done.returncode != 0:
            self.say(
                f"lab-release: error: the release step `{command}` ({where}) exited {done.returncode}: "
                f"{last_error_line(output)}"
            )
            sys.exit(1)

    def demo_user_step(self) -> None:
        user, created = self.demo_user(settings.LAB_DEMO_USER, settings.LAB_DEMO_PASSWORD)
        self.say(f"demo user {user.get_username()!r} {'created' if created else 'updated'}")

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
