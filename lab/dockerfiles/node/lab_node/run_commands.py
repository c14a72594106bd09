"""Run the management commands the session backend asks of every node (LAB_NODE_COMMANDS, JSON)."""

import json
import os

import django
from django.core.management import call_command

django.setup()
for arguments in json.loads(os.environ["LAB_NODE_COMMANDS"]):
    call_command(*arguments)
