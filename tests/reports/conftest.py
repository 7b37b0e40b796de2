"""Emulated PBXs for the report tests (real servers on loopback) and what they hold."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from py3cx import Client
from py3cx.emulator import ApiClient, EmulatorConfig, EmulatorState, FaultSpec, running_emulator
from py3cx.emulator.reports import CallData

OWNER = ApiClient("reports-owner", "reports-owner-secret", "SystemOwner")
ADMIN = ApiClient("reports-admin", "reports-admin-secret", "SystemAdmin")
ANCHOR = datetime(2025, 3, 31, 12, 0, tzinfo=timezone.utc)


@dataclass
class Pbx:
    """A running emulator, its configuration and the data it holds."""

    url: str
    config: EmulatorConfig
    state: EmulatorState

    def client(self, **options: Any) -> Client:
        """A client of the owner; retries are the export's job in these tests (no client back-off)."""
        options.setdefault("max_retries", 0)
        return Client(self.url, OWNER.client_id, OWNER.secret, **options)

    def segment_ids(self, start: datetime, end: datetime) -> list[int]:
        """CallHistoryView segments that started in [start, end): what an export must hold."""
        return [s["SegmentId"] for s in CallData(self.state).segments(start, end)]

    def days(self, count: int) -> tuple[date, date]:
        """The last ``count`` whole days before the data's anchor."""
        last = (ANCHOR - timedelta(days=1)).date()
        return last - timedelta(days=count - 1), last


def _start(cache: Path, **options: Any) -> Iterator[Pbx]:
    config = EmulatorConfig(seed=21, calls=1500, clients=[OWNER, ADMIN], now=ANCHOR, **options)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PY3CX_CACHE_DIR", str(cache))
        with running_emulator(config) as emu:
            yield Pbx(emu.url, config, emu.state)


@pytest.fixture(scope="session")
def pbx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pbx]:
    """A PBX without limits or faults."""
    yield from _start(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def slow_pbx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pbx]:
    """A PBX that answers 504 for any range over 4 days."""
    yield from _start(tmp_path_factory.mktemp("cache"), max_range_days=4)


@pytest.fixture(scope="session")
def capped_pbx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pbx]:
    """A PBX that sends at most 40 rows an answer whatever ``$top`` asks, and ignores ``$orderby``
    on CallHistoryView (rows come in the order they were written: by end time)."""
    yield from _start(tmp_path_factory.mktemp("cache"), max_page_size=40, ignore_orderby=("CallHistoryView",))


@pytest.fixture(scope="session")
def faulty_pbx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pbx]:
    """A PBX that fails about a fifth of the requests (503, 429, 504, dropped connections: what an
    export rides through; a 500 is a user error) and answers 504 over 6 days."""
    faults = FaultSpec(error_503=0.07, error_429=0.05, error_504=0.03, reset=0.05)
    yield from _start(tmp_path_factory.mktemp("cache"), max_range_days=6, faults=faults)
