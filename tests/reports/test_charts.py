"""Charts for a slide: counts that match the rows, as a PNG or a self-contained HTML page."""

from __future__ import annotations

from datetime import timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from py3cx import ConfigError
from py3cx.reports.charts import build_panels, write_chart

ZAGREB = ZoneInfo("Europe/Zagreb")


def test_history_is_counted_by_local_hour_and_by_local_day() -> None:
    rows = [
        {"StartTime": "2025-03-02T23:30:00Z"},  # 00:30 on 3 March in Zagreb
        {"StartTime": "2025-03-03T08:15:00Z"},
        {"StartTime": "2025-03-03T08:45:00.5Z"},
        {"StartTime": None},
    ]
    by_hour, by_day = build_panels("call-log", rows, ZAGREB)
    assert by_hour.series["calls"][0] == 1 and by_hour.series["calls"][9] == 2
    assert by_day.labels == ["2025-03-03"] and by_day.series["calls"] == [3]


def test_queue_totals_chart_has_received_answered_and_dropped_per_queue() -> None:
    rows = [
        {
            "QueueDn": "0336",
            "QueueDisplayName": "Sales",
            "QueueReceivedCount": "10",
            "ExtensionAnsweredCount": "8",
        },
        {
            "QueueDn": "0337",
            "QueueDisplayName": "Support",
            "QueueReceivedCount": 4,
            "ExtensionDroppedCount": 3,
        },
    ]
    (panel,) = build_panels("queue-performance-totals", rows, timezone.utc)
    assert panel.labels == ["0336 Sales", "0337 Support"]
    assert panel.series == {"received": [10, 4], "answered": [8, 0], "dropped": [0, 3]}


def test_abandoned_calls_are_counted_once_per_call_not_per_polled_agent() -> None:
    rows = [
        {"QueueDn": "0336", "CallTime": "2025-03-03T08:00:00Z", "ExtensionDn": "100"},
        {"QueueDn": "0336", "ExtensionDn": "101"},  # same call, second polled agent: no CallTime
        {"QueueDn": "0337", "CallTime": "2025-03-03T09:10:00Z", "ExtensionDn": "104"},
    ]
    per_queue, per_hour = build_panels("abandoned-queue-calls", rows, timezone.utc)
    assert per_queue.series["abandoned"] == [1, 1]
    assert per_hour.series["abandoned"][8] == 1 and per_hour.series["abandoned"][9] == 1


def test_the_html_chart_is_one_page_with_inline_svg_and_escaped_labels(tmp_path: Path) -> None:
    rows = [{"QueueDn": "0336", "QueueDisplayName": "<Sales & Co>", "QueueReceivedCount": 3}]
    write_chart(build_panels("queue-performance-totals", rows, timezone.utc), tmp_path / "q.html", title="Q1")
    page = (tmp_path / "q.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "<svg" in page
    assert "&lt;Sales &amp; Co&gt;" in page and "<Sales" not in page
    assert "<script" not in page and "http" not in page.replace("http://www.w3.org/2000/svg", "")


def test_the_png_chart_is_a_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="the charts extra is not installed")
    rows = [{"SegmentStartTime": "2025-03-03T08:00:00Z"}, {"SegmentStartTime": "2025-03-04T10:00:00Z"}]
    write_chart(build_panels("call-history", rows, timezone.utc), tmp_path / "h.png", title="History")
    assert (tmp_path / "h.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_reports_without_a_chart_and_other_file_types_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no chart for audit-log"):
        build_panels("audit-log", [], timezone.utc)
    with pytest.raises(ConfigError, match=r"\.png or \.html"):
        write_chart([], tmp_path / "chart.pdf", title="x")
