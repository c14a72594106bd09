from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Migrate the lab's shared database and create or update the demo user (run once per lab)."

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=1)
        username = settings.LAB_DEMO_USER
        user, created = get_user_model().objects.get_or_create(username=username)
        user.set_password(settings.LAB_DEMO_PASSWORD)
        user.save()
        self.stdout.write(f"demo user {username!r} {'created' if created else 'updated'}")
