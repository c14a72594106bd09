from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = 'Prepares a release: compiles the translations, then collects static files.'

    def handle(self, *args, **options):
        self.stdout.write('Compiling messages...')
        call_command('compilemessages', ignore_patterns=['.venv', 'node_modules'], verbosity=options['verbosity'])
        self.stdout.write('Collecting static files...')
        call_command('collectstatic', interactive=False, verbosity=options['verbosity'])
        self.stdout.write(self.style.SUCCESS('Build complete.'))
