"""Queues as they are now, from what XAPI has: ``Queues`` (with agents), ``ActiveCalls`` and the
users' ``QueueStatus``. Shared by the exporter and the MCP server.

XAPI has no live queue statistics. A call is in a queue when its callee is the queue (``800`` or
``800 Sales``, as ActiveCalls labels it): waiting until it talks, talking after. Agents logged in
are the queue's agents whose user is ``QueueStatus: LoggedIn``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timezone
from typing import Any

from py3cx._durations import parse_datetime

__all__ = ["QueueNow", "queues_now"]


@dataclass(frozen=True)
class QueueNow:
    """One queue now: calls waiting and talking, the longest wait (seconds), agents and logged in."""

    number: str
    name: str
    waiting: int
    talking: int
    longest_wait: float
    agents: int
    agents_logged_in: int


def _started(call: Mapping[str, Any]) -> float | None:
    text = call.get("EstablishedAt")
    if not isinstance(text, str) or not text:
        return None
    try:
        return parse_datetime(text, default_tz=timezone.utc).timestamp()
    except ValueError:
        return None


def queues_now(
    queues: Iterable[Mapping[str, Any]],
    active: Iterable[Mapping[str, Any]],
    users: Iterable[Mapping[str, Any]],
    now: float,
) -> list[QueueNow]:
    """Each queue with a number, in the order given. ``now`` (epoch seconds) measures the waits.

    Example: ``queues_now(pbx.get("Queues", expand="Agents")["value"], active, users, time.time())``.
    """
    calls = list(active)
    logged_in = {str(u.get("Number")) for u in users if u.get("QueueStatus") == "LoggedIn"}
    out: list[QueueNow] = []
    for queue in queues:
        number = str(queue.get("Number") or "")
        if not number:
            continue
        mine = [c for c in calls if str(c.get("Callee") or "").split(" ", 1)[0] == number]
        waiting = [c for c in mine if c.get("Status") != "Talking"]
        starts = [s for s in (_started(c) for c in waiting) if s is not None]
        agents = {str(a.get("Number")) for a in queue.get("Agents") or [] if isinstance(a, Mapping)}
        out.append(
            QueueNow(
                number=number,
                name=str(queue.get("Name") or ""),
                waiting=len(waiting),
                talking=len(mine) - len(waiting),
                longest_wait=max(0.0, now - min(starts)) if starts else 0.0,
                agents=len(agents),
                agents_logged_in=len(agents & logged_in),
            )
        )
    return out
