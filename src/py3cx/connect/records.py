"""Call records of the PBX as rows of ``call_records``, and calls built from them. Pure: no I/O.

From the call log (``ReportCallLogData``, V20 Update 6 on) a record is one row of the log: its id
is ``SegmentId``, its call ``CallId``. From ``CallHistoryView`` (older builds) a record is a
segment and the view names no call: a segment that the previous one "passed on" (SegmentActionId
2) from the same caller belongs to that segment's call, whose id is ``v<first SegmentId>``.
DN types follow the emulator's reading (1 extension, 2 queue, 3 ring group, 9 external line).
The call log has no end time: ``end_time`` is start + ringing + talking.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import phonenumbers

from py3cx._durations import parse_datetime, parse_duration

__all__ = [
    "build_call",
    "call_log_record",
    "content_hash",
    "moment",
    "to_e164",
    "view_records",
]

DN_QUEUE = 2
DN_EXTENSION = 1
_PASSED_ON = 2
_INTERNAL_MAX_DIGITS = 6  # longer numbers without '+' are external ones


def content_hash(value: Any) -> str:
    """A stable hash of a JSON-able value: equal content, equal hash."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@functools.lru_cache(maxsize=8192)
def _e164(text: str, region: str | None) -> str | None:
    try:
        parsed = phonenumbers.parse(text, region.upper() if region else None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def to_e164(number: Any, region: str | None) -> str | None:
    """``number`` in E.164 (``+442079460000``), or None for an extension, a blank or a non-number.

    ``region`` (the PBX's country, ``GB``) reads national numbers. Example: ``to_e164("020 7946 0000", "GB")``.
    """
    if not isinstance(number, str):
        return None
    text = number.strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    if not digits or (not text.startswith("+") and len(digits) <= _INTERNAL_MAX_DIGITS):
        return None
    return _e164(text, region)


def _seconds(value: Any) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_duration(value).total_seconds()
    except ValueError:
        return None


def moment(value: Any) -> datetime | None:
    """A PBX date-time as an aware UTC datetime, or None for a blank or unreadable one."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_datetime(value, default_tz=timezone.utc).astimezone(timezone.utc)
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text or None


def call_log_record(row: Mapping[str, Any], region: str | None, now: datetime) -> dict[str, Any] | None:
    """A ``call_records`` row from a call-log row, or None when it has no id or start time."""
    record_id = _text(row.get("SegmentId")) or _text(row.get("CdrId"))
    call_id = (
        _text(row.get("CallId")) or _text(row.get("MainCallHistoryId")) or _text(row.get("CallHistoryId"))
    )
    start = moment(row.get("StartTime"))
    if record_id is None or call_id is None or start is None:
        return None
    ringing = _seconds(row.get("RingingDuration"))
    talking = _seconds(row.get("TalkingDuration"))
    dst_type = _int(row.get("DestinationType"))
    found = row.get("Recordings")
    recordings: list[Any] = found if isinstance(found, list) else []
    ids = [str(r["Id"]) for r in recordings if isinstance(r, Mapping) and r.get("Id") is not None]
    record = {
        "record_id": record_id,
        "call_id": call_id,
        "source": "calllog",
        "start_time": start,
        "end_time": start + timedelta(seconds=(ringing or 0.0) + (talking or 0.0)),
        "ringing_seconds": ringing,
        "talking_seconds": talking,
        "src_number": _text(row.get("SourceCallerId")),
        "src_e164": to_e164(row.get("SourceCallerId"), region),
        "src_dn": _text(row.get("SourceDn")),
        "src_name": _text(row.get("SourceDisplayName")),
        "src_type": _int(row.get("SourceType")),
        "dst_number": _text(row.get("DestinationCallerId")),
        "dst_e164": to_e164(row.get("DestinationCallerId"), region),
        "dst_dn": _text(row.get("DestinationDn")),
        "dst_name": _text(row.get("DestinationDisplayName")),
        "dst_type": dst_type,
        "direction": _text(row.get("Direction")),
        "status": _text(row.get("Status")),
        "answered": row.get("Answered") if isinstance(row.get("Answered"), bool) else None,
        "queue": _text(row.get("DestinationDn")) if dst_type == DN_QUEUE else None,
        "recording_ids": " ".join(ids) or None,
        "raw": dict(row),
    }
    return _stamped(record, now)


def _stamped(record: dict[str, Any], now: datetime) -> dict[str, Any]:
    # every other column is a function of the raw row, the call id and the PBX's country
    record["content_hash"] = content_hash(
        [record["raw"], record["call_id"], record["src_e164"], record["dst_e164"]]
    )
    record["first_synced_at"] = now
    record["changed_at"] = now
    return record


def view_records(
    rows: Sequence[Mapping[str, Any]],
    region: str | None,
    now: datetime,
    earlier_call: Callable[[str], tuple[str, str | None, int | None] | None],
) -> list[dict[str, Any]]:
    """``call_records`` rows from CallHistoryView segments (any order).

    ``earlier_call(record_id)`` answers ``(call_id, src_number, action)`` of a segment stored by an
    earlier pass (or None), so a call cut by the pass's window keeps one id.
    """
    by_id: dict[int, Mapping[str, Any]] = {}
    for row in rows:
        segment = _int(row.get("SegmentId"))
        if segment is not None and moment(row.get("SegmentStartTime")) is not None:
            by_id[segment] = row
    call_of: dict[int, str] = {}
    out = []
    for segment in sorted(by_id):
        row = by_id[segment]
        previous = by_id.get(segment - 1)
        if previous is not None:
            linked = _linked(previous.get("SegmentActionId"), previous.get("SrcCallerNumber"), row)
            call_id = call_of[segment - 1] if linked else f"v{segment}"
        else:
            stored = earlier_call(str(segment - 1))
            linked = stored is not None and _linked(stored[2], stored[1], row)
            call_id = stored[0] if stored is not None and linked else f"v{segment}"
        call_of[segment] = call_id
        start = moment(row.get("SegmentStartTime"))
        assert start is not None
        dst_type = _int(row.get("DstDnType"))
        talking = _seconds(row.get("CallTime")) if row.get("SegmentType") == 1 else 0.0
        end = moment(row.get("SegmentEndTime"))
        record = {
            "record_id": str(segment),
            "call_id": call_id,
            "source": "view",
            "start_time": start,
            "end_time": end,
            "ringing_seconds": None if row.get("SegmentType") == 1 else _seconds(row.get("CallTime")),
            "talking_seconds": talking,
            "src_number": _text(row.get("SrcCallerNumber")),
            "src_e164": to_e164(row.get("SrcCallerNumber"), region),
            "src_dn": _text(row.get("SrcDn")),
            "src_name": _text(row.get("SrcDisplayName")),
            "src_type": _int(row.get("SrcDnType")),
            "dst_number": _text(row.get("DstCallerNumber")),
            "dst_e164": to_e164(row.get("DstCallerNumber"), region),
            "dst_dn": _text(row.get("DstDn")),
            "dst_name": _text(row.get("DstDisplayName")),
            "dst_type": dst_type,
            "direction": None,
            "status": "Answered" if row.get("CallAnswered") else "Unanswered",
            "answered": row.get("CallAnswered") if isinstance(row.get("CallAnswered"), bool) else None,
            "queue": _text(row.get("DstDn")) if dst_type == DN_QUEUE else None,
            "recording_ids": None,
            "raw": dict(row),
        }
        out.append(_stamped(record, now))
    return out


def _linked(previous_action: Any, previous_caller: Any, row: Mapping[str, Any]) -> bool:
    return bool(previous_action == _PASSED_ON and previous_caller == row.get("SrcCallerNumber"))


def build_call(records: Iterable[Mapping[str, Any]], now: datetime) -> dict[str, Any]:
    """The ``calls`` row of one call from all its records (at least one).

    Status: ``answered`` when any record was answered; else ``abandoned`` when it waited in a
    queue; else ``missed``. ``answered_by`` is the first answering extension.
    """
    ordered = sorted(
        records, key=lambda r: (r["start_time"], int(r["record_id"]) if str(r["record_id"]).isdigit() else 0)
    )
    first = ordered[0]
    answered = [r for r in ordered if r.get("answered")]
    by = next((r for r in answered if r.get("dst_type") == DN_EXTENSION), answered[0] if answered else None)
    queue = next((r["queue"] for r in ordered if r.get("queue")), None)
    ends = [r["end_time"] for r in ordered if r.get("end_time") is not None]
    recordings = [i for r in ordered for i in (r.get("recording_ids") or "").split()]
    status = "answered" if answered else ("abandoned" if queue else "missed")
    direction = next((r["direction"] for r in ordered if r.get("direction")), None)
    row: dict[str, Any] = {
        "call_id": first["call_id"],
        "start_time": first["start_time"],
        "end_time": max(ends) if ends else None,
        "direction": direction,
        "status": status,
        "answered": bool(answered),
        "from_number": first.get("src_number"),
        "from_e164": first.get("src_e164"),
        "from_name": first.get("src_name"),
        "to_number": first.get("dst_number"),
        "to_e164": first.get("dst_e164"),
        "answered_by_dn": by.get("dst_dn") if by else None,
        "answered_by_name": by.get("dst_name") if by else None,
        "queue": queue,
        "ringing_seconds": sum(r.get("ringing_seconds") or 0.0 for r in ordered),
        "talking_seconds": sum(r.get("talking_seconds") or 0.0 for r in ordered),
        "records": len(ordered),
        "recording_ids": " ".join(recordings) or None,
    }
    row["content_hash"] = content_hash(row)
    row["changed_at"] = now
    return row
