"""Fixtures for the Call Control tests: a real emulator on loopback (HTTP and WebSocket), a route
point API client, and a driver for the emulator's loopback control routes (the phones)."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest
import uvicorn

from py3cx.emulator import ApiClient, EmulatorConfig, create_app

ROUTE_POINT = ApiClient("8000", "rp-s3cret-value-0001", "SystemOwner")
OWNER = ApiClient("owner", "owner-s3cret-value-01", "SystemOwner")


@dataclass
class Emulator:
    url: str
    app: Any

    @property
    def state(self) -> Any:
        return self.app.state.emulator


@contextmanager
def serve_emulator(cfg: EmulatorConfig) -> Iterator[Emulator]:
    """The emulator app under uvicorn on a free loopback port, with WebSockets on.

    `py3cx.emulator.running_emulator` starts uvicorn with `ws="none"` today, so the event socket
    cannot be reached through it; this runner differs only in that.
    """
    app = create_app(cfg)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, ws="websockets-sansio", lifespan="on", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    try:
        for _ in range(3000):
            if server.started or not thread.is_alive():
                break
            threading.Event().wait(0.01)
        assert server.started, "the emulator did not start"
        yield Emulator(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        app.state.emulator.close()


class Phones:
    """Drives the emulator's `/_emulator/callcontrol` routes: the phones and the outside world."""

    def __init__(self, url: str) -> None:
        self.http = httpx2.Client(base_url=url, timeout=10)

    def _get(self, path: str, **params: str) -> Any:
        response = self.http.get("/_emulator/callcontrol" + path, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def _post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.http.post("/_emulator/callcontrol" + path, json=body or {})
        assert response.status_code == 200, response.text
        return response.json()

    def call(self, source: str, destination: str, *, auto: bool = False) -> dict[str, Any]:
        return self._post("/calls", {"from": source, "to": destination, "auto": auto})  # type: ignore[no-any-return]

    def answer(self, callid: int, dn: str | None = None) -> dict[str, Any]:
        return self._post(f"/calls/{callid}/answer", {"dn": dn} if dn else {})  # type: ignore[no-any-return]

    def end(self, callid: int) -> dict[str, Any]:
        return self._post(f"/calls/{callid}/end")  # type: ignore[no-any-return]

    def end_all(self) -> None:
        """Hang up every live call (a call that ends by itself meanwhile is fine)."""
        for call in self.calls()["active"]:
            response = self.http.post(f"/_emulator/callcontrol/calls/{call['callid']}/end")
            assert response.status_code in (200, 404), response.text

    def transfer(self, callid: int, destination: str) -> dict[str, Any]:
        return self._post(f"/calls/{callid}/transfer", {"to": destination})  # type: ignore[no-any-return]

    def dtmf(self, participant_id: int, digits: str) -> None:
        self._post(f"/participants/{participant_id}/dtmf", {"digits": digits})

    def settings(self, **values: Any) -> dict[str, Any]:
        return self._post("/settings", values)  # type: ignore[no-any-return]

    def drop_sockets(self) -> int:
        return int(self._post("/drop-sockets")["dropped"])

    def truth(self, route_point: str = ROUTE_POINT.client_id) -> list[dict[str, Any]]:
        return self._get("/truth", route_point=route_point)  # type: ignore[no-any-return]

    def calls(self) -> dict[str, list[dict[str, Any]]]:
        return self._get("/calls")  # type: ignore[no-any-return]

    def overview(self) -> dict[str, Any]:
        return self._get("")  # type: ignore[no-any-return]


@pytest.fixture(autouse=True)
def token_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    # tokens of these throw-away emulators stay out of the user's cache
    monkeypatch.setenv("PY3CX_CACHE_DIR", str(tmp_path_factory.mktemp("tokens")))


@pytest.fixture
def route_point() -> ApiClient:
    return ROUTE_POINT


@pytest.fixture
def owner_client() -> ApiClient:
    return OWNER


@pytest.fixture(scope="module")
def pbx() -> Iterator[Emulator]:
    cfg = EmulatorConfig(seed=5, calls=200, clients=[ROUTE_POINT, OWNER])
    with serve_emulator(cfg) as emulator:
        yield emulator


@pytest.fixture
def phones(pbx: Emulator) -> Iterator[Phones]:
    driver = Phones(pbx.url)
    # every test starts with a quiet PBX and default settings
    driver.settings(
        call_rate=0, ws_drop_every=None, event_delay=0, lose_every=0, frozen=False, finalstatus_style="string"
    )
    driver.end_all()
    yield driver
    driver.http.close()
