"""Download the standalone Tailwind CSS CLI that `compose/local/django/start` builds project.css with."""

import os
import platform
import stat
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.core.management.base import CommandError

TAILWIND_VERSION = "v4.1.11"
RELEASES = "https://github.com/tailwindlabs/tailwindcss/releases/download"


def asset_name() -> str:
    system = {"Linux": "linux", "Darwin": "macos", "Windows": "windows"}[platform.system()]
    machine = {"x86_64": "x64", "AMD64": "x64", "aarch64": "arm64", "arm64": "arm64"}[platform.machine()]
    suffix = ".exe" if system == "windows" else ""
    return f"tailwindcss-{system}-{machine}{suffix}"


class Command(BaseCommand):
    help = "Downloads the Tailwind CSS standalone CLI to settings.TAILWIND_CLI_PATH"

    def add_arguments(self, parser):
        parser.add_argument("--tailwind-version", dest="tw_version", default=TAILWIND_VERSION)

    def handle(self, *args, tw_version, **options):
        target = Path(settings.TAILWIND_CLI_PATH)
        url = f"{RELEASES}/{tw_version}/{asset_name()}"
        self.stdout.write(f"Downloading {url}")
        try:
            with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310
                binary = response.read()
        except (urllib.error.URLError, TimeoutError) as exc:
            msg = f"could not download the Tailwind CSS CLI from {url}: {exc}"
            raise CommandError(msg) from exc
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(binary)
        target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        self.stdout.write(self.style.SUCCESS(f"Tailwind CSS {tw_version} saved to {os.path.relpath(target)}"))
