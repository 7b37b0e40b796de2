"""The emulator test harness: the ASGI app driven by ``httpx2.AsyncClient`` through a small
synchronous face, so that tests read top to bottom."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timezone
from typing import Any

import httpx2
from starlette.applications import Starlette

from py3cx.emulator import ApiClient, EmulatorConfig, WebUser, create_app

ANCHOR = datetime(2025, 3, 20, 12, 0, tzinfo=timezone.utc)
OWNER = ApiClient("owner", "owner-secret", "SystemOwner")
ADMIN = ApiClient("admin", "admin-secret", "SystemAdmin")
WEB_USER = WebUser("jane@example.com", "pa55word", "SystemOwner")


def instant(text: str) -> datetime:
    """An aware datetime from wire (``...T10:00:02.43Z``) or storage (``... 10:00:02.430000``) text.

    Written here (not the client's parser) so the emulator is checked independently; pads the
    fraction because ``fromisoformat`` on Python 3.10 wants 3 or 6 digits.
    """
    text = text.replace(" ", "T").replace("Z", "+00:00")
    text = re.sub(r"\.(\d{1,6})\d*(?=[+-]|$)", lambda m: "." + m.group(1).ljust(6, "0"), text)
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def config(**overrides: Any) -> EmulatorConfig:
    """A small emulator anchored on a fixed date, with known credentials."""
    values: dict[str, Any] = {
        "seed": 7,
        "calls": 300,
        "clients": [OWNER, ADMIN],
        "users": [WEB_USER],
        "now": ANCHOR,
    }
    values.update(overrides)
    return EmulatorConfig(**values)


class Pbx:
    """A synchronous face over ``httpx2.AsyncClient(transport=ASGITransport(app))``."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.client = httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://pbx.test")
        self._tokens: dict[str, str] = {}

    @property
    def state(self) -> Any:
        return self.app.state.emulator

    def request(self, method: str, url: str, **kwargs: Any) -> httpx2.Response:
        return self.loop.run_until_complete(self.client.request(method, url, **kwargs))

    def token_response(self, client: ApiClient = OWNER, secret: str | None = None) -> httpx2.Response:
        data = {
            "client_id": client.client_id,
            "client_secret": client.secret if secret is None else secret,
            "grant_type": "client_credentials",
        }
        return self.request("POST", "/connect/token", data=data)

    def token(self, client: ApiClient = OWNER) -> str:
        response = self.token_response(client)
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        self._tokens[client.client_id] = token
        return token

    def xapi(
        self, method: str, path: str, *, client: ApiClient = OWNER, token: str | None = None, **kwargs: Any
    ) -> httpx2.Response:
        if token is None:
            token = self._tokens.get(client.client_id) or self.token(client)
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        return self.request(method, "/xapi/v1/" + path.lstrip("/"), headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx2.Response:
        return self.xapi("GET", path, **kwargs)

    def value(self, path: str, **kwargs: Any) -> list[dict[str, Any]]:
        response = self.get(path, **kwargs)
        assert response.status_code == 200, response.text
        rows: list[dict[str, Any]] = response.json()["value"]
        return rows

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()
        self.state.close()


def make_pbx(**overrides: Any) -> Pbx:
    return Pbx(create_app(config(**overrides)))
