"""`SystemStatus` moves with the emulator, as on a PBX: `CallsActive` counts the live calls (started
by a test or by `call_rate`), `TrunksRegistered` follows `POST /_emulator/trunks/{number}`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

import py3cx
from py3cx.emulator import ApiClient, EmulatorConfig, RunningEmulator, running_emulator

OWNER = ApiClient("live-owner", "live-owner-s3cret-value", "SystemOwner")


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with running_emulator(EmulatorConfig(seed=62, calls=30, clients=[OWNER])) as emu:
        # a still picture: the seeded calls do not end between two reads of a test
        frozen = httpx2.post(f"{emu.url}/_emulator/callcontrol/settings", json={"frozen": True})
        assert frozen.status_code == 200, frozen.text
        yield emu


def _status(pbx: py3cx.Client) -> dict[str, Any]:
    status: dict[str, Any] = pbx.get("SystemStatus")
    return status


def test_calls_active_counts_the_live_calls(emulator: RunningEmulator) -> None:
    with py3cx.Client(emulator.url, OWNER.client_id, OWNER.secret) as pbx:
        before = len(pbx.get("ActiveCalls")["value"])
        assert _status(pbx)["CallsActive"] == before
        extension = pbx.get("Users", select=["Number"], top=1)["value"][0]["Number"]
        started = httpx2.post(
            f"{emulator.url}/_emulator/callcontrol/calls", json={"from": "+442079460998", "to": extension}
        )
        assert started.status_code == 200, started.text
        assert _status(pbx)["CallsActive"] == len(pbx.get("ActiveCalls")["value"]) == before + 1
        ended = httpx2.post(f"{emulator.url}/_emulator/callcontrol/calls/{started.json()['callid']}/end")
        assert ended.status_code == 200, ended.text
        assert _status(pbx)["CallsActive"] == before
        assert pbx.get("SystemStatus", select=["CallsActive"])["CallsActive"] == before


def test_trunks_registered_follows_the_control_route(emulator: RunningEmulator) -> None:
    with py3cx.Client(emulator.url, OWNER.client_id, OWNER.secret) as pbx:
        trunks = pbx.get("Trunks", select=["Number", "IsOnline"])["value"]
        online = [t["Number"] for t in trunks if t["IsOnline"]]
        assert online, "the seeded PBX has a registered trunk"
        status = _status(pbx)
        assert (status["TrunksRegistered"], status["TrunksTotal"]) == (len(online), len(trunks))
        route = f"{emulator.url}/_emulator/trunks/{online[0]}"
        assert httpx2.post(route, json={"online": False}).status_code == 204
        try:
            assert _status(pbx)["TrunksRegistered"] == len(online) - 1
            row = pbx.get("Trunks", filter=f"Number eq '{online[0]}'", select=["IsOnline"])["value"]
            assert row == [{"IsOnline": False}]
        finally:
            assert httpx2.post(route, json={"online": True}).status_code == 204
        assert _status(pbx)["TrunksRegistered"] == len(online)


@pytest.mark.parametrize(
    ("number", "body", "code", "words"),
    [
        ("10000", {"online": "no"}, 400, '{"online": false}'),
        ("10000", None, 400, '{"online": false}'),
        ("no-such-trunk", {"online": False}, 404, "no trunk no-such-trunk"),
    ],
)
def test_the_trunk_route_answers_bad_requests_clearly(
    emulator: RunningEmulator, number: str, body: object, code: int, words: str
) -> None:
    answer = httpx2.post(f"{emulator.url}/_emulator/trunks/{number}", json=body)
    assert answer.status_code == code and words in answer.json()["error"]


def test_call_rate_moves_calls_active_on_its_own() -> None:
    config = EmulatorConfig(seed=63, calls=30, clients=[OWNER], call_rate=600)
    with running_emulator(config) as emu, py3cx.Client(emu.url, OWNER.client_id, OWNER.secret) as pbx:
        seen = {_status(pbx)["CallsActive"]}
        deadline = time.monotonic() + 30  # a bound for a loaded machine, not an assertion on speed
        while len(seen) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
            seen.add(_status(pbx)["CallsActive"])
        assert len(seen) >= 3, seen
