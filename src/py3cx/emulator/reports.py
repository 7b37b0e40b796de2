"""Every report of the emulated PBX, computed from the same synthetic calls as CallHistoryView.

The ``_calls`` table (one row per call, see ``synthetic.py``) and the CallHistoryView segments
are the only sources, so a report and the history always agree: the call log has one row per
segment, abandoned queue calls one row per polled agent (``CallTime`` on the first only), queue
performance counts per queue and agent, and so on (``reports_calls.py``, ``reports_stats.py``).
Each ``Download…`` twin answers a CSV file of the same rows.

Periods are half-open, ``[periodFrom, periodTo)``, as the web UI's midnight-to-midnight ranges
suggest. With ``EmulatorConfig.max_range_days`` set, a period longer than that, or a
CallHistoryView query spanning more days (or none at all), answers **504 Gateway Time-out**
the way the PBX's web server does when a query runs too long, so that clients can be tested
on splitting ranges.

Guesses (not documented by 3CX): filter codes other than 0 are accepted and ignored;
``hidePcalls=true`` hides the queue segments a call passed through before being answered;
text filters match a number or name containing the text; ``waitInterval`` keeps calls that
waited at least that long.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import re
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from .errors import XapiError
from .literals import LiteralError, parse_datetime_literal
from .registry import FunctionContext, lookup, xapi_function
from .state import EmulatorState
from .store import datetime_to_storage, storage_to_wire_datetime

__all__ = ["Call", "CallData", "QueueInfo", "setup"]

_GATEWAY_TIMEOUT_PAGE = (
    "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n"
    "<center><h1>504 Gateway Time-out</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


class RangeTooLong(Exception):
    """The period is longer than ``max_range_days``: the PBX would time out."""


def gateway_timeout() -> Response:
    """The 504 page the PBX's nginx sends when a query runs too long."""
    return HTMLResponse(_GATEWAY_TIMEOUT_PAGE, status_code=504)


@dataclass(frozen=True)
class Call:
    """One row of ``_calls``, typed."""

    call_id: int
    start: datetime
    end: datetime
    direction: str
    caller_number: str | None
    caller_name: str | None
    caller_dn: str | None
    callee_number: str | None
    callee_dn: str | None
    did: str | None
    trunk_dn: str | None
    queue_dn: str | None
    polled: tuple[str, ...]
    answered_by: str | None
    ring: float
    wait: float
    talk: float
    answered: bool
    abandoned: bool
    segment_first: int
    segment_count: int

    @property
    def history_id(self) -> str:
        """The call's ``CallHistoryId`` (a GUID derived from the call id)."""
        return f"00000001-0000-0000-0000-{self.call_id:012x}"


@dataclass(frozen=True)
class QueueInfo:
    """A queue: number, name, SLA seconds and agents as (number, display name)."""

    number: str
    name: str
    sla_seconds: int
    agents: tuple[tuple[str, str], ...]


def cdr_id(segment_id: int) -> str:
    """The ``CdrId`` of a segment (a GUID whose text sorts like the segment id)."""
    return f"00000000-0000-0000-0000-{segment_id:012x}"


def parse_storage(text: str) -> datetime:
    """``2025-03-01 10:00:02.437000`` (storage form) → aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def wire_time(text: str) -> str:
    """Storage text → the PBX's JSON form (``2025-03-01T10:00:02.437Z``)."""
    return storage_to_wire_datetime(text)


class CallData:
    """Read access to the calls, segments, queues and users of one emulator."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    def calls(self, start: datetime, end: datetime) -> list[Call]:
        """Calls that started in ``[start, end)``, in start order."""
        table = self.state.calls
        query = (
            sa.select(table)
            .where(
                table.c.start_time >= datetime_to_storage(start),
                table.c.start_time < datetime_to_storage(end),
            )
            .order_by(table.c.call_id)
        )
        with self.state.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [_call(row) for row in rows]

    def segments(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """CallHistoryView segments (stored form) that started in ``[start, end)``, by SegmentId."""
        table = self.state.tables["CallHistoryView"].table
        query = (
            sa.select(table)
            .where(
                table.c.SegmentStartTime >= datetime_to_storage(start),
                table.c.SegmentStartTime < datetime_to_storage(end),
            )
            .order_by(table.c.SegmentId)
        )
        with self.state.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def calls_by_segment(self, segment_ids: list[int]) -> dict[int, Call]:
        """SegmentId → call for these segments (a call's segments have consecutive ids)."""
        mapping: dict[int, Call] = {}
        if not segment_ids:
            return mapping
        table = self.state.calls
        low, high = min(segment_ids), max(segment_ids)
        query = sa.select(table).where(
            table.c.segment_first <= high, table.c.segment_first + table.c.segment_count > low
        )
        with self.state.engine.connect() as conn:
            for row in conn.execute(query).mappings():
                call = _call(row)
                for segment_id in range(call.segment_first, call.segment_first + call.segment_count):
                    mapping[segment_id] = call
        return mapping

    @functools.cached_property
    def queues(self) -> list[QueueInfo]:
        """Every queue, by number."""
        table = self.state.tables["Queues"].table
        with self.state.engine.connect() as conn:
            rows = conn.execute(sa.select(table).order_by(table.c.Number)).mappings().all()
        out = []
        for row in rows:
            agents = json.loads(row["Agents"] or "[]")
            out.append(
                QueueInfo(
                    number=row["Number"],
                    name=row["Name"] or row["Number"],
                    sla_seconds=int(row["SLATime"] or 0),
                    agents=tuple((a["Number"], a.get("Name") or a["Number"]) for a in agents),
                )
            )
        return out

    @functools.cached_property
    def users(self) -> dict[str, dict[str, Any]]:
        """Extension number → {"name", "group"} for every user."""
        table = self.state.tables["Users"].table
        with self.state.engine.connect() as conn:
            rows = conn.execute(sa.select(table).order_by(table.c.Number)).mappings().all()
        users = {}
        for row in rows:
            groups = json.loads(row["Groups"] or "[]")
            group = groups[0] if groups else {}
            users[row["Number"]] = {
                "name": row["DisplayName"] or row["Number"],
                "group": group.get("Name"),
                "group_number": group.get("Number"),
            }
        return users

    @functools.cached_property
    def ring_groups(self) -> list[tuple[str, str, tuple[str, ...]]]:
        """(number, name, member extensions) of every ring group."""
        table = self.state.tables["RingGroups"].table
        with self.state.engine.connect() as conn:
            rows = conn.execute(sa.select(table).order_by(table.c.Number)).mappings().all()
        return [
            (
                r["Number"],
                r["Name"] or r["Number"],
                tuple(m["Number"] for m in json.loads(r["Members"] or "[]")),
            )
            for r in rows
        ]


def _call(row: Any) -> Call:
    return Call(
        call_id=row["call_id"],
        start=parse_storage(row["start_time"]),
        end=parse_storage(row["end_time"]),
        direction=row["direction"],
        caller_number=row["caller_number"],
        caller_name=row["caller_name"],
        caller_dn=row["caller_dn"],
        callee_number=row["callee_number"],
        callee_dn=row["callee_dn"],
        did=row["did"],
        trunk_dn=row["trunk_dn"],
        queue_dn=row["queue_dn"],
        polled=tuple((row["polled_agents"] or "").split()),
        answered_by=row["answered_by"],
        ring=float(row["ring_seconds"]),
        wait=float(row["wait_seconds"]),
        talk=float(row["talk_seconds"]),
        answered=bool(row["answered"]),
        abandoned=bool(row["abandoned"]),
        segment_first=row["segment_first"],
        segment_count=row["segment_count"],
    )


# -- arguments ------------------------------------------------------------------------------------


def period(
    ctx: FunctionContext, start_name: str = "periodFrom", end_name: str = "periodTo"
) -> tuple[datetime, datetime]:
    """The report's period from its arguments. Raises RangeTooLong above ``max_range_days``."""
    start, end = ctx.args[start_name], ctx.args[end_name]
    check_range(ctx.state, end - start)
    return start, end


def check_range(state: EmulatorState, span: timedelta) -> None:
    """Raise RangeTooLong when ``span`` is above the configured ``max_range_days``."""
    limit = state.config.max_range_days
    if limit is not None and span > timedelta(days=limit):
        raise RangeTooLong(span)


def dn_set(text: str | None) -> set[str]:
    """The numbers of a space-separated list (``'0336 0337'``); empty means all."""
    return set((text or "").split())


_SPAN = re.compile(r"(?:(\d+)\.)?(\d+):(\d{1,2})(?::(\d{1,2})(?:\.\d+)?)?")


def interval(ctx: FunctionContext, name: str) -> float:
    """A time-span argument (``'0:00:20'``) in seconds. A malformed one is a 500, as on the PBX."""
    text = str(ctx.args.get(name) or "0:00:0")
    match = _SPAN.fullmatch(text.strip())
    if not match:
        raise XapiError(500, f"The value '{text}' is not a valid TimeSpan for {name}.")
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return days * 86_400 + hours * 3600 + minutes * 60 + seconds


def text_matches(needle: str | None, *values: str | None) -> bool:
    """A text filter: empty matches everything, else any value containing it (case-insensitive)."""
    if not needle:
        return True
    lowered = needle.lower()
    return any(v is not None and lowered in v.lower() for v in values)


Handler = Callable[[FunctionContext], Any]


# Paging asks for the same report again and again: keep the last few results for a few seconds.
_CACHE_SECONDS = 5.0
_CACHE_SIZE = 8
_results: weakref.WeakKeyDictionary[EmulatorState, dict[tuple[Any, ...], tuple[float, Any]]] = (
    weakref.WeakKeyDictionary()
)
_results_lock = threading.Lock()


def report(handler: Handler) -> Handler:
    """Wrap a report handler: a period above ``max_range_days`` answers 504; results are reused
    for a few seconds, so paging through a report does not compute it once per page."""

    @functools.wraps(handler)
    def wrapped(ctx: FunctionContext) -> Any:
        key = (handler.__qualname__, *sorted((k, repr(v)) for k, v in ctx.args.items()))
        now = time.monotonic()
        with _results_lock:
            cache = _results.setdefault(ctx.state, {})
            hit = cache.get(key)
        if hit is not None and now - hit[0] < _CACHE_SECONDS:
            return hit[1]
        try:
            result = handler(ctx)
        except RangeTooLong:
            return gateway_timeout()
        if isinstance(result, list):
            with _results_lock:
                if len(cache) >= _CACHE_SIZE:
                    cache.pop(min(cache, key=lambda k: cache[k][0]))
                cache[key] = (now, result)
        return result

    return wrapped


# -- CallHistoryView: 504 on long ranges ---------------------------------------------------------

_BOUND = re.compile(r"(date\()?SegmentStartTime\)?\s+(ge|gt|le|lt|eq)\s+([0-9][0-9T:.\-+Z]*)", re.IGNORECASE)


def history_span(filter_text: str | None, history_days: int) -> timedelta:
    """How many days a CallHistoryView ``$filter`` spans (the whole history when unbounded).

    Understands ``SegmentStartTime ge 2025-03-01T00:00:00Z and SegmentStartTime lt ...`` and the
    PowerShell module's ``date(SegmentStartTime) ge 2025-03-01 and date(SegmentStartTime) le ...``.
    """
    lower: datetime | None = None
    upper: datetime | None = None
    for is_date, op_text, text in _BOUND.findall(filter_text or ""):
        op = op_text.lower()
        try:
            if is_date or len(text) == 10:
                day = date.fromisoformat(text[:10])
                midnight = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
                # date(X) gt D starts the day after; le D ends the day after; eq D is that day.
                low = midnight + timedelta(days=1) if op == "gt" else midnight
                high = midnight if op == "lt" else midnight + timedelta(days=1)
            else:
                low = high = parse_datetime_literal(text)
        except (ValueError, LiteralError):
            continue
        if op in ("ge", "gt", "eq"):
            lower = low if lower is None else max(lower, low)
        if op in ("le", "lt", "eq"):
            upper = high if upper is None else min(upper, high)
    if lower is None or upper is None:
        return timedelta(days=history_days)
    return max(upper - lower, timedelta(0))


async def _call_history(request: Request) -> Response:
    from .app import serve_xapi
    from .synthetic import HISTORY_DAYS

    state: EmulatorState = request.app.state.emulator
    try:
        if state.config.max_range_days is not None:
            state.authenticate(request)
            span = history_span(request.query_params.get("$filter"), HISTORY_DAYS)
            if span > timedelta(days=state.config.max_range_days):
                return gateway_timeout()
    except XapiError as err:
        return err.response()
    return await serve_xapi(request)


_PROP_KINDS = {
    "string": "str",
    "integer": "int",
    "decimal": "float",
    "boolean": "bool",
    "datetime": "datetime",
    "duration": "duration",
    "array": "json",
    "object": "json",
    "enum": "str",
}


def _index_row_types(state: EmulatorState) -> None:
    """Give the spec index the row types of the report functions when it lacks them.

    Without them the core would guess each column's type from the rows (a duration sent as
    seconds reads as a number) and could not order an empty result by a column.
    """
    from py3cx.reports._catalog import FUNCTIONS

    from .spec import Prop

    for _set, _function, _args, row_schema, columns, _twin, _twin_args in FUNCTIONS:
        if state.spec.properties(row_schema):
            continue
        state.spec.types[row_schema] = {
            name: Prop(name, _PROP_KINDS[kind], True, False, kind == "array", None) for name, kind in columns
        }


def _csv_file(rows: list[dict[str, Any]], columns: list[str], name: str) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(row.get(c)) for c in columns])
    return Response(
        ("\ufeff" + buffer.getvalue()).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def _csv_cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return storage_to_wire_datetime(datetime_to_storage(value))
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def _download_handler(entity_set: str, function: str, columns: list[str]) -> Handler:
    """A ``Download…`` twin: the rows of its ``Get…`` function as a CSV file (the PBX's own export)."""

    def download(ctx: FunctionContext) -> Any:
        registration = lookup(entity_set, function)
        if registration is None:
            raise XapiError(501, f"{entity_set}/{function} is not implemented by the emulator.")
        result = registration.handler(ctx)
        if isinstance(result, Response):
            return result
        rows = result if isinstance(result, list) else []
        return _csv_file(rows, columns, entity_set.removeprefix("Report"))

    return download


def _register_downloads() -> None:
    from py3cx.reports._catalog import FUNCTIONS

    for entity_set, function, _args, _schema, columns, twin, _twin_args in FUNCTIONS:
        if twin is not None and lookup(entity_set, twin) is None:
            xapi_function(entity_set, twin)(_download_handler(entity_set, function, [c for c, _ in columns]))


def setup(state: EmulatorState) -> list[BaseRoute]:
    """Register the report functions and route CallHistoryView through the range check."""
    from . import reports_calls, reports_stats  # noqa: F401  (they register their handlers)
    from .xapi import PREFIX

    _register_downloads()
    _index_row_types(state)
    return [Route(f"{PREFIX}/CallHistoryView", _call_history, methods=["GET"])]
