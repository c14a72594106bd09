"""No import runs back up the layers (ARCHITECTURE.md): a layer imports only the layers above it in
this order, and lab/errors.py and lab/resources.py, which every layer may use. Every import counts,
those inside functions and under TYPE_CHECKING too."""

from __future__ import annotations

import ast

from lab.model.config import PROJECT_ROOT

LAYERS = ["model", "project", "engines", "traffic", "run", "verdicts", "studies", "reports", "cli"]
SHARED = {"errors", "resources"}
PACKAGE = PROJECT_ROOT / "lab"
# The model is plain data and reads no folder, so it comes first: the project layer fills its `Site`
# (lab/model/site.py) and reads its tables; the model imports nothing of the project.


def layer_of(module: str) -> str | None:
    """The layer of a `lab.` module name (None for the shared modules, the package itself, outside lab)."""
    parts = module.split(".")
    if parts[0] != "lab" or len(parts) < 2 or parts[1] in SHARED:
        return None
    return parts[1]


def imported(path) -> list[tuple[int, str]]:
    """(line, module) of every `lab.` import in a file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [(node.lineno, node.module)]
            if node.module == "lab":  # `from lab import studies`
                found += [(node.lineno, f"lab.{alias.name}") for alias in node.names]
    return [(line, module) for line, module in found if module == "lab" or module.startswith("lab.")]


def layered_modules():
    """Every module of a layer (the images' own Python, lab/dockerfiles/, runs in containers: not a layer)."""
    for layer in LAYERS:
        yield from ((layer, path) for path in sorted((PACKAGE / layer).rglob("*.py")))


def back_up(importer: str, imported_module: str) -> bool:
    target = layer_of(imported_module)
    if target is None or target == importer:
        return False
    return target not in LAYERS or LAYERS.index(target) > LAYERS.index(importer)


def test_every_layer_is_a_package_and_every_package_a_layer():
    packages = {path.name for path in PACKAGE.iterdir() if path.is_dir() and (path / "__init__.py").exists()}
    assert packages - {"dockerfiles"} == set(LAYERS)


def arrows_back_up() -> dict[tuple[str, str], int]:
    """(module's path, what it imports) -> line, for every import that runs back up."""
    return {
        (str(path.relative_to(PROJECT_ROOT)), module): line
        for layer, path in layered_modules()
        for line, module in imported(path)
        if back_up(layer, module)
    }


def test_no_import_runs_back_up_the_layers():
    wrong = [
        f"{path}:{line} imports {module} ({path.split('/')[1]} must not import {layer_of(module)})"
        for (path, module), line in arrows_back_up().items()
    ]
    assert wrong == [], "imports that run back up the layers:\n" + "\n".join(wrong)


def test_the_check_sees_a_wrong_arrow(tmp_path):
    """The check itself can fail: traffic reaching up to run, under TYPE_CHECKING, is named."""
    module = tmp_path / "clients.py"
    module.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from lab.run.lab import Lab\n"
                      "def f():\n    import lab.reports.bench\n")
    assert [back_up("traffic", name) for _, name in imported(module)] == [True, True]
    assert not back_up("reports", "lab.studies.sitebench") and back_up("studies", "lab.reports.fixes")
    assert not back_up("cli", "lab.errors") and not back_up("project", "lab.resources")
    assert not back_up("project", "lab.model.plan") and back_up("model", "lab.project.read")
