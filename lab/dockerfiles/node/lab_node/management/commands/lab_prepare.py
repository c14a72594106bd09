from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Once per lab: migrate the shared database, collect static files into the volume nginx serves, "
        "and create or update the demo user through the site's own user model."
    )

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=1)
        if apps.is_installed("django.contrib.staticfiles"):
            call_command("collectstatic", interactive=False, verbosity=0)
            self.stdout.write(f"static files collected into {settings.STATIC_ROOT}")
        user, created = self.demo_user(settings.LAB_DEMO_USER, settings.LAB_DEMO_PASSWORD)
        self.stdout.write(f"demo user {user.get_username()!r} {'created' if created else 'updated'}")

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
        user.set_password(password)
        user.save()
        if apps.is_installed("allauth.account"):  # allauth asks for a verified address before an email login
            from allauth.account.models import EmailAddress

            email = getattr(user, "email", "") or login
            EmailAddress.objects.update_or_create(
                user=user, email=email, defaults={"verified": True, "primary": True}
            )
        return user, created
