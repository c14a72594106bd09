"""`lab export kubernetes --registry`: the lab's images pushed, through its engine, to the lab's own registry
(lab/engines/registry.py, at 127.0.0.1:5000) under a path, and the manifests naming them there. No cluster
runs here: the manifests are checked against Kubernetes' schemas, and every image they name is pulled back
from the registry."""

from pathlib import Path

import pytest
import yaml

from lab import LabConfig
from lab.engines import registry
from lab.engines.kubernetes import KubernetesOptions, exported_images

from .conftest import free_port

kubernetes_validate = pytest.importorskip("kubernetes_validate")


@pytest.fixture(scope="module")
def lab_registry(engine):
    address = registry.up(engine)
    yield address
    registry.down(engine)
    assert engine.lab_resources(registry.OWNER) == {"containers": [], "networks": [], "volumes": []}


def named_images(folder: Path, overlay: str) -> set[str]:
    found = set()
    for path in [*(folder / "base").glob("*.yaml"), *(folder / "overlays" / overlay).glob("*.yaml")]:
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") in ("Deployment", "StatefulSet", "Job"):
                pod = doc["spec"]["template"]["spec"]
                found |= {c["image"] for c in [*pod["containers"], *pod.get("initContainers", [])]}
    return found


def test_the_images_go_to_the_registry_and_the_manifests_name_them_there(engine, lab_factory, lab_registry, tmp_path):
    lab = lab_factory("k8s")
    lab.up(LabConfig(name=lab.name, nodes=2, backend="redis", balance="sticky", port=free_port()))
    target = f"{lab_registry}/{lab.name}"
    export = lab.export_kubernetes(tmp_path / "k8s", KubernetesOptions(host="shop.example.com", registry=target))
    assert export.current == "redis"
    plan = lab.plan()
    expected = {f"{target}/{tag}" for tag in exported_images(plan)}
    assert named_images(tmp_path / "k8s", "redis") == expected
    for reference in sorted(expected):  # each is in the registry: removed here, pulled back from it
        repository, tag = reference.rsplit(":", 1)
        engine.client.images.remove(reference)
        engine.client.images.pull(repository, tag=tag)
    for path in (tmp_path / "k8s").rglob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") != "Kustomization":
                kubernetes_validate.validate(doc, "1.37.0", strict=True)
    assert (tmp_path / "k8s/.gitignore").read_text().count("secret-") >= 1
