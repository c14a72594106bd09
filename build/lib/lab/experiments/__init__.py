"""Failure experiments: what happens to logged-in users when the cluster changes under them.

Adding one is a module here and one line below.
"""

from .host_down import HostDown
from .base import Case, Experiment, Outcome
from .memcached_eviction import MemcachedEviction
from .node_down import NodeDown
from .rolling_restart import RollingRestart
from .scale_out import ScaleOut
from .secret_key import SecretKeyMismatch
from .shared_ip import SharedIp
from .store_restart import StoreRestart

EXPERIMENTS: dict[str, Experiment] = {
    experiment.name: experiment
    for experiment in (
        NodeDown(),
        RollingRestart(),
        StoreRestart(),
        ScaleOut(),
        SecretKeyMismatch(),
        SharedIp(),
        MemcachedEviction(),
        HostDown(),
    )
}

__all__ = ["Case", "EXPERIMENTS", "Experiment", "Outcome"]
