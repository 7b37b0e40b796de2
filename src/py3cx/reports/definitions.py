"""Typed definitions of every report: the ``Get…Data`` function of each of the 31 ``Report*`` entity
sets (and ``GetOldCallLogData``), plus CallHistoryView and ActiveCalls.

The function names, arguments and columns come from the spec through the generated ``_catalog``;
this module adds what the spec does not say: the command-line name of each report (the four the
PowerShell module has keep its names: ``call-log``, ``abandoned-queue-calls``,
``queue-performance-overview``, ``queue-performance-totals``), the role of each argument (period
start, queue list, wait interval...), its default, a stable ``$orderby`` for paging, and for
reports whose rows are events in time the column the period filters, which lets an export split
a range that times out.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache

from py3cx.reports import _catalog

__all__ = [
    "ArgRole",
    "Argument",
    "Column",
    "ColumnKind",
    "ReportDefinition",
    "all_reports",
    "get_report",
]


class ColumnKind(str, enum.Enum):
    """How a column's values are read and written (from the schema's type and format)."""

    STRING = "string"
    INTEGER = "integer"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    DURATION = "duration"
    ARRAY = "array"
    OBJECT = "object"
    ENUM = "enum"


class ArgRole(str, enum.Enum):
    """What a function argument means, which decides its Python type and command-line option."""

    PERIOD_START = "period_start"  # periodFrom, startDt: local midnight of the first day, in UTC
    PERIOD_END = "period_end"  # periodTo, endDt: local midnight after the last day, in UTC
    DAY = "day"  # chartDate: one day
    DN_LIST = "dn_list"  # queueDns, trunkDns...: several numbers in one space-separated string
    INTERVAL = "interval"  # waitInterval, callTimeFilterFrom...: timedelta written '0:00:20'
    TIME_ZONE = "time_zone"  # clientTimeZone: an IANA zone name
    CODE = "code"  # sourceType, callsType...: an integer filter code, 0 = no filter
    FLAG = "flag"  # hidePcalls, includeQueueCalls
    TEXT = "text"  # sourceFilter, groupNumber...: free text, '' = no filter


@dataclass(frozen=True)
class Column:
    """One column of a report's rows, as the schema declares it."""

    name: str
    kind: ColumnKind


@dataclass(frozen=True)
class Argument:
    """One function argument: wire name, Edm type, role, default and command-line option."""

    name: str
    edm_type: str
    role: ArgRole
    default: object
    option: str
    help: str


@dataclass(frozen=True)
class ReportDefinition:
    """A report a user can export: where it lives, what it takes and what its rows hold.

    ``function`` is None for plain entity sets (CallHistoryView, ActiveCalls), which are listed
    and filtered with ``$filter``. ``time_column`` is set when every row is an event at one instant
    inside the period (call log, abandoned calls...): such a report can be fetched in time windows
    and split in halves when a window times out. Aggregates (per queue, per agent) cannot: the
    sum of two halves is not the report of the whole.
    """

    name: str
    title: str
    entity_set: str
    function: str | None
    arguments: tuple[Argument, ...]
    row_schema: str
    columns: tuple[Column, ...]
    order_by: tuple[str, ...]
    time_column: str | None = None
    download: str | None = None
    download_arguments: tuple[Argument, ...] = ()
    aliases: tuple[str, ...] = field(default=())

    @property
    def splittable(self) -> bool:
        """True when the period can be fetched in windows (rows are events in time)."""
        return self.time_column is not None and self.has_period

    @property
    def has_period(self) -> bool:
        """True when the report takes a start and an end (or, for entity sets, is filtered by time)."""
        if self.function is None:
            return self.time_column is not None
        roles = {a.role for a in self.arguments}
        return ArgRole.PERIOD_START in roles and ArgRole.PERIOD_END in roles

    def argument(self, name: str) -> Argument:
        """The argument with this wire name. Raises KeyError. Example: ``defn.argument("queueDns")``."""
        for arg in self.arguments:
            if arg.name == name:
                return arg
        raise KeyError(name)

    def column_names(self) -> list[str]:
        """The schema's column names in spec order."""
        return [c.name for c in self.columns]


# --- what the spec does not say -------------------------------------------------------------

_ROLE_BY_NAME: dict[str, ArgRole] = {
    "periodFrom": ArgRole.PERIOD_START,
    "startDt": ArgRole.PERIOD_START,
    "periodTo": ArgRole.PERIOD_END,
    "endDt": ArgRole.PERIOD_END,
    "chartDate": ArgRole.DAY,
    "queueDns": ArgRole.DN_LIST,
    "queueDnStr": ArgRole.DN_LIST,
    "agentDnStr": ArgRole.DN_LIST,
    "ringGroupDns": ArgRole.DN_LIST,
    "trunkDns": ArgRole.DN_LIST,
    "extensionDns": ArgRole.DN_LIST,
    "waitInterval": ArgRole.INTERVAL,
    "answerInterval": ArgRole.INTERVAL,
    "callTimeFilterFrom": ArgRole.INTERVAL,
    "callTimeFilterTo": ArgRole.INTERVAL,
    "clientTimeZone": ArgRole.TIME_ZONE,
}

# Command-line options for the arguments whose kebab-case name would read badly.
_OPTION_BY_NAME: dict[str, str] = {
    "periodFrom": "--from",
    "startDt": "--from",
    "periodTo": "--to",
    "endDt": "--to",
    "chartDate": "--date",
    "queueDns": "--queue",
    "queueDnStr": "--queue",
    "agentDnStr": "--agent",
    "ringGroupDns": "--ring-group",
    "trunkDns": "--trunk",
    "extensionDns": "--extension",
    "clientTimeZone": "--tz",
    "callTimeFilterFrom": "--call-time-from",
    "callTimeFilterTo": "--call-time-to",
    "hidePcalls": "--hide-pcalls",
}

_HELP_BY_ROLE: dict[ArgRole, str] = {
    ArgRole.PERIOD_START: "First day (YYYY-MM-DD) or an ISO date-time, in --tz.",
    ArgRole.PERIOD_END: "Last day, included (YYYY-MM-DD), or an ISO date-time (excluded), in --tz.",
    ArgRole.DAY: "The day of the chart (YYYY-MM-DD), in --tz.",
    ArgRole.DN_LIST: "A number (repeat the option for several; none means all). Leading zeros are kept.",
    ArgRole.INTERVAL: "A time span H:MM:SS (0:00:00 means no limit).",
    ArgRole.TIME_ZONE: "The time zone the PBX should use, from --tz.",
    ArgRole.CODE: "A filter code; 0 means no filter.",
    ArgRole.FLAG: "Yes or no.",
    ArgRole.TEXT: "Text filter; empty means no filter.",
}

# Defaults of the PowerShell module and the PHP site ("safe" values: no filter).
_DEFAULT_BY_NAME: dict[str, object] = {
    "hidePcalls": False,  # the module's default; the 3CX web report uses true
    "includeQueueCalls": True,
    "chartBy": "Day",
    "groupNumber": "",
}


@dataclass(frozen=True)
class _Extra:
    name: str
    title: str
    order_by: tuple[str, ...]
    time_column: str | None = None
    aliases: tuple[str, ...] = ()


# One entry per listing function; keys are "EntitySet/Pbx.Function" (or the entity set alone).
_EXTRAS: dict[str, _Extra] = {
    "ReportCallLogData/Pbx.GetCallLogData": _Extra(
        "call-log", "Call log", ("StartTime asc", "CdrId asc"), "StartTime", ("call-log-data",)
    ),
    "ReportCallLogData/Pbx.GetOldCallLogData": _Extra(
        "old-call-log",
        "Call log (records from before V20 Update 6)",
        ("StartTime asc", "CdrId asc"),
        "StartTime",
    ),
    "ReportAbandonedQueueCalls/Pbx.GetAbandonedQueueCallsData": _Extra(
        "abandoned-queue-calls",
        "Abandoned queue calls (one row per polled agent)",
        ("CallTimeForCsv asc", "CallHistoryId asc", "PollingAttempts asc"),
        "CallTimeForCsv",
    ),
    "ReportQueuePerformanceOverview/Pbx.GetQueuePerformanceOverviewData": _Extra(
        "queue-performance-overview",
        "Queue performance per queue and agent",
        ("QueueDn asc", "ExtensionDn asc"),
    ),
    "ReportQueuePerformanceTotals/Pbx.GetQueuePerformanceTotalsData": _Extra(
        "queue-performance-totals", "Queue performance totals per queue", ("QueueDn asc",)
    ),
    "ReportAbandonedChatsStatistics/Pbx.GetAbandonedChatsStatisticsData": _Extra(
        "abandoned-chats-statistics", "Abandoned chats", ("DateOfRequest asc", "ChatId asc"), "DateOfRequest"
    ),
    "ReportAgentLoginHistory/Pbx.GetAgentLoginHistoryData": _Extra(
        "agent-login-history", "Agent login history", ("QueueNo asc", "AgentNo asc", "loggedInDt asc")
    ),
    "ReportAgentsInQueueStatistics/Pbx.GetAgentsInQueueStatisticsData": _Extra(
        "agents-in-queue-statistics", "Agents in queue statistics", ("Queue asc", "Dn asc")
    ),
    "ReportAuditLog/Pbx.GetAuditLogData": _Extra("audit-log", "Audit log", ("Id asc",)),
    "ReportAverageQueueWaitingTime/Pbx.GetAverageQueueWaitingTimeData": _Extra(
        "average-queue-waiting-time", "Average queue waiting time (chart data)", ("XValue asc",)
    ),
    "ReportBreachesSla/Pbx.GetBreachesSlaData": _Extra(
        "breaches-sla", "SLA breaches", ("CallTime asc", "QueueDnNumber asc", "CallerId asc"), "CallTime"
    ),
    "ReportCallCostByExtensionGroup/Pbx.GetCallCostByExtensionGroupData": _Extra(
        "call-cost-by-extension-group",
        "Call cost by extension group",
        ("StartTime asc", "SegId asc"),
        "StartTime",
    ),
    "ReportCallDistribution/Pbx.GetCallDistribution": _Extra(
        "call-distribution", "Call distribution over time", ("DateTimeInterval asc",)
    ),
    "ReportDetailedQueueStatistics/Pbx.GetDetailedQueueStatisticsData": _Extra(
        "detailed-queue-statistics", "Detailed queue statistics", ("QueueDnNumber asc",)
    ),
    "ReportExtensionsStatisticsByRingGroups/Pbx.GetExtensionsStatisticsByRingGroupsData": _Extra(
        "extensions-statistics-by-ring-groups",
        "Extension statistics by ring group",
        ("RingGroupDn asc", "ExtensionDn asc"),
    ),
    "ReportExtensionStatisticsByGroup/Pbx.GetExtensionStatisticsByGroupData": _Extra(
        "extension-statistics-by-group", "Extension statistics by group", ("Dn asc",)
    ),
    "ReportExtensionStatistics/Pbx.GetExtensionStatisticsData": _Extra(
        "extension-statistics", "Extension statistics", ("Dn asc",)
    ),
    "ReportInboundRules/Pbx.GetInboundRulesData": _Extra("inbound-rules", "Inbound rules", ("Id asc",)),
    "ReportQueueAgentsChatStatistics/Pbx.GetQueueAgentsChatStatisticsData": _Extra(
        "queue-agents-chat-statistics", "Queue agents chat statistics", ("Queue asc", "Dn asc")
    ),
    "ReportQueueAgentsChatStatisticsTotals/Pbx.GetQueueAgentsChatStatisticsTotalsData": _Extra(
        "queue-agents-chat-statistics-totals", "Queue agents chat statistics totals", ("Queue asc",)
    ),
    "ReportQueueAnsweredCallsByWaitTime/Pbx.GetQueueAnsweredCallsByWaitTimeData": _Extra(
        "queue-answered-calls-by-wait-time",
        "Queue calls answered, by wait time",
        ("CallTime asc", "Dn asc", "Source asc"),
        "CallTime",
    ),
    "ReportQueueAnUnCalls/Pbx.GetQueueAnUnCallsData": _Extra(
        "queue-answered-unanswered-calls", "Queue answered and unanswered calls (chart data)", ("XValue asc",)
    ),
    "ReportQueueCallbacks/Pbx.GetQueueCallbacksData": _Extra(
        "queue-callbacks", "Queue callbacks", ("QueueDnNumber asc",)
    ),
    "ReportQueueChatPerformance/Pbx.GetQueueChatPerformanceData": _Extra(
        "queue-chat-performance", "Queue chat performance", ("Queue asc",)
    ),
    "ReportQueueFailedCallbacks/Pbx.GetQueueFailedCallbacksData": _Extra(
        "queue-failed-callbacks", "Queue failed callbacks", ("CallTime asc", "CallbackNo asc"), "CallTime"
    ),
    "ReportRingGroupStatistics/Pbx.GetRingGroupStatisticsData": _Extra(
        "ring-group-statistics", "Ring group statistics", ("RingGroupDn asc",)
    ),
    "ReportStatisticSla/Pbx.GetStatisticSlaData": _Extra(
        "statistic-sla", "SLA statistics per queue", ("QueueDnNumber asc",)
    ),
    "ReportTeamQueueGeneralStatistics/Pbx.GetTeamQueueGeneralStatisticsData": _Extra(
        "team-queue-general-statistics", "Team queue general statistics", ("QueueDnNumber asc",)
    ),
    "ReportChatLog/Pbx.GetChatLog": _Extra(
        "chat-log", "Chat log", ("TimeSent asc", "ConversationId asc"), "TimeSent"
    ),
    "ReportInboundCalls/Pbx.GetInboundCalls": _Extra(
        "inbound-calls", "Inbound calls", ("StartTime asc", "CdrId asc"), "StartTime"
    ),
    "ReportOutboundCalls/Pbx.GetOutboundCalls": _Extra(
        "outbound-calls", "Outbound calls", ("StartTime asc", "CdrId asc"), "StartTime"
    ),
    "ReportUserActivity/Pbx.GetUserActivity": _Extra(
        "user-activity", "User activity over time", ("DateTimeInterval asc",)
    ),
    "CallHistoryView": _Extra(
        "call-history",
        "Call history (CallHistoryView, one row per call segment)",
        ("SegmentStartTime asc", "SegmentId asc"),
        "SegmentStartTime",
        ("history",),
    ),
    "ActiveCalls": _Extra("active-calls", "Calls in progress", ("EstablishedAt asc", "Id asc")),
}


def _kebab(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"-\1", name).lower()


def _role(name: str, edm_type: str) -> ArgRole:
    if name in _ROLE_BY_NAME:
        return _ROLE_BY_NAME[name]
    if edm_type in ("Edm.Int32", "Edm.Int64"):
        return ArgRole.CODE
    if edm_type == "Edm.Boolean":
        return ArgRole.FLAG
    return ArgRole.TEXT


def _default(name: str, role: ArgRole) -> object:
    if name in _DEFAULT_BY_NAME:
        return _DEFAULT_BY_NAME[name]
    if role in (ArgRole.CODE,):
        return 0
    if role is ArgRole.FLAG:
        return False
    if role in (ArgRole.TEXT, ArgRole.DN_LIST):
        return ""
    return None  # period, day, interval and zone defaults are computed when the export runs


def _arguments(raw: tuple[tuple[str, str], ...]) -> tuple[Argument, ...]:
    args = []
    for name, edm_type in raw:
        role = _role(name, edm_type)
        args.append(
            Argument(
                name=name,
                edm_type=edm_type,
                role=role,
                default=_default(name, role),
                option=_OPTION_BY_NAME.get(name, "--" + _kebab(name)),
                help=_HELP_BY_ROLE[role],
            )
        )
    return tuple(args)


def _columns(raw: tuple[tuple[str, str], ...]) -> tuple[Column, ...]:
    return tuple(Column(name, ColumnKind(kind)) for name, kind in raw)


@cache
def _registry() -> dict[str, ReportDefinition]:
    reports: dict[str, ReportDefinition] = {}
    for entity_set, function, args, row_schema, columns, download, download_args in _catalog.FUNCTIONS:
        key = f"{entity_set}/{function}"
        extra = _EXTRAS.get(key) or _Extra(_kebab(entity_set.removeprefix("Report")), entity_set, ())
        reports[extra.name] = ReportDefinition(
            name=extra.name,
            title=extra.title,
            entity_set=entity_set,
            function=function,
            arguments=_arguments(args),
            row_schema=row_schema,
            columns=_columns(columns),
            order_by=extra.order_by,
            time_column=extra.time_column,
            download=download,
            download_arguments=_arguments(download_args),
            aliases=extra.aliases,
        )
    for list_set, list_schema, list_columns, list_download in _catalog.LISTS:
        extra = _EXTRAS[list_set]
        reports[extra.name] = ReportDefinition(
            name=extra.name,
            title=extra.title,
            entity_set=list_set,
            function=None,
            arguments=(),
            row_schema=list_schema,
            columns=_columns(list_columns),
            order_by=extra.order_by,
            time_column=extra.time_column,
            download=list_download,
            aliases=extra.aliases,
        )
    return reports


def all_reports() -> Iterator[ReportDefinition]:
    """Every report, in a stable order (by name).

    Example: ``[r.name for r in all_reports()][1] == "abandoned-queue-calls"``.
    """
    registry = _registry()
    for name in sorted(registry):
        yield registry[name]


def get_report(name: str) -> ReportDefinition:
    """The report with this command-line name, alias, entity set or ``Set/Pbx.Function`` path.

    Raises KeyError with the known names when there is none.
    Example: ``get_report("call-log").function == "Pbx.GetCallLogData"``.
    """
    registry = _registry()
    if name in registry:
        return registry[name]
    for defn in registry.values():
        # Several functions share ReportCallLogData: the first in spec order (GetCallLogData) wins.
        candidates = {*defn.aliases, defn.entity_set}
        if defn.function is not None:
            candidates.add(f"{defn.entity_set}/{defn.function}")
            candidates.add(defn.function.removeprefix("Pbx."))
        if name in candidates:
            return defn
    raise KeyError(f"unknown report {name!r}; known: {', '.join(sorted(registry))}")
