"""The Django multi-node lab: nginx in front of several Django containers and a chosen session store.

Public surface:
    Lab, LabConfig        bring a lab up, switch it, inspect it, take it down
    BACKENDS              session backends by name (SessionBackend)
    BALANCE_MODES         nginx balancing modes by name (BalanceMode)
    LabError and family   see lab.errors
"""

from .backends import BACKENDS, SessionBackend
from .balance import BALANCE_MODES, BalanceMode
from .config import LabConfig
from .errors import (
    ConfigError,
    EngineError,
    EngineUnavailable,
    ImageBuildError,
    LabError,
    LabBusy,
    LabNotFound,
    NginxConfigError,
    NotReady,
    PortInUse,
    StateCorrupt,
)
from .lab import Lab, UpResult

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
