"""`3cx connect endpoint ...`, `3cx connect deliveries`, `3cx connect replay`: webhook endpoints and
their outbox (docs/webhooks.md). Registered under `3cx connect` by `py3cx.cli.connect`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from py3cx._exceptions import ConfigError
from py3cx.cli.options import JsonOption
from py3cx.cli.output import emit, info

if TYPE_CHECKING:
    from py3cx.connect.db import Database
    from py3cx.connect.vault import Vault

endpoint_app = typer.Typer(
    name="endpoint", help="Webhook endpoints: where connect sends call events.", no_args_is_help=True
)


def _open() -> tuple[Database, Vault]:
    from py3cx.cli.connect import _open as open_connect

    return open_connect()


def _split(values: list[str] | None) -> list[str] | None:
    items = [part.strip() for value in values or [] for part in value.split(",") if part.strip()]
    return items or None


@endpoint_app.command("add")
def endpoint_add(
    url: Annotated[str, typer.Argument(help="The URL that receives the events (POST, JSON).")],
    pbx: Annotated[
        list[str] | None, typer.Option("--pbx", help="Only events of this PBX (repeatable or comma list).")
    ] = None,
    events: Annotated[
        str | None, typer.Option("--events", help="Only these event types, e.g. call.ended,call.updated.")
    ] = None,
    secret: Annotated[
        str | None,
        typer.Option(
            "--secret",
            envvar="PY3CX_WEBHOOK_SECRET",
            help="The whsec_ secret to sign with (better from PY3CX_WEBHOOK_SECRET); made when not given.",
        ),
    ] = None,
    max_in_flight: Annotated[
        int, typer.Option("--max-in-flight", help="Requests in flight to this endpoint at most (1-1000).")
    ] = 4,
    rate_limit: Annotated[
        float,
        typer.Option(
            "--rate-limit",
            help="Requests per second to this endpoint at most (retries count; 0.5: one every 2 s).",
        ),
    ] = 50.0,
    as_json: JsonOption = False,
) -> None:
    """Add an endpoint. It gets the events of calls that end from now on (`replay` sends older ones).

    A secret made here is printed once, on stdout: store it in the receiver now.
    """
    from py3cx.connect.outbox import add_endpoint

    db, vault = _open()
    endpoint, made = add_endpoint(
        db,
        vault,
        url,
        pbx_names=_split(pbx),
        event_types=_split([events] if events else None),
        secret=secret,
        max_in_flight=max_in_flight,
        rate_limit=rate_limit,
    )
    emit([endpoint.as_row()], as_json=as_json, title="endpoint added")
    if secret is None:
        info("the endpoint's signing secret (shown once; `rotate-secret` makes a new one):")
        typer.echo(made)


@endpoint_app.command("list")
def endpoint_list(as_json: JsonOption = False) -> None:
    """The endpoints, their filters and state (never their secrets)."""
    from py3cx.connect.outbox import list_endpoints

    db, _ = _open()
    emit([e.as_row() for e in list_endpoints(db)], as_json=as_json, title="webhook endpoints")


@endpoint_app.command("disable")
def endpoint_disable(endpoint_id: Annotated[int, typer.Argument(help="The endpoint's id.")]) -> None:
    """Stop sending to an endpoint (its pending deliveries wait; `enable` resumes them)."""
    from py3cx.connect.outbox import set_enabled

    db, _ = _open()
    set_enabled(db, endpoint_id, False)
    info(f"endpoint {endpoint_id} disabled")


@endpoint_app.command("enable")
def endpoint_enable(endpoint_id: Annotated[int, typer.Argument(help="The endpoint's id.")]) -> None:
    """Send to an endpoint again (after `disable`, a 410, or 5 days of failures)."""
    from py3cx.connect.outbox import set_enabled

    db, _ = _open()
    set_enabled(db, endpoint_id, True)
    info(f"endpoint {endpoint_id} enabled")


@endpoint_app.command("limits")
def endpoint_limits(
    endpoint_id: Annotated[int, typer.Argument(help="The endpoint's id.")],
    max_in_flight: Annotated[
        int | None, typer.Option("--max-in-flight", help="Requests in flight at most (1-1000).")
    ] = None,
    rate_limit: Annotated[
        float | None, typer.Option("--rate-limit", help="Requests per second at most (retries count).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Change an endpoint's limits; each sending process (`run`, every `worker`) keeps to them."""
    from py3cx.connect.outbox import set_limits

    if max_in_flight is None and rate_limit is None:
        raise ConfigError("nothing to change", hint="give --max-in-flight N and/or --rate-limit R")
    db, _ = _open()
    endpoint = set_limits(db, endpoint_id, max_in_flight=max_in_flight, rate_limit=rate_limit)
    emit([endpoint.as_row()], as_json=as_json, title="endpoint limits")


@endpoint_app.command("remove")
def endpoint_remove(
    endpoint_id: Annotated[int, typer.Argument(help="The endpoint's id.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
) -> None:
    """Remove an endpoint and its deliveries (the events stay for other endpoints and replay)."""
    from py3cx.connect.outbox import remove_endpoint

    db, _ = _open()
    if not yes and not typer.confirm(f"remove endpoint {endpoint_id} and its deliveries?"):
        raise typer.Exit(1)
    remove_endpoint(db, endpoint_id)
    info(f"endpoint {endpoint_id} removed")


@endpoint_app.command("rotate-secret")
def endpoint_rotate(
    endpoint_id: Annotated[int, typer.Argument(help="The endpoint's id.")],
    overlap_hours: Annotated[
        float, typer.Option("--overlap-hours", min=0, help="Hours during which the old secret signs too.")
    ] = 24.0,
) -> None:
    """A new signing secret, printed once on stdout; both sign (two signatures) during the overlap."""
    from py3cx.connect.outbox import rotate_secret

    db, vault = _open()
    secret = rotate_secret(db, vault, endpoint_id, overlap=timedelta(hours=overlap_hours))
    info(f"endpoint {endpoint_id}: new secret (shown once); the old one signs too for {overlap_hours:g} h")
    typer.echo(secret)


def deliveries(
    failed: Annotated[
        bool, typer.Option("--failed", help="Only dead letters and failing deliveries.")
    ] = False,
    endpoint: Annotated[int | None, typer.Option("--endpoint", help="Only this endpoint's.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Rows at most, newest first.")] = 100,
    as_json: JsonOption = False,
) -> None:
    """Deliveries of events to endpoints, newest first: status, attempts, last answer."""
    from py3cx.connect.outbox import list_deliveries

    db, _ = _open()
    rows: list[dict[str, Any]] = list_deliveries(db, failed=failed, endpoint_id=endpoint, limit=limit)
    emit(rows, as_json=as_json, title="deliveries")


def replay(
    event: Annotated[
        str | None, typer.Option("--event", help="The event id (evt_...) to send again.")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Send every event created since (YYYY-MM-DD or ISO time).")
    ] = None,
    endpoint: Annotated[int | None, typer.Option("--endpoint", help="Only to this endpoint.")] = None,
) -> None:
    """Queue events again for their endpoints (same webhook-id); `run` or `worker` sends them."""
    from py3cx.cli.connect import _since
    from py3cx.connect.outbox import replay as queue_again

    if (event is None) == (since is None):
        raise ConfigError("give --event ID or --since TIME", hint="3cx connect replay --since 2026-12-01")
    db, _ = _open()
    queued = queue_again(db, event_id=event, since=_since(since), endpoint_id=endpoint)
    info(f"{queued} deliveries queued")


contacts_app = typer.Typer(
    name="contacts",
    help="Contacts matched to calls by number (their webhook events name them).",
    no_args_is_help=True,
)


@contacts_app.command("import")
def contacts_import(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX: name, company, phones, email, crm_id.")],
    country: Annotated[
        str | None, typer.Option("--country", help="Default region of national numbers, e.g. GB.")
    ] = None,
) -> None:
    """Load contacts (all or none; a re-import updates them by crm_id). Call events of their numbers
    carry them from then on."""
    from py3cx.connect.contacts import import_contacts

    db, _ = _open()
    count = import_contacts(db, file, country=country)
    info(f"{count} contacts stored")


def register(app: typer.Typer) -> None:
    """Add the webhook commands to `3cx connect`."""
    app.add_typer(endpoint_app)
    app.add_typer(contacts_app)
    app.command("deliveries")(deliveries)
    app.command("replay")(replay)
