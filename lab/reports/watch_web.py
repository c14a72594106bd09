"""The watch as a page in the browser, on 127.0.0.1: the same picture as the terminal, pushed once a
second over Server-Sent Events (sse-starlette on Starlette, served by uvicorn; the browser's own
EventSource reconnects by itself), so the page updates without reloads and can stay open for a talk.
"""

from __future__ import annotations

import asyncio
import html
import json
import threading
import time

import uvicorn
from sse_starlette.sse import EventSourceResponse
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from lab.reports.watch_terminal import NODE_COLOURS

_CSS_COLOURS = {"green": "#2e9e44", "blue": "#2f6fd6", "magenta": "#b53fb0", "cyan": "#1aa3b8", "yellow": "#c9a100",
                "bright_green": "#69d36e", "bright_blue": "#6aa0ff", "bright_magenta": "#e07be0"}

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>lab watch: __LAB__</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
header { display: flex; gap: 1.5em; flex-wrap: wrap; align-items: baseline; }
header b { font-size: 1.1em; }
#grid { margin-top: 1em; font-family: ui-monospace, monospace; }
.user { display: flex; align-items: center; height: 18px; }
.name { width: 6em; color: #666; font-size: 12px; }
.cell { width: 10px; height: 14px; margin-right: 2px; border-radius: 2px; display: inline-block; }
.out { background: none; color: #d11; font-weight: bold; width: 10px; font-size: 14px; line-height: 14px; text-align: center; }
.failed { background: #d11; }
.mark { width: 3px; height: 18px; background: #e6b800; margin-right: 2px; display: inline-block; }
#legend span { margin-right: 1.2em; }
#events { margin-top: 1em; font-size: 14px; }
.bad { color: #d11; font-weight: bold; }
</style></head>
<body>
<header>
  <b>lab watch: __LAB__</b>
  <span>site <a href="__URL__" target="_blank">__URL__</a></span>
  <span>log in as <code>__USER__</code> / <code>__PASSWORD__</code></span>
</header>
<header id="status">waiting for the first answers...</header>
<div id="grid"></div>
<p id="legend"></p>
<div id="events"></div>
<script>
const COLOURS = __COLOURS__;
function colour(node, nodes) { const i = nodes.indexOf(node); return i < 0 ? "#999" : COLOURS[i % COLOURS.length]; }
function el(tag, cls, text) { const e = document.createElement(tag); if (cls) e.className = cls; if (text) e.textContent = text; return e; }
function draw(s) {
  const status = document.getElementById("status");
  status.replaceChildren(
    el("span", "", "backend " + s.backend), el("span", "", "balance " + s.balance),
    el("span", "", "req/s " + Math.round(s.rate)), el("span", s.failures ? "bad" : "", "failed " + s.failures),
    el("span", s.logged_out ? "bad" : "", "logged out " + s.logged_out),
    ...(s.messages ? [el("span", "", "ws messages " + s.messages)] : []),
    el("span", "", new Date(s.now * 1000).toLocaleTimeString()));
  const width = Math.max(10, Math.floor((window.innerWidth - 140) / 12));
  const marks = s.events.map(e => e[0]);
  const grid = document.getElementById("grid");
  grid.replaceChildren(...Object.entries(s.users).map(([name, cells]) => {
    const row = el("div", "user"); row.dataset.user = name;
    row.append(el("span", "name", name));
    const shown = cells.slice(-width);
    let previous = shown.length ? shown[0][0] : 0;
    for (const [at, state, node] of shown) {
      if (marks.some(m => previous < m && m <= at)) row.append(el("span", "mark"));
      const cell = el("span", "cell " + state, state === "out" ? "\\u00d7" : "");
      if (state === "in") cell.style.background = colour(node, s.nodes);
      cell.title = (node || "no answer") + " " + state;
      row.append(cell); previous = at;
    }
    return row;
  }));
  const legend = document.getElementById("legend");
  legend.replaceChildren(...s.nodes.map(n => { const x = el("span"); const c = el("span", "cell"); c.style.background = colour(n, s.nodes); x.append(c, " " + n); return x; }),
    el("span", "bad", "\\u00d7 logged out"), el("span", "", "red: failed"), (() => { const x = el("span"); x.append(el("span", "mark"), " event"); return x; })());
  document.getElementById("events").replaceChildren(...s.events.slice(-8).reverse().map(e =>
    el("div", "event", new Date(e[0] * 1000).toLocaleTimeString() + "  " + e[2])));
}
new EventSource("/events").onmessage = (message) => draw(JSON.parse(message.data));
</script>
</body></html>
"""


def page(feed) -> str:
    """The page, with the lab's URL and demo login filled in (escaped)."""
    username, password = feed.lab.login()
    colours = [_CSS_COLOURS[name] for name in NODE_COLOURS]
    replacements = {
        "__LAB__": html.escape(feed.lab.name),
        "__URL__": html.escape(feed.watch.lab_url),
        "__USER__": html.escape(username),
        "__PASSWORD__": html.escape(password),
        "__COLOURS__": json.dumps(colours),
    }
    text = PAGE
    for key, value in replacements.items():
        text = text.replace(key, value)
    return text


def app(feed) -> Starlette:
    async def index(request):
        return HTMLResponse(page(feed))

    async def events(request):
        async def snapshots():
            while True:
                yield {"data": json.dumps(feed.snapshot())}
                await asyncio.sleep(1.0)

        return EventSourceResponse(snapshots())

    return Starlette(routes=[Route("/", index), Route("/events", events)])


def run(feed, seconds: float, port: int, on_ready=None) -> None:
    """Serve the page on 127.0.0.1:`port` until `seconds` have passed or Ctrl-C."""
    server = uvicorn.Server(uvicorn.Config(app(feed), host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + seconds
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    if on_ready and server.started:
        on_ready(f"http://127.0.0.1:{port}/")
    try:
        while time.monotonic() < deadline and thread.is_alive():
            time.sleep(0.2)
    finally:
        server.should_exit = True
        thread.join(5)
