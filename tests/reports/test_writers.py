"""The files admins open: XLSX with real dates and durations, typed Parquet, plain JSONL."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from py3cx import ConfigError
from py3cx.reports import ColumnPlan, get_report
from py3cx.reports.writers import Format, format_for
from py3cx.reports.writers.xlsx import write_xlsx

from .conftest import Pbx

ZAGREB = ZoneInfo("Europe/Zagreb")


@pytest.fixture(scope="module")
def workbook(pbx: Pbx, tmp_path_factory: pytest.TempPathFactory) -> Path:
    first, last = pbx.days(7)
    output = tmp_path_factory.mktemp("xlsx") / "log.xlsx"
    with pbx.client() as client:
        client.reports.export(
            "call-log", output, start=first, end=last, tz="Europe/Zagreb", derived=True, locales=["en", "hr"]
        )
    return output


def _sheet_rows(path: Path) -> tuple[list[str], list[dict[str, object]]]:
    sheet = load_workbook(path).active
    rows = list(sheet.iter_rows(values_only=True))
    header = [str(v) for v in rows[0]]
    return header, [dict(zip(header, r, strict=True)) for r in rows[1:]]


def test_xlsx_dates_are_real_dates_and_durations_real_durations(workbook: Path) -> None:
    header, rows = _sheet_rows(workbook)
    answered = next(r for r in rows if r["TalkingDuration_seconds"])
    assert isinstance(answered["StartTime"], datetime)
    assert isinstance(answered["TalkingDuration"], timedelta)
    assert isinstance(answered["StartTime_date"], datetime | date)
    assert isinstance(answered["StartTime_time"], time)
    assert answered["TalkingDuration_seconds"] == pytest.approx(
        answered["TalkingDuration"].total_seconds(), abs=1
    )
    sheet = load_workbook(workbook).active
    formats = {sheet.cell(1, i + 1).value: sheet.cell(2, i + 1).number_format for i in range(len(header))}
    assert formats["TalkingDuration"] == "[h]:mm:ss"
    assert formats["TalkingDuration_hhmmss"] == "[h]:mm:ss"
    assert formats["StartTime_date"] == "yyyy-mm-dd"


def test_xlsx_local_columns_agree_with_the_utc_time_and_name_the_day_in_both_languages(
    workbook: Path,
) -> None:
    _, rows = _sheet_rows(workbook)
    croatian = {
        0: "ponedjeljak",
        1: "utorak",
        2: "srijeda",
        3: "četvrtak",
        4: "petak",
        5: "subota",
        6: "nedjelja",
    }
    for row in rows[:50]:
        utc = row["StartTime"]
        assert isinstance(utc, datetime)
        local = utc.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZAGREB)
        assert row["StartTime_dayOfWeekEnglish"] == local.strftime("%A")
        assert row["StartTime_dayOfWeekCroatian"] == croatian[local.weekday()]
        assert row["StartTime_time"] == local.time().replace(microsecond=0)


def test_xlsx_has_a_bold_frozen_filtered_header_and_sized_columns(workbook: Path) -> None:
    sheet = load_workbook(workbook).active
    assert sheet.freeze_panes == "A2"
    assert sheet["A1"].font.b is True
    assert sheet.auto_filter.ref is not None and sheet.auto_filter.ref.startswith("A1:")
    widths = [d.width for d in sheet.column_dimensions.values() if d.width]
    assert widths and max(widths) < 63 and min(widths) >= 8


def test_xlsx_text_stays_text_even_when_it_looks_like_a_number_or_formula(tmp_path: Path) -> None:
    plan = ColumnPlan.for_report(get_report("queue-performance-totals"))
    rows = iter([{"QueueDn": "0336", "QueueDisplayName": "=1+2", "QueueReceivedCount": 4}])
    assert write_xlsx(tmp_path / "t.xlsx", plan, rows) == 1
    _, read = _sheet_rows(tmp_path / "t.xlsx")
    assert read == [
        {"ExtensionAnsweredCount": None, "ExtensionDroppedCount": None, "QueueDisplayName": "=1+2",
         "QueueDn": "0336", "QueueReceivedCount": 4},
    ]  # fmt: skip


def test_xlsx_durations_over_a_day_keep_their_hours(tmp_path: Path) -> None:
    plan = ColumnPlan.for_report(get_report("queue-performance-overview"), derived=True, tz=ZAGREB)
    write_xlsx(tmp_path / "o.xlsx", plan, iter([{"QueueDn": "0336", "TalkTime": "P1DT3H3M4S"}]))
    _, rows = _sheet_rows(tmp_path / "o.xlsx")
    assert rows[0]["TalkTime"] == timedelta(hours=27, minutes=3, seconds=4)
    assert rows[0]["TalkTime_seconds"] == 97384


def test_parquet_columns_are_typed(pbx: Pbx, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    first, last = pbx.days(3)
    with pbx.client() as client:
        client.reports.export(
            "call-log", tmp_path / "log.parquet", start=first, end=last, tz="UTC", derived=True
        )
    table = pq.read_table(tmp_path / "log.parquet")
    schema = table.schema
    assert schema.field("StartTime").type == pa.timestamp("us", tz="UTC")
    assert schema.field("TalkingDuration").type == pa.duration("us")
    assert schema.field("SegmentId").type == pa.int64()
    assert schema.field("Answered").type == pa.bool_()
    assert schema.field("Recordings").type == pa.string()
    assert schema.field("StartTime_date").type == pa.date32()
    assert table.num_rows > 0


def test_jsonl_keeps_lists_as_json_and_writes_every_column(pbx: Pbx, tmp_path: Path) -> None:
    first, last = pbx.days(3)
    with pbx.client() as client:
        client.reports.export("call-log", tmp_path / "log.jsonl", start=first, end=last, tz="UTC")
    records = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text(encoding="utf-8").splitlines()]
    assert all(len(r) == 37 for r in records)
    assert all(isinstance(r["Recordings"], list) for r in records)
    assert any(r["CallCost"] is None for r in records)


def test_the_format_comes_from_the_extension_or_from_format() -> None:
    assert format_for("calls.xlsx") is Format.XLSX
    assert format_for("calls.ndjson") is Format.JSONL
    assert format_for("calls.txt", "csv") is Format.CSV
    with pytest.raises(ConfigError, match="unknown output format"):
        format_for("calls.pdf")


def test_parquet_reads_every_date_time_form_the_pbx_sends(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from py3cx.reports.writers.parquet import write_parquet

    plan = ColumnPlan.for_report(get_report("breaches-sla"))
    rows = [
        {"CallTime": "2025-03-01T10:00:02.1234567Z", "Queue": "0336"},  # seven fraction digits
        {"CallTime": "2025-03-01T11:00:00+01:00", "Queue": "0337"},
        {"Queue": "0338"},
    ]
    assert write_parquet(tmp_path / "b.parquet", plan, iter(rows)) == 3
    times = pq.read_table(tmp_path / "b.parquet").column("CallTime").to_pylist()
    assert [t.isoformat() if t else None for t in times] == [
        "2025-03-01T10:00:02.123456+00:00",
        "2025-03-01T10:00:00+00:00",
        None,
    ]
