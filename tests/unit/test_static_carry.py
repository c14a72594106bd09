"""What a site's build steps leave in its own STATIC_ROOT (an offline `compress` manifest) reaches the lab's volume."""

import importlib.util
from pathlib import Path

NODE = Path(__file__).resolve().parents[2] / "lab" / "dockerfiles" / "node" / "lab_node"


def site_facts():
    spec = importlib.util.spec_from_file_location("lab_node_static_carry", NODE / "static_carry.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_compress_output_is_carried_and_collected_files_win(tmp_path):
    built, collected = tmp_path / "static-collected", tmp_path / "volume"
    (built / "CACHE" / "css").mkdir(parents=True)
    (built / "CACHE" / "manifest.json").write_text('{"key": "<link>"}')
    (built / "CACHE" / "css" / "output.abc.css").write_text("body{}")
    (built / "app.css").write_text("old")
    collected.mkdir()
    (collected / "app.css").write_text("collected")

    said = site_facts().carry_build_output(str(built), str(collected))

    assert (collected / "CACHE" / "manifest.json").read_text() == '{"key": "<link>"}'
    assert (collected / "CACHE" / "css" / "output.abc.css").exists()
    assert (collected / "app.css").read_text() == "collected"
    assert said.startswith("2 files")


def test_nothing_to_carry_when_the_build_left_no_static_root(tmp_path):
    carry = site_facts().carry_build_output
    assert carry(str(tmp_path / "absent"), str(tmp_path)) == ""
    assert carry("", str(tmp_path)) == ""
    assert carry(str(tmp_path), str(tmp_path)) == ""
