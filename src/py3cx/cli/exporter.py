"""`3cx exporter`: serve Prometheus metrics of PBXs (docs/exporter.md)."""

from __future__ import annotations

from typing import Annotated

import typer

from py3cx._exceptions import ConfigError
from py3cx.cli.output import info


def exporter(
    listen: Annotated[
        str, typer.Option("--listen", help="HOST:PORT to serve /probe and /metrics on.")
    ] = "127.0.0.1:9723",
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="PY3CX_DB",
            help="A py3cx connect database: its PBXs are the targets (else `3cx config` profiles are).",
        ),
    ] = None,
) -> None:
    """Serve Prometheus metrics: /probe?target=NAME reads one PBX (a profile, or a connect PBX with
    --db), /metrics the exporter itself. Stops on Ctrl-C or SIGTERM."""
    host, _, port_text = listen.rpartition(":")
    if not host or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ConfigError(f"--listen {listen!r} is not HOST:PORT", hint="such as 127.0.0.1:9723")
    from py3cx.exporter import create_app, profile_source

    if db is not None:
        from py3cx._extras import require
        from py3cx.exporter.app import connect_source

        require("connect", "sqlalchemy", "cryptography", what="connect targets")
        source = connect_source(db)
    else:
        source = profile_source
    import uvicorn

    from py3cx.cli.emulator import _check_port_free

    _check_port_free(host, int(port_text))  # before saying where it listens
    info(f"py3cx exporter on http://{host}:{port_text}/probe?target=NAME and /metrics")
    uvicorn.run(create_app(source), host=host, port=int(port_text), log_level="warning", access_log=False)


def register(app: typer.Typer) -> None:
    """Add `3cx exporter`."""
    app.command("exporter")(exporter)
