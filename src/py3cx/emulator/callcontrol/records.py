"""Simulated calls in the XAPI tables: live ones in `ActiveCalls`, ended ones in `_calls` and
`CallHistoryView` (so the reports, computed from `_calls`, count them too).

Writes are batched: a busy simulator changes calls hundreds of times a second, and one SQLite
transaction per change would stall the event loop. Changes are flushed 0.2 s after the first
pending one (or at once when no event loop runs, or when `flush()` is called).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from py3cx.emulator.callcontrol.switchboard import Call, Party
from py3cx.emulator.synthetic import (
    ACTION_CALLER_HUNG_UP,
    ACTION_ENDED,
    ACTION_PASSED_ON,
    DN_EXTENSION,
    DN_EXTERNAL,
    DN_QUEUE,
    SEGMENT_RING,
    SEGMENT_TALK,
    TRUNK_DN,
)

__all__ = ["CallRecorder"]

_DN_TYPES = {"Wextension": DN_EXTENSION, "Wqueue": DN_QUEUE, "Wroutepoint": DN_EXTENSION}
_DID = "+442079460000"
FLUSH_AFTER = 0.2


@functools.lru_cache(maxsize=4096)
def _second(whole: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(whole))


def _stamp(epoch: float) -> str:
    """Epoch seconds in the store's UTC text form (`2025-03-01 10:00:02.437000`)."""
    whole = int(epoch)
    return f"{_second(whole)}.{int((epoch - whole) * 1_000_000):06d}"


def _label(party: Party) -> str:
    return f"{party.number} {party.name}".strip() if party.dn else party.number


def _party_columns(prefix: str, party: Party, participant_id: int) -> dict[str, Any]:
    external = party.dn is None
    name = party.name or None
    return {
        f"{prefix}Dn": TRUNK_DN if external else party.number,
        f"{prefix}DnType": DN_EXTERNAL if external else _DN_TYPES.get(party.dn_type, DN_EXTENSION),
        f"{prefix}CallerNumber": party.number,
        f"{prefix}DisplayName": name,
        f"{prefix}ExtendedDisplayName": f"{name} ({party.number})" if name else party.number,
        f"{prefix}External": external,
        f"{prefix}Internal": not external,
        f"{prefix}Id": 0 if external else int(party.number) if party.number.isdigit() else 0,
        f"{prefix}ParticipantId": participant_id,
    }


_ACTIVE_COLUMNS = ("Id", "Caller", "Callee", "Status", "EstablishedAt", "LastChangeStatus", "ServerNow")
_CALL_COLUMNS = (
    "call_id", "start_time", "end_time", "direction", "caller_number", "caller_name", "caller_dn",
    "callee_number", "callee_dn", "did", "trunk_dn", "queue_dn", "polled_agents", "answered_by",
    "ring_seconds", "wait_seconds", "talk_seconds", "answered", "abandoned", "segment_first", "segment_count",
)  # fmt: skip


def _insert(conn: Any, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    if rows:
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        conn.exec_driver_sql(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)


class CallRecorder:
    """A `CallObserver` that keeps the XAPI call tables in step with the switchboard.

    Example: `switchboard.observers.append(CallRecorder(emulator_state, switchboard.dns))`
    """

    def __init__(self, state: Any, dns: dict[str, Any]) -> None:
        self.state = state
        self.dns = dns
        self._active: dict[int, tuple[Call, float] | None] = {}  # None: delete the row
        self._ended: list[Call] = []
        self._timer: asyncio.TimerHandle | None = None
        with state.engine.connect() as conn:
            calls = state.calls
            # the first id free in the call log: the switchboard numbers its calls from here
            self.first_call_id = (conn.execute(sa.select(sa.func.max(calls.c.call_id))).scalar() or 0) + 1
            history = state.tables.get("CallHistoryView")
            top = conn.execute(sa.select(sa.func.max(history.table.c.SegmentId))).scalar() if history else 0
            self._next_segment = (top or 0) + 1
        self.recorded = 0

    # -- observer ---------------------------------------------------------------------------------

    def call_changed(self, call: Call) -> None:
        # the row is built at flush time: a call changing five times between flushes is written once
        self._active[call.callid] = (call, time.time())
        self._schedule()

    @staticmethod
    def _active_row(call: Call, changed_at: float) -> tuple[Any, ...]:
        if call.answered_at is not None:
            status = "Talking"
        elif any(p.status == "Ringing" for p in call.participants.values()):
            status = "Ringing"
        else:
            status = "Routing"
        now = _stamp(changed_at)
        return (
            call.callid,
            _label(call.caller),
            _label(call.callee),
            status,
            _stamp(call.started_at),
            now,
            now,
        )

    def call_ended(self, call: Call) -> None:
        self._active[call.callid] = None
        self._ended.append(call)
        self._schedule()

    def _schedule(self) -> None:
        if self._timer is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        self._timer = loop.call_later(FLUSH_AFTER, self.flush)

    # -- writing ----------------------------------------------------------------------------------

    def flush(self) -> None:
        """Write every pending change in one transaction."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        active, self._active = self._active, {}
        ended, self._ended = self._ended, []
        if not active and not ended:
            return
        call_rows: list[dict[str, Any]] = []
        segment_rows: list[dict[str, Any]] = []
        for call in ended:
            call_row, segments = self._history(call)
            call_rows.append(call_row)
            segment_rows.extend(segments)
        live = [self._active_row(*change) for change in active.values() if change is not None]
        history = self.state.tables.get("CallHistoryView")
        with self.state.lock, self.state.engine.begin() as conn:
            # plain executemany: SQLAlchemy's per-row parameter handling costs more than SQLite here
            if active:
                conn.exec_driver_sql('DELETE FROM "ActiveCalls" WHERE "Id" = ?', [(c,) for c in active])
            _insert(conn, "ActiveCalls", _ACTIVE_COLUMNS, live)
            _insert(conn, "_calls", _CALL_COLUMNS, [tuple(r[c] for c in _CALL_COLUMNS) for r in call_rows])
            if history is not None and segment_rows:
                columns = list(segment_rows[0])
                _insert(
                    conn, "CallHistoryView", columns, [tuple(r[c] for c in columns) for r in segment_rows]
                )
        self.recorded += len(call_rows)

    def _history(self, call: Call) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        end = call.ended_at or call.started_at
        caller, callee = call.caller, call.callee
        direction = "inbound" if caller.dn is None else "outbound" if callee.dn is None else "internal"
        agents = [p.dn for p in call.history if call.queue and p.on_behalf_of_dn == call.queue]
        answer_at = call.answered_at
        answered_party = self._party_of(call.answered_by) if call.answered_by else None
        first_leg = call.history[0].id if call.history else 0
        segments: list[dict[str, Any]] = []

        def segment(t0: float, t1: float, dst: Party, talk: bool, action: int) -> None:
            row = {
                "SegmentId": self._next_segment,
                "SegmentStartTime": _stamp(t0),
                "SegmentEndTime": _stamp(t1),
                "CallTime": round(max(0.0, t1 - t0), 3),
                "CallAnswered": talk,
                "SegmentType": SEGMENT_TALK if talk else SEGMENT_RING,
                "SegmentActionId": action,
                **_party_columns("Src", caller, first_leg),
                **_party_columns("Dst", dst, first_leg + 1 + len(segments)),
            }
            self._next_segment += 1
            segments.append(row)

        if call.queue is not None:
            left_queue = answer_at if answer_at is not None else end
            queue_party = self._party_of(call.queue)
            action = ACTION_PASSED_ON if answer_at is not None else ACTION_CALLER_HUNG_UP
            segment(call.queue_entered_at or call.started_at, left_queue, queue_party, False, action)
            if answer_at is not None and answered_party is not None:
                segment(answer_at, end, answered_party, True, ACTION_ENDED)
        else:
            segment(call.started_at, end, answered_party or callee, answer_at is not None, ACTION_ENDED)
        ring = 0.0 if call.queue else ((answer_at or end) - call.started_at)
        wait = ((answer_at or end) - (call.queue_entered_at or call.started_at)) if call.queue else 0.0
        talk = (end - answer_at) if answer_at is not None else 0.0
        row = {
            "call_id": call.callid,  # the same id as in ActiveCalls and Call Control
            "start_time": _stamp(call.started_at),
            "end_time": _stamp(end),
            "direction": direction,
            "caller_number": caller.number,
            "caller_name": caller.name or None,
            "caller_dn": caller.dn,
            "callee_number": callee.number,
            "callee_dn": callee.dn,
            "did": _DID if direction == "inbound" else None,
            "trunk_dn": TRUNK_DN if direction != "internal" else None,
            "queue_dn": call.queue,
            "polled_agents": " ".join(agents) or None,
            "answered_by": call.answered_by if call.answered_by in self.dns else None,
            "ring_seconds": round(ring, 3),
            "wait_seconds": round(wait, 3),
            "talk_seconds": round(talk, 3),
            "answered": int(answer_at is not None),
            "abandoned": int(call.abandoned),
            "segment_first": segments[0]["SegmentId"],
            "segment_count": len(segments),
        }
        return row, segments

    def _party_of(self, number: str) -> Party:
        dn = self.dns.get(number)
        if dn is None:
            return Party(number, "Wexternalline")
        return Party(number, dn.type, dn.name, dn.number)

    def close(self) -> None:
        """Write what is pending and stop the timer."""
        with contextlib.suppress(Exception):
            self.flush()
