"""`3cx events watch`: Call Control events as they happen.

On a terminal: a live table of the current call legs with the latest events under it. Piped (or
with `--json`): one JSON object per event and line, for `jq` or a log file. The stream reconnects
by itself and reports what happened while it was away (`"resync": true`).
"""

from __future__ import annotations

import sys
import time
from collections import deque
from datetime import datetime, timezone
from typing import Annotated, Any

import typer

from py3cx.cli import output
from py3cx.cli.options import JsonOption, connect

events_app = typer.Typer(help="Live Call Control events.", no_args_is_help=True)

LEG_COLUMNS = ("dn", "id", "status", "party_caller_id", "party_caller_name", "callid")


def _json_line(data: Any) -> None:
    # one object per line (JSON lines); output.write_json indents, which breaks `jq -c`-style piping
    sys.stdout.write(output.dumps(data, indent=None) + "\n")
    sys.stdout.flush()


def _describe(event: Any) -> str:
    from py3cx.callcontrol import event_to_dict

    data = event_to_dict(event)
    leg = data.get("participant") or data.get("last_known") or {}
    who = f"{data.get('dn', '')}/{data.get('participant_id', leg.get('id', ''))}"
    detail = leg.get("status") or data.get("digits") or ""
    flag = " (while disconnected)" if data.get("resync") else ""
    return f"{data['kind']:<20} {who:<14} {detail}{flag}"


@events_app.command("watch")
def watch(
    dn: Annotated[
        list[str] | None, typer.Option("--dn", help="Only events of this DN (repeat for several).")
    ] = None,
    as_json: JsonOption = False,
    limit: Annotated[int | None, typer.Option("--limit", help="Stop after this many events.")] = None,
) -> None:
    """Print Call Control events until interrupted (`3cx events watch --dn 100 --json | jq`)."""
    from py3cx.callcontrol import event_to_dict

    with connect() as client, client.callcontrol.events(dns=dn or None) as events:
        if output.json_mode(as_json):
            for count, event in enumerate(events, start=1):
                _json_line({"at": datetime.now(timezone.utc).isoformat(), **event_to_dict(event)})
                if limit is not None and count >= limit:
                    return
        _live(events, limit)


def _live(events: Any, limit: int | None) -> None:
    from rich.console import Group
    from rich.live import Live
    from rich.text import Text

    recent: deque[str] = deque(maxlen=12)
    count = 0
    with Live(console=output.console, auto_refresh=False) as live:
        while limit is None or count < limit:
            event = events.get(timeout=1.0)
            if event is not None:
                count += 1
                recent.appendleft(f"{time.strftime('%H:%M:%S')}  {_describe(event)}")
            legs = [p.to_wire() for p in events.state.participants()]
            stats = events.stats
            status = "connected" if stats.connected else "reconnecting..."
            title = f"Call legs: {len(legs)}  ({status}, {stats.drops} drops, Ctrl+C to stop)"
            table = output.table(legs, columns=LEG_COLUMNS, title=title)
            live.update(Group(table, Text("\n".join(recent) or "waiting for events...")), refresh=True)


def register(app: typer.Typer) -> None:
    """Add `3cx events` to the command line."""
    app.add_typer(events_app, name="events")
