"""Every error the lab raises, one tree, each message naming the action and what went wrong.

    LabError                the CLI exits 1: the engine or the lab failed
     ├── ConfigError        the user asked for something invalid (exit 2)
     ├── LabNotFound        no lab of that name is known (exit 2)
     ├── LabBusy            another command is changing the same lab (names its pid)
     ├── StateCorrupt       the lab's state file cannot be read (names the file and the way out)
     ├── SiteError          Django cannot load the user's site, or it has no login page the lab can find
     ├── EvidenceError      a measurement whose evidence cannot carry a verdict (e.g. no user logged in)
     ├── VerdictFailed      a verdict differs from what was expected (a matrix cell, an experiment's rule)
     ├── EngineUnavailable  the Docker engine cannot be reached at all
     └── EngineError        the engine refused or failed an action
          ├── ImageBuildError   an image did not build (carries the build's last lines)
          ├── PortInUse         the published port is taken (exit 2: pick another)
          ├── NotReady          a container did not become ready (carries its last log lines)
          └── NginxConfigError  `nginx -t` rejected a configuration (warnings count as errors)

Only `lab.engine` translates Docker's exceptions (timeouts included) into these; everything else
raises them directly. Exit codes (EXIT_CODES, listed in `lab --help`): 0 done, every verdict as expected;
1 a verdict differs from its expectation, a measurement without a verdict, or anything that failed; 2 the
user's mistake; 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

EXIT_CODES = {
    0: "done; every verdict as expected",
    1: "a verdict differs from its expectation, a measurement gave no verdict, or the lab failed",
    2: "a usage mistake: an unknown option, a bad value, no such lab, a port taken",
    130: "interrupted (Ctrl-C)",
}


class LabError(Exception):
    """Root of the lab's errors; the CLI prints the message and exits non-zero."""

    exit_code = 1


class ConfigError(LabError):
    """A user's mistake in the lab's configuration: a name, a number or a flag."""

    exit_code = 2


class LabNotFound(LabError):
    """No lab of that name is running or remembered."""

    exit_code = 2


class LabBusy(LabError):
    """Another `lab` command holds the lab's lock."""


class StateCorrupt(LabError):
    """The lab's state file is not what the lab wrote."""


class SiteError(LabError):
    """The site's own code or settings failed where the lab asked Django about it."""


class EvidenceError(LabError):
    """What was measured cannot decide: users could not log in, or the page they browse failed."""


class VerdictFailed(LabError):
    """The lab measured, and what it saw differs from what was expected: a CI job fails on it."""


class EngineUnavailable(LabError):
    """The Docker engine did not answer."""


class EngineError(LabError):
    """The Docker engine failed an action."""


class ImageBuildError(EngineError):
    """An image failed to build; `log` holds the build's output, for a diagnosis."""

    def __init__(self, message: str, log: str = ""):
        self.log = log
        super().__init__(message)


class PortInUse(EngineError):
    """The port nginx should publish is already taken: the user picks another (exit 2)."""

    exit_code = 2


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
