"""Historical calls: the internal ``_calls`` table and the CallHistoryView segments derived from it.

Deterministic: every draw comes from the generator's ``random.Random`` in a fixed order.

``_calls`` columns (the reports of issue 4 and the call simulator of issue 5 compute from these):

====================  =====================================================================
``call_id``           INTEGER, 1..N in start order
``start_time``        TEXT, UTC ``YYYY-MM-DD HH:MM:SS.ffffff`` (storage form, see store.py)
``end_time``          TEXT, same form
``direction``         ``inbound`` / ``outbound`` / ``internal``
``caller_number``     the calling number (extension or external E.164)
``caller_name``       display name of the caller (NULL for unknown external callers)
``caller_dn``         caller's extension, NULL when external
``callee_number``     number dialled (extension, queue, ring group or external E.164)
``callee_dn``         DN that was called first (extension, queue or ring group), NULL when external
``did``               the DID an inbound call came in on, else NULL
``trunk_dn``          trunk DN used (``10000``) for external calls, else NULL
``queue_dn``          queue number when the call went through a queue, else NULL
``polled_agents``     space-separated extensions the queue rang (``"101 104"``), else NULL
``answered_by``       extension that answered (NULL when unanswered or answered externally)
``ring_seconds``      REAL, ringing before answer or give-up (direct calls)
``wait_seconds``      REAL, time waited in the queue (0 without a queue)
``talk_seconds``      REAL, 0 when unanswered
``answered``          INTEGER 0/1
``abandoned``         INTEGER 0/1: the caller hung up while waiting in a queue
``segment_first``     INTEGER, first SegmentId of the call in CallHistoryView
``segment_count``     INTEGER, how many segments the call has
====================  =====================================================================

DnType numbers in CallHistoryView follow the order of the spec's ``Pbx.PeerType`` enum
(Extension 1, Queue 2, RingGroup 3, ExternalLine 9): a guess, the PBX's numbering is not
documented. ``SegmentType`` is 1 for a talking segment and 2 for ringing/waiting;
``SegmentActionId`` is 1 (ended), 2 (passed on to the next segment) or 3 (caller hung up): guesses too.
"""

from __future__ import annotations

import operator
import queue
import random
import threading
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from .config import EmulatorConfig
from .store import EntityTable

if TYPE_CHECKING:
    from .synthetic import Person

DN_EXTENSION, DN_QUEUE, DN_RING_GROUP, DN_EXTERNAL = 1, 2, 3, 9
SEGMENT_TALK, SEGMENT_RING = 1, 2
ACTION_ENDED, ACTION_PASSED_ON, ACTION_CALLER_HUNG_UP = 1, 2, 3
TRUNK_DN = "10000"
HISTORY_DAYS = 90
_DIDS = ["+442079460000", "+442079460001", "+38514800800"]


def calls_table(metadata: sa.MetaData) -> sa.Table:
    """The internal ``_calls`` table (one row per call); columns documented in the module docstring."""
    return sa.Table(
        "_calls",
        metadata,
        sa.Column("call_id", sa.Integer, primary_key=True),
        sa.Column("start_time", sa.Text, nullable=False, index=True),
        sa.Column("end_time", sa.Text, nullable=False),
        sa.Column("direction", sa.Text, nullable=False),
        sa.Column("caller_number", sa.Text),
        sa.Column("caller_name", sa.Text),
        sa.Column("caller_dn", sa.Text),
        sa.Column("callee_number", sa.Text),
        sa.Column("callee_dn", sa.Text),
        sa.Column("did", sa.Text),
        sa.Column("trunk_dn", sa.Text),
        sa.Column("queue_dn", sa.Text),
        sa.Column("polled_agents", sa.Text),
        sa.Column("answered_by", sa.Text),
        sa.Column("ring_seconds", sa.Float, nullable=False),
        sa.Column("wait_seconds", sa.Float, nullable=False),
        sa.Column("talk_seconds", sa.Float, nullable=False),
        sa.Column("answered", sa.Integer, nullable=False),
        sa.Column("abandoned", sa.Integer, nullable=False),
        sa.Column("segment_first", sa.Integer, nullable=False),
        sa.Column("segment_count", sa.Integer, nullable=False),
    )


_EXTERNAL_PREFIXES = ("+44207946", "+38514", "+49301234", "+1212555")


def external_number(rng: random.Random) -> str:
    """A random external E.164 number (UK, Croatia, Germany, US). Example: ``external_number(rng)``."""
    draw = rng.randrange(10_000 * len(_EXTERNAL_PREFIXES))  # one draw: this runs once per call
    return f"{_EXTERNAL_PREFIXES[draw // 10_000]}{draw % 10_000:04d}"


class CallGenerator:
    """Draws ``config.calls`` calls over the 90 days before the anchor and writes ``_calls`` and
    ``CallHistoryView`` through a raw DB-API cursor (``executemany`` keeps a million rows fast).

    Example: ``CallGenerator(cfg, tables, cursor, rng, people, queue_agents, names).seed_calls()``.
    """

    def __init__(
        self,
        config: EmulatorConfig,
        tables: dict[str, EntityTable],
        conn: Any,
        rng: random.Random,
        people: list[Person],
        queue_agents: dict[str, list[Person]],
        queues: list[tuple[str, str]],
        caller_names: tuple[list[str], list[str]],
    ) -> None:
        self.config = config
        self.tables = tables
        self.conn = conn
        self.rng = rng
        self.anchor: datetime = config.anchor
        self.people = people
        self.queue_agents = queue_agents
        self._queue_numbers = [number for number, _ in queues]
        self._first_names, self._last_names = caller_names
        self._party_cache: dict[tuple[str, str], dict[str, Any]] = {}
        self._recordings = 0
        self._queue_parties = {
            number: _prefixed("Dst", _dn_party(number, name, DN_QUEUE, 900 + i))
            for i, (number, name) in enumerate(queues)
        }

    def _call_starts(self) -> list[float]:
        rng = self.rng
        end = self.anchor.timestamp()
        begin = end - HISTORY_DAYS * 86_400
        starts: list[float] = []
        for _ in range(self.config.calls):
            # mostly office hours, some evening and night traffic
            day = rng.randrange(HISTORY_DAYS)
            hour = rng.choice((8, 9, 9, 10, 10, 10, 11, 11, 12, 13, 14, 14, 15, 15, 16, 17, 19, 22))
            t = begin + day * 86_400 + hour * 3600 + rng.random() * 3600
            starts.append(round(min(t, end - 1.0), 3))
        starts.sort()
        return starts

    def seed_calls(self) -> None:
        entity = self.tables.get("CallHistoryView")
        seg_columns = list(entity.props) if entity else []
        as_row = operator.itemgetter(*seg_columns) if seg_columns else None
        # a writer thread inserts one batch while the next is generated (sqlite3 releases the GIL)
        batches: queue.Queue[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]] | None] = queue.Queue(
            maxsize=2
        )
        failures: list[BaseException] = []

        def write() -> None:
            while (batch := batches.get()) is not None:
                if not failures:
                    try:
                        self._flush(batch[0], batch[1], seg_columns)
                    except BaseException as exc:  # re-raised in the generating thread
                        failures.append(exc)

        writer = threading.Thread(target=write, name="py3cx-emulator-seed", daemon=True)
        writer.start()
        call_rows: list[tuple[Any, ...]] = []
        segment_rows: list[tuple[Any, ...]] = []
        segment_id = 1
        participant = 1000
        try:
            for call_id, start in enumerate(self._call_starts(), start=1):
                call, segments = self._one_call(call_id, start)
                first_segment = segment_id
                for seg in segments:
                    seg["SegmentId"] = segment_id
                    seg["SrcParticipantId"] = participant
                    seg["DstParticipantId"] = participant + 1
                    participant += 2
                    segment_id += 1
                    if as_row is not None:
                        segment_rows.append(as_row(seg))
                call_rows.append((*call, first_segment, len(segments)))
                if len(segment_rows) >= 20_000:
                    batches.put((call_rows, segment_rows))
                    call_rows, segment_rows = [], []
                    if failures:
                        break
            batches.put((call_rows, segment_rows))
        finally:
            batches.put(None)
            writer.join()
        if failures:
            raise failures[0]

    def _flush(
        self, calls: list[tuple[Any, ...]], segments: list[tuple[Any, ...]], seg_columns: list[str]
    ) -> None:
        if calls:
            self.conn.executemany(f"INSERT INTO _calls VALUES ({', '.join('?' * 21)})", calls)
        if segments and seg_columns:
            cols = ", ".join(f'"{c}"' for c in seg_columns)
            marks = ", ".join("?" for _ in seg_columns)
            self.conn.executemany(f'INSERT INTO "CallHistoryView" ({cols}) VALUES ({marks})', segments)

    def _party(self, side: str, person: Person) -> dict[str, Any]:
        cache_key = (side, person.number)
        party = self._party_cache.get(cache_key)
        if party is None:
            party = self._party_cache[cache_key] = _prefixed(side, _person_party(person))
        return party

    def _segment(
        self,
        begins: str,
        ends: str,
        seconds: float,
        src: dict[str, Any],
        dst: dict[str, Any],
        answered: bool,
        kind: int,
        action: int,
    ) -> dict[str, Any]:
        segment = {
            **src,
            **dst,
            "SegmentStartTime": begins,
            "SegmentEndTime": ends,
            "CallTime": seconds,
            "CallAnswered": int(answered),
            "SegmentType": kind,
            "SegmentActionId": action,
            "SrcRecId": None,
            "DstRecId": None,
        }
        # about a third of the talking segments were recorded, on the extension's side
        if answered and self.rng.random() < 0.3:
            self._recordings += 1
            segment["SrcRecId" if src.get("SrcInternal") else "DstRecId"] = self._recordings
        return segment

    def _one_call(self, call_id: int, start: float) -> tuple[tuple[Any, ...], list[dict[str, Any]]]:
        # hot path (a million segments for the benchmarks): each instant is formatted once
        rng = self.rng
        roll = rng.random()
        direction = "inbound" if roll < 0.55 else "outbound" if roll < 0.85 else "internal"
        talk = ring = wait = 0.0
        queue: str | None = None
        polled: list[Person] = []
        answered_by: Person | None = None
        abandoned = False
        did = trunk = None
        segments: list[dict[str, Any]] = []
        seg = self._segment
        begins = _ts(start)
        if direction == "inbound":
            caller_number = external_number(rng)
            caller_name: str | None = (
                None
                if rng.random() < 0.5
                else f"{rng.choice(self._first_names)} {rng.choice(self._last_names)}"
            )
            caller_dn = None
            did = rng.choice(_DIDS)
            trunk = TRUNK_DN
            src = _external_party("Src", caller_number, caller_name)
            if rng.random() < 0.6:
                queue = rng.choice(self._queue_numbers)
                agents = self.queue_agents[queue]
                polled = rng.sample(agents, k=min(len(agents), rng.randint(1, 3)))
                wait = round(rng.expovariate(1 / 45.0), 3)
                abandoned = wait > 120 or rng.random() < 0.12
                callee_number = callee_dn = queue
                queue_party = self._queue_parties[queue]
                left_queue = _ts(start + wait)
                if abandoned:
                    ends = left_queue
                    segments.append(
                        seg(begins, ends, wait, src, queue_party, False, SEGMENT_RING, ACTION_CALLER_HUNG_UP)
                    )
                else:
                    answered_by = rng.choice(polled)
                    talk = round(rng.expovariate(1 / 180.0) + 5, 3)
                    agent = self._party("Dst", answered_by)
                    ends = _ts(start + wait + talk)
                    segments.append(
                        seg(begins, left_queue, wait, src, queue_party, False, SEGMENT_RING, ACTION_PASSED_ON)
                    )
                    segments.append(seg(left_queue, ends, talk, src, agent, True, SEGMENT_TALK, ACTION_ENDED))
            else:
                callee = rng.choice(self.people)
                callee_number = callee_dn = callee.number
                ring = round(rng.uniform(3, 25), 3)
                dst = self._party("Dst", callee)
                if rng.random() < 0.85:
                    answered_by = callee
                    talk = round(rng.expovariate(1 / 150.0) + 3, 3)
                ends = _ts(start + ring + talk)
                answered = answered_by is not None
                kind = SEGMENT_TALK if answered else SEGMENT_RING
                segments.append(
                    seg(begins, ends, round(ring + talk, 3), src, dst, answered, kind, ACTION_ENDED)
                )
        else:
            caller = rng.choice(self.people)
            caller_number, caller_name, caller_dn = caller.number, caller.display_name, caller.number
            src = self._party("Src", caller)
            ring = round(rng.uniform(2, 20), 3)
            answered = rng.random() < (0.75 if direction == "outbound" else 0.8)
            if direction == "outbound":
                trunk = TRUNK_DN
                callee_number = external_number(rng)
                callee_dn = None
                dst = _external_party("Dst", callee_number, None)
            else:
                callee = rng.choice(self.people)
                while callee is caller:
                    callee = rng.choice(self.people)
                callee_number = callee_dn = callee.number
                dst = self._party("Dst", callee)
                answered_by = callee if answered else None
            if answered:
                talk = round(rng.expovariate(1 / 200.0) + 2, 3)
            ends = _ts(start + ring + talk)
            kind = SEGMENT_TALK if answered else SEGMENT_RING
            segments.append(seg(begins, ends, round(ring + talk, 3), src, dst, answered, kind, ACTION_ENDED))
        call = (
            call_id,
            begins,
            ends,
            direction,
            caller_number,
            caller_name,
            caller_dn,
            callee_number,
            callee_dn,
            did,
            trunk,
            queue,
            " ".join(p.number for p in polled) or None,
            answered_by.number if answered_by else None,
            ring,
            wait,
            talk,
            int(talk > 0),
            int(abandoned),
        )
        return call, segments


_MINUTE_PREFIX: dict[int, str] = {}


def _ts(epoch: float) -> str:
    """Epoch seconds → storage text with milliseconds (hot path: the minute part is cached)."""
    millis = round(epoch * 1000)
    minute, rem = divmod(millis, 60_000)
    prefix = _MINUTE_PREFIX.get(minute)
    if prefix is None:
        if len(_MINUTE_PREFIX) > 400_000:  # bounded: a few runs' worth of 90-day windows
            _MINUTE_PREFIX.clear()
        prefix = _MINUTE_PREFIX[minute] = time.strftime("%Y-%m-%d %H:%M:", time.gmtime(minute * 60))
    return f"{prefix}{rem // 1000:02d}.{rem % 1000:03d}000"


def _prefixed(side: str, party: dict[str, Any]) -> dict[str, Any]:
    return {side + k: v for k, v in party.items()}


def _person_party(p: Person) -> dict[str, Any]:
    return {
        "Dn": p.number,
        "DnType": DN_EXTENSION,
        "CallerNumber": p.number,
        "DisplayName": p.display_name,
        "ExtendedDisplayName": f"{p.display_name} ({p.number})",
        "External": 0,
        "Internal": 1,
        "Id": p.id,
    }


def _dn_party(number: str, name: str, dn_type: int, dn_id: int) -> dict[str, Any]:
    return {
        "Dn": number,
        "DnType": dn_type,
        "CallerNumber": number,
        "DisplayName": name,
        "ExtendedDisplayName": f"{name} ({number})",
        "External": 0,
        "Internal": 1,
        "Id": dn_id,
    }


def _external_party(side: str, number: str, name: str | None) -> dict[str, Any]:
    """An external party already prefixed with ``Src``/``Dst`` (hot path: no second dict)."""
    return {
        side + "Dn": TRUNK_DN,
        side + "DnType": DN_EXTERNAL,
        side + "CallerNumber": number,
        side + "DisplayName": name,
        side + "ExtendedDisplayName": f"{name} ({number})" if name else number,
        side + "External": 1,
        side + "Internal": 0,
        side + "Id": 0,
    }
