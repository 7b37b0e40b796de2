"""Fixtures for the wallboard tests: the emulator and the wallboard as real servers on loopback,
and Debian's Chromium driven by Playwright (never `playwright install`)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import httpx2
import pytest

import py3cx
from py3cx.emulator import ApiClient, EmulatorConfig, running_emulator
from py3cx.emulator.server import serving
from py3cx.wallboard import create_app as create_wallboard

ROUTE_POINT = ApiClient("8000", "rp-s3cret-value-0002", "SystemOwner")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def serve(app: Any) -> AbstractContextManager[str]:
    """The wallboard app under uvicorn on a free loopback port; yields its URL."""
    return serving(app, ws="websockets-sansio", lifespan="on", log_level="warning", access_log=False)


@pytest.fixture(scope="module")
def tokens(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    old = os.environ.get("PY3CX_CACHE_DIR")
    os.environ["PY3CX_CACHE_DIR"] = str(tmp_path_factory.mktemp("tokens"))
    yield
    if old is None:
        os.environ.pop("PY3CX_CACHE_DIR", None)
    else:
        os.environ["PY3CX_CACHE_DIR"] = old


@pytest.fixture(scope="module")
def pbx(tokens: None) -> Iterator[str]:
    with running_emulator(EmulatorConfig(seed=9, calls=100, clients=[ROUTE_POINT])) as emulator:
        yield emulator.url


@pytest.fixture(scope="module")
def wallboard(pbx: str) -> Iterator[str]:
    app = create_wallboard(lambda: py3cx.AsyncClient(pbx, ROUTE_POINT.client_id, ROUTE_POINT.secret))
    with serve(app) as url:
        yield url


class Phones:
    """The emulator's control routes: start, answer and end calls on the emulated phones."""

    def __init__(self, url: str) -> None:
        self.http = httpx2.Client(base_url=url + "/_emulator/callcontrol/", timeout=10)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.http.post(path, json=body or {})
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def phones(pbx: str) -> Iterator[Phones]:
    driver = Phones(pbx)
    yield driver
    driver.http.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("PY3CX_REQUIRE_BROWSER"):
            pytest.fail(f"Debian's chromium is missing at {CHROMIUM}: apt-get install -y chromium")
        pytest.skip(f"no browser at {CHROMIUM} (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def start_wallboard(pbx: str) -> Callable[[], AbstractContextManager[str]]:
    """Starts a wallboard of its own (the module's one may have started long before); yields its URL."""

    def start() -> AbstractContextManager[str]:
        factory = lambda: py3cx.AsyncClient(pbx, ROUTE_POINT.client_id, ROUTE_POINT.secret)  # noqa: E731
        return serve(create_wallboard(factory))

    return start


@pytest.fixture
def pbx_client(pbx: str) -> Iterator[py3cx.Client]:
    """The route point's sync client, for reading what the PBX says (ActiveCalls, reports)."""
    with py3cx.Client(pbx, ROUTE_POINT.client_id, ROUTE_POINT.secret) as client:
        yield client
