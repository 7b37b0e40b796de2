"""What the PBX already knows when the wallboard starts: the start of calls in progress, today's
answered and abandoned queue calls, and the queues' names.

Call Control has no history, so without this a wallboard started at 11:00 would show every call
as just begun and every queue at zero. Each piece is read once over XAPI, and each may be
refused (a Call Control client need not have the XAPI role): then that piece is left out and the
board counts from its own start, as before.

- calls in progress: `ActiveCalls` (`Id` is the Call Control `callid`, `EstablishedAt` its start);
- today's counts: the `queue-performance-totals` report from local midnight: a queue call was
  answered when an agent took it (`ExtensionAnsweredCount`), abandoned otherwise
  (`QueueReceivedCount` minus that). Only ended calls are in a report; the calls still going are
  counted by the events, so none is counted twice;
- names: `Queues` (`Number`, `Name`), or the report's `QueueDisplayName`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from py3cx._exceptions import APIStatusError
from py3cx.callcontrol.active import aestablished_at, aqueue_names, names_from_rows

__all__ = ["StartingPoint", "counts_from_totals", "load_starting_point"]

log = logging.getLogger("py3cx.wallboard")

TOTALS_REPORT = "queue-performance-totals"


@dataclass
class StartingPoint:
    """The PBX's own data at start-up: callid → start (epoch seconds), queue → (answered,
    abandoned) on `day`, queue number → name."""

    day: date
    established: dict[int, float] = field(default_factory=dict)
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)


def _count(row: Mapping[str, Any], name: str) -> int:
    value = row.get(name)  # a zero count may be left out of the row (BEHAVIOUR.md §5)
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def counts_from_totals(rows: Iterable[Mapping[str, Any]]) -> dict[str, tuple[int, int]]:
    """Queue → (answered, abandoned) from `ReportQueuePerformanceTotals` rows.

    Example: `counts_from_totals([{"QueueDn": "0336", "QueueReceivedCount": 5,
    "ExtensionAnsweredCount": 4}])` == `{"0336": (4, 1)}`
    """
    counts: dict[str, tuple[int, int]] = {}
    for row in rows:
        queue = row.get("QueueDn")
        if queue is None:
            continue
        received, answered = _count(row, "QueueReceivedCount"), _count(row, "ExtensionAnsweredCount")
        counts[str(queue)] = (answered, max(0, received - answered))
    return counts


async def _rows(label: str, rows: Any) -> list[dict[str, Any]]:
    try:
        return [row async for row in rows]
    except APIStatusError as exc:
        log.info("wallboard starts without %s: %s", label, exc)
        return []


async def load_starting_point(client: Any, day: date) -> StartingPoint:
    """Read the starting point from the PBX over XAPI; refused parts stay empty.

    Raises APIConnectionError (the PBX does not answer) and ConfigError.
    Example: `start = await load_starting_point(async_client, date.today())`
    """
    totals = await _rows("today's queue counts", client.reports.rows(TOTALS_REPORT, start=day, end=day))
    names = names_from_rows(totals, "QueueDn", "QueueDisplayName")
    names.update(await aqueue_names(client))
    return StartingPoint(
        day=day,
        established=await aestablished_at(client),
        counts=counts_from_totals(totals),
        names=names,
    )
