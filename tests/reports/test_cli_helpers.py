"""Pure helpers of the export commands: file names in the PowerShell module's pattern, --window."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from py3cx import ConfigError
from py3cx.cli.report import default_output, parse_window
from py3cx.reports import Format


def test_the_default_file_name_is_the_modules_pattern_with_colons_replaced() -> None:
    assert default_output("call-log", Format.XLSX, start="2025-03-01", end="2025-03-15", day=None) == Path(
        "exports/call-log-from_2025-03-01_to_2025-03-15.xlsx"
    )
    named = default_output("history", Format.CSV, start="2025-03-01T08:00", end="2025-03-01T17:30", day=None)
    assert named == Path("exports/history-from_2025-03-01T08-00_to_2025-03-01T17-30.csv")
    assert default_output(
        "queue-answered-unanswered-calls", Format.JSONL, start=None, end=None, day="2025-03-03"
    ) == (Path("exports/queue-answered-unanswered-calls-date_2025-03-03.jsonl"))


def test_windows_are_written_in_days_hours_and_minutes() -> None:
    assert parse_window("1d") == timedelta(days=1)
    assert parse_window("1d12h") == timedelta(days=1, hours=12)
    assert parse_window("30m") == timedelta(minutes=30)
    assert parse_window(None) is None
    with pytest.raises(ConfigError, match="bad --window"):
        parse_window("a day")
