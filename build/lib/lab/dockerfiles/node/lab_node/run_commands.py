"""Run the management commands the session backend asks of every node (from the lab's config file).

Django is imported only when there is a command to run: this runs before every gunicorn start.
"""

import json
import os

with open(os.environ.get("LAB_CONFIG_FILE", "/etc/lab/node.json")) as config:
    commands = json.load(config).get("commands", [])

if commands:
    import django
    from django.core.management import call_command

    django.setup()
    for arguments in commands:
        call_command(*arguments)
