"""The emulator answers concurrent clients concurrently (reads in worker threads, WAL), and its
writes stay consistent. Measured at the server: how many XAPI handlers ran at the same moment."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx2
import pytest

from py3cx.emulator import EmulatorConfig, RunningEmulator, running_emulator


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with running_emulator(EmulatorConfig(seed=5, calls=3000)) as running:
        yield running


def _token(emulator: RunningEmulator) -> str:
    owner = emulator.config.clients[0]
    answer = httpx2.post(
        f"{emulator.url}/connect/token",
        data={
            "grant_type": "client_credentials",
            "client_id": owner.client_id,
            "client_secret": owner.secret,
        },
    )
    return str(answer.json()["access_token"])


def _stats(emulator: RunningEmulator) -> dict[str, object]:
    return dict(httpx2.get(f"{emulator.url}/_emulator/stats").json())


def test_reads_from_several_clients_are_answered_at_the_same_time(emulator: RunningEmulator) -> None:
    headers = {"Authorization": f"Bearer {_token(emulator)}"}
    assert httpx2.post(f"{emulator.url}/_emulator/reset-stats").status_code in (200, 204)
    url = f"{emulator.url}/xapi/v1/CallHistoryView?$top=3000&$orderby=SegmentStartTime desc"

    def read(_: int) -> int:
        with httpx2.Client(headers=headers, timeout=60) as client:
            return sum(len(client.get(url).json()["value"]) for _ in range(4))

    with ThreadPoolExecutor(6) as pool:
        rows = list(pool.map(read, range(6)))
    assert all(n > 0 for n in rows)
    # one request at a time (the old synchronous handlers on the event loop) gives exactly 1
    assert int(str(_stats(emulator)["most_requests_in_flight"])) >= 2


def test_concurrent_creates_get_distinct_numbers_and_ids(emulator: RunningEmulator) -> None:
    headers = {"Authorization": f"Bearer {_token(emulator)}"}

    def create(i: int) -> tuple[int, str]:
        with httpx2.Client(headers=headers, timeout=60) as client:
            answer = client.post(f"{emulator.url}/xapi/v1/Users", json={"FirstName": f"Load{i}"})
            assert answer.status_code == 201, answer.text
            body = answer.json()
            return int(body["Id"]), str(body["Number"])

    with ThreadPoolExecutor(8) as pool:
        created = list(pool.map(create, range(24)))
    assert len({i for i, _ in created}) == len({n for _, n in created}) == 24
