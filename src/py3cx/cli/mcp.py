"""`3cx mcp serve`: the PBX as tools for AI agents over MCP (docs/mcp.md)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Any

import typer

from py3cx._exceptions import ConfigError
from py3cx.cli.output import info

mcp_app = typer.Typer(
    name="mcp",
    help="An MCP server for AI agents: read tools on, writes off until allowed.",
    no_args_is_help=True,
)


def _token_file() -> Path:
    from py3cx._config import config_path

    return config_path().parent / "mcp-token"


def _bearer_token() -> str:
    """The HTTP bearer token: made on first start (shown once), then read from its 0600 file."""
    import os

    path = _token_file()
    if path.exists():
        token = path.read_text(encoding="utf-8").strip()
        if token:
            return token
    token = secrets.token_urlsafe(32)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    info(f"made the bearer token for HTTP clients (shown once; kept in {path}, mode 0600):")
    typer.echo(token, err=True)
    return token


def _require_bearer(app: Any, token: str) -> Any:
    """An ASGI wrapper answering 401 to HTTP requests without ``Authorization: Bearer <token>``."""
    import hmac

    expected = token.encode()

    async def guarded(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            scheme, _, credentials = given.partition(b" ")
            # the scheme is case-insensitive (RFC 9110 §11.1): some clients send "bearer"
            if scheme.lower() != b"bearer" or not hmac.compare_digest(credentials.strip(), expected):
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [(b"content-type", b"text/plain"), (b"www-authenticate", b"Bearer")],
                    }
                )
                await send(
                    {
                        "type": "http.response.body",
                        "body": b"a bearer token is required (3cx mcp serve shows where it is kept)\n",
                    }
                )
                return
        await app(scope, receive, send)

    return guarded


@mcp_app.command("serve")
def serve(
    http: Annotated[
        str | None,
        typer.Option(
            "--http", help="Serve streamable HTTP on HOST:PORT (a bearer token is required) instead of stdio."
        ),
    ] = None,
    allow: Annotated[
        list[str] | None,
        typer.Option("--allow", help="Allow a write tool (repeatable): make_call, set_presence, ..."),
    ] = None,
    allow_writes: Annotated[bool, typer.Option("--allow-writes", help="Allow every write tool.")] = False,
    audit_log: Annotated[
        Path | None,
        typer.Option("--audit-log", help="JSON lines of every tool call (default: in the user data folder)."),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            "--db", envvar="PY3CX_DB", help="A py3cx connect database: serve its PBXs (tools take pbx)."
        ),
    ] = None,
) -> None:
    """Serve the PBX (or a connect database's PBXs) as MCP tools: stdio by default, for Claude Desktop
    and other MCP clients; --http for remote clients."""
    from py3cx._extras import require

    require("mcp", what="3cx mcp serve")
    import platformdirs

    from py3cx.mcpserver import READ_TOOLS, WRITE_TOOLS, Audit, ClientProvider, build_server

    unknown = sorted(set(allow or []) - set(WRITE_TOOLS))
    if unknown:
        hint = (
            "reads are always on"
            if set(unknown) <= set(READ_TOOLS)
            else f"write tools: {', '.join(WRITE_TOOLS)}"
        )
        raise ConfigError(f"--allow {', '.join(unknown)}: no such write tool", hint=hint)
    allowed = set(WRITE_TOOLS) if allow_writes else set(allow or [])
    if db is not None:
        provider = ClientProvider(db_url=db)
        provider.names()  # a database that does not answer is an error now, not at the first tool call
    else:
        from py3cx.cli.options import _client_kwargs, connect_async

        _client_kwargs()  # a missing profile or secret is an error at start, not at the first tool call
        provider = ClientProvider(single=connect_async)
    audit = Audit(audit_log or Path(platformdirs.user_data_dir("py3cx")) / "mcp-audit.jsonl")
    if http is None:
        server = build_server(provider, allowed=allowed, audit=audit)
        server.run("stdio")
        return
    host, _, port_text = http.rpartition(":")
    if not host or not port_text.isdigit() or not 0 < int(port_text) <= 65535:
        raise ConfigError(f"--http {http!r} is not HOST:PORT", hint="such as 127.0.0.1:8765")
    from py3cx.cli.emulator import _check_port_free

    _check_port_free(host, int(port_text))
    token = _bearer_token()
    server = build_server(provider, allowed=allowed, audit=audit, host=host, port=int(port_text))
    import logging

    import anyio
    import uvicorn

    def _not_a_client_gone(record: logging.LogRecord) -> bool:
        # the SDK logs a client that closed its event stream as an error with a traceback
        return not (record.exc_info and isinstance(record.exc_info[1], anyio.ClosedResourceError))

    logging.getLogger("mcp.server.streamable_http").addFilter(_not_a_client_gone)

    info(f"py3cx MCP server on http://{host}:{port_text}/mcp (bearer token required)")
    uvicorn.run(
        _require_bearer(server.streamable_http_app(), token),
        host=host,
        port=int(port_text),
        log_level="warning",
    )


def register(app: typer.Typer) -> None:
    """Add `3cx mcp`."""
    app.add_typer(mcp_app)
