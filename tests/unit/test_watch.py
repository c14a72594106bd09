"""The watch's picture from made-up answers: states, totals, events in order, before and after."""

from rich.console import Console

from lab.reports.watch_terminal import plain_line, render
from lab.studies.watch import FAILED, IN, OUT, Watch


def answer(name, at, seen, node="node-1", status=200):
    return {"name": name, "kind": "answer", "at": at, "user": seen, "node": node, "status": status}


def made_up_watch() -> Watch:
    watch = Watch("demo", ["user-1", "user-2"], backend="redis", balance="round_robin", started=100.0)
    for second in range(10):
        for name in ("user-1", "user-2"):
            logged_in = second < 5
            watch.add(answer(name, 100.0 + second, "demo" if logged_in else None, node=f"node-{second % 3 + 1}"))
    watch.add(answer("user-1", 110.5, None, node=None, status=0))
    watch.add({"name": "user-1", "kind": "login", "at": 111.0})
    watch.set_lab("locmem", "round_robin", at=104.5)
    watch.event("reload", "node-2 reloaded", at=104.2)  # reported later, happened earlier
    return watch


def test_answers_become_cells_and_totals():
    watch = made_up_watch()
    states = [cell.state for cell in watch.rows["user-1"]]
    assert states[:5] == [IN] * 5 and states[5:10] == [OUT] * 5 and states[-1] == FAILED
    assert watch.totals() == {"requests": 21, "failures": 1, "logged_out": 10, "logins": 1, "messages": 0}
    assert sorted(watch.nodes) == ["node-1", "node-2", "node-3"]


def test_a_switch_is_an_event_and_events_stay_in_time_order():
    watch = made_up_watch()
    assert [e.text for e in watch.events] == ["node-2 reloaded", "switch: backend redis -> locmem"]
    switch = next(e for e in watch.summary()["events"] if e["kind"] == "switch")
    assert switch["before"] == {"answers": 10, "logged_out": 0, "failed": 0}
    assert switch["after"]["logged_out"] == 10 and switch["after"]["answers"] == 10
    assert "switch: backend redis -> locmem: 0 of 10 answers logged out" in watch.paragraph()


def test_the_terminal_view_fits_a_narrow_terminal_and_marks_events():
    snapshot = made_up_watch().snapshot(now=112.0)
    console = Console(width=40, record=True, color_system=None, force_terminal=False)
    console.print(render(snapshot, 40))
    text = console.export_text()
    assert all(len(line) <= 40 for line in text.splitlines())
    row = next(line for line in text.splitlines() if line.startswith("user-1"))
    assert "│" in row and "×" in row and "■" in row
    assert "legend" in text and "node-2 reloaded" in text
    assert "logged-out 10" in plain_line(snapshot) and "\x1b" not in plain_line(snapshot)


def test_a_chat_users_row_shows_each_message_in_the_colour_of_the_node_that_sent_it():
    watch = Watch("demo", ["user-1"])
    watch.add({"name": "ws-user-1", "kind": "connected", "node": "node-2", "at": 100.0})
    for at, node in ((101.0, "node-1"), (101.1, "node-2"), (101.2, "node-3")):
        watch.add({"name": "ws-user-1", "kind": "message", "node": node, "to": "node-2/7", "at": at})
    watch.add({"name": "ws-user-1", "kind": "message-failed", "error": "closed", "at": 102.0})
    row = watch.snapshot(now=103.0)["users"]["ws-user-1"]
    assert [cell[2] for cell in row] == ["node-1", "node-2", "node-3", None] and row[-1][1] == FAILED
    assert watch.totals()["messages"] == 3 and watch.totals()["requests"] == 0  # not HTTP answers
