import io
import shutil
import stat
import tarfile

import pytest

from lab import LabConfig
from lab.engines.images import image_specs
from lab.model.config import SAMPLE_SITE
from lab.run.state import LabState, StateStore, new_secrets


def site_specs(site, **options):
    """Each image's tag (a tag is read from the files when asked, so keep the strings)."""
    return {key: spec.tag for key, spec in image_specs(LabConfig(site=str(site), **options)).items()}


def test_tags_name_the_content_and_a_code_change_rebuilds_only_the_code_layer(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(SAMPLE_SITE, site)
    (site / "requirements.txt").write_text("django-environ==0.12.0\n")
    first = site_specs(site)
    assert site_specs(site)["site"] == first["site"]  # stable
    (site / "__pycache__").mkdir(exist_ok=True)
    (site / "__pycache__" / "x.pyc").write_bytes(b"cache")
    assert site_specs(site)["site"] == first["site"]  # caches do not count
    (site / "labsite" / "views.py").write_text("# changed\n")
    changed = site_specs(site)
    assert changed["site"] != first["site"]
    assert changed["site-deps"] == first["site-deps"] and changed["node"] == first["node"]
    (site / "requirements.txt").write_text("django-environ==0.11.2\n")
    assert site_specs(site)["site-deps"] != first["site-deps"]
    assert site_specs(site)["node"] == first["node"]


def test_layers_build_on_each_other():
    specs = image_specs(LabConfig())  # the sample site declares no requirements: no site-deps layer
    assert "site-deps" not in specs
    assert specs["site"].needs == ("node",) and specs["site"].build_args["FROM_IMAGE"] == specs["node"].tag


def test_a_site_with_requirements_builds_them_in_the_build_stage_of_its_interpreter(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(SAMPLE_SITE, site)
    (site / "requirements.txt").write_text("Django==5.1.4\n")
    (site / "runtime.txt").write_text("python-3.10.2\n")
    specs = image_specs(LabConfig(site=str(site)))
    assert specs["node"].suite == "bookworm" and specs["node"].build_args["PYTHON"] == "python3.11"
    assert specs["node"].build_args["DJANGO_VERSION"] == "5.2.19"  # Django 6 needs Python 3.12
    assert specs["site-deps"].needs == ("node", "builder")
    assert specs["site-deps"].build_args["BUILDER_IMAGE"] == specs["builder"].tag
    assert specs["builder"].build_args["FROM_IMAGE"] == specs["node"].tag  # the very interpreter of the node


def test_compilemessages_runs_while_the_site_image_is_built(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(SAMPLE_SITE, site)
    (site / "Dockerfile").write_text("FROM python:3.13\nRUN python manage.py compilemessages\n")
    spec = image_specs(LabConfig(site=str(site)))["site"]
    assert spec.needs == ("node", "builder")
    assert b"django-admin compilemessages" in spec.generated["build-steps"]


def test_django_version_is_part_of_the_tag():
    assert image_specs(LabConfig(django_version="5.2.19"))["node"].tag != image_specs(LabConfig())["node"].tag


def test_contexts_hold_dockerfile_site_requirements_and_ca_bundle(tmp_path):
    names = tarfile.open(fileobj=io.BytesIO(image_specs(LabConfig())["node"].context())).getnames()
    assert {"Dockerfile", "lab-ca.crt", "lab_node/settings.py"} <= set(names)
    names = tarfile.open(fileobj=io.BytesIO(image_specs(LabConfig())["site"].context())).getnames()
    assert {"Dockerfile", "site/manage.py"} <= set(names)
    site = tmp_path / "site"
    shutil.copytree(SAMPLE_SITE, site)
    (site / "requirements").mkdir()
    (site / "requirements" / "base.txt").write_text("Django==5.1.4\n")
    (site / "requirements.txt").write_text("-r requirements/base.txt\n-e .\nwhitenoise==6.8.2  # static\n")
    (site / ".env").write_text("SECRET=never-in-an-image\n")
    deps = image_specs(LabConfig(site=str(site)))["site-deps"]
    archive = tarfile.open(fileobj=io.BytesIO(deps.context()))
    assert archive.extractfile("deps/requirements.txt").read().decode() == "Django==5.1.4\nwhitenoise==6.8.2\n"
    names = tarfile.open(fileobj=io.BytesIO(image_specs(LabConfig(site=str(site)))["site"].context())).getnames()
    assert "site/.env" not in names and "site/manage.py" in names


def test_state_round_trip_is_private(tmp_path):
    store = StateStore(tmp_path)
    state = LabState(LabConfig(name="s", backend="db"), new_secrets(), "django-lab/node:abc")
    store.save(state)
    assert store.load("s") == state
    assert stat.S_IMODE(store.path("s").stat().st_mode) == 0o600
    assert store.names() == ["s"]
    assert store.delete("s") and store.load("s") is None and not store.delete("s")


def test_bench_percentiles_come_from_the_merged_distribution_not_a_mean_of_percentiles():
    from lab.studies.loadbench import merged_percentiles

    fast = {"requests": 100, "latency_0.1ms": {"10": 100}}  # 100 answers at 1.0-1.1 ms
    slow = {"requests": 100, "latency_0.1ms": {"1000": 96, "2000": 4}}  # at 100 ms, 4 at 200 ms
    merged = merged_percentiles([fast, slow])
    assert merged == {"p50_ms": 1.05, "p95_ms": 100.05, "p99_ms": 200.05}
    # A request-weighted mean of each client's p99 would have said about 100.5 ms.


def test_the_docs_list_every_security_profile_as_the_code_grants_it():
    from lab.model.security import PROFILES
    from .documentation import page

    readme = page("architecture.md")  # "What each container may do"
    for name, profile in PROFILES.items():
        granted = " ".join(profile.capabilities) or "none"
        assert any(
            line.startswith(f"| `{name}`") and f"| {granted}" in line.replace("`", "") for line in readme.splitlines()
        ), f"the table in docs/architecture.md does not say that {name} gets {granted}"


def test_the_stopwatch_adds_up_steps_across_threads():
    import threading

    from lab.engines.stopwatch import Stopwatch

    watch = Stopwatch()
    threads = [threading.Thread(target=watch.add, args=("container start", seconds)) for seconds in (0.5, 1.5, 1.0)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with watch.step("nginx reload"):
        pass
    steps = watch.take()
    assert (steps["container start"].count, steps["container start"].total, steps["container start"].longest) == (3, 3.0, 1.5)
    assert steps["nginx reload"].count == 1 and watch.take() == {}


def test_reaching_containers_directly_is_learned_from_the_first_attempt(monkeypatch):
    import urllib.error

    from lab.engines import direct

    monkeypatch.setitem(direct._reachable, "containers", None)
    assert direct.learn(urllib.error.URLError(ConnectionRefusedError())) and not direct.unreachable()
    monkeypatch.setitem(direct._reachable, "containers", None)
    assert not direct.learn(urllib.error.URLError(TimeoutError())) and direct.unreachable()
    # Once routed, a later timeout (a busy container) does not take the direct path away.
    monkeypatch.setitem(direct._reachable, "containers", True)
    assert not direct.learn(OSError("timed out")) and not direct.unreachable()


@pytest.mark.parametrize(
    "raised, expected, says",
    [
        ("read timeout", "EngineError", "did not answer in time"),
        ("connection refused", "EngineUnavailable", "cannot reach the Docker engine"),
    ],
)
def test_transport_errors_become_one_line_lab_errors(raised, expected, says):
    import requests

    from lab import errors
    from lab.engines.docker import translated

    exception = {
        "read timeout": requests.exceptions.ReadTimeout("Read timed out. (read timeout=120)"),
        "connection refused": requests.exceptions.ConnectionError("Connection refused"),
    }[raised]
    with pytest.raises(getattr(errors, expected)) as caught:
        with translated("waiting up to 180 s for t-prepare to finish"):
            raise exception
    message = str(caught.value)
    assert message.startswith("waiting up to 180 s for t-prepare to finish: ") and says in message
    assert "\n" not in message


def test_a_failed_build_names_the_image_once():
    from lab.engines.images import ensure_images
    from lab.errors import ImageBuildError

    class Engine:
        def image_exists(self, tag):
            return "base" in tag

        def build_image(self, tag, *args, **kwargs):
            raise ImageBuildError(f"building image {tag} failed: pip exited 1")

    with pytest.raises(ImageBuildError) as caught:
        ensure_images(Engine(), LabConfig(name="t"), ["redis"], lambda line: None)
    assert str(caught.value).count("building image") == 1
