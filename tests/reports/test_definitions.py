"""Report definitions: every report of the spec is there, with the names, roles and defaults admins know."""

from __future__ import annotations

from pathlib import Path

import pytest

import py3cx.reports._catalog as catalog
from py3cx.emulator.spec import load_spec_index
from py3cx.reports import ArgRole, ColumnKind, all_reports, get_report
from py3cx.reports._catalog_build import build_catalog_source

SPECS = Path(__file__).resolve().parents[2] / "src" / "py3cx" / "emulator" / "specs"
SPEC = SPECS / "xapi-swagger-20.0.10.yaml"


def test_committed_catalog_is_what_the_generator_builds_from_the_spec() -> None:
    fresh = build_catalog_source(SPEC.read_text(encoding="utf-8"))
    assert Path(catalog.__file__).read_text(encoding="utf-8") == fresh


def test_every_report_entity_set_of_the_spec_has_a_definition() -> None:
    operations = load_spec_index("20.0.10").operations  # the emulator's index of the same spec
    report_sets = {key.split("/")[0] for key in operations if key.startswith("Report")}
    assert len(report_sets) == 31
    defined = {d.entity_set for d in all_reports()}
    assert report_sets <= defined
    assert {"CallHistoryView", "ActiveCalls"} <= defined


def test_the_powershell_modules_reports_keep_their_familiar_names() -> None:
    assert get_report("call-log").function == "Pbx.GetCallLogData"
    assert get_report("abandoned-queue-calls").function == "Pbx.GetAbandonedQueueCallsData"
    assert get_report("queue-performance-overview").function == "Pbx.GetQueuePerformanceOverviewData"
    assert get_report("queue-performance-totals").function == "Pbx.GetQueuePerformanceTotalsData"


def test_reports_are_found_by_entity_set_and_function_too() -> None:
    assert get_report("ReportCallLogData").name == "call-log"
    assert get_report("ReportCallLogData/Pbx.GetOldCallLogData").name == "old-call-log"
    assert get_report("CallHistoryView").name == "call-history"
    with pytest.raises(KeyError, match="unknown report"):
        get_report("no-such-report")


def test_call_log_arguments_are_in_spec_order_with_the_modules_defaults() -> None:
    call_log = get_report("call-log")
    assert [a.name for a in call_log.arguments] == [
        "periodFrom", "periodTo", "sourceType", "sourceFilter", "destinationType", "destinationFilter",
        "callsType", "callTimeFilterType", "callTimeFilterFrom", "callTimeFilterTo", "hidePcalls",
    ]  # fmt: skip
    assert call_log.argument("hidePcalls").default is False  # the module's, not the web UI's true
    assert call_log.argument("sourceType").default == 0
    assert call_log.argument("sourceFilter").default == ""
    assert call_log.argument("callTimeFilterFrom").role is ArgRole.INTERVAL


def test_queue_arguments_are_lists_and_wait_intervals_are_time_spans() -> None:
    abandoned = get_report("abandoned-queue-calls")
    assert abandoned.argument("queueDns").role is ArgRole.DN_LIST
    assert abandoned.argument("queueDns").option == "--queue"
    assert abandoned.argument("waitInterval").role is ArgRole.INTERVAL
    assert get_report("statistic-sla").argument("queueDnStr").option == "--queue"


def test_columns_come_from_the_schema_in_spec_order_with_their_kinds() -> None:
    columns = {c.name: c.kind for c in get_report("call-log").columns}
    assert list(columns)[:3] == ["ActionDnCallerId", "ActionDnDisplayName", "actionDnDn"]
    assert columns["StartTime"] is ColumnKind.DATETIME
    assert columns["TalkingDuration"] is ColumnKind.DURATION
    assert columns["Recordings"] is ColumnKind.ARRAY
    assert len(columns) == 37


def test_only_reports_whose_rows_are_events_in_time_can_be_split() -> None:
    splittable = {d.name for d in all_reports() if d.splittable}
    events = {"call-log", "call-history", "abandoned-queue-calls", "inbound-calls", "outbound-calls"}
    assert events <= splittable
    assert "queue-performance-overview" not in splittable  # halves of an aggregate do not add up
    assert "queue-performance-totals" not in splittable
    assert "active-calls" not in splittable


def test_every_listing_report_has_its_download_twin() -> None:
    missing = [d.name for d in all_reports() if d.download is None and d.name != "active-calls"]
    assert missing == []
    assert get_report("call-log").download == "Pbx.DownloadCallLog"
