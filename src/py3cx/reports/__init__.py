"""Call history and every report of a 3CX V20 PBX, streamed to CSV, XLSX, JSONL or Parquet.

- ``definitions``: a typed definition of each report (the ``Get…Data`` function of the 31
  ``Report*`` sets, CallHistoryView, ActiveCalls), from the spec;
- ``arguments``: Python-typed arguments (days in a time zone, queue lists, ``timedelta`` waits);
- ``columns``: the header from the schema, and derived columns (seconds, ``hh:mm:ss``, local
  date, time and day name in any locale);
- ``writers``: streaming CSV (UTF-8 with BOM), XLSX (constant memory), JSONL, Parquet;
- ``export``: the pipeline: pages in flight, 504 → split the range, retries, ``--resume``;
- ``charts``: pictures of the queue reports and of call volume.

The usual door is ``client.reports`` (a :class:`Reports`)::

    result = client.reports.export("call-log", "march.xlsx", start="2025-03-01", end="2025-03-31")
    print(result.summary())   # "12345 rows, complete"
"""

from py3cx.reports.arguments import CallArea, CallsType, ChartBy, FilterType, Period, dn_list, parse_period
from py3cx.reports.columns import ColumnPlan
from py3cx.reports.definitions import (
    ArgRole,
    Argument,
    Column,
    ColumnKind,
    ReportDefinition,
    all_reports,
    get_report,
)
from py3cx.reports.export import ExportOptions, ExportResult, Missing
from py3cx.reports.resource import AsyncReports, Reports, build_query, choose_history_report
from py3cx.reports.writers import Format

__all__ = [
    "ArgRole",
    "Argument",
    "AsyncReports",
    "CallArea",
    "CallsType",
    "ChartBy",
    "Column",
    "ColumnKind",
    "ColumnPlan",
    "ExportOptions",
    "ExportResult",
    "FilterType",
    "Format",
    "Missing",
    "Period",
    "ReportDefinition",
    "Reports",
    "all_reports",
    "build_query",
    "choose_history_report",
    "dn_list",
    "get_report",
    "parse_period",
]
