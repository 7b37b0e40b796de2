"""Options shared by every command: which PBX, which client, and the options stacked on each output
command (`--json`, `--output`).

`STATE` is filled by the global callback in `main.py`; `connect()` turns it into a `py3cx.Client`.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from py3cx._client import AsyncClient, Client

STATE: dict[str, Any] = {}

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON even on a terminal.")]
ForceOption = Annotated[bool, typer.Option("--force", help="Overwrite the output file if it exists.")]


def _client_kwargs() -> dict[str, Any]:
    """Which PBX and client to use. A profile named on the command line wins over the environment;
    `--url`/`--client-id` typed on the command line win over both; the secret is the profile's, unless
    the client id came from elsewhere (then PY3CX_CLIENT_SECRET)."""
    from py3cx._config import load_profile
    from py3cx._exceptions import ConfigError

    typed: set[str] = STATE.get("typed", set())
    profile_name = STATE.get("profile")
    url = STATE.get("url")
    client_id = STATE.get("client_id")
    env_secret = os.environ.get("PY3CX_CLIENT_SECRET")
    verify = True
    ca_bundle = STATE.get("ca_bundle")

    use_profile = "profile" in typed or not (url and client_id and env_secret)
    secret = env_secret
    if use_profile:
        try:
            profile = load_profile(profile_name)
        except ConfigError:
            if "profile" in typed or not url:
                raise
            # a URL was given without a profile to complete it: say which part is missing
            missing = [
                n for n, v in (("PY3CX_CLIENT_ID", client_id), ("PY3CX_CLIENT_SECRET", env_secret)) if not v
            ]
            raise ConfigError(
                f"a PBX URL is given but {' and '.join(missing)} is not set",
                hint="set it from the API client (Admin > Integrations > API; the secret is shown once), "
                "or save a profile with `3cx config set NAME`",
            ) from None
        url = url if "url" in typed else profile.url
        if "client_id" in typed and client_id != profile.client_id:
            if not env_secret:
                raise ConfigError(
                    f"client id {client_id!r} differs from profile {profile.name!r} and no secret was given",
                    hint="set PY3CX_CLIENT_SECRET, or save a profile for that client with `3cx config set`",
                )
        else:
            client_id, secret = profile.client_id, profile.secret
        verify = profile.verify
        ca_bundle = ca_bundle or profile.ca_bundle
    if STATE.get("insecure"):
        verify = False
    if not (url and client_id and secret):
        raise ConfigError(
            "no PBX configured",
            hint="run `3cx config set NAME --url URL --client-id ID`, or set PY3CX_URL, "
            "PY3CX_CLIENT_ID and PY3CX_CLIENT_SECRET",
        )
    return {
        "url": url,
        "client_id": client_id,
        "client_secret": secret,
        "verify": verify,
        "ca_bundle": ca_bundle,
    }


def connect() -> Client:
    """A `py3cx.Client` for the PBX chosen by the global options, a profile or the environment.

    Raises ConfigError when nothing says which PBX to use.
    """
    from py3cx._client import Client

    return Client(**_client_kwargs())


def connect_async() -> AsyncClient:
    """The async twin of `connect()`."""
    from py3cx._client import AsyncClient

    return AsyncClient(**_client_kwargs())
