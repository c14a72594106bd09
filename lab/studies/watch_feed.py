"""What feeds a Watch: virtual users streaming their answers from the client containers, the engine's
events for the lab's containers (reloads, stops, starts), and the lab's saved configuration (switches).

Each source is a daemon thread; `stop` ends them all. The Watch is only touched under one lock.
"""

from __future__ import annotations

import json
import threading
import time

from lab.errors import LabError
from lab.model.plan import ROLE_LABEL
from lab.run.lab import Lab
from lab.studies.watch import Watch
from lab.traffic.clients import SCRIPT_IN_CONTAINER, ClientGroup, open_agent
from lab.traffic.evidence import JOB_ENV, WHOAMI

# Docker's event actions, as the views tell them; signal 1 is the HUP that reloads a node's configuration.
_ACTIONS = {"die": ("stopped", "stop"), "start": ("started", "start"), "destroy": ("removed", "stop")}
_WATCHED_ROLES = {"node", "nginx", "store"}


class Feed:
    """Start the sources for `seconds`; read the picture with `snapshot()`, and `summary()` at the end."""

    def __init__(self, lab: Lab, seconds: float, pause: float = 0.25, probe: str = WHOAMI):
        self.lab, self.seconds, self.pause, self.probe = lab, seconds, pause, probe
        self.clients = lab.clients()
        self.frontend = lab.plan().frontend
        users = [name for group in self.clients.groups for name in group.users]
        config = lab.config()
        self.watch = Watch(lab.login()[0], users, lab_url=lab.url(config), backend=config.backend, balance=config.balance)
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.errors: list[str] = []
        self._events = None
        self._threads: list[threading.Thread] = []

    # -- the picture -------------------------------------------------------------------------------

    def snapshot(self) -> dict:
        with self.lock:
            return self.watch.snapshot()

    def summary(self) -> dict:
        with self.lock:
            return self.watch.summary()

    def paragraph(self) -> str:
        with self.lock:
            return self.watch.paragraph()

    # -- the sources -------------------------------------------------------------------------------

    def start(self) -> None:
        """Make sure the clients exist, then start every source."""
        self.clients.ensure()
        self._events = self.lab.engine.member_events(self.lab.name)
        sources = [lambda g=g: self._users(g) for g in self.clients.groups] + [self._engine_events, self._switches]
        for source in sources:
            thread = threading.Thread(target=self._guarded(source), daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self.stopped.set()
        if self._events is not None:
            self._events.close()

    def _guarded(self, source):
        def run():
            try:
                source()
            except (LabError, OSError, ValueError) as error:
                if not self.stopped.is_set():
                    self.errors.append(str(error))

        return run

    def _users(self, group: ClientGroup) -> None:
        """Stream one client container's users: over its network, or through `docker exec`."""
        username, password = self.clients.login
        job = {
            "watch": True,
            "url": self.clients.url,
            "ca": self.clients.ca,
            "username": username,
            "password": password,
            "names": list(group.users),
            "seconds": self.seconds,
            "pause": self.pause,
            "login_path": self.clients.login_path,
            "probe": self.probe,
            # An ASGI site: one WebSocket user per client too (`ws-<user>` rows).
            "chat": bool(self.frontend and self.frontend.websockets),
        }
        answer = open_agent(self.clients.port, group, job)
        if answer is not None:
            with answer:
                self._read(line.decode(errors="replace") for line in answer)
        else:
            command = ["python3", SCRIPT_IN_CONTAINER, "watch"]
            self._read(self.clients.port.exec_stream(group.container.name, command, env={JOB_ENV: json.dumps(job)}))

    def _read(self, lines) -> None:
        for line in lines:
            if self.stopped.is_set():
                return
            if line.strip().startswith("{"):
                item = json.loads(line)
                with self.lock:
                    self.watch.add(item)

    def _engine_events(self) -> None:
        """Reloads, stops, starts and removals of the lab's nodes, nginx and stores, as Docker reports them."""
        prefix = f"{self.lab.name}-"
        for event in self._events:
            attributes = event.get("Actor", {}).get("Attributes", {})
            if attributes.get(ROLE_LABEL) not in _WATCHED_ROLES:
                continue
            name = attributes.get("name", "?").removeprefix(prefix)
            action = event.get("Action") or event.get("status", "")
            at = event.get("timeNano", time.time_ns()) / 1e9
            if action == "kill" and attributes.get("signal") == "1":
                text, kind = f"{name} reloaded", "reload"
            elif action in _ACTIONS:
                verb, kind = _ACTIONS[action]
                text = f"{name} {verb}"
            else:
                continue
            with self.lock:
                self.watch.event(kind, text, at)

    def _switches(self) -> None:
        """The lab's saved configuration, read twice a second: a change is a switch (marked when it starts)."""
        path = self.lab.states.path(self.lab.name)
        while not self.stopped.wait(0.5):
            config = self.lab.config()
            if config is not None:
                at = path.stat().st_mtime if path.exists() else None  # when the switch saved it: its start
                with self.lock:
                    self.watch.set_lab(config.backend, config.balance, at)
