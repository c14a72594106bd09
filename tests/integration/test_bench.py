"""The quick load benchmark runs and produces every figure. Speeds are printed, never asserted."""

import json

import pytest

from lab import LabConfig
from lab.reports.bench import table, write_bench_reports
from lab.studies.loadbench import run

from .conftest import free_port

pytestmark = pytest.mark.integration


def test_quick_load_bench_produces_every_figure(lab_factory, tmp_path):
    lab = lab_factory("bench")
    lab.up(LabConfig(name=lab.name, port=free_port()))
    results = run(lab, quick=True, progress=print)

    assert [row["backend"] for row in results["backends"]] == ["signed_cookies", "redis", "db", "nfs"]
    for row in results["backends"]:
        assert row["requests_per_s"] > 0 and 0 < row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"]
        assert set(row["node_share"]) == {"node-1", "node-2", "node-3"}, "every node served a share"
        assert row["vs_signed_cookies"] > 0
        # A figure like the others: whether a store keeps the login is the matrix's verdict, not a threshold here.
        assert 0 < row["logged_in_share"] <= 1, row
    assert results["balancer"]["direct_to_node_p50_ms"] > 0 and results["balancer"]["through_nginx_p50_ms"] > 0
    assert results["generator"]["requests_per_s"] > 0 and results["generator"]["times_cluster_best"] > 0
    paths = write_bench_reports(results, tmp_path)
    assert json.loads(paths["json"].read_text())["meta"]["users"] == 24
    print(table(results))
