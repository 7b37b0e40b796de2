"""Columns: the header comes from the schema (never the first row), derived columns read right
in English and Croatian, and durations past 24 hours keep their hours."""

from __future__ import annotations

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from py3cx import ConfigError
from py3cx.reports import ColumnPlan, get_report
from py3cx.reports.columns import CellKind, day_names, flat_text, language_suffix

ZAGREB = ZoneInfo("Europe/Zagreb")


def test_the_header_is_the_schema_even_when_the_first_row_leaves_nulls_out() -> None:
    plan = ColumnPlan.for_report(get_report("abandoned-queue-calls"))
    # the second row of a call has no CallTime: the PBX leaves it out
    second_row = {"QueueDn": "0336", "CallTimeForCsv": "2025-03-03T08:00:00Z", "ExtensionDn": "101"}
    plan.observe(second_row)
    assert "CallTime" in plan.names
    assert plan.names == [c.name for c in get_report("abandoned-queue-calls").columns]
    cells = dict(zip(plan.names, plan.cells(second_row), strict=True))
    assert cells["CallTime"] is None and cells["QueueDn"] == "0336"


def test_keys_the_schema_lacks_are_added_after_its_columns_in_order_of_appearance() -> None:
    plan = ColumnPlan.for_report(get_report("queue-performance-totals"))
    assert plan.observe({"QueueDn": "0336", "NewField": 1}) is True
    assert plan.observe({"QueueDn": "0337", "NewField": 2, "Other": "x"}) is True
    assert plan.observe({"QueueDn": "0338", "Other": "y"}) is False
    assert plan.names[-2:] == ["NewField", "Other"]
    assert plan.cells({"QueueDn": "0338", "Other": "y"})[-2:] == [None, "y"]


def test_recordings_are_flattened_to_json_text() -> None:
    recordings = [{"Id": 7, "Summary": "Invoice question"}]
    assert flat_text(recordings) == '[{"Id":7,"Summary":"Invoice question"}]'
    assert flat_text(True) == "true"
    assert flat_text(timedelta(days=1, hours=3, minutes=3, seconds=4)) == "27:03:04"


def test_durations_get_seconds_and_hours_that_pass_24() -> None:
    plan = ColumnPlan.for_report(get_report("queue-performance-totals"), derived=True, tz=ZAGREB)
    # the totals have no duration: nothing is added
    assert plan.names == [c.name for c in get_report("queue-performance-totals").columns]
    plan = ColumnPlan.for_report(get_report("queue-performance-overview"), derived=True, tz=ZAGREB)
    cells = dict(zip(plan.names, plan.cells({"TalkTime": "P1DT3H3M4.5S"}), strict=True))
    assert cells["TalkTime"] == "P1DT3H3M4.5S"
    assert cells["TalkTime_seconds"] == 97384.5
    assert flat_text(cells["TalkTime_hhmmss"]) == "27:03:04"
    assert plan.columns[plan.names.index("TalkTime_hhmmss")].kind is CellKind.HMS


def test_negative_durations_are_read_too() -> None:
    plan = ColumnPlan.for_report(get_report("queue-performance-overview"), derived=True, tz=ZAGREB)
    cells = dict(zip(plan.names, plan.cells({"TalkTime": "-PT5S"}), strict=True))
    assert cells["TalkTime_seconds"] == -5
    assert flat_text(cells["TalkTime_hhmmss"]) == "-00:00:05"


def test_date_times_get_local_date_time_and_day_names_in_each_locale() -> None:
    plan = ColumnPlan.for_report(get_report("call-log"), derived=True, tz=ZAGREB, locales=["en", "hr"])
    names = plan.names
    at = names.index("StartTime")
    assert names[at : at + 5] == [
        "StartTime",
        "StartTime_date",
        "StartTime_time",
        "StartTime_dayOfWeekEnglish",
        "StartTime_dayOfWeekCroatian",
    ]
    # 23:30 UTC on Sunday 2 March is already Monday in Zagreb
    cells = dict(zip(names, plan.cells({"StartTime": "2025-03-02T23:30:00.123Z"}), strict=True))
    assert cells["StartTime_date"] == date(2025, 3, 3)
    assert cells["StartTime_time"] == time(0, 30)
    assert cells["StartTime_dayOfWeekEnglish"] == "Monday"
    assert cells["StartTime_dayOfWeekCroatian"] == "ponedjeljak"


def test_croatian_day_names_are_lower_case_with_diacritics() -> None:
    assert day_names("hr") == ("ponedjeljak", "utorak", "srijeda", "četvrtak", "petak", "subota", "nedjelja")
    assert day_names("en")[3] == "Thursday"
    assert day_names("de")[0] == "Montag"
    assert language_suffix("de_AT") == "GermanAustria"


def test_an_unknown_locale_is_a_user_error() -> None:
    with pytest.raises(ConfigError, match="unknown locale"):
        ColumnPlan.for_report(get_report("call-log"), derived=True, tz=ZAGREB, locales=["xx-nowhere"])


def test_an_unreadable_date_time_leaves_its_derived_cells_empty_and_keeps_the_text() -> None:
    plan = ColumnPlan.for_report(get_report("call-log"), derived=True, tz=ZAGREB)
    cells = dict(zip(plan.names, plan.cells({"StartTime": "not a date"}), strict=True))
    assert cells["StartTime"] == "not a date"
    assert cells["StartTime_date"] is None and cells["StartTime_dayOfWeekEnglish"] is None
