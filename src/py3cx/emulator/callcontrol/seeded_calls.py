"""The seeded live calls move: a PBX's ``ActiveCalls`` never sit still for an hour.

The emulator starts with a few calls in progress (``synthetic.seed_live``: talking, ringing,
routing). Once the server runs, each one moves on the way a simulated call does: ``Routing`` →
``Ringing`` after half a ring period, ``Ringing`` → ``Talking`` after a ring period, and the row is
gone after a talk period (``ring_seconds`` and ``talk_seconds`` of the Call Control settings).

Each call draws once where in those ranges it falls, and the wait is measured against the
*current* settings, so changing them (``/_emulator/callcontrol/settings``) applies at once;
``frozen`` stops the clock for them too. They are not on the switchboard: they raise no Call
Control events and leave no call history (they began before the emulator's history ends).
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from py3cx.emulator.callcontrol.settings import CallControlSettings
from py3cx.emulator.store import datetime_to_storage

__all__ = ["SeededCallMover"]

_NEXT = {"Routing": "Ringing", "Ringing": "Talking", "Talking": None}


@dataclass
class _Progress:
    status: str
    since: float  # loop time of the last change
    share: float  # where in the settings' range this call's wait falls, drawn once


class SeededCallMover:
    """Moves the seeded ``ActiveCalls`` rows along until each has ended.

    Example: ``state.background.append(SeededCallMover(state, settings, random.Random(1)).run)``.
    """

    def __init__(self, state: Any, settings: CallControlSettings, rng: random.Random) -> None:
        self.state = state
        self.settings = settings
        self.rng = rng
        self.calls: dict[int, _Progress] = {}

    def _wait(self, progress: _Progress) -> float:
        low, high = self.settings.talk_seconds if progress.status == "Talking" else self.settings.ring_seconds
        wait = low + progress.share * (high - low)
        return wait / 2 if progress.status == "Routing" else wait

    def _load(self, now: float) -> None:
        table = self.state.tables["ActiveCalls"].table
        with self.state.engine.connect() as conn:
            rows = conn.execute(sa.select(table.c.Id, table.c.Status).order_by(table.c.Id)).all()
        self.calls = {
            int(call_id): _Progress(str(status), now, self.rng.random())
            for call_id, status in rows
            if status in _NEXT
        }

    def _step(self, call_id: int, progress: _Progress, now: float) -> None:
        table = self.state.tables["ActiveCalls"].table
        following = _NEXT[progress.status]
        with self.state.lock, self.state.engine.begin() as conn:
            where = table.c.Id == call_id
            if following is None:
                changed = conn.execute(sa.delete(table).where(where)).rowcount
            else:
                stamp = datetime_to_storage(self.state.now())
                changed = conn.execute(
                    sa.update(table).where(where).values(Status=following, LastChangeStatus=stamp)
                ).rowcount
        if following is None or not changed:  # ended, or dropped meanwhile (Pbx.DropCall)
            del self.calls[call_id]
        else:
            progress.status, progress.since = following, now

    async def run(self, tick: float = 0.05) -> None:
        """Move the seeded calls until none is left (the server's lifespan owns this task)."""
        loop = asyncio.get_running_loop()
        self._load(loop.time())
        while self.calls:
            await asyncio.sleep(tick)
            now = loop.time()
            for call_id, progress in list(self.calls.items()):
                if self.settings.frozen:
                    progress.since += tick  # time stands still for calls
                elif now - progress.since >= self._wait(progress):
                    self._step(call_id, progress, now)
