"""A Django project folder as the lab reads it before anything runs: its settings module, Python,
dependencies, files, release steps, and why it did not load or build. No Docker."""
