"""The extension hook: modules listed in ``extensions.EXTENSIONS`` add routes, functions and tasks."""

from __future__ import annotations

import time

import httpx2
import pytest

from py3cx.emulator import extensions, registry, running_emulator

from . import sample_extension
from .emulator_harness import OWNER, config, make_pbx


@pytest.fixture
def with_sample_extension(monkeypatch: pytest.MonkeyPatch) -> object:
    previous = registry.lookup("SystemStatus", "Pbx.GetRemoteAccessStatus")
    monkeypatch.setattr(extensions, "EXTENSIONS", [*extensions.EXTENSIONS, sample_extension.__name__])
    yield
    registry.restore("SystemStatus", "Pbx.GetRemoteAccessStatus", previous)


def test_an_extension_adds_routes_and_functions(with_sample_extension: object) -> None:
    pbx = make_pbx(seed=31)
    try:
        assert pbx.request("GET", "/_emulator/sample").json() == {"seed": 31}
        body = pbx.get("SystemStatus/Pbx.GetRemoteAccessStatus()").json()
        assert body["value"] == f"granted to client:{OWNER.client_id}"
    finally:
        pbx.close()


def test_background_tasks_of_extensions_run_while_the_server_runs(with_sample_extension: object) -> None:
    sample_extension.TICKS.clear()
    with running_emulator(config(calls=10)) as emu:
        deadline = time.monotonic() + 3
        while len(sample_extension.TICKS) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(sample_extension.TICKS) >= 3
        assert httpx2.get(emu.url + "/_emulator/sample").json()["seed"] == 7
    stopped_at = len(sample_extension.TICKS)
    time.sleep(0.05)
    assert len(sample_extension.TICKS) == stopped_at, "tasks are cancelled on shutdown"
