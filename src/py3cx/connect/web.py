"""The routes ``3cx connect run`` serves to CRMs: signed recording downloads and click-to-call.

- ``GET /recordings/{pbx}/{id}?expires=..&sig=..`` streams a recording from the PBX (recordings.py
  checks the link first: 403 changed or foreign, 410 expired, and then the PBX is not asked);
- ``GET /webapi/{key}/makecall?first=EXT&second=NUMBER`` (the URL CRMs are given for the on-box
  WebAPI add-ons) and ``POST /api/pbx/{name}/calls {"from": EXT, "to": NUMBER}`` with
  ``Authorization: Bearer KEY`` place a call from an extension, through Call Control when the PBX
  has a route point, else XAPI's ``Users/Pbx.MakeCall``. Keys are access.py's.

Every answer is JSON ``{"status": "ok", ...}`` or ``{"status": "error", "reason": "..."}``;
nothing here logs a key or a URL that holds one.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from py3cx._exceptions import APIStatusError, NotFoundError, Py3cxError
from py3cx.callcontrol.errors import CallControlError
from py3cx.connect.access import KeyMatch, authenticate
from py3cx.connect.db import Database
from py3cx.connect.recordings import PURPOSE, LinkRefused, check_link
from py3cx.connect.sync import PbxSession, pbx_client
from py3cx.connect.vault import Vault
from py3cx.odata.literals import Typed
from py3cx.odata.paths import function_path

__all__ = ["FailureLimiter", "dialable", "web_routes"]

_EXTENSION = re.compile(r"^[0-9]{1,16}$")
_NUMBER = re.compile(r"^\+?[0-9*#]{1,32}$")
_FORMATTING = re.compile(r"[\s().\-/]")
_PASSED_HEADERS = ("content-type", "content-length", "content-disposition", "content-encoding")


def dialable(text: str) -> str | None:
    """A number as the PBX dials it (spaces, dashes, dots, brackets and ``tel:`` dropped), or None
    when it is not one. Pure. Example: ``dialable("+44 (20) 7946-0123") == "+442079460123"``
    """
    value = _FORMATTING.sub("", text.strip().removeprefix("tel:"))
    return value if _NUMBER.match(value) else None


class FailureLimiter:
    """Failed key attempts per client address: after ``limit`` within ``window`` seconds, that
    address is refused (even with a good key) until the oldest failure ages out. In memory, per
    process; at most ``clients`` addresses are remembered (the longest quiet ones are forgotten).

    Example: ``limiter.failed("10.0.0.9"); limiter.wait("10.0.0.9") -> 0.0``
    """

    def __init__(
        self,
        limit: int = 10,
        window: float = 60.0,
        *,
        clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit, self.window, self.clients, self.clock = limit, window, clients, clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, client: str) -> deque[float]:
        failures = self._failures.get(client, deque())
        horizon = self.clock() - self.window
        while failures and failures[0] <= horizon:
            failures.popleft()
        return failures

    def wait(self, client: str) -> float:
        """Seconds before ``client`` may try again (0: now)."""
        failures = self._recent(client)
        if len(failures) < self.limit:
            return 0.0
        return max(failures[0] + self.window - self.clock(), 0.0)

    def failed(self, client: str) -> None:
        """Count one failed attempt of ``client``."""
        failures = self._recent(client)
        failures.append(self.clock())
        self._failures[client] = failures
        self._failures.move_to_end(client)
        while len(self._failures) > self.clients:
            self._failures.popitem(last=False)


def _error(status: int, reason: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"status": "error", "reason": reason}, status_code=status, headers=headers)


def _pbx_reason(exc: Py3cxError) -> str:
    found = (exc.reasontext or exc.reason) if isinstance(exc, CallControlError) else None
    return (found or str(exc)).strip()[:300]


@dataclass
class _Web:
    db: Database
    vault: Vault
    sessions: Mapping[str, PbxSession]
    limiter: FailureLimiter
    recording_keys: list[bytes] = field(default_factory=list)

    # -- recordings --------------------------------------------------------------------------

    async def recording(self, request: Request) -> Response:
        name, recording_id = request.path_params["pbx"], request.path_params["recording_id"]
        query = request.query_params
        try:
            check_link(
                name,
                recording_id,
                query.get("expires"),
                query.get("sig"),
                self.recording_keys,
                datetime.now(timezone.utc),
            )
        except LinkRefused as refused:
            return _error(refused.status, refused.reason)
        session = self.sessions.get(name)
        if session is None:
            return _error(404, f"PBX {name!r} is not served here (removed or disabled)")
        path = function_path(
            "Recordings", "Pbx.DownloadRecording", recId=Typed(int(recording_id), "Edm.Int32")
        )
        try:
            upstream = await session.client._send_raw("GET", path, stream=True)
        except NotFoundError:
            return _error(404, f"PBX {name!r} has no recording {recording_id} (deleted or archived?)")
        except Py3cxError as exc:
            return _error(502, f"PBX {name!r} did not serve the recording: {_pbx_reason(exc)}")
        headers = {k: upstream.headers[k] for k in _PASSED_HEADERS if k in upstream.headers}

        async def relay() -> AsyncIterator[bytes]:
            try:
                async for chunk in upstream.aiter_raw():  # raw: Content-Length and -Encoding pass through
                    yield chunk
            finally:
                await upstream.aclose()

        return StreamingResponse(relay(), headers=headers, background=BackgroundTask(upstream.aclose))

    # -- click-to-call ------------------------------------------------------------------------

    async def _admit(self, request: Request, key: str | None, pbx_name: str | None) -> KeyMatch | Response:
        """The key's match, or the answer to give: 429 while this address is limited, else 401."""
        client = request.client.host if request.client else "unknown"
        wait = self.limiter.wait(client)
        if wait > 0:
            return _error(
                429,
                "too many failed attempts from this address; try again later",
                {"Retry-After": str(int(wait) + 1)},
            )
        match = await asyncio.to_thread(authenticate, self.db, key) if key else None
        if match is None or (pbx_name is not None and match.pbx_name != pbx_name):
            self.limiter.failed(client)
            return _error(401, "unknown, revoked or expired key for this PBX", {"WWW-Authenticate": "Bearer"})
        return match

    async def makecall_get(self, request: Request) -> Response:
        if request.method != "GET":  # Starlette adds HEAD; a link preview's HEAD must not place a call
            return _error(405, "use GET to place a call", {"Allow": "GET"})
        admitted = await self._admit(request, request.path_params["key"], None)
        if isinstance(admitted, Response):
            return admitted
        query = request.query_params
        return await self._call(admitted, query.get("first"), query.get("second"))

    async def calls_post(self, request: Request) -> Response:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        bearer = key.strip() if scheme.lower() == "bearer" else None
        admitted = await self._admit(request, bearer, request.path_params["name"])
        if isinstance(admitted, Response):
            return admitted
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError:
            return _error(400, 'the body is not JSON; send {"from": "101", "to": "+442079460123"}')
        if not isinstance(body, dict):
            return _error(400, 'the body must be a JSON object: {"from": "101", "to": "+442079460123"}')
        source, destination = body.get("from"), body.get("to")
        return await self._call(
            admitted,
            None if source is None else str(source),
            None if destination is None else str(destination),
        )

    async def _call(self, match: KeyMatch, source: str | None, destination: str | None) -> Response:
        if not source or not _EXTENSION.match(source):
            return _error(400, "the extension to call from (first / from) is missing or not digits")
        number = dialable(destination or "")
        if number is None:
            return _error(400, "the number to call (second / to) is missing or not a dialable number")
        session = self.sessions.get(match.pbx_name)
        if session is None:
            return _error(503, f"PBX {match.pbx_name!r} is not served here now (disabled?)")
        try:
            via, call = await self._place(session, source, number)
        except NotFoundError:
            return _error(404, f"PBX {match.pbx_name!r} has no extension {source}")
        except (CallControlError, APIStatusError) as exc:
            return _error(502, f"PBX {match.pbx_name!r} refused the call: {_pbx_reason(exc)}")
        except Py3cxError as exc:
            return _error(502, f"PBX {match.pbx_name!r} cannot be reached: {_pbx_reason(exc)}")
        return JSONResponse({"status": "ok", "via": via, "call": call})

    async def _place(self, session: PbxSession, source: str, number: str) -> tuple[str, Any]:
        pbx = session.pbx
        if pbx.settings.route_point_id and pbx.route_point_secret:
            # Call Control speaks as the route point: its own client id, secret and token
            route_point = replace(
                pbx,
                settings=replace(pbx.settings, client_id=pbx.settings.route_point_id),
                client_secret=pbx.route_point_secret,
            )
            client = pbx_client(self.db, self.vault, route_point)
            try:
                result = await client.callcontrol.make_call(source, number)
            finally:
                await client.close()
            leg = result.result.model_dump(mode="json", exclude_none=True) if result.result else None
            return "callcontrol", leg
        answer = await session.client.post("Users/Pbx.MakeCall", {"dn": source, "destination": number})
        return "xapi", answer.get("Result") if isinstance(answer, dict) else None


def web_routes(
    db: Database,
    vault: Vault,
    sessions: Mapping[str, PbxSession],
    *,
    limiter: FailureLimiter | None = None,
) -> list[BaseRoute]:
    """The recording and click-to-call routes over ``sessions`` (PBX name -> session; a live
    mapping, such as ``run``'s scheduler's: a PBX not in it is not served).

    Example: ``Starlette(routes=web_routes(db, vault, {pbx.name: PbxSession(db, vault, pbx)}))``
    """
    web = _Web(db, vault, sessions, limiter or FailureLimiter(), vault.derived_keys(PURPOSE))
    return [
        Route("/recordings/{pbx}/{recording_id}", web.recording, methods=["GET"]),
        Route("/webapi/{key}/makecall", web.makecall_get, methods=["GET"]),
        Route("/api/pbx/{name}/calls", web.calls_post, methods=["POST"]),
    ]
