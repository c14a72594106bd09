"""The Django multi-node lab: nginx in front of several Django containers and a chosen session store.

Public surface:
    Lab, LabConfig        bring a lab up, switch it, inspect it, take it down
    BACKENDS              session backends by name (SessionBackend)
    BALANCE_MODES         nginx balancing modes by name (BalanceMode)
    LabError and family   see lab.errors
"""

from lab.errors import (
    ConfigError,
    EngineError,
    EngineUnavailable,
    ImageBuildError,
    LabBusy,
    LabError,
    LabNotFound,
    NginxConfigError,
    NotReady,
    PortInUse,
    StateCorrupt,
)
from lab.model.backends import BACKENDS, SessionBackend
from lab.model.balance import BALANCE_MODES, BalanceMode
from lab.model.config import LabConfig
from lab.run.lab import Lab, UpResult

__all__ = [
    "BACKENDS",
    "BALANCE_MODES",
    "BalanceMode",
    "ConfigError",
    "EngineError",
    "EngineUnavailable",
    "ImageBuildError",
    "Lab",
    "LabConfig",
    "LabError",
    "LabBusy",
    "LabNotFound",
    "NginxConfigError",
    "NotReady",
    "PortInUse",
    "SessionBackend",
    "StateCorrupt",
    "UpResult",
]
