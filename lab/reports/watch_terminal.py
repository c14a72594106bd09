"""The watch in a terminal, drawn with rich: per user a row of cells coloured by node, a red cross where
the user was logged out, a bar where an event happened; the lab, rates and events above and below.

rich decides colours from the terminal (none when stdout is not a TTY, or NO_COLOR is set) and gives
the width, so a narrow terminal shows fewer cells, not broken lines. Without a TTY the view is one plain
line a second.
"""

from __future__ import annotations

import time

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

NODE_COLOURS = ["green", "blue", "magenta", "cyan", "yellow", "bright_green", "bright_blue", "bright_magenta"]
SQUARE, CROSS, FAILED, MARK = "■", "×", "!", "│"
_NAME_WIDTH = 9


def node_colour(node: str | None, nodes: list[str]) -> str:
    return NODE_COLOURS[nodes.index(node) % len(NODE_COLOURS)] if node in nodes else "white"


def row(cells: list, events: list, nodes: list[str], width: int) -> Text:
    """One user's last cells that fit in `width`, with a mark before the first cell after each event."""
    shown = cells[-width:]
    marks = sorted(at for at, _, _ in events)
    text = Text()
    previous = shown[0][0] if shown else 0
    for at, state, node in shown:
        if any(previous < mark <= at for mark in marks):
            text.append(MARK, style="bold yellow")
        if state == "in":
            text.append(SQUARE, style=node_colour(node, nodes))
        elif state == "out":
            text.append(CROSS, style="bold red")
        else:
            text.append(FAILED, style="bold red reverse")
        previous = at
    return text


def render(snapshot: dict, width: int) -> Group:
    """The whole view for a terminal `width` columns wide."""
    nodes = snapshot["nodes"]
    header = Text.assemble(
        ("lab watch ", "bold"),
        f"{snapshot['lab_url']}  ",
        ("backend ", "dim"), (snapshot["backend"], "bold"),
        ("  balance ", "dim"), (snapshot["balance"], "bold"),
        ("  req/s ", "dim"), f"{snapshot['rate']:.0f}",
        ("  failed ", "dim"), (str(snapshot["failures"]), "red" if snapshot["failures"] else ""),
        ("  logged out ", "dim"), (str(snapshot["logged_out"]), "bold red" if snapshot["logged_out"] else ""),
        *((("  ws messages ", "dim"), str(snapshot["messages"])) if snapshot.get("messages") else ()),
        ("  " + time.strftime("%H:%M:%S", time.localtime(snapshot["now"])), "dim"),
    )
    cells_width = max(8, width - _NAME_WIDTH - 2)
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=_NAME_WIDTH, no_wrap=True)
    grid.add_column(no_wrap=True)
    for name, cells in snapshot["users"].items():
        grid.add_row(Text(name[:_NAME_WIDTH], style="dim"), row(cells, snapshot["events"], nodes, cells_width))
    legend = Text("legend: ")
    for node in nodes:
        legend.append(SQUARE, style=node_colour(node, nodes)).append(f" {node}  ")
    legend.append(CROSS, style="bold red").append(" logged out  ")
    legend.append(FAILED, style="bold red reverse").append(" failed  ")
    legend.append(MARK, style="bold yellow").append(" event")
    events = Text()
    for at, _, text in snapshot["events"][-6:]:
        events.append(time.strftime("%H:%M:%S ", time.localtime(at)), style="dim").append(f"{text}\n")
    return Group(header, grid, legend, events)


def plain_line(snapshot: dict) -> str:
    """One line a second when stdout is not a terminal."""
    last = snapshot["events"][-1][2] if snapshot["events"] else "-"
    return (
        f"{time.strftime('%H:%M:%S', time.localtime(snapshot['now']))} backend {snapshot['backend']} "
        f"balance {snapshot['balance']} req/s {snapshot['rate']:.0f} requests {snapshot['requests']} "
        f"failed {snapshot['failures']} logged-out {snapshot['logged_out']} last event: {last}"
    )


def run(feed, seconds: float, console: Console | None = None) -> None:
    """Draw once a second until `seconds` have passed or Ctrl-C."""
    from rich.live import Live

    console = console or Console()
    deadline = time.monotonic() + seconds
    if not console.is_terminal:
        while time.monotonic() < deadline:
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
            console.print(plain_line(feed.snapshot()), highlight=False, markup=False)
        return
    with Live(render(feed.snapshot(), console.width), console=console, refresh_per_second=4, transient=False) as live:
        while time.monotonic() < deadline:
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
            live.update(render(feed.snapshot(), console.width))
