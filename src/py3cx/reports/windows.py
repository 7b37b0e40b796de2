"""Time windows of an export, and how a window that timed out is cut so that nothing is fetched
twice and nothing is missed.

A window is a half-open span ``[start, end)`` of the report's period plus how many of its rows,
in the report's order (time first), are already written. When a window fails with a 504:

- if none of its rows is written, it is cut in halves;
- if some are, the rest is re-expressed as a new window starting at the time of the last row
  written, skipping the rows written at exactly that time (``ties``); that window can then be
  cut in halves, the skipped rows staying in the first half.

This is exact as long as the PBX honours the order by time (checked row by row: ``ordered``).
Pure: no I/O.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from py3cx._durations import format_datetime_utc, parse_datetime
from py3cx.reports.arguments import Period

__all__ = ["Window", "WindowStatus", "initial_windows"]

_ids = itertools.count(1)


class WindowStatus:
    """The states of a window (plain strings, so that the resume file stays readable)."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


@dataclass
class Window:
    """A span of the period (or the whole report when ``period`` is None) and its progress."""

    period: Period | None
    done: int = 0
    total: int | None = None
    last_key: datetime | None = None
    ties: int = 0
    ordered: bool = True
    status: str = WindowStatus.PENDING
    error: str | None = None
    # What the count of a window cut at a row's time must be if the PBX keeps the time order:
    # fewer means it sent rows out of order, and earlier rows were never fetched.
    expected: int | None = None
    uid: int = field(default_factory=lambda: next(_ids))

    def note_row_key(self, key: datetime | None) -> None:
        """Account for one written row whose time is ``key`` (None when the row has none).

        ``key`` must be on a whole millisecond, as a window's start is sent: a PBX that writes
        finer times has its rows in the same millisecond counted as ties. A key earlier than the
        last one means the PBX ignores the order: the window is then never cut at a row's time.
        Example: ``window.note_row_key(datetime(2025, 3, 1, 9, 30, tzinfo=timezone.utc))``.
        """
        if key is None:
            self.ordered = False
            return
        if self.last_key is not None and key < self.last_key:
            self.ordered = False
        if key == self.last_key:
            self.ties += 1
        else:
            self.last_key = key
            self.ties = 1

    def can_split(self, min_span: timedelta) -> bool:
        """True when cutting this window would make progress without risking duplicates or gaps."""
        if self.period is None or not self.ordered:
            return False
        if self.done and self.last_key is None:
            return False
        if self.done and self.last_key is not None and self.last_key > self.period.start:
            return True  # rebasing at the last row's time is always progress
        return self.period.duration >= 2 * min_span

    def split(self) -> list[Window]:
        """The windows that replace this one (see the module docstring). Call ``can_split()`` first.

        Raises ValueError when the window cannot be cut.
        Example: ``Window(Period(a, b)).split()`` gives the two halves.
        """
        if self.period is None:
            raise ValueError("a report without a period cannot be split")
        if self.done:
            if self.last_key is None or not self.ordered:
                raise ValueError("rows were written but their order is unknown")
            if self.last_key > self.period.start:
                # The written prefix ends at last_key: what is left starts there, past the ties.
                rest = Window(Period(self.last_key, self.period.end), done=self.ties, last_key=self.last_key)
                rest.ties = self.ties
                if self.total is not None:
                    rest.expected = self.total - self.done + self.ties
                return [rest]
        first, second = self.period.halves()
        head = Window(first, done=self.done, last_key=self.last_key, ties=self.ties)
        return [head, Window(second)]

    def slice(self, pieces: int) -> list[Window]:
        """What is left of this window, cut into ``pieces`` spans of equal time.

        Used when a window holds far more rows than a page can cheaply skip past: the rest starts
        at the last written row's time (its ties skipped), so nothing is fetched twice. Returns
        ``[self]`` when the window cannot be cut (no period, order unknown, too short).
        Example: ``Window(Period(a, b)).slice(4)`` gives four windows.
        """
        if self.period is None or not self.ordered or pieces < 2:
            return [self]
        start, done, ties = self.period.start, 0, 0
        if self.done:
            if self.last_key is None:
                return [self]
            start, done, ties = self.last_key, self.ties, self.ties
        span = (self.period.end - start) / pieces
        if span < timedelta(milliseconds=1):
            return [self]
        # Inner edges on whole milliseconds: date-time literals carry no more.
        inner = [_millisecond(start + span * i) for i in range(1, pieces)]
        edges = [start, *inner, self.period.end]
        windows = [Window(Period(a, b)) for a, b in itertools.pairwise(edges) if a < b]
        if windows:
            windows[0].done, windows[0].ties = done, ties
            windows[0].last_key = self.last_key if done else None
        return windows or [self]

    def describe(self) -> str:
        """Human text: ``2025-03-01T00:00:00Z .. 2025-03-02T00:00:00Z`` (or ``the whole report``)."""
        if self.period is None:
            return "the whole report"
        return f"{format_datetime_utc(self.period.start)} .. {format_datetime_utc(self.period.end)}"

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict for the resume file."""
        return {
            "start": None if self.period is None else format_datetime_utc(self.period.start),
            "end": None if self.period is None else format_datetime_utc(self.period.end),
            "done": self.done,
            "total": self.total,
            "expected": self.expected,
            "last_key": None if self.last_key is None else format_datetime_utc(self.last_key),
            "ties": self.ties,
            "ordered": self.ordered,
            "status": self.status,
            "error": self.error,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Window:
        """Read back what ``to_json`` wrote. Raises KeyError or ValueError for a damaged entry."""
        period = None
        if data["start"] is not None:
            period = Period(parse_datetime(data["start"]), parse_datetime(data["end"]))
        return cls(
            period=period,
            done=int(data["done"]),
            total=data.get("total"),
            expected=data.get("expected"),
            last_key=None if data.get("last_key") is None else parse_datetime(data["last_key"]),
            ties=int(data.get("ties", 0)),
            ordered=bool(data.get("ordered", True)),
            status=str(data.get("status", WindowStatus.PENDING)),
            error=data.get("error"),
        )


def _millisecond(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def initial_windows(period: Period | None, size: timedelta | None = None) -> list[Window]:
    """The windows an export starts with: the whole period, or slices of ``size`` when given.

    Example: ``len(initial_windows(Period(a, a + timedelta(days=3)), timedelta(days=1))) == 3``.
    """
    if period is None or size is None or size <= timedelta(0):
        return [Window(period)]
    windows = []
    start = period.start
    while start < period.end:
        end = min(start + size, period.end)
        windows.append(Window(Period(start, end)))
        start = end
    return windows
