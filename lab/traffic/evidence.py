"""Evidence: what users saw. A virtual user logs in through nginx like a browser and records every answer.

Standard library only, because the same file runs inside client containers on the lab's networks
(`python evidence.py JSON` prints what its users saw) as well as on this machine. The chat users' WebSocket
is the `websockets` package's, which the client containers (the node image) have: it is imported when a
socket opens (lab.traffic.websocket), so this file loads without it.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import ssl
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict

try:  # in the lab's package; in a client container, the files beside this one
    from lab.traffic.login_form import find_login_form
    from lab.traffic.observations import Observation, UserEvidence
    from lab.traffic.websocket import WebSocket, WebSocketError
except ImportError:
    from lab_login_form import find_login_form
    from lab_observations import Observation, UserEvidence
    from lab_websocket import WebSocket, WebSocketError

# The lab's own page on every node (lab_node.urls), whatever the site: who asks, where it landed.
WHOAMI = "__lab__/whoami"
JOB_ENV = "LAB_JOB"  # what a client container is asked to do, as JSON (it carries the password)
LOGIN_PATH = "accounts/login/"  # Django's default LOGIN_URL; the lab passes each site's own


class LoginFailed(Exception):
    """The login form did not log the user in."""


def login_form(page: str) -> bool:
    """Whether a page holds a login form: a password field and Django's CSRF token (lab.traffic.login_form)."""
    return find_login_form(page) is not None


def tls_context(ca: str | None) -> ssl.SSLContext:
    """How a virtual user checks the lab's https: against the lab's CA (PEM text), or not at all."""
    if ca:
        return ssl.create_default_context(cadata=ca)
    return ssl._create_unverified_context()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Let a login's 302 come back as an answer, so the redirect is not a counted visit."""

    def redirect_request(self, *args, **kwargs):
        return None


class VirtualUser:
    """A client with its own cookie jar, talking to the lab through nginx, one connection per request."""

    def __init__(
        self,
        base_url: str,
        name: str = "user",
        timeout: float = 10.0,
        login_path: str = LOGIN_PATH,
        probe: str = WHOAMI,
        ca: str | None = None,
    ):
        self.base_url = base_url.rstrip("/") + "/"
        self.login_path = login_path.lstrip("/")
        self.probe = probe.lstrip("/")
        self.cookies = http.cookiejar.CookieJar()
        handlers = [urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect]
        if self.base_url.startswith("https://"):  # nginx terminates TLS with the lab's certificate
            handlers.append(urllib.request.HTTPSHandler(context=tls_context(ca)))
        self.opener = urllib.request.build_opener(*handlers)
        self.timeout = timeout
        self.evidence = UserEvidence(name)

    def _request(self, path: str, data: dict | None = None, headers: dict | None = None) -> tuple[int, dict, bytes]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base_url + path, data=body, headers=headers or {})
        if data is not None:
            request.add_header("Referer", self.base_url + path)
        try:
            with self.opener.open(request, timeout=self.timeout) as answer:
                return answer.status, dict(answer.headers), answer.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def login(self, username: str, password: str) -> None:
        """Load the site's login page, fill its form as a browser would (its hidden fields, the login name or
        the demo user's email where it asks for one, the password), post it, and check the login was
        accepted (the lab's middleware names the authenticated user on the answer: X-Lab-User)."""
        path = self.login_path
        status, _, raw = self._request(path)
        page = raw.decode(errors="replace")
        form = find_login_form(page) if status == 200 else None
        if form is None:
            what = "" if status != 200 else " without a login form (a password field and a CSRF token)"
            raise LoginFailed(f"the login page /{path} answered {status}{what}")
        target = urllib.parse.urljoin(self.base_url + path, form.action) if form.action else self.base_url + path
        post_path = target.removeprefix(self.base_url) if target.startswith(self.base_url) else path
        data = form.filled(username, password)
        status, headers, _ = self._request(post_path, data)
        self.evidence.login_node = headers.get("X-Lab-Node")
        if not headers.get("X-Lab-User"):
            identity = form.identity[0] if form.identity else "no name field"
            cause = headers.get("X-Lab-Error")
            raise LoginFailed(
                f"posting /{post_path} as {data.get(identity, username)!r} ({identity}=) answered {status} from "
                f"{self.evidence.login_node} without logging in" + (f": {cause}" if cause else "")
            )
        self.evidence.logged_in = True

    def whoami(self) -> Observation:
        """One request of the probe page (the lab's /__lab__/whoami, or a page of the site), recorded.

        On a site's page the lab's middleware answers in headers what whoami answers in JSON."""
        index = len(self.evidence.observations)
        started, sent = time.monotonic(), time.time()
        try:
            # A site's page counts in the session only when asked (whoami counts by itself).
            status, headers, raw = self._request(self.probe, headers=None if self.probe == WHOAMI else {"X-Lab-Probe": "1"})
            if self.probe == WHOAMI:
                body = json.loads(raw) if headers.get("Content-Type", "").startswith("application/json") else {}
            else:
                counter = headers.get("X-Lab-Counter", "")
                body = {
                    "user": headers.get("X-Lab-Username") or None,
                    "session": headers.get("X-Lab-Session") or None,
                    "counter": int(counter) if counter.isdigit() else None,
                }
                status = 200 if 200 <= status < 300 else status
            observation = Observation(
                index,
                status,
                body.get("user"),
                headers.get("X-Lab-Node") or body.get("node"),
                body.get("session"),
                body.get("counter"),
                round(time.monotonic() - started, 6),
                at=round(sent, 3),
                version=headers.get("X-Lab-Version") or None,
            )
        except (OSError, ValueError) as error:
            elapsed = round(time.monotonic() - started, 6)
            observation = Observation(index, 0, None, None, None, None, elapsed, str(error), at=round(sent, 3))
        self.evidence.observations.append(observation)
        return observation

    def browse(self, requests_count: int, deadline: float | None = None, pause: float = 0.0) -> UserEvidence:
        """Make up to `requests_count` whoami requests, `pause` s apart, stopping at `deadline` (monotonic)."""
        for _ in range(requests_count):
            if deadline is not None and time.monotonic() > deadline:
                break
            self.whoami()
            if pause:
                time.sleep(pause)
        return self.evidence


def run_users(
    url: str,
    username: str,
    password: str,
    names: list[str],
    requests_count: int,
    seconds: float,
    pause: float = 0.0,
    idle: float = 0.0,
    login_path: str = LOGIN_PATH,
    probe: str = WHOAMI,
    ca: str | None = None,
) -> list[dict]:
    """Run several users at once, each logging in then browsing; bounded by count and by time.

    With `idle`, each user browses, stays away `idle` seconds, then browses again (a returning visitor).
    """
    deadline = time.monotonic() + seconds
    results: list[UserEvidence] = []

    def one(name: str) -> None:
        user = VirtualUser(url, name, login_path=login_path, probe=probe, ca=ca)
        try:
            user.login(username, password)
            user.browse(requests_count, deadline, pause)
            if idle:
                time.sleep(min(idle, max(0.0, deadline - time.monotonic())))
                user.browse(requests_count, deadline, pause)
        except (LoginFailed, OSError) as error:
            user.evidence.login_error = str(error)
        results.append(user.evidence)

    threads = [threading.Thread(target=one, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 15)
    return [evidence.to_dict() for evidence in sorted(results, key=lambda e: e.name)]


def flood(url: str, count: int, seconds: float, threads: int = 8, ca: str | None = None) -> dict:
    """Anonymous visits without cookies: each one makes a new session in the store. Bounded by count and time."""
    deadline = time.monotonic() + seconds
    done = {"ok": 0, "failed": 0}
    lock = threading.Lock()
    per_thread = count // threads

    def one() -> None:
        for _ in range(per_thread):
            if time.monotonic() > deadline:
                return
            try:
                context = tls_context(ca) if url.startswith("https://") else None
                with urllib.request.urlopen(url + WHOAMI, timeout=5, context=context) as answer:
                    answer.read()
                    key = "ok" if answer.status == 200 else "failed"
            except OSError:
                key = "failed"
            with lock:
                done[key] += 1

    workers = [threading.Thread(target=one) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(seconds + 10)
    return done


def login_cookies(
    url: str, username: str, password: str, count: int, login_path: str = LOGIN_PATH, ca: str | None = None
) -> list[str]:
    """Log `count` users in and return each one's Cookie header, for a load generator to replay."""
    headers = []
    for number in range(count):
        user = VirtualUser(url, f"load-{number}", login_path=login_path, ca=ca)
        user.login(username, password)
        user.whoami()  # sticky balancing hands out its node cookie on an answer
        headers.append("; ".join(f"{c.name}={c.value}" for c in user.cookies))
    return headers


def watch(
    url: str,
    username: str,
    password: str,
    names: list[str],
    seconds: float,
    emit,
    pause: float = 0.25,
    login_path: str = LOGIN_PATH,
    probe: str = WHOAMI,
    relogin_after: int = 8,
    ca: str | None = None,
    chat: bool = False,
) -> None:
    """Users who keep browsing until `seconds` have passed, each answer handed to `emit(dict)` as it
    comes. A user logged out for `relogin_after` answers in a row logs in again, as a person would.
    With `chat` (an ASGI site), one more user per client holds a WebSocket in the lab's channel probe's
    room `watch`, says something every second, and emits every message it gets, with the sender's node."""
    watching = _Watching(emit, seconds)

    def one(name: str) -> None:
        user = VirtualUser(url, name, timeout=5.0, login_path=login_path, probe=probe, ca=ca)
        _keep_browsing(watching, user, name, username, password, pause, relogin_after)

    threads = [threading.Thread(target=one, args=(name,), daemon=True) for name in names]
    if chat:
        threads.append(threading.Thread(target=_keep_chatting, args=(watching, f"ws-{names[0]}", url, ca), daemon=True))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 15)


class _Watching:
    """What a watch's users share: when it ends, and one way, taken in turn, to hand the watcher an item."""

    def __init__(self, emit, seconds: float):
        self.emit = emit
        self.deadline = time.monotonic() + seconds
        self.lock = threading.Lock()
        self.gone = threading.Event()  # the watcher stopped reading: every user stops

    def on(self) -> bool:
        """Whether users keep going: time is left and the watcher still reads."""
        return time.monotonic() < self.deadline and not self.gone.is_set()

    def send(self, item: dict) -> None:
        """Hand `item` to the watcher; a watcher gone (its stream fails) stops every user."""
        with self.lock:
            try:
                self.emit(item)
            except OSError:
                self.gone.set()


def _keep_browsing(
    watching: _Watching, user: VirtualUser, name: str, username: str, password: str, pause: float, relogin_after: int
) -> None:
    """One watched user browses until the watch ends, logging in again when logged out (or never logged in)."""
    anonymous = 0
    while watching.on():
        if not user.evidence.logged_in or anonymous >= relogin_after:
            user.cookies.clear()
            user.evidence.logged_in = False
            try:
                user.login(username, password)
                watching.send({"name": name, "kind": "login", "node": user.evidence.login_node, "at": round(time.time(), 3)})
            except (LoginFailed, OSError) as error:
                watching.send({"name": name, "kind": "login-failed", "error": str(error)[:200], "at": round(time.time(), 3)})
                time.sleep(1.0)
                continue
            anonymous = 0
        observation = user.whoami()
        user.evidence.observations.clear()  # a watch runs for long: nothing kept but the last answer
        anonymous = anonymous + 1 if observation.status == 200 and observation.user != username else 0
        watching.send({"name": name, "kind": "answer", **asdict(observation)})  # "user": whom the node saw
        time.sleep(pause)


def _keep_chatting(watching: _Watching, name: str, url: str, ca: str | None) -> None:
    """The watch's chat user: in the channel probe's room `watch` until the watch ends, connecting again
    whenever its WebSocket fails."""
    while watching.on():
        try:
            socket = _probe_socket(url, "watch", ca)
        except (OSError, WebSocketError) as error:
            watching.send({"name": name, "kind": "message-failed", "error": str(error)[:200], "at": round(time.time(), 3)})
            time.sleep(1.0)
            continue
        here = _node_name(socket.headers.get("x-lab-node"))
        watching.send({"name": name, "kind": "connected", "node": here, "at": round(time.time(), 3)})
        try:
            _chat(watching, socket, name)
        except (OSError, ValueError, WebSocketError) as error:
            watching.send({"name": name, "kind": "message-failed", "error": str(error)[:200], "at": round(time.time(), 3)})
        finally:
            socket.close()


def _chat(watching: _Watching, socket: WebSocket, name: str) -> None:
    """Say something every second and hand the watcher every message the room brings, with its sender's node."""
    number = 0
    while watching.on():
        number += 1
        socket.send_text(f"{name}#{number}")
        until = time.monotonic() + 1.0
        while (left := until - time.monotonic()) > 0:
            text = socket.receive(timeout=left)
            if text is not None:
                message = json.loads(text)
                watching.send({"name": name, "kind": "message", "node": _node_name(message.get("from")),
                               "to": message.get("to"), "at": round(time.time(), 3)})


def _node_name(label: str | None) -> str | None:
    """The node in a `node/process` label the lab's channel probe gives; None when there is none."""
    return (label or "").split("/")[0] or None


def _probe_socket(url: str, room: str, ca: str | None) -> WebSocket:
    """A WebSocket in `room` of the lab's channel probe, through nginx at `url` (wss behind https)."""
    secure = url.startswith("https://")
    base = ("wss://" if secure else "ws://") + url.split("://", 1)[1]
    return WebSocket.connect(f"{base}__lab__/ws?room={urllib.parse.quote(room)}", timeout=5,
                             ssl_context=tls_context(ca) if secure else None)


def channel_users(
    url: str, names: list[str], room: str, send_at: float, listen_until: float, ca: str | None = None, messages: int = 1
) -> list[dict]:
    """Users in one chat room of the lab's channel probe (/__lab__/ws), all at once: each connects (nginx
    places it on a node), sends its name at `send_at` (epoch, the same for every client; `messages` > 1:
    that many, numbered, back to back) and records every message it gets until `listen_until`: who sent
    it, from which node and process, and when it arrived."""
    results: list[dict] = []

    def one(name: str) -> None:
        seen = {"name": name, "node": None, "received": [], "error": None}
        try:
            socket = _probe_socket(url, room, ca)
        except (OSError, WebSocketError) as error:
            seen["error"] = f"connect: {error}"
            results.append(seen)
            return
        seen["node"] = socket.headers.get("x-lab-node")
        seen["layer"] = socket.headers.get("x-lab-channel-layer")
        try:
            time.sleep(max(0.0, send_at - time.time()))
            for number in range(messages):
                socket.send_text(name if messages == 1 else f"{name}#{number}")
            while time.time() < listen_until:
                text = socket.receive(timeout=max(0.05, listen_until - time.time()))
                if text is not None:
                    seen["received"].append({**json.loads(text), "at": round(time.time(), 4)})
        except (OSError, ValueError, WebSocketError) as error:
            seen["error"] = str(error)
        finally:
            socket.close()
        results.append(seen)

    threads = [threading.Thread(target=one, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(1.0, listen_until - time.time()) + 15)
    return sorted(results, key=lambda r: r["name"])


def perform(job: dict):
    """One job a client container is given: log users in and browse, log in for cookies, flood, or
    chat through the lab's channel probe."""
    job = dict(job)
    if job.pop("channel", False):
        return channel_users(**job)
    if job.pop("cookies", False):
        return login_cookies(**job)
    if job.pop("flood", False):
        return flood(**job)
    return run_users(**job)


def serve(port: int) -> None:
    """Run jobs POSTed as JSON, answering with the result: a client container's long-lived agent, so a
    job costs neither a `docker exec` nor a Python start."""
    import http.server
    import signal

    class Agent(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            job = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if job.pop("watch", False):
                return self.stream(job)
            body = json.dumps(perform(job)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def stream(self, job: dict) -> None:
            """A watch: one JSON line per answer, written as it happens, until the job's time is up."""
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.send_header("Connection", "close")
            self.end_headers()

            def emit(item: dict) -> None:
                self.wfile.write(json.dumps(item).encode() + b"\n")
                self.wfile.flush()

            watch(emit=emit, **job)  # stops early when the watcher goes away (a write fails)

        def log_message(self, *args):  # one line per job would only fill the log
            pass

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # PID 1: `docker stop` ends it at once
    http.server.ThreadingHTTPServer(("0.0.0.0", port), Agent).serve_forever()


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve(int(sys.argv[2]))
    elif sys.argv[1:2] == ["watch"]:  # the same stream on stdout, when the agent cannot be reached
        job = json.loads(os.environ[JOB_ENV])
        job.pop("watch", None)
        watch(emit=lambda item: print(json.dumps(item), flush=True), **job)
    else:
        print(json.dumps(perform(json.loads(os.environ[JOB_ENV]))))
