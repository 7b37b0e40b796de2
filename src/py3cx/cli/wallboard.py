"""`3cx wallboard`: serve the live call wallboard page (queues, calls, extensions) until Ctrl+C."""

from __future__ import annotations

from typing import Annotated

import typer

from py3cx.cli import output
from py3cx.cli.options import connect_async


def wallboard(
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port to serve the page on.")] = 8080,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (0.0.0.0 to show it on a TV on the network).")
    ] = "127.0.0.1",
    dn: Annotated[list[str] | None, typer.Option("--dn", help="Only these DNs (repeat for several).")] = None,
    title: Annotated[str, typer.Option("--title", help="The page's heading.")] = "Call wallboard",
) -> None:
    """Serve a wallboard of live calls, fed by Call Control events (the client must be a route point)."""
    import asyncio

    import uvicorn

    from py3cx.wallboard import create_app

    asyncio.run(connect_async().close())  # fail now, with its hint, when no PBX is configured
    app = create_app(connect_async, dns=dn or None, title=title)
    output.info(f"wallboard on http://{host}:{port}/ (Ctrl+C to stop)")
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


def register(app: typer.Typer) -> None:
    """Add `3cx wallboard` to the command line."""
    app.command("wallboard")(wallboard)
