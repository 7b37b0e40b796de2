"""`3cx config`: named PBX profiles. The secret is prompted for (or read from PY3CX_CLIENT_SECRET) and
stored in a 0600 file or in the system keyring; it is never printed."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from py3cx.cli import output
from py3cx.cli.options import JsonOption

config_app = typer.Typer(help="Manage PBX profiles (URL, client id, secret).", no_args_is_help=True)


@config_app.command("set")
def set_profile(
    name: Annotated[str, typer.Argument(help="Profile name, e.g. 'office'.")] = "default",
    url: Annotated[str, typer.Option("--url", prompt="PBX URL (https://host:port)", help="PBX URL.")] = "",
    client_id: Annotated[
        str, typer.Option("--client-id", prompt="API client id", help="API client id.")
    ] = "",
    use_keyring: Annotated[
        bool, typer.Option("--keyring", help="Store the secret in the system keyring.")
    ] = False,
    insecure: Annotated[bool, typer.Option("--insecure", help="Do not verify TLS for this PBX.")] = False,
    ca_bundle: Annotated[
        str | None, typer.Option("--ca-bundle", help="CA bundle for a self-signed PBX.")
    ] = None,
) -> None:
    """Save a profile. The secret is read from PY3CX_CLIENT_SECRET or prompted for (hidden)."""
    from py3cx._config import save_profile

    secret = os.environ.get("PY3CX_CLIENT_SECRET") or typer.prompt("API client secret", hide_input=True)
    path = save_profile(
        name, url, client_id, secret, verify=not insecure, ca_bundle=ca_bundle, use_keyring=use_keyring
    )
    output.info(f"saved profile {name!r} in {path}")


@config_app.command("use")
def use(name: Annotated[str, typer.Argument(help="Profile name, e.g. 'office'.")]) -> None:
    """Make a saved profile the default (commands use it unless -p or PY3CX_PROFILE say otherwise)."""
    from py3cx._config import use_profile

    path = use_profile(name)
    output.info(f"profile {name!r} is now the default ({path})")


@config_app.command("list")
def list_profiles(as_json: JsonOption = False) -> None:
    """List saved profiles (without secrets)."""
    from py3cx._config import list_profiles as _list

    rows = [p.public_dict() for p in _list()]
    output.emit({"value": rows}, as_json=as_json, title="Profiles")


@config_app.command("show")
def show(
    name: Annotated[str | None, typer.Argument(help="Profile name.")] = None, as_json: JsonOption = False
) -> None:
    """Show one profile (the secret is masked)."""
    from py3cx._config import load_profile

    output.emit(load_profile(name).public_dict(), as_json=as_json)


@config_app.command("delete")
def delete(name: Annotated[str, typer.Argument(help="Profile name.")]) -> None:
    """Delete a profile and its stored secret."""
    from py3cx._config import delete_profile

    delete_profile(name)
    output.info(f"deleted profile {name!r}")


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
