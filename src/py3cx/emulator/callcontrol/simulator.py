"""The call simulator: a steady flow of calls (`call_rate` per minute) that ring, connect and end
on their own, with queue callers who give up and the odd transfer.

It only decides *when*: every change goes through the `Switchboard`. Timers run on the server's
event loop (`loop.call_later`); each one first checks that its call still exists, because a
test or a Call Control client may have ended it already.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable
from typing import Any

from py3cx.emulator.callcontrol.settings import CallControlSettings
from py3cx.emulator.callcontrol.switchboard import Call, Refused, Switchboard

__all__ = ["CallSimulator"]

_EXTERNAL_PREFIXES = ("+44207946", "+38514", "+49301234", "+1212555")
_KINDS = ("Wextension", "Wqueue", "Wroutepoint")


class CallSimulator:
    """Starts simulated calls and moves them along.

    Example: `CallSimulator(switchboard, settings, random.Random(1)).start_auto_call("+4930123", "0336")`
    """

    def __init__(self, switchboard: Switchboard, settings: CallControlSettings, rng: random.Random) -> None:
        self.switchboard = switchboard
        self.settings = settings
        self.rng = rng
        self.started = 0
        self._numbers: tuple[list[str], list[str], list[str]] | None = None

    # -- scheduling -------------------------------------------------------------------------------

    def _later(self, delay: float, action: Callable[[], Any], callid: int) -> None:
        def guarded() -> None:
            if self.settings.frozen:
                asyncio.get_running_loop().call_later(0.05, guarded)  # time stands still for calls
                return
            if callid in self.switchboard.calls:
                with contextlib.suppress(Refused):  # the call moved on meanwhile (answered elsewhere)
                    action()

        asyncio.get_running_loop().call_later(max(0.0, delay), guarded)

    def _draw(self, bounds: tuple[float, float]) -> float:
        return self.rng.uniform(*bounds)

    def external_number(self) -> str:
        return self.rng.choice(_EXTERNAL_PREFIXES) + f"{self.rng.randrange(10_000):04d}"

    # -- one call ---------------------------------------------------------------------------------

    def start_auto_call(self, source: str, destination: str) -> Call:
        """Start a call that rings, connects and ends by itself. Raises Refused like `place_call`.

        Needs a running event loop (the server's).
        """
        call, _ = self.switchboard.start_call(source, destination)
        self.started += 1
        self.drive(call)
        return call

    def drive(self, call: Call) -> None:
        """Schedule the rest of a call's life from now on."""
        sb, callid = self.switchboard, call.callid
        ring = self._draw(self.settings.ring_seconds)
        if call.callee.dn is None:
            self._later(ring, lambda: self._far_end_answers(callid), callid)
        elif sb.dns[call.callee.dn].type == "Wqueue":
            patience = self._draw(self.settings.queue_wait_seconds)
            if self.rng.random() < self.settings.abandon_share:
                self._later(patience, lambda: sb.end_call(callid), callid)  # the caller gives up
            else:
                self._later(ring, lambda: self._agent_answers(callid), callid)
                # nobody free for far too long: the queue's master timeout ends the call
                self._later(patience + 10 * ring + 5, lambda: sb.end_call(callid), callid)
        elif sb.dns[call.callee.dn].type == "Wroutepoint":
            # the route point's application decides; meanwhile the caller presses keys, and
            # hangs up if nobody has routed the call after a while
            self._later(ring / 2, lambda: self._press_keys(callid), callid)
            self._later(
                self._draw(self.settings.queue_wait_seconds) + ring, lambda: self._give_up(callid), callid
            )
        elif self.rng.random() < 0.85:
            self._later(ring, lambda: self._ringing_answers(callid), callid)
        else:
            self._later(ring, lambda: sb.end_call(callid), callid)  # nobody picks up

    def _press_keys(self, callid: int) -> None:
        call = self.switchboard.calls[callid]
        for leg in list(call.participants.values()):
            if self.switchboard.dns[leg.dn].type == "Wroutepoint":
                self.switchboard.send_dtmf(leg.id, f"{self.rng.randint(1, 9)}#")
                return

    def _give_up(self, callid: int) -> None:
        if self.switchboard.calls[callid].answered_at is None:
            self.switchboard.end_call(callid)

    def _far_end_answers(self, callid: int) -> None:
        self.switchboard.answer_far_end(callid)
        self._talk(callid)

    def _ringing_answers(self, callid: int) -> None:
        call = self.switchboard.calls[callid]
        for leg in list(call.participants.values()):
            if leg.status == "Ringing" and self.switchboard.dns[leg.dn].type == "Wextension":
                self.switchboard.answer(leg.id)
                self._talk(callid)
                return

    def _agent_answers(self, callid: int) -> None:
        call = self.switchboard.calls[callid]
        for leg in list(call.participants.values()):
            if leg.status == "Ringing" and leg.on_behalf_of_dn == call.queue:
                self.switchboard.answer(leg.id)
                self._talk(callid)
                return
        # every agent is busy: look again after another ring period
        self._later(self._draw(self.settings.ring_seconds), lambda: self._agent_answers(callid), callid)

    def _talk(self, callid: int) -> None:
        talk = self._draw(self.settings.talk_seconds)
        if self.rng.random() < self.settings.transfer_share:
            self._later(talk / 2, lambda: self._transfer(callid), callid)
        self._later(talk, lambda: self.switchboard.end_call(callid), callid)

    def _transfer(self, callid: int) -> None:
        call = self.switchboard.calls[callid]
        connected = [p for p in call.participants.values() if p.status == "Connected"]
        free = [n for n in self._directory()[0] if self.switchboard.is_free(n)]
        if not connected or not free:
            return
        self.switchboard.transfer_to(connected[-1].id, self.rng.choice(free))
        self._later(self._draw(self.settings.ring_seconds), lambda: self._ringing_answers(callid), callid)

    # -- steady traffic ---------------------------------------------------------------------------

    def _directory(self) -> tuple[list[str], list[str], list[str]]:
        if self._numbers is None:
            dns = self.switchboard.dns.values()
            extensions, queues, route_points = ([d.number for d in dns if d.type == kind] for kind in _KINDS)
            self._numbers = (extensions, queues, route_points)
        return self._numbers

    def random_call(self) -> tuple[str, str]:
        """A plausible (source, destination): inbound to a queue, a user or a route point's IVR,
        outbound, or internal."""
        extensions, queues, route_points = self._directory()
        free = [n for n in extensions if self.switchboard.is_free(n)] or extensions
        roll = self.rng.random()
        if roll < 0.05 and route_points:
            return self.external_number(), self.rng.choice(route_points)
        if roll < 0.45 and queues:
            return self.external_number(), self.rng.choice(queues)
        if roll < 0.65:
            return self.external_number(), self.rng.choice(free)
        caller = self.rng.choice(free)
        if roll < 0.85:
            return caller, self.external_number()
        others = [n for n in free if n != caller] or [n for n in extensions if n != caller]
        return caller, self.rng.choice(others)

    async def run(self, tick: float = 0.02) -> None:
        """Start `call_rate` calls per minute until cancelled (the server's lifespan owns this task).

        Calls due since the rate was set are started on each tick, so high rates stay exact.
        """
        loop = asyncio.get_running_loop()
        rate, since, done = 0.0, loop.time(), 0
        while True:
            await asyncio.sleep(tick)
            if self.settings.call_rate != rate or self.settings.frozen:
                rate, since, done = self.settings.call_rate, loop.time(), 0
            if rate <= 0 or self.settings.frozen:
                continue
            due = int((loop.time() - since) * rate / 60.0) - done
            for _ in range(max(0, due)):
                done += 1
                source, destination = self.random_call()
                with contextlib.suppress(Refused):
                    self.start_auto_call(source, destination)
