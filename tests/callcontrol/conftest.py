"""Fixtures for the Call Control tests: a real emulator on loopback (HTTP and WebSocket), a route
point API client, and a driver for the emulator's loopback control routes (the phones)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from py3cx.emulator import ApiClient, EmulatorConfig, RunningEmulator, running_emulator

ROUTE_POINT = ApiClient("8000", "rp-s3cret-value-0001", "SystemOwner")
OWNER = ApiClient("owner", "owner-s3cret-value-01", "SystemOwner")


Emulator = RunningEmulator


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
    with running_emulator(cfg) as emulator:
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
