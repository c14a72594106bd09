"""No benchmark figure stands on answers that are not 2xx: wrk's own count of them refuses the figure."""

import json
from types import SimpleNamespace

import pytest

from lab.studies.loadbench import BenchRefused, _wrk


def clients_whose_wrk_says(result: dict):
    """A clients port (lab.engines.clients_port) whose wrk prints `result`."""
    output = "Running 3s test\nLABJSON " + json.dumps(result) + "\n"
    return SimpleNamespace(exec=lambda container, command: (0, output))


def test_a_figure_on_400_answers_is_refused_with_what_they_were():
    answers = {"requests": 40, "errors": 0, "non_2xx": 40, "p50_ms": 1.9, "statuses": {"400": 40}}
    with pytest.raises(BenchRefused, match=r"no figure from http://n:8000/: 40 of 40 answers were not 2xx \(40 x 400\)"):
        _wrk(clients_whose_wrk_says(answers), "client-1", "http://n:8000/", 3, 1)


def test_a_figure_on_2xx_answers_stands():
    answers = {"requests": 40, "errors": 0, "non_2xx": 0, "p50_ms": 1.9, "statuses": {}}
    assert _wrk(clients_whose_wrk_says(answers), "client-1", "http://n:8000/", 3, 1)["p50_ms"] == 1.9
