"""Fetching the states that upserts name, in as few requests as the load allows.

An upsert only says *which* participant changed; its state has to be fetched. One GET per upsert
is what the 3CX examples do, and it is what this does while events are few. Under load that
would be a request per event for both the PBX and us, so asks are gathered in rounds:

- a round answers every ask that arrived since the last round started; up to `rounds` rounds run
  at once, so a slow round does not hold back the asks behind it;
- one ask: `GET /callcontrol/{dn}/participants/{id}`; several on one DN: that DN's participant
  list; several DNs: one list per DN in parallel, or, from `wide_at` DNs on and when it is cheaper
  (a request costs about as much as `PER_REQUEST` participants in a reply), one `GET /callcontrol`.

Correctness rule: a request must start *after* the event that asked for it, or it could return a
state older than the event. Rounds guarantee it: an ask never joins a request already on the way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from py3cx._exceptions import NotFoundError
from py3cx.callcontrol.paths import ROOT, participant_path

__all__ = ["ParticipantFetcher"]

Key = tuple[str, int]
PER_REQUEST = 50  # participants whose JSON costs about one request's overhead (both sides)


class ParticipantFetcher:
    """Answers `fetch(dn, id)` with the participant's wire state, or None once it is gone.

    `stats`, when given, counts requests in `.fetches` and answers that shared one in `.batched`.
    Example: `await ParticipantFetcher(client.get, asyncio.Semaphore(32)).fetch("100", 7)`
    """

    def __init__(
        self,
        get: Callable[[str], Awaitable[Any]],
        limit: asyncio.Semaphore,
        stats: Any = None,
        *,
        wide_at: int = 6,
        rounds: int = 3,
        sizes: Callable[[], dict[str, int]] | None = None,
    ) -> None:
        self._get = get
        self._limit = limit
        self.stats = stats
        self.wide_at = wide_at
        self.rounds = rounds
        self.sizes = sizes  # participants per DN now (the cache's view), to price the two ways
        self._asks: dict[Key, list[asyncio.Future[Any]]] = {}
        self._tasks: set[asyncio.Future[None]] = set()

    async def fetch(self, dn: str, participant_id: int) -> Any:
        """The participant's state as JSON, or None when the PBX no longer has it.

        Raises APIError for any other failure of the request that would have answered it.
        """
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._asks.setdefault((dn, participant_id), []).append(future)
        if len(self._tasks) < self.rounds:
            task = asyncio.ensure_future(self._serve())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    def cancel(self) -> None:
        """Stop the rounds on the way (the stream is closing)."""
        for task in list(self._tasks):
            task.cancel()
        self._asks.clear()

    async def _serve(self) -> None:
        while self._asks:
            asks, self._asks = self._asks, {}
            try:
                answers = await self._round(list(asks))
            except Exception as exc:  # every lane of the round learns of it
                for futures in asks.values():
                    for future in futures:
                        if not future.done():
                            future.set_exception(exc)
                continue
            for key, futures in asks.items():
                for future in futures:
                    if not future.done():
                        future.set_result(answers.get(key))

    async def _request(self, path: str, shared_by: int) -> Any:
        async with self._limit:
            if self.stats is not None:
                self.stats.fetches += 1
                if shared_by > 1:
                    self.stats.batched += shared_by
            try:
                return await self._get(path)
            except NotFoundError:
                return None

    async def _round(self, keys: list[Key]) -> dict[Key, Any]:
        by_dn: dict[str, list[int]] = {}
        for dn, participant_id in keys:
            by_dn.setdefault(dn, []).append(participant_id)
        if len(by_dn) >= self.wide_at and self._everything_is_cheaper(list(by_dn)):
            everything = await self._request(ROOT, len(keys))
            found = {
                (str(info.get("dn")), item.get("id")): item
                for info in everything or []
                if isinstance(info, dict)
                for item in info.get("participants") or []
                if isinstance(item, dict)
            }
            return {key: found[key] for key in keys if key in found}
        parts = await asyncio.gather(*(self._one_dn(dn, ids) for dn, ids in by_dn.items()))
        return {key: value for part in parts for key, value in part.items()}

    def _everything_is_cheaper(self, dns: list[str]) -> bool:
        if self.sizes is None:
            return True
        sizes = self.sizes()
        one_per_dn = sum(PER_REQUEST + sizes.get(dn, 0) for dn in dns)
        return PER_REQUEST + sum(sizes.values()) <= one_per_dn

    async def _one_dn(self, dn: str, participant_ids: list[int]) -> dict[Key, Any]:
        if len(participant_ids) == 1:
            state = await self._request(participant_path(dn, participant_ids[0]), 1)
            return {} if state is None else {(dn, participant_ids[0]): state}
        listed = await self._request(participant_path(dn), len(participant_ids))
        found = {item.get("id"): item for item in listed or [] if isinstance(item, dict)}
        return {(dn, pid): found[pid] for pid in participant_ids if pid in found}
