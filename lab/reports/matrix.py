"""The comparison report: a terminal table, and JSON, Markdown and one self-contained HTML page.

Reads only the cells' dictionaries (CellResult.to_dict), so a report can be made again from its JSON.
"""

from __future__ import annotations

import html
import json
import time
from pathlib import Path

from lab.model.backends import BACKENDS
from lab.model.balance import BALANCE_MODES
from lab.reports.places import reports_dir

REPORTS = reports_dir()  # the sample site's (a site of your own: its .lab/reports, see lab.outputs)
NODE_COLOURS = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#9c755f", "#ff9da7"]


def cell_text(cell: dict | None) -> str:
    """Short cell text: observed verdict, users kept, nodes seen, and '!' where it was not expected."""
    if cell is None:
        return "-"
    if cell.get("pending"):
        return "pending"
    if cell.get("evidence_problem"):
        return "no verdict"
    mark = "" if cell["passed"] else " !"
    return f"{cell['observed']} {cell['users_kept']}/{cell['users']} {len(cell['nodes_seen'])}n{mark}"


def _grid(data: dict) -> tuple[list[str], list[str], dict]:
    cells = {(c["backend"], c["balance"]): c for c in data["cells"]}
    backends = [b for b in BACKENDS if any(key[0] == b for key in cells)]
    modes = [m for m in BALANCE_MODES if any(key[1] == m for key in cells)]
    return backends, modes, cells


def channel_text(row: dict) -> str:
    """One channel layer's cell: what users got, and whether that is what was expected."""
    if row.get("passed") is None:
        return "no verdict"
    return f"{row['delivered']}/{row['possible']} delivered on {row['processes']} processes" + ("" if row["passed"] else " !")


def channel_lines(data: dict) -> list[str]:
    """The channel layer dimension (an ASGI site), as markdown table rows."""
    rows = data.get("channels") or []
    if not rows:
        return []
    out = ["## Channel layers: WebSocket users across nodes", "",
           "Each user, in its own client, joins one room of the lab's channel probe and sends one message.", "",
           "| layer | users got | expected | judged per user |", "|---|---|---|---|"]
    out += [f"| `{r['layer']}` | {channel_text(r)} | {r['expected']} | {r['why']} |" for r in rows]
    return out + [""]


def terminal_table(data: dict) -> str:
    """Rows are backends, columns balancing modes."""
    backends, modes, cells = _grid(data)
    width = 17
    lines = [f"{'':15}" + "".join(f"{mode:>{width}}" for mode in modes)]
    for backend in backends:
        lines.append(f"{backend:15}" + "".join(f"{cell_text(cells.get((backend, m))):>{width}}" for m in modes))
    meta = data["meta"]
    lines.append(
        f"\nkept/lost = every user stayed logged in, or not; k/n users kept; Nn = nodes that served them; "
        f"! = not what was expected; no verdict = the users' evidence could not decide.\n{meta['users_per_cell']} users per cell ({meta['nat_users']} behind one "
        f"address), {meta['requests_per_user']} requests each, {meta['nodes']} nodes x {meta['workers']} workers, "
        f"{meta['cells_run']} cells in {meta['seconds']:.0f} s"
    )
    for row in data.get("channels") or []:
        lines.append(f"channel layer {row['layer']:7} {channel_text(row)}: {row['why']}")
    return "\n".join(lines)


def latency_rows(data: dict) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """Per backend and mode: "median / p95" milliseconds of the answered requests."""
    backends, modes, cells = _grid(data)
    rows = []
    for backend in backends:
        values = []
        for mode in modes:
            cell = cells.get((backend, mode))
            latency = cell.get("latency_ms") if cell and not cell.get("pending") else None
            values.append(f"{latency['median']:.1f} / {latency['p95']:.1f}" if latency else "-")
        rows.append((backend, values))
    return modes, rows


def latency_table(data: dict) -> str:
    modes, rows = latency_rows(data)
    width = 17
    lines = ["per-request latency through nginx, ms (median / p95), all users of a cell at once"]
    lines.append(f"{'':15}" + "".join(f"{mode:>{width}}" for mode in modes))
    lines += [f"{backend:15}" + "".join(f"{v:>{width}}" for v in values) for backend, values in rows]
    return "\n".join(lines)


def markdown(data: dict) -> str:
    backends, modes, cells = _grid(data)
    meta = data["meta"]
    out = [
        "# Which set-ups keep users logged in?",
        "",
        f"Measured {meta['finished']} on {meta['machine']}: {meta['nodes']} Django nodes x {meta['workers']} "
        f"gunicorn workers, {meta['users_per_cell']} virtual users per cell ({meta['nat_users']} of them behind "
        f"one shared address), {meta['requests_per_user']} requests each after login.",
        "",
        f"Site: `{meta.get('site', 'sample_site')}`, logged in through its own login page; each request "
        f"asks `{meta.get('probe', '/__lab__/whoami')}`.",
        "",
        "| backend | " + " | ".join(modes) + " |",
        "|---|" + "---|" * len(modes),
    ]
    for backend in backends:
        out.append(f"| `{backend}` | " + " | ".join(cell_text(cells.get((backend, m))) for m in modes) + " |")
    out += ["", "`kept 9/9 3n`: every user kept the login; 9 of 9 users; 3 nodes served them. `!`: unexpected.", ""]
    out += channel_lines(data)
    lat_modes, lat_rows = latency_rows(data)
    out += [
        "## Per-request latency (ms, median / p95)",
        "",
        "Measured through nginx in the same run, all users of a cell at once.",
        "",
        "| backend | " + " | ".join(lat_modes) + " |",
        "|---|" + "---|" * len(lat_modes),
    ]
    out += [f"| `{backend}` | " + " | ".join(values) + " |" for backend, values in lat_rows]
    out.append("")
    for cell in data["cells"]:
        if cell.get("pending"):
            continue
        out.append(f"## {cell['backend']} / {cell['balance']}: {cell_text(cell)}")
        out.append(f"Expected {cell['expected']}: {cell['reason']}.")
        if cell["evidence_problem"]:
            out.append(f"**{cell['evidence_problem']}**")
        for lost in cell["lost"][:5]:
            out.append(
                f"- {lost['user']}: request {lost['request']} reached {lost['hit']} and saw {lost['saw']}; "
                f"the session was made on {lost['session_made_on']}"
            )
        out.append("")
    return "\n".join(out)


def _chart(cell: dict, colours: dict[str, str]) -> str:
    """One row per user, one square per request, coloured by node; a cross where the user was logged out."""
    size, gap, label = 12, 2, 150
    users = cell["user_evidence"]
    count = max((len(u["observations"]) for u in users), default=0)
    width, height = label + count * (size + gap) + 10, len(users) * (size + gap) + 6
    parts = [f'<svg width="{width}" height="{height}" role="img" aria-label="nodes per request">']
    for row, user in enumerate(users):
        y = row * (size + gap) + 3
        name = f"{user['name']} {user['address']}"
        parts.append(f'<text x="0" y="{y + size - 2}" font-size="11">{html.escape(name)}</text>')
        for o in user["observations"]:
            x = label + o["index"] * (size + gap)
            fill = colours.get(o["node"] or "", "#ccc")
            title = f"request {o['index']}: {o['node']}, {o['user'] or 'anonymous'}, counter {o['counter']}"
            parts.append(f'<rect x="{x}" y="{y}" width="{size}" height="{size}" fill="{fill}"><title>{html.escape(title)}</title></rect>')
            if o["user"] != cell.get("username", o["user"]) or o["user"] is None:
                parts.append(
                    f'<path d="M{x + 2} {y + 2} L{x + size - 2} {y + size - 2} M{x + size - 2} {y + 2} L{x + 2} {y + size - 2}" '
                    'stroke="#c00" stroke-width="2"/>'
                )
    parts.append("</svg>")
    return "".join(parts)


def _latency_html(data: dict) -> str:
    modes, rows = latency_rows(data)
    head = "".join(f"<th>{m}</th>" for m in modes)
    body = "".join(f"<tr><th>{b}</th>{''.join(f'<td>{v}</td>' for v in values)}</tr>" for b, values in rows)
    return f"<table><tr><th></th>{head}</tr>{body}</table>"


def _channels_html(data: dict) -> str:
    rows = data.get("channels") or []
    if not rows:
        return ""
    body = "".join(
        f"<tr><td>{html.escape(r['layer'])}</td><td>{html.escape(channel_text(r))}</td><td>{html.escape(r['expected'])}</td>"
        f"<td>{html.escape(r['why'])}</td></tr>"
        for r in rows
    )
    return ("<h2>Channel layers: WebSocket users across nodes</h2><table><tr><th>layer</th><th>users got</th>"
            f"<th>expected</th><th>judged per user</th></tr>{body}</table>")


def _grid_rows_html(backends: list[str], modes: list[str], cells: dict) -> list[str]:
    """One table row per backend: each mode's cell, coloured kept or lost, outlined when not as expected."""
    rows = []
    for backend in backends:
        tds = []
        for mode in modes:
            cell = cells.get((backend, mode))
            if cell is None or cell.get("pending"):
                tds.append('<td class="pending">pending</td>')
                continue
            klass = ("kept" if cell["observed"] == "kept" else "lost") + ("" if cell["passed"] else " wrong")
            tds.append(
                f'<td class="{klass}"><a href="#{backend}-{mode}">{html.escape(cell_text(cell))}</a></td>'
            )
        rows.append(f"<tr><th>{backend}</th>{''.join(tds)}</tr>")
    return rows


def _cell_section_html(cell: dict, colours: dict[str, str]) -> str:
    """A measured cell's own section: what was expected and why, its chart, and the first users it lost."""
    lost = "".join(
        f"<li>{html.escape(str(l['user']))}: request {l['request']} reached {html.escape(str(l['hit']))} and saw "
        f"{html.escape(str(l['saw']))}; the session was made on {html.escape(str(l['session_made_on']))}</li>"
        for l in cell["lost"][:6]
    )
    problem = f'<p class="problem">{html.escape(cell["evidence_problem"])}</p>' if cell["evidence_problem"] else ""
    return (
        f'<section id="{cell["backend"]}-{cell["balance"]}"><h2>{cell["backend"]} / {cell["balance"]}: '
        f"{html.escape(cell_text(cell))}</h2><p>Expected <b>{cell['expected']}</b>: {html.escape(cell['reason'])}. "
        f"{cell['requests_logged_in']}/{cell['requests']} requests saw the login; cell took {cell['seconds']} s.</p>"
        f"{problem}{_chart(cell, colours)}<ul>{lost}</ul></section>"
    )


def html_page(data: dict) -> str:
    backends, modes, cells = _grid(data)
    nodes = sorted({n for c in data["cells"] if not c.get("pending") for n in c["nodes_seen"]})
    colours = {node: NODE_COLOURS[i % len(NODE_COLOURS)] for i, node in enumerate(nodes)}
    meta = data["meta"]
    rows = _grid_rows_html(backends, modes, cells)
    # Node names come from the X-Lab-Node header, that is from whatever site runs: escaped like all site values.
    legend = " ".join(f'<span class="key" style="background:{c}"></span>{html.escape(n)}' for n, c in colours.items())
    sections = [_cell_section_html(cell, colours) for cell in data["cells"] if not cell.get("pending")]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Django multi-node lab: session matrix</title>
<style>
body {{ font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; padding: 0 1rem; }}
table {{ border-collapse: collapse; }} th, td {{ padding: .35rem .7rem; border: 1px solid #ddd; text-align: center; }}
td a {{ color: inherit; text-decoration: none; }}
.kept {{ background: #d9f2d9; }} .lost {{ background: #f8d0cc; }} .pending {{ background: #eee; color: #777; }}
.wrong {{ outline: 3px solid #e08000; }} .problem {{ color: #c00; font-weight: bold; }}
.key {{ display: inline-block; width: .9em; height: .9em; margin: 0 .3em 0 1em; vertical-align: middle; }}
section {{ margin-top: 1.5rem; }} h2 {{ font-size: 1.05rem; }}
</style></head><body>
<h1>Which set-ups keep users logged in?</h1>
<p>Measured {html.escape(meta['finished'])} on {html.escape(meta['machine'])}: {meta['nodes']} Django nodes x
{meta['workers']} gunicorn workers; {meta['users_per_cell']} virtual users per cell, each from its own client
container ({meta['nat_users']} share one address behind a "NAT" client), logging in through nginx and making
{meta['requests_per_user']} requests of <code>{html.escape(meta.get('probe', '/__lab__/whoami'))}</code> on the site
<code>{html.escape(meta.get('site', 'sample_site'))}</code>. A cell is <b>kept</b> when every user stayed logged in with a counter rising
by one on every request. Outlined cells were not what the lab expected.</p>
<table><tr><th></th>{''.join(f'<th>{m}</th>' for m in modes)}</tr>{''.join(rows)}</table>
{_channels_html(data)}
<h2>Per-request latency, ms (median / p95)</h2>
<p>Measured through nginx in the same run, with all users of a cell at once.</p>
{_latency_html(data)}
<p>Each chart below: one row per user, one square per request after login, coloured by the node that served it;
a red cross where the user was no longer logged in.{legend}</p>
{''.join(sections)}
</body></html>
"""


def write_files(prefix: str, data: dict, renders: dict, directory: Path = REPORTS) -> dict[str, Path]:
    """Write <prefix>-<time>.<suffix> for each renderer, and point <latest>.<suffix> at the newest."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    latest_name = "latest" if prefix == "matrix" else f"latest-{prefix}"
    written = {}
    for suffix, render in renders.items():
        path = directory / f"{prefix}-{stamp}.{suffix}"
        path.write_text(render(data))
        latest = directory / f"{latest_name}.{suffix}"
        if latest.is_symlink() or latest.exists():
            latest.unlink()
        latest.symlink_to(path.name)
        written[suffix] = path
    return written


def write_reports(data: dict, directory: Path = REPORTS) -> dict[str, Path]:
    """Write matrix-<time>.{json,md,html} and point latest.* at them; return the paths."""
    renders = {"json": lambda d: json.dumps(d, indent=1), "md": markdown, "html": html_page}
    return write_files("matrix", data, renders, directory)
