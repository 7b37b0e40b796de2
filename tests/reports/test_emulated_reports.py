"""The emulator computes every report from the calls behind CallHistoryView, so reports and history agree."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from py3cx import APIStatusError, GatewayTimeoutError
from py3cx._durations import parse_duration
from py3cx.emulator.reports import history_span
from py3cx.odata import F
from py3cx.reports import all_reports, build_query

from .conftest import Pbx


def _rows(pbx: Pbx, report: str, days: int = 7, **arguments: Any) -> list[dict[str, Any]]:
    first, last = pbx.days(days)
    with pbx.client() as client:
        return list(client.reports.rows(report, start=first, end=last, tz="UTC", arguments=arguments))


def _history(pbx: Pbx, days: int = 7) -> list[dict[str, Any]]:
    return _rows(pbx, "call-history", days)


def test_every_report_answers_for_a_week(pbx: Pbx) -> None:
    first, last = pbx.days(7)
    with pbx.client() as client:
        for report in all_reports():
            query = (
                build_query(report, start=first, end=last, tz="UTC")
                if report.has_period
                else build_query(report)
            )
            path, options = query.request(None)
            body = client.get(path, top=5, count=True, **options)
            assert isinstance(body["@odata.count"], int), report.name


def test_the_call_log_has_one_row_per_history_segment(pbx: Pbx) -> None:
    history = {row["SegmentId"]: row for row in _history(pbx)}
    call_log = _rows(pbx, "call-log")
    assert len(history) > 50
    assert sorted(row["SegmentId"] for row in call_log) == sorted(history)
    for row in call_log:
        segment = history[row["SegmentId"]]
        assert row["StartTime"] == segment["SegmentStartTime"]
        assert row["SourceCallerId"] == segment["SrcCallerNumber"]
        assert row["Answered"] == segment["CallAnswered"]


def test_hiding_pcalls_hides_the_queue_segments_a_call_passed_through(pbx: Pbx) -> None:
    everything = _rows(pbx, "call-log", hidePcalls=False)
    hidden = _rows(pbx, "call-log", hidePcalls=True)
    passed_on = [r for r in everything if r["ActionType"] == 2]
    assert passed_on and len(hidden) == len(everything) - len(passed_on)


def test_abandoned_calls_come_one_row_per_polled_agent_with_call_time_on_the_first_only(pbx: Pbx) -> None:
    rows = _rows(pbx, "abandoned-queue-calls", days=30)
    by_call: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_call[row["CallHistoryId"]].append(row)
    assert any(len(agents) > 1 for agents in by_call.values())
    for agents in by_call.values():
        agents.sort(key=lambda r: r["PollingAttempts"])
        assert "CallTime" in agents[0]
        assert all("CallTime" not in r for r in agents[1:])
        assert len({r["CallTimeForCsv"] for r in agents}) == 1
        assert len({r["ExtensionDn"] for r in agents}) == len(agents)
    # the same calls, seen in the history: the caller hung up while waiting in a queue
    history = _rows(pbx, "call-history", days=30)
    hung_up = {r["SegmentStartTime"] for r in history if r["SegmentActionId"] == 3 and r["DstDnType"] == 2}
    assert {agents[0]["CallTime"] for agents in by_call.values()} == hung_up


def test_a_wait_interval_keeps_the_calls_that_waited_at_least_that_long(pbx: Pbx) -> None:
    everything = _rows(pbx, "abandoned-queue-calls", days=30)
    patient = _rows(pbx, "abandoned-queue-calls", days=30, waitInterval=timedelta(minutes=1))
    assert 0 < len(patient) < len(everything)
    assert all(parse_duration(r["WaitTime"]) >= timedelta(minutes=1) for r in patient)


def test_queue_performance_is_counted_per_queue_and_agent_from_the_history(pbx: Pbx) -> None:
    overview = _rows(pbx, "queue-performance-overview", days=14)
    totals = {r["QueueDn"]: r for r in _rows(pbx, "queue-performance-totals", days=14)}
    history = _rows(pbx, "call-history", days=14)
    received = Counter(r["DstDn"] for r in history if r["DstDnType"] == 2)
    per_queue: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in overview:
        per_queue[row["QueueDn"]].append(row)
    assert set(per_queue) == {"0336", "0337", "0338"}
    for queue, agents in per_queue.items():
        assert {r["QueueReceivedCount"] for r in agents} == {received[queue]}
        answered = sum(r.get("ExtensionAnsweredCount", 0) for r in agents)
        assert answered == totals[queue]["ExtensionAnsweredCount"] == agents[0]["QueueAnsweredCount"]
        assert totals[queue]["QueueReceivedCount"] == received[queue]


def test_zero_counts_are_left_out_of_the_rows_as_the_pbx_does(pbx: Pbx) -> None:
    rows = _rows(pbx, "ring-group-statistics")
    assert rows and all("RingGroupReceivedCount" not in r for r in rows)


def test_a_period_longer_than_the_limit_answers_504(slow_pbx: Pbx) -> None:
    first, last = slow_pbx.days(10)
    with slow_pbx.client() as client, pytest.raises(GatewayTimeoutError) as caught:
        list(client.reports.rows("call-log", start=first, end=last, tz="UTC"))
    assert "shorter" in (caught.value.hint or "")
    assert _rows(slow_pbx, "call-log", days=3)


def test_call_history_answers_504_for_a_long_or_unbounded_range(slow_pbx: Pbx) -> None:
    end = slow_pbx.config.anchor
    column = F("SegmentStartTime")
    with slow_pbx.client() as client:
        with pytest.raises(GatewayTimeoutError):
            client.get("CallHistoryView", filter=(column >= end - timedelta(days=9)) & (column < end), top=1)
        with pytest.raises(GatewayTimeoutError):
            client.get("CallHistoryView", top=1)
        body = client.get(
            "CallHistoryView", filter=(column >= end - timedelta(days=2)) & (column < end), top=1
        )
    assert body["value"]


def test_the_history_range_is_read_from_both_filter_forms() -> None:
    assert history_span(
        "SegmentStartTime ge 2025-03-01T00:00:00Z and SegmentStartTime lt 2025-03-03T00:00:00Z", 90
    ) == (timedelta(days=2))
    assert history_span(
        "date(SegmentStartTime) ge 2025-03-01 and date(SegmentStartTime) le 2025-03-15", 90
    ) == (timedelta(days=15))
    assert history_span("SrcDn eq '100'", 90) == timedelta(days=90)


def test_a_malformed_wait_interval_is_a_500_as_on_the_pbx(pbx: Pbx) -> None:
    first, last = pbx.days(2)
    query = build_query("abandoned-queue-calls", start=first, end=last, tz="UTC")
    path, _ = query.request(None)
    broken = path.replace("waitInterval='0:00:0'", "waitInterval='twenty'")
    with pbx.client() as client, pytest.raises(APIStatusError) as caught:
        client.get(broken)
    assert caught.value.status_code == 500


def test_the_download_twin_is_the_same_rows_as_a_csv_file(pbx: Pbx, tmp_path: Path) -> None:
    first, last = pbx.days(3)
    target = tmp_path / "log.csv"
    with pbx.client() as client:
        size = client.reports.download("call-log", target, start=first, end=last, tz="UTC")
    text = target.read_text(encoding="utf-8-sig")
    assert size == target.stat().st_size
    lines = text.splitlines()
    assert lines[0].startswith("ActionDnCallerId,ActionDnDisplayName,actionDnDn")
    assert len(lines) - 1 == len(_rows(pbx, "call-log", days=3))


def test_history_segments_and_the_call_log_agree_at_day_boundaries(pbx: Pbx) -> None:
    # one day at a time adds up to the whole week: nothing falls between two periods
    first, last = pbx.days(7)
    with pbx.client() as client:
        total = 0
        day = first
        while day <= last:
            total += sum(1 for _ in client.reports.rows("call-log", start=day, end=day, tz="Europe/Zagreb"))
            day += timedelta(days=1)
        week = sum(1 for _ in client.reports.rows("call-log", start=first, end=last, tz="Europe/Zagreb"))
    assert total == week
