"""Experiment rules on made-up evidence, and every experiment's declarations."""

import pytest

from lab import BACKENDS, BALANCE_MODES, LabConfig
from lab.model.stores import STORES, store_command
from lab.studies.experiments import EXPERIMENTS
from lab.studies.experiments.base import timeline
from lab.traffic.observations import Observation, UserEvidence
from lab.verdicts.rules import ended_logged_out, failures, logged_out, node_before


def user(rows):
    """rows: (at, status, user, node)."""
    evidence = UserEvidence("u", logged_in=True)
    evidence.observations = [Observation(i, s, u, n, "k", i, 0.01, at=at) for i, (at, s, u, n) in enumerate(rows)]
    return evidence


def test_logged_out_and_ended_logged_out_differ():
    came_back = user([(100, 200, "demo", "node-1"), (101, 200, None, "node-2"), (102, 200, "demo", "node-1")])
    assert logged_out(came_back, "demo") and not ended_logged_out(came_back, "demo")
    gone = user([(100, 200, "demo", "node-1"), (101, 502, None, None), (102, 200, None, "node-2")])
    assert ended_logged_out(gone, "demo")
    never = user([(100, 200, None, "node-1")])
    assert not logged_out(never, "demo") and not ended_logged_out(never, "demo")


def test_timeline_counts_requests_failures_and_logged_out_answers_per_second():
    rows = timeline([user([(100.1, 200, "demo", "n"), (100.5, 502, None, None), (101.2, 200, None, "n")])], "demo", 100)
    assert rows == [
        {"second": 0, "requests": 2, "failures": 1, "logouts": 0},
        {"second": 1, "requests": 1, "failures": 0, "logouts": 1},
    ]


def test_failures_and_node_before_use_the_moment():
    evidence = user([(100, 200, "demo", "node-1"), (105, 502, None, None), (106, 200, "demo", "node-2")])
    assert [o.index for o in failures([evidence], after=101)] == [1]
    assert node_before(evidence, 101) == "node-1" and node_before(evidence, 107) == "node-2"


@pytest.mark.parametrize("experiment", list(EXPERIMENTS.values()), ids=lambda e: e.name)
def test_every_case_states_an_expectation_and_a_reason(experiment):
    assert experiment.summary and experiment.cases
    assert set(experiment.quick) <= set(experiment.cases)
    for case in experiment.cases:
        assert case.backend in BACKENDS and case.balance in BALANCE_MODES
        expected, reason = experiment.expect(case)
        assert expected and reason


def test_make_test_runs_a_few_experiments():
    quick = [case for experiment in EXPERIMENTS.values() if not experiment.needs_workers for case in experiment.quick]
    assert 2 <= len(quick) <= 8  # each quick case is a minute or less of `make test`


def test_store_options_change_the_command():
    redis, memcached = STORES["redis"], STORES["memcached"]
    assert "--appendonly" in store_command(redis) and store_command(redis)[store_command(redis).index("--appendonly") + 1] == "no"
    aof = store_command(redis, redis_aof=True)
    assert aof[aof.index("--appendonly") + 1] == "yes" and "--appendfsync" in aof
    assert "--memory-limit=2" in store_command(memcached, memcached_mb=2)
    assert "--max-item-size=512k" in store_command(memcached, memcached_mb=1)
    assert not any(part.startswith("--max-item-size") for part in store_command(memcached, memcached_mb=2))


def test_store_options_are_part_of_the_plan():
    from lab.model.plan import build_plan
    from lab.run.state import new_secrets

    tags = {k: f"t/{k}:1" for k in ("node", "site", "nginx", "postgres", "redis", "memcached", "nfs")}
    plain = build_plan(LabConfig(name="t"), new_secrets(), tags)
    aof = build_plan(LabConfig(name="t", redis_aof=True), new_secrets(), tags)
    assert plain.stores[1].fingerprint() != aof.stores[1].fingerprint()
