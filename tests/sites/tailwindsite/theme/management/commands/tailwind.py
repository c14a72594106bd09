"""`manage.py tailwind install|build|start`, after django-tailwind, with the standalone CLI instead of npm."""

import platform
import stat
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

RELEASES = 'https://github.com/tailwindlabs/tailwindcss/releases/download'


def cli_asset():
    system = {'Linux': 'linux', 'Darwin': 'macos', 'Windows': 'windows'}[platform.system()]
    machine = {'x86_64': 'x64', 'AMD64': 'x64', 'aarch64': 'arm64', 'arm64': 'arm64'}[platform.machine()]
    return f"tailwindcss-{system}-{machine}{'.exe' if system == 'windows' else ''}"


class Command(BaseCommand):
    help = 'Runs Tailwind CSS for the theme app: install (download the CLI), build (minified CSS) or start (watch)'

    def add_arguments(self, parser):
        parser.add_argument('subcommand', choices=['install', 'build', 'start'])

    def handle(self, subcommand, **options):
        app_path = Path(apps.get_app_config(settings.TAILWIND_APP_NAME).path)
        self.source = app_path / 'static_src' / 'src' / 'styles.css'
        self.output = app_path / 'static' / 'css' / 'dist' / 'styles.css'
        self.cli = Path(settings.TAILWIND_CLI_PATH)
        getattr(self, f'handle_{subcommand}')()

    def handle_install(self):
        url = f'{RELEASES}/{settings.TAILWIND_CLI_VERSION}/{cli_asset()}'
        self.stdout.write(f'Downloading {url}')
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                binary = response.read()
        except (urllib.error.URLError, TimeoutError) as exc:
            raise CommandError(f'could not download the Tailwind CSS CLI from {url}: {exc}') from exc
        self.cli.parent.mkdir(parents=True, exist_ok=True)
        self.cli.write_bytes(binary)
        self.cli.chmod(self.cli.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        self.stdout.write(self.style.SUCCESS(f'Tailwind CSS {settings.TAILWIND_CLI_VERSION} installed at {self.cli}'))

    def run_cli(self, *extra):
        if not self.cli.exists():
            raise CommandError(f'{self.cli} is missing: run `python manage.py tailwind install` first')
        self.output.parent.mkdir(parents=True, exist_ok=True)
        command = [str(self.cli), '--input', str(self.source), '--output', str(self.output), *extra]
        try:
            subprocess.run(command, check=True)
        except subprocess.CalledProcessError as exc:
            raise CommandError(f'tailwindcss exited with status {exc.returncode}') from exc

    def handle_build(self):
        self.run_cli('--minify')

    def handle_start(self):
        self.run_cli('--watch')
