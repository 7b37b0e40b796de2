"""The seeded ActiveCalls move and end like simulated calls, so `calls active --watch` shows change."""

from __future__ import annotations

import time

import httpx2

import py3cx
from py3cx.emulator import EmulatorConfig, running_emulator


def _statuses(client: py3cx.Client) -> dict[int, str]:
    return {row["Id"]: row["Status"] for row in client.get("ActiveCalls")["value"]}


def test_seeded_live_calls_ring_then_talk_then_end() -> None:
    with running_emulator(EmulatorConfig(calls=10)) as emu:
        owner = emu.config.clients[0]
        with py3cx.Client(emu.url, owner.client_id, owner.secret) as client:
            first = _statuses(client)
            assert {"Talking", "Ringing", "Routing"} <= set(first.values())
            settings = {"ring_seconds": [0.2, 0.4], "talk_seconds": [0.6, 1.0]}
            assert httpx2.post(f"{emu.url}/_emulator/callcontrol/settings", json=settings).status_code == 200
            seen: dict[int, list[str]] = {call_id: [status] for call_id, status in first.items()}
            deadline = time.monotonic() + 20
            while (now := _statuses(client)) and time.monotonic() < deadline:
                for call_id, status in now.items():
                    if seen[call_id][-1] != status:
                        seen[call_id].append(status)
                time.sleep(0.05)
            assert now == {}, f"still live after 20 s: {now}"
    # a call seeded while routing rang, and every ringing one was answered, before it ended
    assert all(history[-1] == "Talking" for history in seen.values()), seen
    assert any(history[:2] == ["Routing", "Ringing"] for history in seen.values()), seen


def test_frozen_time_holds_the_seeded_calls() -> None:
    with running_emulator(EmulatorConfig(calls=10)) as emu:
        owner = emu.config.clients[0]
        control = f"{emu.url}/_emulator/callcontrol/settings"
        fast = {"frozen": True, "ring_seconds": [0.05, 0.1], "talk_seconds": [0.1, 0.2]}
        assert httpx2.post(control, json=fast).status_code == 200
        with py3cx.Client(emu.url, owner.client_id, owner.secret) as client:
            before = _statuses(client)
            time.sleep(1.0)
            assert _statuses(client) == before
            assert httpx2.post(control, json={"frozen": False}).status_code == 200
            deadline = time.monotonic() + 10
            while _statuses(client) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert _statuses(client) == {}
