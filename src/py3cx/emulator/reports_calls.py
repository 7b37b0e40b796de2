"""Reports whose rows are calls, segments or events: call log, abandoned queue calls, SLA
breaches, answered queue calls, trunk calls, call cost, and the chat and audit logs.

Each row is computed from the CallHistoryView segments and the ``_calls`` table, so that e.g.
the call log of a day has exactly one row per CallHistoryView segment of that day.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from .registry import FunctionContext, xapi_function
from .reports import Call, CallData, cdr_id, dn_set, interval, period, report, text_matches, wire_time
from .synthetic import ACTION_CALLER_HUNG_UP, ACTION_PASSED_ON, DN_EXTENSION, SEGMENT_RING, TRUNK_DN

_DIRECTION = {"inbound": "Inbound", "outbound": "Outbound", "internal": "Internal"}
_SUMMARIES = (
    "Customer asked about an invoice; agent explained the charges.",
    "Caller reported a fault; a ticket was opened.",
    "Order status enquiry; delivery date confirmed.",
    "Request to change the contract; a callback was agreed.",
)


def _recording(rec_id: int) -> dict[str, Any]:
    summary = _SUMMARIES[rec_id % len(_SUMMARIES)]
    return {
        "Id": rec_id,
        "SentimentScore": rec_id % 5 + 1,
        "Summary": summary,
        "Transcription": f"Agent: Good morning, how can I help? Caller: {summary}",
    }


def _status(segment: dict[str, Any]) -> str:
    if segment["CallAnswered"]:
        return "Answered"
    if segment["SegmentActionId"] == ACTION_CALLER_HUNG_UP:
        return "Abandoned"
    if segment["SegmentActionId"] == ACTION_PASSED_ON:
        return "Redirected"
    return "Unanswered"


def call_log_row(
    segment: dict[str, Any], call: Call | None, users: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """One ``Pbx.CallLogData`` row for a CallHistoryView segment (stored form) and its call."""
    segment_id = segment["SegmentId"]
    duration = float(segment["CallTime"] or 0.0)
    if segment["SegmentType"] == SEGMENT_RING:
        ringing, talking = duration, 0.0
    elif call is not None and call.queue_dn is None:
        ringing, talking = call.ring, max(duration - call.ring, 0.0)
    else:
        ringing, talking = 0.0, duration
    rec_id = segment.get("DstRecId")
    row: dict[str, Any] = {
        "CdrId": cdr_id(segment_id),
        "CallId": call.call_id if call else segment_id,
        "CallHistoryId": call.history_id if call else None,
        "MainCallHistoryId": call.history_id if call else None,
        "SegmentId": segment_id,
        "Indent": 0 if call is None or segment_id == call.segment_first else 1,
        "SubrowDescNumber": 0 if call is None else segment_id - call.segment_first,
        "StartTime": wire_time(segment["SegmentStartTime"]),
        "SourceDn": segment["SrcDn"],
        "SourceCallerId": segment["SrcCallerNumber"],
        "SourceDisplayName": segment["SrcDisplayName"],
        "SourceType": segment["SrcDnType"],
        "DestinationDn": segment["DstDn"],
        "DestinationCallerId": segment["DstCallerNumber"],
        "DestinationDisplayName": segment["DstDisplayName"],
        "DestinationType": segment["DstDnType"],
        "ActionType": segment["SegmentActionId"],
        "Answered": bool(segment["CallAnswered"]),
        "Direction": _DIRECTION.get(call.direction) if call else None,
        "Status": _status(segment),
        "RingingDuration": ringing,
        "TalkingDuration": talking,
        "SrcRecId": segment.get("SrcRecId"),
        "DstRecId": rec_id,
        "QualityReport": bool(segment["SrcExternal"] or segment["DstExternal"]),
        "Recordings": [_recording(rec_id)] if rec_id else [],
    }
    if rec_id:
        recording = _recording(rec_id)
        row["RecordingUrl"] = f"/xapi/v1/Recordings/Pbx.DownloadRecording(recId={rec_id})"
        row["SentimentScore"] = recording["SentimentScore"]
        row["Summary"] = recording["Summary"]
        row["Transcription"] = recording["Transcription"]
    if call is not None and segment["SegmentActionId"] == ACTION_PASSED_ON and call.answered_by:
        agent = users.get(call.answered_by, {})
        row["actionDnDn"] = call.answered_by
        row["ActionDnDisplayName"] = agent.get("name")
        row["ActionDnCallerId"] = call.answered_by
        row["ActionDnType"] = DN_EXTENSION
    return row


@xapi_function("ReportCallLogData", "Pbx.GetCallLogData")
@report
def get_call_log(ctx: FunctionContext) -> list[dict[str, Any]]:
    """One row per CallHistoryView segment that started in the period."""
    start, end = period(ctx)
    return _call_log(ctx, start, end)


@xapi_function("ReportCallLogData", "Pbx.GetOldCallLogData")
@report
def get_old_call_log(ctx: FunctionContext) -> list[dict[str, Any]]:
    """The same rows: the emulator has no records from before V20 Update 6 kept apart."""
    start, end = period(ctx)
    return _call_log(ctx, start, end)


def _call_log(ctx: FunctionContext, start: datetime, end: datetime) -> list[dict[str, Any]]:
    data = CallData(ctx.state)
    interval(ctx, "callTimeFilterFrom")
    interval(ctx, "callTimeFilterTo")
    hide = bool(ctx.args.get("hidePcalls"))
    source_text, destination_text = ctx.args.get("sourceFilter"), ctx.args.get("destinationFilter")
    segments = data.segments(start, end)
    calls = data.calls_by_segment([s["SegmentId"] for s in segments])
    users = data.users
    rows = []
    for segment in segments:
        if hide and segment["SegmentActionId"] == ACTION_PASSED_ON:
            continue
        if not text_matches(
            source_text, segment["SrcDn"], segment["SrcCallerNumber"], segment["SrcDisplayName"]
        ):
            continue
        if not text_matches(
            destination_text, segment["DstDn"], segment["DstCallerNumber"], segment["DstDisplayName"]
        ):
            continue
        rows.append(call_log_row(segment, calls.get(segment["SegmentId"]), users))
    return rows


def _queue_calls(ctx: FunctionContext, queues_arg: str, start_arg: str, end_arg: str) -> list[Call]:
    start, end = period(ctx, start_arg, end_arg)
    wanted = dn_set(ctx.args.get(queues_arg))
    return [
        c
        for c in CallData(ctx.state).calls(start, end)
        if c.queue_dn and (not wanted or c.queue_dn in wanted)
    ]


@xapi_function("ReportAbandonedQueueCalls", "Pbx.GetAbandonedQueueCallsData")
@report
def get_abandoned_queue_calls(ctx: FunctionContext) -> list[dict[str, Any]]:
    """One row per polled agent of each call abandoned in a queue; ``CallTime`` on the first only."""
    minimum = interval(ctx, "waitInterval")
    data = CallData(ctx.state)
    names = {q.number: q.name for q in data.queues}
    users = data.users
    logged_out = {number for i, number in enumerate(sorted(users)) if i % 4 == 3}
    rows: list[dict[str, Any]] = []
    for call in _queue_calls(ctx, "queueDns", "periodFrom", "periodTo"):
        if not call.abandoned or call.wait < minimum:
            continue
        for attempt, agent in enumerate(call.polled, start=1):
            row: dict[str, Any] = {
                "QueueDn": call.queue_dn,
                "QueueDisplayName": names.get(call.queue_dn or ""),
                "CallerId": call.caller_number,
                "CallHistoryId": call.history_id,
                "CallTimeForCsv": call.start,
                "ExtensionDn": agent,
                "ExtensionDisplayName": users.get(agent, {}).get("name"),
                "IsLoggedIn": agent not in logged_out,
                "PollingAttempts": attempt,
                "WaitTime": call.wait,
            }
            if attempt == 1:
                row["CallTime"] = call.start
            rows.append(row)
    return rows


@xapi_function("ReportBreachesSla", "Pbx.GetBreachesSlaData")
@report
def get_breaches_sla(ctx: FunctionContext) -> list[dict[str, Any]]:
    """Queue calls that waited longer than the queue's SLA time (or ``waitInterval`` when set)."""
    minimum = interval(ctx, "waitInterval")
    queues = {q.number: q for q in CallData(ctx.state).queues}
    rows = []
    for call in _queue_calls(ctx, "queueDnStr", "startDt", "endDt"):
        queue = queues.get(call.queue_dn or "")
        limit = minimum or (queue.sla_seconds if queue else 0)
        if call.wait > limit:
            rows.append(
                {
                    "CallerId": call.caller_number or "",
                    "CallTime": call.start,
                    "Queue": queue.name if queue else call.queue_dn,
                    "QueueDnNumber": call.queue_dn,
                    "WaitingTime": call.wait,
                }
            )
    return rows


@xapi_function("ReportQueueAnsweredCallsByWaitTime", "Pbx.GetQueueAnsweredCallsByWaitTimeData")
@report
def get_queue_answered_by_wait_time(ctx: FunctionContext) -> list[dict[str, Any]]:
    """Queue calls answered after waiting at least ``answerInterval``."""
    minimum = interval(ctx, "answerInterval")
    users = CallData(ctx.state).users
    rows = []
    for call in _queue_calls(ctx, "queueDnStr", "startDt", "endDt"):
        if not call.answered_by or call.wait < minimum:
            continue
        rows.append(
            {
                "CallTime": call.start,
                "AnsweredTime": call.start + timedelta(seconds=call.wait),
                "Source": call.caller_number or "",
                "Destination": users.get(call.answered_by, {}).get("name", call.answered_by),
                "Dn": call.queue_dn,
                "DnNumber": call.answered_by,
                "RingTime": call.wait,
                "SentimentScore": call.call_id % 5 + 1,
            }
        )
    return rows


@xapi_function("ReportQueueFailedCallbacks", "Pbx.GetQueueFailedCallbacksData")
@report
def get_queue_failed_callbacks(ctx: FunctionContext) -> list[dict[str, Any]]:
    """No queue offers callbacks in the emulator: no failed callbacks."""
    period(ctx, "startDt", "endDt")
    return []


def _trunk_calls(ctx: FunctionContext, direction: str) -> list[tuple[Call, dict[str, Any]]]:
    start, end = period(ctx)
    trunks = dn_set(ctx.args.get("trunkDns"))
    data = CallData(ctx.state)
    calls = [
        c for c in data.calls(start, end) if c.direction == direction and (not trunks or c.trunk_dn in trunks)
    ]
    firsts = {s["SegmentId"]: s for s in data.segments(start, end + timedelta(days=1))}
    return [(c, firsts.get(c.segment_first, {})) for c in calls]


def _trunk_row(call: Call, first: dict[str, Any], users: dict[str, dict[str, Any]]) -> dict[str, Any]:
    rec_id = first.get("DstRecId")
    destination = call.answered_by or call.callee_dn if call.direction == "inbound" else call.callee_number
    row: dict[str, Any] = {
        "CdrId": cdr_id(call.segment_first),
        "CallHistoryId": call.history_id,
        "StartTime": call.start,
        "SourceCallerId": call.caller_number,
        "SourceDisplayName": call.caller_name,
        "SourceDn": call.caller_dn or TRUNK_DN,
        "DestinationDn": destination if call.direction == "inbound" else TRUNK_DN,
        "DestinationDisplayName": users.get(destination or "", {}).get("name"),
        "TrunkNumber": call.trunk_dn,
        "TrunkName": "SIP Trunk" if call.trunk_dn else None,
        "Status": "Answered" if call.answered else "Unanswered",
        "CallDuration": (call.end - call.start).total_seconds(),
        "RingingDuration": call.wait if call.queue_dn else call.ring,
        "TalkingDuration": call.talk,
        "QualityReport": True,
        "Recordings": [_recording(rec_id)] if rec_id else [],
    }
    if rec_id:
        row["RecordingId"] = rec_id
        row["RecordingUrl"] = f"/xapi/v1/Recordings/Pbx.DownloadRecording(recId={rec_id})"
    return row


@xapi_function("ReportInboundCalls", "Pbx.GetInboundCalls")
@report
def get_inbound_calls(ctx: FunctionContext) -> list[dict[str, Any]]:
    """One row per inbound call in the period."""
    users = CallData(ctx.state).users
    rows = []
    for call, first in _trunk_calls(ctx, "inbound"):
        row = _trunk_row(call, first, users)
        row.update(
            {"Did": call.did, "DestinationCallerId": row["DestinationDn"], "RuleName": f"DID {call.did}"}
        )
        rows.append(row)
    return rows


@xapi_function("ReportOutboundCalls", "Pbx.GetOutboundCalls")
@report
def get_outbound_calls(ctx: FunctionContext) -> list[dict[str, Any]]:
    """One row per outbound call in the period."""
    users = CallData(ctx.state).users
    rows = []
    for call, first in _trunk_calls(ctx, "outbound"):
        row = _trunk_row(call, first, users)
        row.update(
            {"Answered": call.answered, "DestinationCalleeId": call.callee_number, "RuleName": "Default"}
        )
        rows.append(row)
    return rows


@xapi_function("ReportCallCostByExtensionGroup", "Pbx.GetCallCostByExtensionGroupData")
@report
def get_call_cost_by_group(ctx: FunctionContext) -> list[dict[str, Any]]:
    """Outbound calls by the caller's group (the emulator keeps no tariffs: no cost figures)."""
    start, end = period(ctx)
    group_text = ctx.args.get("groupFilter")
    users = CallData(ctx.state).users
    rows = []
    for call in CallData(ctx.state).calls(start, end):
        if call.direction != "outbound" or not call.caller_dn:
            continue
        user = users.get(call.caller_dn, {})
        if not text_matches(group_text, user.get("group"), user.get("group_number")):
            continue
        rows.append(
            {
                "SegId": str(call.segment_first),
                "StartTime": call.start,
                "SrcDn": call.caller_dn,
                "SrcDisplayName": user.get("name"),
                "DstDn": call.callee_number,
                "DstDnClass": 0,
                "GroupName": user.get("group"),
                "IsAnswered": call.answered,
                "CallType": "Outbound",
                "RingingDur": call.ring,
                "TalkingDur": call.talk,
            }
        )
    return rows


@xapi_function("ReportChatLog", "Pbx.GetChatLog")
@report
def get_chat_log(ctx: FunctionContext) -> list[dict[str, Any]]:
    """The emulator has no chats."""
    period(ctx)
    return []


@xapi_function("ReportAbandonedChatsStatistics", "Pbx.GetAbandonedChatsStatisticsData")
@report
def get_abandoned_chats(ctx: FunctionContext) -> list[dict[str, Any]]:
    """The emulator has no chats."""
    period(ctx, "startDt", "endDt")
    return []


@xapi_function("ReportAuditLog", "Pbx.GetAuditLogData")
def get_audit_log(ctx: FunctionContext) -> list[dict[str, Any]]:
    """A few configuration changes, one per user created at set-up, a day apart."""
    anchor = ctx.state.anchor
    rows = []
    for i, (number, user) in enumerate(sorted(CallData(ctx.state).users.items()), start=1):
        rows.append(
            {
                "Id": i,
                "Timestamp": anchor - timedelta(days=120 - i),
                "Source": 1,
                "Ip": "192.0.2.10",
                "Action": 1,
                "ObjectType": 1,
                "UserName": "admin@pbx.example.com",
                "ObjectName": f"{number} {user['name']}",
                "NewData": f'{{"Number":"{number}"}}',
            }
        )
    return rows


@xapi_function("ReportInboundRules", "Pbx.GetInboundRulesData")
def get_inbound_rules(ctx: FunctionContext) -> list[dict[str, Any]]:
    """One rule per DID the synthetic calls came in on, routed to the first queue."""
    queues = CallData(ctx.state).queues
    first = queues[0] if queues else None
    rows = []
    for i, did in enumerate(("+442079460000", "+442079460001", "+38514800800"), start=1):
        destination = {"Number": first.number, "Name": first.name, "To": "Queue"} if first else None
        rows.append(
            {
                "Id": i,
                "DID": did,
                "RuleName": f"DID {did}",
                "Trunk": "SIP Trunk",
                "InOfficeRouting": destination,
                "OutOfficeRouting": {"To": "VoiceMail", "Number": "100"},
            }
        )
    return rows
