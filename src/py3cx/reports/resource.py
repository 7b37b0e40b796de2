"""``client.reports``: every report by name, as rows, as an export to a file, or as the PBX's own
``Download…`` file.

>>> with py3cx.Client.from_env() as client:                                   # doctest: +SKIP
...     result = client.reports.export("call-log", "exports/march.xlsx",
...                                    start="2025-03-01", end="2025-03-31", tz="Europe/Zagreb")
...     print(result.summary())
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from py3cx._exceptions import APIStatusError, ConfigError, NotFoundError, PermissionDeniedError
from py3cx.odata import F, function_path
from py3cx.reports.arguments import Period, parse_period, parse_zone, resolve_arguments
from py3cx.reports.columns import ColumnPlan
from py3cx.reports.definitions import ReportDefinition, all_reports, get_report
from py3cx.reports.export import ExportOptions, ExportResult, ProgressCallback, run_export
from py3cx.reports.query import ReportQuery
from py3cx.reports.writers import format_for

if TYPE_CHECKING:
    from py3cx._client import AsyncClient, Client

__all__ = [
    "AsyncReports",
    "HistorySource",
    "Reports",
    "build_query",
    "choose_history_report",
    "choose_history_report_async",
    "pbx_version",
]

HistorySource = str  # "auto", "view" or "calllog"

# V20 Update 6 moved call records out of CallHistoryView (field reports): from 20.0.6 on, the
# call log is where history lives.
_RECORDS_MOVED = (20, 0, 6)


def _definition(report: str | ReportDefinition) -> ReportDefinition:
    if isinstance(report, ReportDefinition):
        return report
    try:
        return get_report(report)
    except KeyError as exc:
        raise ConfigError(str(exc.args[0]), hint="`3cx report list` shows every report") from None


def build_query(
    report: str | ReportDefinition,
    *,
    start: date | datetime | str | None = None,
    end: date | datetime | str | None = None,
    tz: str | tzinfo | None = None,
    arguments: Mapping[str, object] | None = None,
    filter: Any = None,
) -> ReportQuery:
    """The query for a report with Python-typed arguments (see ``arguments.resolve_arguments``).

    Days are whole days in ``tz`` (default: the machine's zone), sent as the web UI sends them.
    Raises ConfigError for an unknown report, a missing or bad period, or a bad argument.
    Example: ``build_query("abandoned-queue-calls", start="2025-03-01", end="2025-03-15",
    arguments={"queueDns": ["0336"], "waitInterval": timedelta(seconds=20)})``.
    """
    definition = _definition(report)
    zone = tz if isinstance(tz, tzinfo) else parse_zone(tz)
    period: Period | None = None
    if start is not None or end is not None:
        if start is None or end is None:
            raise ConfigError("give both the start and the end of the period", hint="--from and --to")
        period = parse_period(start, end, zone)
    if definition.has_period and period is None and definition.function is not None:
        raise ConfigError(f"{definition.name} needs a period", hint="give --from and --to")
    day = period.start.astimezone(zone).date() if period is not None else None
    args = resolve_arguments(definition, arguments, period=period, tz=zone, day=day)
    return ReportQuery(definition, args, period if definition.has_period else None, filter)


def pbx_version(client: Client) -> tuple[int, ...] | None:
    """The PBX's version (``(20, 0, 10, 817)``) from ``Defs/Pbx.GetSystemParameters()``, or None.

    None when the PBX refuses (an old PBX, a restricted client: 403, 404). A server error is asked
    again twice, then raised: a passing 500 must not silently switch the history source.
    """
    for attempt in range(3):
        try:
            data = client.get(function_path("Defs", "Pbx.GetSystemParameters"))
            break
        except (PermissionDeniedError, NotFoundError):
            return None
        except APIStatusError as exc:
            if attempt == 2 or not (exc.status_code >= 500 or exc.status_code == 429):
                raise
            time.sleep(0.5 * (attempt + 1))
    from py3cx.xapi._drift import parse_build  # the one reader of 3CX version texts

    return parse_build(data.get("Version") if isinstance(data, Mapping) else None)


def _fixed_history_report(source: HistorySource) -> ReportDefinition | None:
    if source == "view":
        return get_report("call-history")
    if source == "calllog":
        return get_report("call-log")
    if source != "auto":
        raise ConfigError(f"unknown history source {source!r}", hint="use auto, view or calllog")
    return None


def _view_probe(period: Period) -> dict[str, Any]:
    column = F("SegmentStartTime")
    return {"filter": (column >= period.start) & (column < period.end), "top": 1, "count": True}


def _history_report_from_probe(probe: Any) -> ReportDefinition:
    count = probe.get("@odata.count") if isinstance(probe, Mapping) else None
    rows = probe.get("value") if isinstance(probe, Mapping) else None
    if count == 0 or (count is None and not rows):
        return get_report("call-log")
    return get_report("call-history")


def choose_history_report(client: Client, period: Period, source: HistorySource = "auto") -> ReportDefinition:
    """Where call history comes from: CallHistoryView (``view``), the call log (``calllog``), or
    with ``auto`` the view unless the PBX is V20 Update 6 or later or the view is empty then.

    Raises ConfigError for an unknown source, APIStatusError when the view refuses (403...).
    Example: ``choose_history_report(client, period).name in ("call-history", "call-log")``.
    """
    fixed = _fixed_history_report(source)
    if fixed is not None:
        return fixed
    version = pbx_version(client)
    if version is not None and version[:3] >= _RECORDS_MOVED:
        return get_report("call-log")
    return _history_report_from_probe(client.get("CallHistoryView", **_view_probe(period)))


async def choose_history_report_async(
    client: AsyncClient, period: Period, source: HistorySource = "auto"
) -> ReportDefinition:
    """The async face of ``choose_history_report`` (the PBX's version from
    ``Defs/Pbx.GetSystemParameters()``; a 403 or 404 there means "unknown"). Raises the same.
    """
    fixed = _fixed_history_report(source)
    if fixed is not None:
        return fixed
    from py3cx.xapi._drift import parse_build

    try:
        data = await client.get(function_path("Defs", "Pbx.GetSystemParameters"))
    except (PermissionDeniedError, NotFoundError):
        data = None
    version = parse_build(data.get("Version") if isinstance(data, Mapping) else None)
    if version is not None and version[:3] >= _RECORDS_MOVED:
        return get_report("call-log")
    return _history_report_from_probe(await client.get("CallHistoryView", **_view_probe(period)))


class Reports:
    """Reports of one PBX, reached through a ``py3cx.Client`` (``client.reports``)."""

    def __new__(cls, client: Client | AsyncClient) -> Any:
        from py3cx._client import AsyncClient

        if isinstance(client, AsyncClient) and cls is Reports:
            return AsyncReports(client)
        return super().__new__(cls)

    def __init__(self, client: Client) -> None:
        self._client = client

    def list(self) -> list[ReportDefinition]:
        """Every report definition. Example: ``[r.name for r in client.reports.list()]``."""
        return list(all_reports())

    def definition(self, name: str) -> ReportDefinition:
        """The definition of a report. Raises ConfigError. Example: ``reports.definition("call-log")``."""
        return _definition(name)

    def rows(
        self,
        report: str | ReportDefinition,
        *,
        start: date | datetime | str | None = None,
        end: date | datetime | str | None = None,
        tz: str | tzinfo | None = None,
        arguments: Mapping[str, object] | None = None,
        filter: Any = None,
        page_size: int = 1000,
        limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every row of a report, page by page, lazily (for a file, ``export`` is sturdier).

        Raises ConfigError for bad arguments, APIStatusError and friends while iterating.
        Example: ``for row in client.reports.rows("queue-performance-totals", start=d1, end=d2): ...``.
        """
        query = build_query(report, start=start, end=end, tz=tz, arguments=arguments, filter=filter)
        path, options = query.request(None)
        return iter(self._client.paginate(path, page_size=page_size, top=limit, **options))

    def export(
        self,
        report: str | ReportDefinition,
        output: str | Path,
        *,
        start: date | datetime | str | None = None,
        end: date | datetime | str | None = None,
        tz: str | tzinfo | None = None,
        arguments: Mapping[str, object] | None = None,
        filter: Any = None,
        format: str | None = None,
        derived: bool = False,
        locales: Sequence[str] = ("en",),
        options: ExportOptions | None = None,
        resume: bool = False,
        overwrite: bool = False,
        progress: ProgressCallback | None = None,
        inspect: Callable[[Iterator[dict[str, Any]]], None] | None = None,
    ) -> ExportResult:
        """Export a report to a CSV, XLSX, JSONL or Parquet file, streaming, resumable.

        See ``py3cx.reports.export.run_export`` for what happens on timeouts and failures.
        Raises ConfigError (bad arguments, existing file), APIStatusError for refusals.
        Example: ``client.reports.export("call-log", "march.xlsx", start="2025-03-01", end="2025-03-31")``.
        """
        zone = tz if isinstance(tz, tzinfo) else parse_zone(tz)
        query = build_query(report, start=start, end=end, tz=zone, arguments=arguments, filter=filter)
        target = Path(output)
        fmt = format_for(target, format)
        plan = ColumnPlan.for_report(query.definition, derived=derived, tz=zone, locales=locales)
        return run_export(
            self._client,
            query,
            plan,
            target,
            fmt,
            options=options,
            resume=resume,
            overwrite=overwrite,
            progress=progress,
            inspect=inspect,
        )

    def download(
        self,
        report: str | ReportDefinition,
        file: str | Path,
        *,
        start: date | datetime | str | None = None,
        end: date | datetime | str | None = None,
        tz: str | tzinfo | None = None,
        arguments: Mapping[str, object] | None = None,
    ) -> int:
        """Save the PBX's own file for a report (its ``Download…`` twin); return the byte count.

        Raises ConfigError when the report has no download twin, APIStatusError.
        Example: ``client.reports.download("call-log", "calllog.csv", start=d1, end=d2)``.
        """
        path = _download_path(report, start=start, end=end, tz=tz, arguments=arguments)
        return self._client.download(path, file)


def _download_path(
    report: str | ReportDefinition,
    *,
    start: date | datetime | str | None,
    end: date | datetime | str | None,
    tz: str | tzinfo | None,
    arguments: Mapping[str, object] | None,
) -> str:
    definition = _definition(report)
    if definition.download is None:
        raise ConfigError(f"{definition.name} has no Download function on the PBX")
    zone = tz if isinstance(tz, tzinfo) else parse_zone(tz)
    period = parse_period(start, end, zone) if start is not None and end is not None else None
    twin = ReportDefinition(
        name=definition.name,
        title=definition.title,
        entity_set=definition.entity_set,
        function=definition.download,
        arguments=definition.download_arguments,
        row_schema=definition.row_schema,
        columns=definition.columns,
        order_by=(),
    )
    args = resolve_arguments(twin, arguments, period=period, tz=zone)
    return function_path(definition.entity_set, definition.download, **args)


class AsyncReports:
    """The async face of ``Reports`` (``async_client.reports``): rows and downloads.

    File exports run on a sync ``Client`` (they write files and use threads for concurrency).
    """

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    def list(self) -> list[ReportDefinition]:
        """Every report definition."""
        return list(all_reports())

    def rows(
        self,
        report: str | ReportDefinition,
        *,
        start: date | datetime | str | None = None,
        end: date | datetime | str | None = None,
        tz: str | tzinfo | None = None,
        arguments: Mapping[str, object] | None = None,
        filter: Any = None,
        page_size: int = 1000,
        limit: int | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every row of a report, page by page: ``async for row in client.reports.rows(...)``.

        Raises ConfigError for bad arguments, APIStatusError and friends while iterating.
        """
        query = build_query(report, start=start, end=end, tz=tz, arguments=arguments, filter=filter)
        path, options = query.request(None)
        rows: AsyncIterator[dict[str, Any]] = self._client.paginate(
            path, page_size=page_size, top=limit, **options
        )
        return rows

    async def download(
        self,
        report: str | ReportDefinition,
        file: str | Path,
        *,
        start: date | datetime | str | None = None,
        end: date | datetime | str | None = None,
        tz: str | tzinfo | None = None,
        arguments: Mapping[str, object] | None = None,
    ) -> int:
        """Save the PBX's own file for a report; return the byte count. Raises like ``Reports.download``."""
        path = _download_path(report, start=start, end=end, tz=tz, arguments=arguments)
        return await self._client.download(path, file)
