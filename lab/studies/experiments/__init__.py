"""Failure experiments: what happens to logged-in users when the cluster changes under them.

Adding one is a module here and one line below.
"""

from lab.studies.experiments.base import Case, Experiment, Outcome
from lab.studies.experiments.channels_across_nodes import ChannelsAcrossNodes
from lab.studies.experiments.connection_budget import ConnectionBudget
from lab.studies.experiments.host_down import HostDown
from lab.studies.experiments.memcached_eviction import MemcachedEviction
from lab.studies.experiments.node_down import NodeDown
from lab.studies.experiments.rolling_deploy import RollingDeploy
from lab.studies.experiments.rolling_restart import RollingRestart
from lab.studies.experiments.scale_out import ScaleOut
from lab.studies.experiments.secret_key import SecretKeyMismatch
from lab.studies.experiments.shared_ip import SharedIp
from lab.studies.experiments.slow_store import SlowStore
from lab.studies.experiments.store_partition import StorePartition
from lab.studies.experiments.store_restart import StoreRestart
from lab.studies.experiments.worker_down import WorkerDown

EXPERIMENTS: dict[str, Experiment] = {
    experiment.name: experiment
    for experiment in (
        NodeDown(),
        RollingRestart(),
        RollingDeploy(),
        StoreRestart(),
        ScaleOut(),
        SecretKeyMismatch(),
        SharedIp(),
        MemcachedEviction(),
        HostDown(),
        ConnectionBudget(),
        SlowStore(),
        StorePartition(),
        ChannelsAcrossNodes(),
        WorkerDown(),
    )
}

__all__ = ["Case", "EXPERIMENTS", "Experiment", "Outcome"]
