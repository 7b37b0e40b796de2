"""An in-process emulator for the XAPI tests: ``AsyncClient`` over ``httpx2.ASGITransport``.

Each test runs one ``async`` scenario with ``asyncio.run``; the client talks HTTP to the
emulator's ASGI app, so the whole stack below ``client.xapi`` is the real one.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any, TypeVar

import httpx2
from starlette.applications import Starlette

from py3cx import AsyncClient
from py3cx.emulator import ApiClient, EmulatorConfig, create_app

ANCHOR = datetime(2025, 3, 15, 12, 0, tzinfo=timezone.utc)
OWNER = ApiClient("owner", "owner-secret", "SystemOwner")
ADMIN = ApiClient("admin", "admin-secret", "SystemAdmin")

T = TypeVar("T")


def emulator_app(**overrides: Any) -> Starlette:
    """A small emulated PBX (fixed seed and date, known credentials)."""
    options: dict[str, Any] = {"seed": 7, "calls": 120, "now": ANCHOR, "clients": [OWNER, ADMIN]}
    options.update(overrides)
    return create_app(EmulatorConfig(**options))


def xapi_requests(app: Starlette) -> int:
    """How many XAPI requests the emulator has answered so far."""
    return int(app.state.emulator.stats.xapi_requests)


def run(app: Starlette, scenario: Callable[[AsyncClient], Awaitable[T]], client: ApiClient = OWNER) -> T:
    """Run ``scenario(client)`` with an ``AsyncClient`` connected to ``app``."""

    async def main() -> T:
        # A URL of its own per run: the token cache is keyed by PBX URL and client id.
        url = f"http://pbx-{uuid.uuid4().hex[:10]}.test"
        transport = httpx2.ASGITransport(app=app)
        async with AsyncClient(url, client.client_id, client.secret, transport=transport) as pbx:
            return await scenario(pbx)

    return asyncio.run(main())


class ConnectedClient:
    """One ``AsyncClient`` on one event loop, kept across tests (the operation walk makes 601
    calls; a client and a token per call would only measure the token endpoint)."""

    def __init__(self, app: Starlette, client: ApiClient = OWNER) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        url = f"http://pbx-{uuid.uuid4().hex[:10]}.test"
        self.client = AsyncClient(
            url, client.client_id, client.secret, transport=httpx2.ASGITransport(app=app)
        )

    def run(self, scenario: Callable[[AsyncClient], Awaitable[T]]) -> T:
        """Run ``scenario(client)`` to the end on the kept loop."""
        return self.loop.run_until_complete(scenario(self.client))

    def close(self) -> None:
        self.loop.run_until_complete(self.client.close())
        self.loop.close()
