"""The settings' own switch to PostgreSQL, set by the lab, so what the site derives from its engine agrees with
the database its nodes use. No Docker."""

from lab import LabConfig
from lab.project.database_switch import database_switch
from lab.project.read import read_site

from .projects import make

MANAGE = "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'app.settings')\n"


def test_a_variable_compared_to_postgres_is_the_switch(tmp_path):
    site = make(tmp_path, {"manage.py": MANAGE, "app/__init__.py": "", "app/settings.py": (
        "import os\n"
        'LD_DB_ENGINE = os.getenv("LD_DB_ENGINE", "sqlite")\n'
        'if LD_DB_ENGINE == "postgres":\n    DATABASES = {}\n'
        "USE_SQLITE = True\n")})
    assert database_switch(site) == {"LD_DB_ENGINE": ("postgres", "app/settings.py:3")}
    found = read_site(site)
    assert LabConfig(site=str(site)).site_environment(found)["LD_DB_ENGINE"] == "postgres"
    assert LabConfig(site=str(site), env=(("LD_DB_ENGINE", "sqlite"),)).site_environment(found)["LD_DB_ENGINE"] == "sqlite"


def test_a_direct_reading_and_a_membership_test_are_switches_too(tmp_path):
    site = make(tmp_path, {"manage.py": MANAGE, "app/__init__.py": "", "app/settings.py": (
        "import os\n"
        'if os.getenv("DB") == "postgres":\n    DATABASES = {}\n'
        'if os.environ.get("CACHE_KIND") in ["mysql", "mariadb"]:\n    pass\n'
        'ENGINE_KIND = os.environ.get("ENGINE_KIND", "sqlite3")\n'
        'if ENGINE_KIND in ("postgresql", "psql"):\n    pass\n')})
    assert database_switch(site) == {"DB": ("postgres", "app/settings.py:2"),
                                     "ENGINE_KIND": ("postgresql", "app/settings.py:7")}


def test_settings_without_a_switch_get_nothing(tmp_path):
    site = make(tmp_path, {"manage.py": MANAGE, "app/__init__.py": "", "app/settings.py": (
        "import os\nDATABASE_URL = os.getenv('DATABASE_URL')\nDEBUG = os.getenv('DEBUG') == 'True'\n"),
        "app/views.py": 'import os\nif os.getenv("DB") == "postgres":\n    pass\n'})  # not settings
    assert database_switch(site) == {}
