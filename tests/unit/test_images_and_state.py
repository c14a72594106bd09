import io
import shutil
import stat
import tarfile

from lab import LabConfig
from lab.config import SAMPLE_SITE
from lab.images import image_specs
from lab.state import LabState, StateStore, new_secrets


def node_spec(site):
    return image_specs(LabConfig(site=str(site)))["node"]


def test_tags_name_the_content(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(SAMPLE_SITE, site)
    first = node_spec(site).tag
    assert node_spec(site).tag == first  # stable
    (site / "__pycache__").mkdir(exist_ok=True)
    (site / "__pycache__" / "x.pyc").write_bytes(b"cache")
    assert node_spec(site).tag == first  # caches do not count
    (site / "labsite" / "views.py").write_text("# changed\n")
    assert node_spec(site).tag != first


def test_django_version_is_part_of_the_tag():
    assert image_specs(LabConfig(django_version="5.2.19"))["node"].tag != image_specs(LabConfig())["node"].tag


def test_context_holds_dockerfile_site_and_ca_bundle():
    names = tarfile.open(fileobj=io.BytesIO(image_specs(LabConfig())["node"].context())).getnames()
    assert {"Dockerfile", "lab-ca.crt", "site/manage.py", "lab_node/settings.py"} <= set(names)


def test_state_round_trip_is_private(tmp_path):
    store = StateStore(tmp_path)
    state = LabState(LabConfig(name="s", backend="db"), new_secrets(), "django-lab/node:abc")
    store.save(state)
    assert store.load("s") == state
    assert stat.S_IMODE(store.path("s").stat().st_mode) == 0o600
    assert store.names() == ["s"]
    assert store.delete("s") and store.load("s") is None and not store.delete("s")
