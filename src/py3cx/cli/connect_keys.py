"""`3cx connect key ...`: the access keys of click-to-call (docs/webhooks.md, "Click-to-call").
Registered under `3cx connect` by `py3cx.cli.connect`."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from py3cx.cli.options import JsonOption
from py3cx.cli.output import emit, info, json_mode

if TYPE_CHECKING:
    from py3cx.connect.access import AccessKey

key_app = typer.Typer(
    name="key",
    help="Access keys of click-to-call: each lets a CRM place calls on one PBX.",
    no_args_is_help=True,
)


def _show_once(row: AccessKey, key: str, as_json: bool, note: str) -> None:
    """The new key's row, then the key on stdout (in the JSON object with --json)."""
    if json_mode(as_json):
        emit([{**row.as_row(), "key": key}], as_json=as_json, title="access key added")
        return
    emit([row.as_row()], as_json=as_json, title="access key added")
    info(note)
    typer.echo(key)


@key_app.command("add")
def key_add(
    pbx: Annotated[str, typer.Argument(help="The PBX the key places calls on.")],
    label: Annotated[str | None, typer.Option("--label", help="What the key is for, e.g. the CRM.")] = None,
    expires: Annotated[
        float | None, typer.Option("--expires", min=0.001, help="Days until the key stops working.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Make a key for one PBX. The key is printed once, on stdout; only its hash is stored."""
    from py3cx.cli.connect import _open
    from py3cx.connect.access import add_key

    db, _ = _open()
    row, key = add_key(db, pbx, label=label, expires=timedelta(days=expires) if expires else None)
    _show_once(row, key, as_json, "the key (shown once; `key rotate` makes a new one):")


@key_app.command("list")
def key_list(
    pbx: Annotated[str | None, typer.Argument(help="Only this PBX's keys.")] = None,
    as_json: JsonOption = False,
) -> None:
    """The keys: id, PBX, first characters, label, state and dates (never the keys)."""
    from py3cx.cli.connect import _open
    from py3cx.connect.access import list_keys

    db, _ = _open()
    emit([k.as_row() for k in list_keys(db, pbx)], as_json=as_json, title="access keys")


@key_app.command("revoke")
def key_revoke(key_id: Annotated[int, typer.Argument(help="The key's id (`key list`).")]) -> None:
    """Stop a key now."""
    from py3cx.cli.connect import _open
    from py3cx.connect.access import revoke_key

    db, _ = _open()
    row = revoke_key(db, key_id)
    info(f"access key {row.id} ({row.prefix}..., PBX {row.pbx}) revoked")


@key_app.command("rotate")
def key_rotate(
    key_id: Annotated[int, typer.Argument(help="The key's id (`key list`).")],
    overlap: Annotated[
        float, typer.Option("--overlap", min=0, help="Hours the old key keeps working.")
    ] = 24.0,
    as_json: JsonOption = False,
) -> None:
    """A new key for the same PBX (printed once, on stdout); the old one works for the overlap."""
    from py3cx.cli.connect import _open
    from py3cx.connect.access import rotate_key

    db, _ = _open()
    row, key = rotate_key(db, key_id, overlap=timedelta(hours=overlap))
    _show_once(row, key, as_json, f"the new key (shown once); key {key_id} stops working in {overlap:g} h:")


def register(app: typer.Typer) -> None:
    """Add the key commands to `3cx connect`."""
    app.add_typer(key_app)
