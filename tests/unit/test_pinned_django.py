"""The Django a project pins or locks, wherever it keeps it (docs/your-project.md: on a tie of Pythons, a pinned Django 6
takes the newer one). No Docker."""

import pytest

from lab.project.dependencies import pinned_django


@pytest.mark.parametrize("name, text, version", [
    ("requirements.txt", "requests==2.32\nDjango==6.0.2\n", "6.0.2"),
    ("requirements.txt", "  django[argon2]>=6.0,<6.1\n", "6.0"),
    ("requirements.txt", "django ~= 5.2\n", "5.2"),
    ("requirements/base.txt", "DJANGO==4.2.20\n", "4.2.20"),
    ("requirements/production.txt", "-r base.txt\ndjango>=5.1\n", "5.1"),
    ("requirements/prod.txt", "django==5.0.14\n", "5.0.14"),
    ("uv.lock", '[[package]]\nname = "django"\nversion = "6.0.1"\n', "6.0.1"),
    ("poetry.lock", '[[package]]\nname = "Django"\nversion = "5.2.3"\n', "5.2.3"),
    ("Pipfile.lock", '{"default": {"django": {"hashes": [], "version": "==5.1.4"}}}', "5.1.4"),
    ("pyproject.toml", '[project]\ndependencies = [\n  "Django>=6.0",\n]\n', None),  # quoted: not a line of its own
    ("pyproject.toml", '[tool.poetry.dependencies]\npython = "^3.12"\ndjango = "^5.2"\n', "5.2"),
    ("Pipfile", '[packages]\ndjango = "==5.1"\n', "5.1"),
    ("Pipfile", '[packages]\nDjango = "~4.2"\n', "4.2"),
    ("Pipfile", '[packages]\ndjango = "*"\n', None),
    ("requirements.txt", "django-environ==0.12\ndjangorestframework==3.16\n", None),
    ("requirements-dev.txt", "Django==6.0\n", None),  # not a file it reads
])
def test_the_pinned_django_wherever_the_project_keeps_it(tmp_path, name, text, version):
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_text(text)
    assert pinned_django([tmp_path]) == version


def test_the_first_folder_and_file_that_pins_it_wins(tmp_path):
    site, repo = tmp_path / "repo" / "site", tmp_path / "repo"
    site.mkdir(parents=True)
    (repo / "requirements.txt").write_text("Django==5.2\n")
    assert pinned_django([site, repo]) == "5.2"
    (site / "uv.lock").write_text('name = "django"\nversion = "6.0.3"\n')
    (site / "requirements.txt").write_text("Django==6.0.2\n")
    assert pinned_django([site, repo]) == "6.0.2"  # requirements.txt before a lock, in the manage.py folder first
    assert pinned_django([tmp_path / "nowhere"]) is None


def test_a_file_that_is_not_utf8_is_still_read(tmp_path):
    (tmp_path / "requirements.txt").write_bytes(b"# caf\xe9 (latin-1)\nDjango==5.2.1\n")
    assert pinned_django([tmp_path]) == "5.2.1"
