"""Every error the lab raises, one tree, each message naming the action and what went wrong.

    LabError
     ├── ConfigError        the user asked for something invalid (the CLI exits 2)
     ├── LabNotFound        no lab of that name is known
     ├── EngineUnavailable  the Docker engine cannot be reached at all
     └── EngineError        the engine refused or failed an action
          ├── ImageBuildError   an image did not build (carries the build's last lines)
          ├── PortInUse         the published port is taken
          ├── NotReady          a container did not become ready (carries its last log lines)
          └── NginxConfigError  `nginx -t` rejected a configuration (warnings count as errors)

Only `lab.engine` translates Docker's exceptions into these; everything else raises them directly.
"""

from __future__ import annotations


class LabError(Exception):
    """Root of the lab's errors; the CLI prints the message and exits non-zero."""

    exit_code = 1


class ConfigError(LabError):
    """A user's mistake in the lab's configuration: a name, a number or a flag."""

    exit_code = 2


class LabNotFound(LabError):
    """No lab of that name is running or remembered."""


class EngineUnavailable(LabError):
    """The Docker engine did not answer."""


class EngineError(LabError):
    """The Docker engine failed an action."""


class ImageBuildError(EngineError):
    """An image failed to build."""


class PortInUse(EngineError):
    """The port nginx should publish is already taken."""


class NotReady(EngineError):
    """A container exited or did not pass its readiness check in time."""

    def __init__(self, container: str, reason: str, logs: str = ""):
        self.container = container
        self.reason = reason
        self.logs = logs
        message = f"{container} is not ready: {reason}"
        if logs.strip():
            message += f"\n--- last log lines of {container} ---\n{logs.rstrip()}"
        super().__init__(message)


class NginxConfigError(EngineError):
    """nginx rejected a generated configuration; nothing was applied."""
