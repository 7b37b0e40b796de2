"""`3cx calls active`: who is on a call now (XAPI ActiveCalls)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Annotated, Any

import typer

from py3cx.cli import output
from py3cx.cli.options import JsonOption, connect

calls_app = typer.Typer(help="Live calls.", no_args_is_help=True)

COLUMNS = ("Id", "Caller", "Callee", "Status", "EstablishedAt", "Duration")


def _with_duration(row: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    from py3cx._durations import format_hms, parse_datetime

    out = dict(row)
    established = row.get("EstablishedAt")
    if isinstance(established, str):
        server_now = row.get("ServerNow")
        ref = parse_datetime(server_now) if isinstance(server_now, str) else now
        out["Duration"] = format_hms(ref - parse_datetime(established))
    return out


def fetch_active(client: Any) -> list[dict[str, Any]]:
    """Every active call, oldest first, with a computed `Duration`."""
    now = datetime.now(timezone.utc)
    rows = client.paginate("ActiveCalls", page_size=200, orderby="EstablishedAt asc")
    return [_with_duration(r, now) for r in rows]


@calls_app.command("active")
def active(
    watch: Annotated[bool, typer.Option("--watch", "-w", help="Refresh until interrupted.")] = False,
    interval: Annotated[
        float, typer.Option("--interval", min=0.2, help="Refresh at least this often (seconds).")
    ] = 2.0,
    source: Annotated[
        str,
        typer.Option(
            "--source",
            help="auto: Call Control events for a route-point client, else poll ActiveCalls; or callcontrol, xapi.",
        ),
    ] = "auto",
    as_json: JsonOption = False,
) -> None:
    """List the calls in progress now; `--watch` follows them live."""
    if source not in ("auto", "callcontrol", "xapi"):
        from py3cx._exceptions import ConfigError

        raise ConfigError(f"--source must be auto, callcontrol or xapi, not {source!r}")
    with connect() as client:
        if source == "callcontrol" and not str(client.client_id or "").isdigit():
            from py3cx._exceptions import ConfigError

            raise ConfigError(
                f"--source callcontrol needs a Call Control route point client; {client.client_id!r} is not one",
                hint="use the API client whose id is the route point's number (Admin > Integrations > API), "
                "or --source xapi",
            )
        if not watch:
            rows = fetch_active(client)
            output.emit({"value": rows}, as_json=as_json, columns=COLUMNS, title="Active calls")
            output.info(f"{len(rows)} active calls")
            return
        from py3cx.callcontrol.active import watch_active

        now = datetime.now(timezone.utc)
        # Fed by Call Control events when the client is a route point, else by polling ActiveCalls.
        updates = watch_active(client, interval=interval, source=source)  # type: ignore[arg-type]
        if output.json_mode(as_json):
            # One JSON document per change, one per line, for piping into other tools.
            for rows in updates:
                now = datetime.now(timezone.utc)
                output.write_json(
                    {"at": now.isoformat(), "value": [_with_duration(r, now) for r in rows]}, indent=None
                )
            return
        from rich.live import Live

        with Live(console=output.console, auto_refresh=False) as live:
            for rows in updates:
                now = datetime.now(timezone.utc)
                shown = [_with_duration(r, now) for r in rows]
                title = f"Active calls: {len(shown)} (Ctrl+C to stop)"
                live.update(output.table(shown, columns=COLUMNS, title=title), refresh=True)


def register(app: typer.Typer) -> None:
    app.add_typer(calls_app, name="calls")
