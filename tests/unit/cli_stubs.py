"""What the CLI's unit tests share: `lab` run in-process with its exit code and output, and a lab that is up as
far as a study command asks (no Docker)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

import lab.cli
from lab.cli import main


class StubLab:
    """A lab that is up, as far as a study command asks."""

    def __init__(self, name, progress=None, site=""):
        self.name = name
        self.engine = SimpleNamespace(several_hosts=False, describe=lambda: "a stand-in engine")
        self._site = site

    def config(self):
        return SimpleNamespace(site=self._site)


def run(capsys, *argv):
    """`lab ARGV...` in this process: (exit code, stdout, stderr)."""
    try:
        code = main(list(argv))
    except SystemExit as exit:
        code = exit.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def up(monkeypatch, tmp_path):
    """Every command's lab is a StubLab whose site is the test's folder."""
    monkeypatch.setattr(lab.cli, "Lab", lambda name, progress=None: StubLab(name, progress, str(tmp_path)))
    return tmp_path
