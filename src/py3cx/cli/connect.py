"""`3cx connect`: the call records and directories of many PBXs kept in SQLite or PostgreSQL.

Everything heavy (SQLAlchemy, Alembic, cryptography...) is imported inside the commands, so
`3cx` starts as fast without connect, and a missing `py3cx[connect]` extra is named, not a traceback.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from py3cx._exceptions import ConfigError
from py3cx._extras import require
from py3cx.cli.options import JsonOption
from py3cx.cli.output import console, emit, info, json_mode

if TYPE_CHECKING:
    from py3cx.connect.db import Database
    from py3cx.connect.registry import Pbx
    from py3cx.connect.sync import PassResult
    from py3cx.connect.vault import Vault

__all__ = ["register"]

_T = TypeVar("_T")
_NEEDED = ("sqlalchemy", "alembic", "cryptography", "aiolimiter", "prometheus_client")

app = typer.Typer(
    name="connect",
    help="Keep the call records and directories of one or many PBXs in SQLite or PostgreSQL.",
    no_args_is_help=True,
)
pbx_app = typer.Typer(name="pbx", help="The PBXs connect keeps in sync.", no_args_is_help=True)
app.add_typer(pbx_app)

_STATE: dict[str, Any] = {}


@app.callback()
def _connect_options(
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="PY3CX_DB",
            help="Database URL: sqlite:///file.db or postgresql+psycopg://user@host/db "
            "(default: connect.db in the user data folder).",
        ),
    ] = None,
) -> None:
    """Options of every `3cx connect` command."""
    _STATE["db"] = db


def _require_extra() -> None:
    require("connect", *_NEEDED, what="py3cx connect")


def _open() -> tuple[Database, Vault]:
    _require_extra()
    from py3cx.connect.db import open_database
    from py3cx.connect.vault import load_vault

    return open_database(_STATE.get("db")), load_vault()


def _secret(env: str, prompt: str) -> str:
    value = os.environ.get(env)
    if value:
        return value
    return str(typer.prompt(prompt, hide_input=True))


def _run(coro: Callable[[], Awaitable[_T]]) -> _T:
    return asyncio.run(coro())  # type: ignore[arg-type]


# -- database -----------------------------------------------------------------------------------


@app.command("migrate")
def migrate() -> None:
    """Create or upgrade the tables (every command does it too; this one says what it did)."""
    _require_extra()
    from py3cx.connect.db import open_database, redact_url

    db = open_database(_STATE.get("db"), migrate=False)
    applied = db.migrate()
    where = redact_url(db.url)
    info(f"{where}: applied {', '.join(applied)}" if applied else f"{where}: up to date")


@app.command("rotate-key")
def rotate_key() -> None:
    """Encrypt every stored secret with a new key (the key file is replaced; the old key is dropped)."""
    db, vault = _open()
    from py3cx.connect.admin import rotate_key as rotate

    count = rotate(db, vault)
    info(f"{count} secrets re-encrypted with a new key ({vault.source})")


# -- PBXs ---------------------------------------------------------------------------------------


@pbx_app.command("add")
def pbx_add(
    name: Annotated[str, typer.Argument(help="A short name for the PBX (letters, digits, . _ -).")],
    url: Annotated[str, typer.Option("--url", help="PBX URL, e.g. https://pbx.example.com.")],
    client_id: Annotated[
        str, typer.Option("--client-id", help="API client id (System Owner role for call records).")
    ],
    route_point: Annotated[
        str | None,
        typer.Option("--route-point", help="Call Control route point client id (its secret is prompted)."),
    ] = None,
    time_zone: Annotated[str | None, typer.Option("--tz", help="The PBX's time zone (IANA name).")] = None,
    country: Annotated[
        str | None,
        typer.Option("--country", help="Two-letter country for E.164 numbers (default: the PBX's licence)."),
    ] = None,
    rate_limit: Annotated[
        float, typer.Option("--rate-limit", min=0.01, help="Requests per second to this PBX.")
    ] = 10.0,
    history_source: Annotated[
        str, typer.Option("--history-source", help="auto, view (CallHistoryView) or calllog.")
    ] = "auto",
    calls_every: Annotated[
        int, typer.Option("--calls-every", min=1, help="Seconds between call passes (run).")
    ] = 60,
    directory_every: Annotated[
        int, typer.Option("--directory-every", min=1, help="Seconds between directory passes (run).")
    ] = 3600,
    overlap: Annotated[
        int, typer.Option("--overlap", min=0, help="Seconds before the watermark each pass reads again.")
    ] = 7200,
    backfill: Annotated[
        int, typer.Option("--backfill-days", min=1, help="How many days back the first pass reads.")
    ] = 30,
    live_every: Annotated[
        int,
        typer.Option(
            "--live-every", min=0, help="Seconds between ActiveCalls polls for live events (0: off; run)."
        ),
    ] = 10,
    insecure: Annotated[
        bool, typer.Option("--insecure", help="Do not verify the PBX's TLS certificate.")
    ] = False,
    ca_bundle: Annotated[
        str | None, typer.Option("--ca-bundle", help="CA bundle for the PBX's certificate.")
    ] = None,
) -> None:
    """Add a PBX. The secret comes from PY3CX_CLIENT_SECRET or a hidden prompt, and is stored encrypted."""
    db, vault = _open()
    from py3cx.connect.registry import PbxSettings, add_pbx

    settings = PbxSettings(
        name=name,
        url=url,
        client_id=client_id,
        route_point_id=route_point,
        time_zone=time_zone,
        country=country,
        rate_limit=rate_limit,
        history_source=history_source,
        calls_interval=calls_every,
        directory_interval=directory_every,
        overlap_seconds=overlap,
        backfill_days=backfill,
        live_interval=live_every,
        verify_tls=not insecure,
        ca_bundle=ca_bundle,
    ).check()
    secret = _secret("PY3CX_CLIENT_SECRET", f"API client secret of {client_id}")
    route_secret = (
        _secret("PY3CX_ROUTE_POINT_SECRET", f"secret of route point {route_point}") if route_point else None
    )
    add_pbx(db, vault, settings, secret, route_secret)
    info(f"added PBX {name!r} ({settings.url}); `3cx connect pbx test {name}` checks it")


@pbx_app.command("import")
def pbx_import(
    file: Annotated[
        Path,
        typer.Argument(
            help="JSON list of {name, url, client_id, client_secret} (what `3cx emulator serve --pbx-list` writes)."
        ),
    ],
    backfill: Annotated[
        int, typer.Option("--backfill-days", min=1, help="How many days back the first pass reads.")
    ] = 30,
) -> None:
    """Add many PBXs from a file at once: all of them, or none when one entry is bad or exists."""
    db, vault = _open()
    from py3cx.connect.registry import import_pbxs

    try:
        entries = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(
            f"cannot read {file}: {exc.strerror}", hint="give the path of a JSON file"
        ) from None
    except ValueError as exc:
        raise ConfigError(
            f"{file} is not JSON: {exc}", hint="a list of {name, url, client_id, client_secret}"
        ) from None
    added = import_pbxs(db, vault, entries, backfill_days=backfill)
    info(f"added {len(added)} PBXs: {', '.join(p.name for p in added)}")


def _pbx_row(pbx: Pbx) -> dict[str, Any]:
    s = pbx.settings
    return {
        "name": s.name,
        "url": s.url,
        "client_id": s.client_id,
        "route_point": s.route_point_id,
        "history_source": s.history_source,
        "rate_limit": s.rate_limit,
        "calls_every": s.calls_interval,
        "directory_every": s.directory_interval,
        "live_every": s.live_interval,
        "time_zone": s.time_zone,
        "country": s.country,
        "enabled": s.enabled,
    }


@pbx_app.command("list")
def pbx_list(
    as_json: JsonOption = False,
) -> None:
    """The PBXs (never their secrets)."""
    db, vault = _open()
    from py3cx.connect.registry import list_pbxs

    emit([_pbx_row(p) for p in list_pbxs(db, vault)], as_json=as_json, title="PBXs")


@pbx_app.command("remove")
def pbx_remove(
    name: Annotated[str, typer.Argument(help="The PBX to remove.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
) -> None:
    """Remove a PBX and everything stored for it (records, snapshots, state)."""
    db, vault = _open()
    from py3cx.connect.registry import get_pbx, remove_pbx

    get_pbx(db, vault, name)
    if not yes and not typer.confirm(f"remove PBX {name!r} and all its records?"):
        raise typer.Exit(1)
    remove_pbx(db, name)
    info(f"removed PBX {name!r}")


@pbx_app.command("test")
def pbx_test(
    name: Annotated[str, typer.Argument(help="The PBX to check.")],
    as_json: JsonOption = False,
) -> None:
    """Check a PBX: token, role, build, licence, time zone, history source. Exit 1 if a check fails."""
    db, vault = _open()
    from py3cx.connect.admin import check_pbx
    from py3cx.connect.registry import get_pbx

    pbx = get_pbx(db, vault, name)
    checks = _run(lambda: check_pbx(db, vault, pbx))
    emit([c.as_row() for c in checks], as_json=as_json, title=f"PBX {name}")
    if any(not c.ok for c in checks):
        raise typer.Exit(1)


# -- sync, status -------------------------------------------------------------------------------


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    from py3cx._durations import parse_datetime

    try:
        day = date.fromisoformat(text)
        return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    except ValueError:
        pass
    try:
        return parse_datetime(text, default_tz=timezone.utc)
    except ValueError:
        raise ConfigError(
            f"--since {text!r} is not a date", hint="YYYY-MM-DD or an ISO date-time (UTC unless it says)"
        ) from None


def _result_row(result: PassResult) -> dict[str, Any]:
    return {
        "pbx": result.pbx,
        "stream": result.stream,
        "fetched": result.records,
        "changed": result.changed,
        "seconds": round(result.seconds, 2),
        "error": result.error,
        "hint": result.hint,
    }


@app.command("sync")
def sync(
    pbx: Annotated[list[str] | None, typer.Option("--pbx", help="Only this PBX (repeatable).")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Read call records from this day (default: the watermark).")
    ] = None,
    calls: Annotated[bool, typer.Option("--calls/--no-calls", help="Sync call records.")] = True,
    directory: Annotated[bool, typer.Option("--directory/--no-directory", help="Sync the directory.")] = True,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, help="PBXs synced at once.")] = 10,
    as_json: JsonOption = False,
) -> None:
    """One pass over every PBX (or those named), then exit: for cron. Exit 1 if any pass failed."""
    start = _since(since)
    db, vault = _open()
    from py3cx.connect.registry import list_pbxs
    from py3cx.connect.service import sync_once

    pbxs = list_pbxs(db, vault, names=pbx or None, enabled_only=not pbx)
    if not pbxs:
        raise ConfigError(
            "no PBX to sync", hint="add one with `3cx connect pbx add NAME --url URL --client-id ID`"
        )
    results = _run(
        lambda: sync_once(
            db, vault, pbxs, since=start, calls=calls, directory=directory, concurrency=concurrency
        )
    )
    emit([_result_row(r) for r in results], as_json=as_json, title="sync")
    if any(not r.ok for r in results):
        raise typer.Exit(1)


@app.command("status")
def status(
    as_json: JsonOption = False,
) -> None:
    """Each PBX's streams: last success, lag, records, errors (what `run` serves as /metrics)."""
    db, _vault = _open()
    from py3cx.connect.service import status_rows

    rows = status_rows(db)
    if not json_mode(as_json) and not rows:
        console.print("no PBX yet: `3cx connect pbx add NAME --url URL --client-id ID`")
        return
    emit(rows, as_json=as_json, title="connect status")


@app.command("run")
def run(
    listen: Annotated[
        str, typer.Option("--listen", help="HOST:PORT of /healthz and /metrics.")
    ] = "127.0.0.1:9310",
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, help="Passes running at once.")] = 20,
    public_url: Annotated[
        str | None,
        typer.Option(
            "--public-url",
            envvar="PY3CX_CONNECT_PUBLIC_URL",
            help="Where CRMs reach this server, for the recording links of call events "
            "(default: http://HOST:PORT of --listen).",
        ),
    ] = None,
) -> None:
    """Keep every PBX in sync on its schedule; send webhooks; serve /healthz, /metrics, signed
    recording links and click-to-call; stop on SIGTERM or Ctrl-C."""
    host, _, port_text = listen.rpartition(":")
    if not host or not port_text.isdigit():
        raise ConfigError(f"--listen {listen!r} is not HOST:PORT", hint="such as 127.0.0.1:9310")
    db, vault = _open()
    from py3cx.connect.service import run_service

    asyncio.run(
        run_service(db, vault, host=host, port=int(port_text), concurrency=concurrency, public_url=public_url)
    )


@app.command("worker")
def worker(
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, help="Jobs this worker runs at once.")
    ] = 4,
) -> None:
    """Run the sync jobs as Procrastinate tasks on PostgreSQL; start as many workers, on as many
    machines, as you like. Stops on SIGTERM or Ctrl-C after the jobs in hand."""
    db, vault = _open()
    from py3cx.connect.worker import run_worker

    asyncio.run(run_worker(db, vault, concurrency=concurrency))


def register(main: typer.Typer) -> None:
    """Add `3cx connect` to the main command."""
    from py3cx.cli import connect_keys, connect_webhooks

    connect_webhooks.register(app)
    connect_keys.register(app)
    main.add_typer(app)
