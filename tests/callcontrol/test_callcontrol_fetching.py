"""Batched fetches of upserted participants: one GET per ask while quiet, one per DN or one for
everything under load, and never a request that started before the event that asked for it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from py3cx._exceptions import NotFoundError, ServiceUnavailableError
from py3cx.callcontrol.fetching import ParticipantFetcher
from py3cx.callcontrol.stream import StreamStats


class PBX:
    """Answers GETs from a dict of DN -> participants, slowly, and writes down each path."""

    def __init__(self, dns: dict[str, list[int]], delay: float = 0.02) -> None:
        self.dns = dns
        self.delay = delay
        self.paths: list[str] = []
        self.fail: Exception | None = None

    async def get(self, path: str) -> Any:
        self.paths.append(path)
        await asyncio.sleep(self.delay)
        if self.fail is not None:
            raise self.fail
        parts = path.strip("/").split("/")
        if len(parts) == 1:
            return [
                {"dn": dn, "participants": [{"id": i, "dn": dn} for i in ids]} for dn, ids in self.dns.items()
            ]
        if parts[1] not in self.dns:
            raise NotFoundError("gone", status_code=404)
        if len(parts) == 3:
            return [{"id": i, "dn": parts[1]} for i in self.dns[parts[1]]]
        if int(parts[3]) not in self.dns[parts[1]]:
            raise NotFoundError("gone", status_code=404)
        return {"id": int(parts[3]), "dn": parts[1]}


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_a_lone_ask_gets_the_participants_own_path() -> None:
    async def scenario() -> None:
        pbx = PBX({"100": [7]})
        fetcher = ParticipantFetcher(pbx.get, asyncio.Semaphore(8))
        assert await fetcher.fetch("100", 7) == {"id": 7, "dn": "100"}
        assert await fetcher.fetch("100", 8) is None  # 404: gone
        assert pbx.paths == ["/callcontrol/100/participants/7", "/callcontrol/100/participants/8"]

    run(scenario())


def test_asks_made_during_a_round_share_the_next_request() -> None:
    async def scenario() -> None:
        pbx = PBX({"100": [1, 2, 3], "101": [4]})
        stats = StreamStats()
        fetcher = ParticipantFetcher(pbx.get, asyncio.Semaphore(8), stats, rounds=1)
        first = asyncio.ensure_future(fetcher.fetch("100", 1))
        await asyncio.sleep(0.005)  # the first round is on the way now
        later = await asyncio.gather(
            fetcher.fetch("100", 2), fetcher.fetch("100", 3), fetcher.fetch("100", 9)
        )
        assert (await first)["id"] == 1
        assert [x["id"] if x else None for x in later] == [2, 3, None]
        assert pbx.paths == ["/callcontrol/100/participants/1", "/callcontrol/100/participants"]
        assert (stats.fetches, stats.batched) == (2, 3)

    run(scenario())


def test_asks_on_many_dns_are_answered_by_one_full_load() -> None:
    async def scenario() -> None:
        pbx = PBX({str(100 + n): [n] for n in range(8)})
        fetcher = ParticipantFetcher(pbx.get, asyncio.Semaphore(8), wide_at=6, rounds=1)
        blocker = asyncio.ensure_future(fetcher.fetch("100", 0))
        await asyncio.sleep(0.005)
        answers = await asyncio.gather(*(fetcher.fetch(str(100 + n), n) for n in range(8)))
        await blocker
        assert [a["id"] for a in answers] == list(range(8))
        assert pbx.paths[1:] == ["/callcontrol"]

    run(scenario())


def test_a_failed_request_fails_every_ask_it_would_have_answered() -> None:
    async def scenario() -> None:
        pbx = PBX({"100": [1, 2]})
        pbx.fail = ServiceUnavailableError("busy", status_code=503)
        fetcher = ParticipantFetcher(pbx.get, asyncio.Semaphore(8))
        results = await asyncio.gather(
            fetcher.fetch("100", 1), fetcher.fetch("100", 2), return_exceptions=True
        )
        assert all(isinstance(r, ServiceUnavailableError) for r in results)

    run(scenario())


def test_rounds_overlap_up_to_the_limit() -> None:
    async def scenario() -> None:
        pbx = PBX({"100": [1], "101": [2], "102": [3]}, delay=0.05)
        fetcher = ParticipantFetcher(pbx.get, asyncio.Semaphore(8), rounds=3)
        started = asyncio.get_running_loop().time()
        asks = []
        for dn, pid in (("100", 1), ("101", 2), ("102", 3)):
            asks.append(asyncio.ensure_future(fetcher.fetch(dn, pid)))
            await asyncio.sleep(0.001)
        await asyncio.gather(*asks)
        assert len(pbx.paths) == 3 and asyncio.get_running_loop().time() - started < 0.1

    run(scenario())


@pytest.mark.parametrize("rounds", [1, 3])
def test_every_ask_is_answered_whatever_the_load(rounds: int) -> None:
    async def scenario() -> None:
        pbx = PBX({str(100 + d): list(range(d * 10, d * 10 + 10)) for d in range(10)}, delay=0.003)
        fetcher = ParticipantFetcher(pbx.get, asyncio.Semaphore(4), rounds=rounds)
        asks = [(str(100 + d), d * 10 + k) for d in range(10) for k in range(12)]
        answers = await asyncio.gather(*(fetcher.fetch(dn, pid) for dn, pid in asks))
        assert [a is not None for a in answers] == [k < 10 for _ in range(10) for k in range(12)]
        assert len(pbx.paths) < len(asks) / 4

    run(scenario())
