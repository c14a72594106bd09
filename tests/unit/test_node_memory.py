"""A node the kernel kills for memory says so, with the option that gives nodes more. No Docker."""

import pytest

from lab import LabConfig
from lab.cli.parser import build_parser
from lab.engines.waits import wait_until_ready
from lab.errors import ConfigError, NotReady
from lab.model.plan import build_plan

from .test_plan import SECRETS, TAGS


class Killed:
    """A container that exited 137: killed for memory, or stopped."""

    def __init__(self, limit):
        self.limit = limit

    def status(self, container):
        return "exited", 137

    def memory_killed(self, container):
        return self.limit

    def logs(self, container, tail=60):
        return "[1] [INFO] Booting worker with pid: 9\n"


def test_a_node_killed_for_memory_names_the_limit_and_the_option():
    with pytest.raises(NotReady) as killed:
        wait_until_ready(Killed(1024), "t-node-1", check=None, timeout=1)
    assert str(killed.value).startswith("t-node-1 is not ready: the kernel killed it: out of memory (limit 1024 MB); "
                                        "give each node more with `lab up --node-memory MB`")
    with pytest.raises(NotReady) as stopped:
        wait_until_ready(Killed(0), "t-node-1", check=None, timeout=1)
    assert str(stopped.value).startswith("t-node-1 is not ready: it exited with code 137")


def test_node_memory_reaches_every_node_and_is_bounded():
    plan = build_plan(LabConfig(name="t", node_memory=2048, workers=4), SECRETS, TAGS)
    assert {node.memory_mb for node in plan.nodes} == {2048 + 2 * 64}
    assert {node.memory_mb for node in build_plan(LabConfig(name="t"), SECRETS, TAGS).nodes} == {1024}
    with pytest.raises(ConfigError, match="--node-memory must be between 256 and 16384 MB"):
        LabConfig(node_memory=128)
    assert build_parser().parse_args(["up", "--node-memory", "1536"]).node_memory == 1536


def test_the_release_and_facts_jobs_get_no_less_than_a_node():
    from lab.model.plan import facts_job

    big = build_plan(LabConfig(name="t", node_memory=4096), SECRETS, TAGS)
    assert big.prepare.memory_mb == 4096 and facts_job(big).memory_mb == 4096
    assert build_plan(LabConfig(name="t"), SECRETS, TAGS).prepare.memory_mb == 2048
