"""The emulator's ASGI application: token endpoints, ``/xapi/v1``, control routes, faults.

Routes:

- ``POST /connect/token``: client credentials (form or multipart) → bearer JWT;
  ``grant_type=refresh_token`` renews a web login;
- ``POST /webclient/api/Login/GetAccessToken``: username/password (JSON). Wrong credentials
  answer 200 ``{"Status": "AuthFailed"}`` (a guess at the PBX's reply: the client must read
  ``Status``, not only the HTTP status);
- ``/xapi/v1/...``: see ``xapi.py``;
- ``GET /_emulator/stats``, ``POST /_emulator/reset-stats``: test counters, loopback only.
"""

from __future__ import annotations

import asyncio
import importlib
import ipaddress
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.convertors import PathConvertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from . import (
    core_operations,  # noqa: F401  (registers the core's functions and actions)
    directory_operations,  # noqa: F401
    extensions,
    init_operations,  # noqa: F401
    media_operations,  # noqa: F401
)
from .auth import IssuedToken
from .config import EmulatorConfig
from .errors import XapiError, json_response, oauth_error
from .faults import DropConnection
from .licence import api_allowed, licence_refusal_message
from .state import EmulatorState
from .xapi import PREFIX, XapiEndpoint

logger = logging.getLogger("py3cx.emulator")


class _AnyPathConvertor(PathConvertor):
    """Starlette's ``path`` without its blind spot: a key or argument may hold a newline (``%0A``)."""

    regex = r"[\s\S]*"


register_url_convertor("xapi_path", _AnyPathConvertor())


def _token_body(state: EmulatorState, token: IssuedToken) -> dict[str, Any]:
    body: dict[str, Any] = {
        "token_type": "Bearer",
        "expires_in": state.tokens.expires_in(),
        "access_token": token.access_token,
    }
    if token.refresh_token:
        body["refresh_token"] = token.refresh_token
    return body


async def connect_token(request: Request) -> Response:
    """``POST /connect/token``."""
    state: EmulatorState = request.app.state.emulator
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return oauth_error(400, "invalid_request", "The request body must be form-encoded or multipart.")
    form = await request.form()
    client_id = str(form.get("client_id") or "")
    secret = str(form.get("client_secret") or "")
    grant = str(form.get("grant_type") or "")
    state.tokens.count_request(client_id)
    if grant == "refresh_token":
        token = state.tokens.refresh_user(str(form.get("refresh_token") or ""))
        if token is None:
            return oauth_error(400, "invalid_grant", "The refresh token is invalid or expired.")
        return json_response(_token_body(state, token))
    if grant != "client_credentials":
        return oauth_error(400, "unsupported_grant_type", "The grant type is not supported.")
    if not client_id or not secret:
        return oauth_error(400, "invalid_request", "client_id and client_secret are required.")
    token = state.tokens.issue_for_client(client_id, secret)
    if token is None:
        return oauth_error(401, "invalid_client", "The client credentials are invalid.")
    if not api_allowed(state.config) and state.config.licence_refusal == "token":
        return oauth_error(400, "unauthorized_client", licence_refusal_message(state.config))
    return json_response(_token_body(state, token))


async def web_login(request: Request) -> Response:
    """``POST /webclient/api/Login/GetAccessToken``."""
    state: EmulatorState = request.app.state.emulator
    try:
        body = await request.json()
    except ValueError:
        return json_response({"Status": "AuthFailed"}, 400)
    if not isinstance(body, dict):
        return json_response({"Status": "AuthFailed"}, 400)
    username = str(body.get("Username") or "")
    password = str(body.get("Password") or "")
    state.tokens.count_request(username)
    token = state.tokens.issue_for_user(username, password)
    if token is None:
        return json_response({"Status": "AuthFailed"})
    return json_response({"Status": "AuthSuccess", "Token": _token_body(state, token)})


def _is_loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host in ("localhost", "testclient")


async def control_stats(request: Request) -> Response:
    """``GET /_emulator/stats``."""
    if not _is_loopback(request):
        return json_response({"error": "control routes answer loopback clients only"}, 403)
    state: EmulatorState = request.app.state.emulator
    stats = state.stats
    with stats.lock:
        body = {
            "token_requests": dict(state.tokens.token_requests),
            "tokens_issued": {k.split(":", 1)[1]: v for k, v in state.tokens.tokens_issued.items()},
            "requests": stats.requests,
            "xapi_requests": stats.xapi_requests,
            "statuses": dict(stats.statuses),
            "most_requests_in_flight": stats.most_in_flight,
            "faults": dict(state.faults.injected),
            "seed": state.config.seed,
            "build": state.config.build,
            "spec_version": state.config.spec_version,
        }
    return json_response(body)


async def control_reset(request: Request) -> Response:
    """``POST /_emulator/reset-stats``."""
    if not _is_loopback(request):
        return json_response({"error": "control routes answer loopback clients only"}, 403)
    state: EmulatorState = request.app.state.emulator
    state.stats.reset()
    state.tokens.reset_counters()
    state.faults.reset_counters()
    return Response(status_code=204)


async def control_trunk(request: Request) -> Response:
    """``POST /_emulator/trunks/{number}`` with ``{"online": false}``: a trunk loses (or regains)
    its registration, as when a provider goes down; ``Trunks`` and ``SystemStatus`` show it."""
    if not _is_loopback(request):
        return json_response({"error": "control routes answer loopback clients only"}, 403)
    state: EmulatorState = request.app.state.emulator
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("online"), bool):
        return json_response({"error": 'send {"online": true} or {"online": false}'}, 400)
    table = state.tables["Trunks"].table
    with state.lock, state.engine.begin() as conn:
        changed = conn.execute(
            table.update()
            .where(table.c.Number == request.path_params["number"])
            .values(IsOnline=body["online"])
        ).rowcount
    if not changed:
        return json_response({"error": f"no trunk {request.path_params['number']}"}, 404)
    return Response(status_code=204)


class EmulatorApp(Starlette):
    """Starlette with the fault layer outside every middleware.

    Faults must sit outside Starlette's error middleware: a dropped connection has to reach
    the server as an exception before any response starts, not be turned into a 500.
    """

    emulator: EmulatorState

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        state = self.emulator
        xapi = str(scope.get("path", "")).startswith(PREFIX + "/")
        status_seen = 0

        async def counting_send(message: Any) -> None:
            nonlocal status_seen
            if message["type"] == "http.response.start":
                status_seen = int(message["status"])
            await send(message)

        fault = state.faults.draw() if xapi else None
        try:
            if fault == "reset":
                raise DropConnection("fault injection: connection dropped")
            if fault is not None:
                status = int(fault)
                headers = {"Retry-After": "1"} if status in (429, 503) else None
                message = {
                    500: "Internal server error (injected).",
                    503: "Service unavailable (injected).",
                    429: "Too many requests (injected).",
                    504: "Gateway timeout (injected).",
                }[status]
                err = XapiError(status, message, headers=headers)
                await err.response()(scope, receive, counting_send)
                return
            await super().__call__(scope, receive, counting_send)
        finally:
            if status_seen:
                state.stats.count(status_seen, xapi)


async def serve_xapi(request: Request) -> Response:
    """Answer one request under ``/xapi/v1`` (routes of extensions hand theirs on to this).

    Example: ``return await serve_xapi(request)``.
    """
    state: EmulatorState = request.app.state.emulator
    if request.method == "GET":
        # reads run in worker threads, each on its own SQLite connection (WAL: readers never wait
        # for each other), so concurrent clients are served concurrently as by a PBX; writes stay
        # on the event loop, where the Call Control simulator changes the same tables
        return await run_in_threadpool(_read, state, request)
    return await _answer(state, request)


def _read(state: EmulatorState, request: Request) -> Response:
    # a GET handler never waits on I/O (there is no body to read): it runs to completion here
    return asyncio.run(_answer(state, request))


async def _answer(state: EmulatorState, request: Request) -> Response:
    try:
        with state.stats.answering():
            return await XapiEndpoint(state).handle(request)
    except XapiError as err:
        return err.response()
    except Exception:
        # a bug in a handler: answer like the PBX does (OData 500), keep the traceback in the log
        logger.exception("unhandled error in %s %s", request.method, request.url.path)
        return XapiError(500, "An error has occurred.").response()


def create_app(cfg: EmulatorConfig | None = None) -> Starlette:
    """Build the emulator: seed its database and return the ASGI app.

    The state is ready as soon as this returns (tests can use ``httpx2.ASGITransport`` without
    a lifespan); background tasks of extensions start with the server's lifespan.
    Raises ValueError for a bad configuration. Example: ``app = create_app(EmulatorConfig(seed=2))``.
    """
    config = cfg or EmulatorConfig()
    state = EmulatorState(config)
    routes: list[BaseRoute] = [
        Route("/connect/token", connect_token, methods=["POST"]),
        Route("/webclient/api/Login/GetAccessToken", web_login, methods=["POST"]),
        Route("/_emulator/stats", control_stats, methods=["GET"]),
        Route("/_emulator/reset-stats", control_reset, methods=["POST"]),
        Route("/_emulator/trunks/{number}", control_trunk, methods=["POST"]),
    ]
    for module_path in extensions.EXTENSIONS:
        module = importlib.import_module(module_path)
        routes.extend(module.setup(state))
    methods = ["GET", "POST", "PATCH", "DELETE", "PUT"]
    routes += [
        Route(PREFIX, serve_xapi, methods=methods),
        Route(PREFIX + "/{rest:xapi_path}", serve_xapi, methods=methods),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        tasks = [asyncio.ensure_future(factory()) for factory in state.background]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    app = EmulatorApp(routes=routes, lifespan=lifespan)
    app.emulator = state
    app.state.emulator = state
    return app
