"""Aggregate reports: per queue, per queue and agent, per extension, per ring group, and the
chart series (calls per hour or day), all counted from the same calls as CallHistoryView.

Zero counts are left out of the rows, as a PBX does (null properties are not sent).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .registry import FunctionContext, xapi_function
from .reports import Call, CallData, QueueInfo, check_range, dn_set, interval, period, report

# Agents are taken to be logged in for an eight-hour shift on each day of a period.
_SHIFT_SECONDS = 8 * 3600


def _nonzero(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if not (isinstance(v, int) and not isinstance(v, bool) and v == 0)}


def _queues(data: CallData, wanted_text: str | None) -> list[QueueInfo]:
    wanted = dn_set(wanted_text)
    return [q for q in data.queues if not wanted or q.number in wanted]


def _by_queue(calls: Iterable[Call]) -> dict[str, list[Call]]:
    grouped: dict[str, list[Call]] = {}
    for call in calls:
        if call.queue_dn:
            grouped.setdefault(call.queue_dn, []).append(call)
    return grouped


def _zone(name: str | None) -> tzinfo:
    try:
        return ZoneInfo(name) if name else timezone.utc
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


# -- queues ---------------------------------------------------------------------------------------


def _queue_agent_rows(
    ctx: FunctionContext, queues_arg: str, start_arg: str, end_arg: str
) -> list[dict[str, Any]]:
    start, end = period(ctx, start_arg, end_arg)
    interval(ctx, "waitInterval")
    data = CallData(ctx.state)
    grouped = _by_queue(data.calls(start, end))
    rows = []
    for queue in _queues(data, ctx.args.get(queues_arg)):
        calls = grouped.get(queue.number, [])
        answered = [c for c in calls if c.answered_by]
        for order, (agent, name) in enumerate(queue.agents, start=1):
            mine = [c for c in answered if c.answered_by == agent]
            dropped = sum(1 for c in calls if agent in c.polled and c.answered_by != agent)
            rows.append(
                {
                    "QueueDn": queue.number,
                    "QueueDisplayName": queue.name,
                    "ExtensionDn": agent,
                    "ExtensionDisplayName": name,
                    "SortOrder": order,
                    "QueueReceivedCount": len(calls),
                    "QueueAnsweredCount": len(answered),
                    "ExtensionAnsweredCount": len(mine),
                    "ExtensionDroppedCount": dropped,
                    "TalkTime": sum(c.talk for c in mine),
                    "_ring": sum(c.wait for c in mine),
                    "_polled": sum(1 for c in calls if agent in c.polled),
                }
            )
    return rows


@xapi_function("ReportQueuePerformanceOverview", "Pbx.GetQueuePerformanceOverviewData")
@report
def get_queue_performance_overview(ctx: FunctionContext) -> list[dict[str, Any]]:
    """One row per queue and agent: the queue's calls, the agent's answered and dropped calls, talk time."""
    rows = _queue_agent_rows(ctx, "queueDns", "periodFrom", "periodTo")
    return [_nonzero({k: v for k, v in r.items() if not k.startswith("_")}) for r in rows]


@xapi_function("ReportQueuePerformanceTotals", "Pbx.GetQueuePerformanceTotalsData")
@report
def get_queue_performance_totals(ctx: FunctionContext) -> list[dict[str, Any]]:
    """One row per queue: calls received, answered by its agents, and dropped by them."""
    start, end = period(ctx)
    interval(ctx, "waitInterval")
    data = CallData(ctx.state)
    grouped = _by_queue(data.calls(start, end))
    rows = []
    for queue in _queues(data, ctx.args.get("queueDns")):
        calls = grouped.get(queue.number, [])
        dropped = sum(sum(1 for a in c.polled if a != c.answered_by) for c in calls)
        rows.append(
            _nonzero(
                {
                    "QueueDn": queue.number,
                    "QueueDisplayName": queue.name,
                    "QueueReceivedCount": len(calls),
                    "ExtensionAnsweredCount": sum(1 for c in calls if c.answered_by),
                    "ExtensionDroppedCount": dropped,
                }
            )
        )
    return rows


@xapi_function("ReportAgentsInQueueStatistics", "Pbx.GetAgentsInQueueStatisticsData")
@report
def get_agents_in_queue_statistics(ctx: FunctionContext) -> list[dict[str, Any]]:
    """Per queue and agent: answered and lost calls, ring and talk times."""
    start, end = period(ctx, "startDt", "endDt")
    days = max((end - start).total_seconds() / 86_400, 1 / 24)
    rows = []
    for r in _queue_agent_rows(ctx, "queueDnStr", "startDt", "endDt"):
        answered = r["ExtensionAnsweredCount"]
        logged_in = days * _SHIFT_SECONDS
        rows.append(
            _nonzero(
                {
                    "Queue": r["QueueDn"],
                    "QueueDisplayName": r["QueueDisplayName"],
                    "Dn": r["ExtensionDn"],
                    "DnDisplayName": r["ExtensionDisplayName"],
                    "AnsweredCount": answered,
                    "AnsweredPercent": round(100 * answered / r["_polled"]) if r["_polled"] else 0,
                    "AnsweredPerHourCount": round(answered / (logged_in / 3600)) if logged_in else 0,
                    "LostCount": r["ExtensionDroppedCount"],
                    "RingTime": r["_ring"],
                    "AvgRingTime": r["_ring"] / answered if answered else 0.0,
                    "TalkTime": r["TalkTime"],
                    "AvgTalkTime": r["TalkTime"] / answered if answered else 0.0,
                    "LoggedInTime": logged_in,
                }
            )
        )
    return rows


def _per_queue(ctx: FunctionContext) -> list[tuple[QueueInfo, list[Call]]]:
    start, end = period(ctx, "startDt", "endDt")
    data = CallData(ctx.state)
    grouped = _by_queue(data.calls(start, end))
    return [(q, grouped.get(q.number, [])) for q in _queues(data, ctx.args.get("queueDnStr"))]


@xapi_function("ReportDetailedQueueStatistics", "Pbx.GetDetailedQueueStatisticsData")
@report
def get_detailed_queue_statistics(ctx: FunctionContext) -> list[dict[str, Any]]:
    """Per queue: calls, answered calls, ring (wait) and talk times."""
    interval(ctx, "waitInterval")
    rows = []
    for queue, calls in _per_queue(ctx):
        answered = [c for c in calls if c.answered_by]
        ring, talk = sum(c.wait for c in calls), sum(c.talk for c in answered)
        rows.append(
            _nonzero(
                {
                    "QueueDnNumber": queue.number,
                    "QueueDn": queue.name,
                    "CallsCount": len(calls),
                    "AnsweredCount": len(answered),
                    "CallbacksCount": 0,
                    "RingTime": ring,
                    "AvgRingTime": ring / len(calls) if calls else 0.0,
                    "TalkTime": talk,
                    "AvgTalkTime": talk / len(answered) if answered else 0.0,
                }
            )
        )
    return rows


@xapi_function("ReportStatisticSla", "Pbx.GetStatisticSlaData")
@report
def get_statistic_sla(ctx: FunctionContext) -> list[dict[str, Any]]:
    """Per queue: calls received and calls that waited past the SLA time (or ``waitInterval``)."""
    minimum = interval(ctx, "waitInterval")
    rows = []
    for queue, calls in _per_queue(ctx):
        limit = minimum or queue.sla_seconds
        rows.append(
            _nonzero(
                {
                    "QueueDnNumber": queue.number,
                    "Dn": queue.name,
                    "ReceivedCount": len(calls),
                    "BadSlaCallsCount": sum(1 for c in calls if c.wait > limit),
                }
            )
        )
    return rows


@xapi_function("ReportTeamQueueGeneralStatistics", "Pbx.GetTeamQueueGeneralStatisticsData")
@report
def get_team_queue_general_statistics(ctx: FunctionContext) -> list[dict[str, Any]]:
    """Per queue: agents, calls received and answered, talk times."""
    interval(ctx, "waitInterval")
    rows = []
    for queue, calls in _per_queue(ctx):
        answered = [c for c in calls if c.answered_by]
        talk = sum(c.talk for c in answered)
        rows.append(
            _nonzero(
                {
                    "QueueDnNumber": queue.number,
                    "Dn": queue.name,
                    "AgentsInQueueCount": len(queue.agents),
                    "ReceivedCount": len(calls),
                    "AnsweredCount": len(answered),
                    "TotalTalkTime": talk,
                    "AvgTalkTime": talk / len(answered) if answered else 0.0,
                }
            )
        )
    return rows


@xapi_function("ReportQueueCallbacks", "Pbx.GetQueueCallbacksData")
@report
def get_queue_callbacks(ctx: FunctionContext) -> list[dict[str, Any]]:
    """Per queue: calls received; no queue offers callbacks in the emulator."""
    return [
        _nonzero({"QueueDnNumber": q.number, "Dn": q.name, "ReceivedCount": len(calls), "CallbacksCount": 0})
        for q, calls in _per_queue(ctx)
    ]


def _chat_queues(ctx: FunctionContext) -> list[QueueInfo]:
    period(ctx, "startDt", "endDt")
    return _queues(CallData(ctx.state), ctx.args.get("queueDnStr"))


@xapi_function("ReportQueueChatPerformance", "Pbx.GetQueueChatPerformanceData")
@report
def get_queue_chat_performance(ctx: FunctionContext) -> list[dict[str, Any]]:
    """Per queue; the emulator has no chats, so every count is zero (and left out)."""
    return [
        {"Queue": q.number, "QueueDisplayName": q.name, "QuantityAgents": len(q.agents)}
        for q in _chat_queues(ctx)
    ]


@xapi_function("ReportQueueAgentsChatStatistics", "Pbx.GetQueueAgentsChatStatisticsData")
@report
def get_queue_agents_chat_statistics(ctx: FunctionContext) -> list[dict[str, Any]]:
    """Per queue and agent; no chats, so no counts."""
    return [
        {"Queue": q.number, "QueueDisplayName": q.name, "Dn": a, "DnDisplayName": n, "SortOrder": i}
        for q in _chat_queues(ctx)
        for i, (a, n) in enumerate(q.agents, start=1)
    ]


@xapi_function("ReportQueueAgentsChatStatisticsTotals", "Pbx.GetQueueAgentsChatStatisticsTotalsData")
@report
def get_queue_agents_chat_statistics_totals(ctx: FunctionContext) -> list[dict[str, Any]]:
    """Per queue; no chats, so no counts."""
    return [{"Queue": q.number, "QueueDisplayName": q.name} for q in _chat_queues(ctx)]


@xapi_function("ReportAgentLoginHistory", "Pbx.GetAgentLoginHistoryData")
@report
def get_agent_login_history(ctx: FunctionContext) -> list[dict[str, Any]]:
    """Per queue, agent and day: an eight-hour shift from 08:00 local time, and the talk time that day."""
    start, end = period(ctx, "startDt", "endDt")
    zone = _zone(ctx.args.get("clientTimeZone"))
    agents_wanted = dn_set(ctx.args.get("agentDnStr"))
    data = CallData(ctx.state)
    calls = data.calls(start, end)
    rows = []
    for queue in _queues(data, ctx.args.get("queueDnStr")):
        for agent, name in queue.agents:
            if agents_wanted and agent not in agents_wanted:
                continue
            total_talk = 0.0
            total_in = 0.0
            day = start.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
            while day.astimezone(timezone.utc) < end:
                login = day.replace(hour=8)
                logout = login + timedelta(seconds=_SHIFT_SECONDS)
                talk = sum(
                    c.talk
                    for c in calls
                    if c.queue_dn == queue.number and c.answered_by == agent and login <= c.start < logout
                )
                total_talk += talk
                total_in += _SHIFT_SECONDS
                rows.append(
                    {
                        "QueueNo": queue.number,
                        "AgentNo": agent,
                        "Agent": name,
                        "Day": day.astimezone(timezone.utc),
                        "loggedInDt": login.astimezone(timezone.utc),
                        "LoggedOutDt": logout.astimezone(timezone.utc),
                        "LoggedInInterval": float(_SHIFT_SECONDS),
                        "LoggedInDayInterval": float(_SHIFT_SECONDS),
                        "LoggedInTotalInterval": total_in,
                        "TalkingInterval": talk,
                        "TalkingDayInterval": talk,
                        "TalkingTotalInterval": total_talk,
                    }
                )
                day = (day + timedelta(days=1, hours=2)).replace(hour=0)
    return rows


# -- chart series ---------------------------------------------------------------------------------


def _chart_buckets(ctx: FunctionContext) -> list[tuple[datetime, datetime]]:
    zone = _zone(ctx.args.get("clientTimeZone"))
    day = ctx.args["chartDate"].astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    by = str(ctx.args.get("chartBy") or "Day").lower()
    if by in ("week", "month"):
        if by == "month":
            day = day.replace(day=1)
        count = 7 if by == "week" else 31
        starts = [(day + timedelta(days=i, hours=2)).replace(hour=0) for i in range(count + 1)]
        if by == "month":
            starts = [s for s in starts if s.month == day.month] + [
                (day + timedelta(days=32)).replace(day=1, hour=0)
            ]
    else:
        starts = [day + timedelta(hours=i) for i in range(25)]
    edges = [s.astimezone(timezone.utc) for s in starts]
    check_range(ctx.state, edges[-1] - edges[0])
    return list(itertools.pairwise(edges))


def _series(ctx: FunctionContext, values: Any) -> list[dict[str, Any]]:
    interval(ctx, "waitInterval")
    buckets = _chart_buckets(ctx)
    data = CallData(ctx.state)
    wanted = dn_set(ctx.args.get("queueDnStr"))
    calls = [
        c
        for c in data.calls(buckets[0][0], buckets[-1][1])
        if c.queue_dn and (not wanted or c.queue_dn in wanted)
    ]
    rows = []
    for low, high in buckets:
        inside = [c for c in calls if low <= c.start < high]
        first, second = values(inside)
        rows.append(_nonzero({"XValue": low, "YValue1": first, "YValue2": second}))
    return rows


@xapi_function("ReportAverageQueueWaitingTime", "Pbx.GetAverageQueueWaitingTimeData")
@report
def get_average_queue_waiting_time(ctx: FunctionContext) -> list[dict[str, Any]]:
    """Per hour (or day): the average and the longest wait in the queues, in whole seconds."""
    return _series(
        ctx,
        lambda calls: (round(_mean([c.wait for c in calls])), round(max((c.wait for c in calls), default=0))),
    )


@xapi_function("ReportQueueAnUnCalls", "Pbx.GetQueueAnUnCallsData")
@report
def get_queue_answered_unanswered(ctx: FunctionContext) -> list[dict[str, Any]]:
    """Per hour (or day): queue calls answered and not answered."""
    return _series(
        ctx,
        lambda calls: (sum(1 for c in calls if c.answered_by), sum(1 for c in calls if not c.answered_by)),
    )


def _interval_buckets(ctx: FunctionContext) -> list[tuple[datetime, datetime]]:
    start, end = period(ctx)
    zone = _zone(ctx.args.get("clientTimeZone"))
    hourly = ctx.args.get("groupingType") == 1
    edge = start.astimezone(zone).replace(minute=0, second=0, microsecond=0)
    if not hourly:
        edge = edge.replace(hour=0)
    edges = []
    while edge.astimezone(timezone.utc) < end:
        edges.append(edge.astimezone(timezone.utc))
        edge = edge + timedelta(hours=1) if hourly else (edge + timedelta(days=1, hours=2)).replace(hour=0)
    edges.append(end)
    return [(max(a, start), b) for a, b in itertools.pairwise(edges)]


def _extension_calls(ctx: FunctionContext, start: datetime, end: datetime) -> list[Call]:
    data = CallData(ctx.state)
    wanted = dn_set(ctx.args.get("extensionDns"))
    group = ctx.args.get("groupNumber") or ""
    users = data.users
    if group and group != "GRP0000":  # GRP0000 is DEFAULT, every user's group
        wanted |= {n for n, u in users.items() if u.get("group_number") == group}
        if not wanted:
            return []
    include_queues = ctx.args.get("includeQueueCalls", True)
    out = []
    for call in data.calls(start, end):
        if call.queue_dn and not include_queues:
            continue
        involved = {call.caller_dn, call.callee_dn, call.answered_by}
        if not wanted or wanted & involved:
            out.append(call)
    return out


@xapi_function("ReportCallDistribution", "Pbx.GetCallDistribution")
@report
def get_call_distribution(ctx: FunctionContext) -> list[dict[str, Any]]:
    """Per day (``groupingType`` 1: per hour): incoming and outgoing calls."""
    interval(ctx, "waitInterval")
    buckets = _interval_buckets(ctx)
    calls = _extension_calls(ctx, buckets[0][0], buckets[-1][1]) if buckets else []
    rows = []
    for low, high in buckets:
        inside = [c for c in calls if low <= c.start < high]
        rows.append(
            {
                "DateTimeInterval": low,
                "IncomingCount": sum(1 for c in inside if c.direction == "inbound"),
                "OutgoingCount": sum(1 for c in inside if c.direction == "outbound"),
            }
        )
    return rows


@xapi_function("ReportUserActivity", "Pbx.GetUserActivity")
@report
def get_user_activity(ctx: FunctionContext) -> list[dict[str, Any]]:
    """Per day (``groupingType`` 1: per hour): calls answered and not answered."""
    interval(ctx, "waitInterval")
    buckets = _interval_buckets(ctx)
    calls = _extension_calls(ctx, buckets[0][0], buckets[-1][1]) if buckets else []
    rows = []
    for low, high in buckets:
        inside = [c for c in calls if low <= c.start < high]
        rows.append(
            {
                "DateTimeInterval": low,
                "AnsweredCount": sum(1 for c in inside if c.answered),
                "UnansweredCount": sum(1 for c in inside if not c.answered),
            }
        )
    return rows


# -- extensions and ring groups ---------------------------------------------------------------------


def _extension_row(number: str, name: str, calls: list[Call]) -> dict[str, Any]:
    inbound = [c for c in calls if c.direction != "outbound" and number in (c.callee_dn, c.answered_by)]
    outbound = [c for c in calls if c.direction != "inbound" and c.caller_dn == number]
    in_answered = [c for c in inbound if c.answered_by == number]
    out_answered = [c for c in outbound if c.answered]
    return _nonzero(
        {
            "Dn": number,
            "DisplayName": name,
            "InboundAnsweredCount": len(in_answered),
            "InboundUnansweredCount": len(inbound) - len(in_answered),
            "InboundAnsweredTalkingDur": sum(c.talk for c in in_answered),
            "OutboundAnsweredCount": len(out_answered),
            "OutboundUnansweredCount": len(outbound) - len(out_answered),
            "OutboundAnsweredTalkingDur": sum(c.talk for c in out_answered),
        }
    )


@xapi_function("ReportExtensionStatistics", "Pbx.GetExtensionStatisticsData")
@report
def get_extension_statistics(ctx: FunctionContext) -> list[dict[str, Any]]:
    """Per extension: inbound and outbound calls, answered or not, and talk times."""
    start, end = period(ctx)
    data = CallData(ctx.state)
    calls = data.calls(start, end)
    wanted = dn_set(ctx.args.get("extensionFilter"))
    return [
        _extension_row(n, u["name"], calls)
        for n, u in sorted(data.users.items())
        if not wanted or n in wanted
    ]


@xapi_function("ReportExtensionStatisticsByGroup", "Pbx.GetExtensionStatisticsByGroupData")
@report
def get_extension_statistics_by_group(ctx: FunctionContext) -> list[dict[str, Any]]:
    """Per extension of a group (``GRP0000``, DEFAULT, has everyone)."""
    start, end = period(ctx)
    data = CallData(ctx.state)
    calls = data.calls(start, end)
    group = ctx.args.get("groupNumber") or ""
    rows = []
    for number, user in sorted(data.users.items()):
        if group and group != "GRP0000" and user.get("group_number") != group:
            continue
        row = _extension_row(number, user["name"], calls)
        row["SentimentScore"] = int(number) % 5 + 1
        rows.append(row)
    return rows


def _ring_group_calls(ctx: FunctionContext) -> tuple[list[tuple[str, str, tuple[str, ...]]], list[Call]]:
    start, end = period(ctx)
    data = CallData(ctx.state)
    wanted = dn_set(ctx.args.get("ringGroupDns"))
    groups = [g for g in data.ring_groups if not wanted or g[0] in wanted]
    numbers = {g[0] for g in groups}
    return groups, [c for c in data.calls(start, end) if c.callee_dn in numbers]


@xapi_function("ReportRingGroupStatistics", "Pbx.GetRingGroupStatisticsData")
@report
def get_ring_group_statistics(ctx: FunctionContext) -> list[dict[str, Any]]:
    """Per ring group: calls received and answered (the synthetic calls rarely ring a group)."""
    groups, calls = _ring_group_calls(ctx)
    rows = []
    for number, name, _members in groups:
        mine = [c for c in calls if c.callee_dn == number]
        rows.append(
            _nonzero(
                {
                    "RingGroupDn": number,
                    "RingGroupDisplayName": name,
                    "RingGroupReceivedCount": len(mine),
                    "RingGroupAnsweredCount": sum(1 for c in mine if c.answered),
                }
            )
        )
    return rows


@xapi_function("ReportExtensionsStatisticsByRingGroups", "Pbx.GetExtensionsStatisticsByRingGroupsData")
@report
def get_extensions_statistics_by_ring_groups(ctx: FunctionContext) -> list[dict[str, Any]]:
    """Per ring group and member: the group's calls and the member's answered ones."""
    groups, calls = _ring_group_calls(ctx)
    users = CallData(ctx.state).users
    rows = []
    for number, name, members in groups:
        mine = [c for c in calls if c.callee_dn == number]
        for order, member in enumerate(members, start=1):
            rows.append(
                _nonzero(
                    {
                        "RingGroupDn": number,
                        "RingGroupDisplayName": name,
                        "ExtensionDn": member,
                        "ExtensionDisplayName": users.get(member, {}).get("name"),
                        "SortOrder": order,
                        "RingGroupReceivedCount": len(mine),
                        "RingGroupUnansweredCount": sum(1 for c in mine if not c.answered),
                        "ExtensionAnsweredCount": sum(1 for c in mine if c.answered_by == member),
                    }
                )
            )
    return rows
