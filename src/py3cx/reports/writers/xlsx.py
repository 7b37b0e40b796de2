"""XLSX with real dates and durations, written in xlsxwriter's constant-memory mode.

What an admin used to the PowerShell module (through ImportExcel) expects: a bold, frozen header
with an autofilter, columns sized to their content, date-times as Excel dates (UTC, as the PBX
sends them; ``--derived`` adds the local date and time), durations as Excel durations with the
format ``[h]:mm:ss`` so that totals over 24 hours read right, seconds as whole numbers. A sheet
holds at most 1,048,575 data rows; more rows continue on ``Sheet2``, ``Sheet3``...
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from py3cx._durations import parse_datetime, parse_duration
from py3cx._extras import require
from py3cx.reports.columns import CellKind, ColumnPlan, OutputColumn

__all__ = ["MAX_ROWS_PER_SHEET", "write_xlsx"]

MAX_ROWS_PER_SHEET = 1_048_575  # Excel's 1,048,576 rows, less the header
_MAX_STRING = 32_767  # Excel's longest cell text
_SAMPLE_ROWS = 200
_MAX_WIDTH = 60

_WIDTH_BY_KIND: dict[CellKind, int] = {
    CellKind.DATETIME: 19,
    CellKind.DURATION: 10,
    CellKind.HMS: 10,
    CellKind.SECONDS: 8,
    CellKind.LOCAL_DATE: 10,
    CellKind.LOCAL_TIME: 8,
    CellKind.BOOLEAN: 6,
    CellKind.INTEGER: 8,
    CellKind.DECIMAL: 10,
}

_SECONDS_PER_DAY = 86_400.0

Writer = Callable[[Any, int, int, Any], None]


def _excel_days(td: timedelta) -> float:
    return td.total_seconds() / _SECONDS_PER_DAY


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value[:_MAX_STRING]
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))[:_MAX_STRING]


class _Formats:
    def __init__(self, workbook: Any) -> None:
        self.header = workbook.add_format({"bold": True})
        self.datetime = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.duration = workbook.add_format({"num_format": "[h]:mm:ss"})
        self.seconds = workbook.add_format({"num_format": "0"})
        self.date = workbook.add_format({"num_format": "yyyy-mm-dd"})
        self.time = workbook.add_format({"num_format": "hh:mm:ss"})


def _cell_writer(kind: CellKind, fmt: _Formats) -> Writer:
    """A function writing one cell of this kind, falling back to text for unexpected values."""

    def generic(ws: Any, r: int, c: int, v: Any) -> None:
        if isinstance(v, bool):
            ws.write_boolean(r, c, v)
        elif isinstance(v, int | float):
            ws.write_number(r, c, v)
        else:
            ws.write_string(r, c, _text(v))

    def number(ws: Any, r: int, c: int, v: Any) -> None:
        if isinstance(v, int | float) and not isinstance(v, bool):
            ws.write_number(r, c, v)
        else:
            generic(ws, r, c, v)

    def instant(ws: Any, r: int, c: int, v: Any) -> None:
        try:
            moment = parse_datetime(v)
        except (TypeError, ValueError):
            generic(ws, r, c, v)
            return
        utc = moment.replace(tzinfo=None) - (moment.utcoffset() or timedelta(0))
        ws.write_datetime(r, c, utc, fmt.datetime)

    def duration(ws: Any, r: int, c: int, v: Any) -> None:
        try:
            span = parse_duration(v)
        except (TypeError, ValueError):
            generic(ws, r, c, v)
            return
        ws.write_number(r, c, _excel_days(span), fmt.duration)

    def hms(ws: Any, r: int, c: int, v: Any) -> None:
        ws.write_number(r, c, _excel_days(v), fmt.duration)

    def seconds(ws: Any, r: int, c: int, v: Any) -> None:
        ws.write_number(r, c, v, fmt.seconds)

    def local_date(ws: Any, r: int, c: int, v: date) -> None:
        ws.write_datetime(r, c, datetime(v.year, v.month, v.day), fmt.date)

    def local_time(ws: Any, r: int, c: int, v: time) -> None:
        ws.write_number(r, c, (v.hour * 3600 + v.minute * 60 + v.second) / _SECONDS_PER_DAY, fmt.time)

    def boolean(ws: Any, r: int, c: int, v: Any) -> None:
        if isinstance(v, bool):
            ws.write_boolean(r, c, v)
        else:
            generic(ws, r, c, v)

    def text(ws: Any, r: int, c: int, v: Any) -> None:
        ws.write_string(r, c, _text(v))

    writers: dict[CellKind, Writer] = {
        CellKind.TEXT: text,
        CellKind.INTEGER: number,
        CellKind.DECIMAL: number,
        CellKind.BOOLEAN: boolean,
        CellKind.DATETIME: instant,
        CellKind.DURATION: duration,
        CellKind.JSON: text,
        CellKind.SECONDS: seconds,
        CellKind.HMS: hms,
        CellKind.LOCAL_DATE: local_date,
        CellKind.LOCAL_TIME: local_time,
        CellKind.DAY_NAME: text,
        CellKind.EXTRA: generic,
    }
    return writers[kind]


def _widths(columns: list[OutputColumn], sample: list[list[Any]]) -> list[int]:
    widths = []
    for i, column in enumerate(columns):
        width = max(len(column.name), _WIDTH_BY_KIND.get(column.kind, 0))
        if column.kind not in _WIDTH_BY_KIND:
            for cells in sample:
                value = cells[i] if i < len(cells) else None
                if value is not None:
                    width = max(width, len(value) if isinstance(value, str) else len(_text(value)))
        widths.append(min(width, _MAX_WIDTH) + 2)
    return widths


def write_xlsx(path: Path, plan: ColumnPlan, rows: Iterator[Mapping[str, Any]]) -> int:
    """Write ``rows`` (as the PBX sent them) to an XLSX file at ``path``; return the row count.

    Memory stays flat: rows are written as they come (constant-memory mode). The columns are
    sized from the header, the column kind and the first 200 rows.
    Raises OSError. Example: ``write_xlsx(Path("calls.xlsx"), plan, iter(rows))``.
    """
    require("cli", "xlsxwriter", what="XLSX export")
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            # Text stays text: a caller id such as "=1+2" or "0336" must not become a formula or number.
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    fmt = _Formats(workbook)
    columns = plan.columns
    last_col = len(columns) - 1
    writers = [_cell_writer(c.kind, fmt) for c in columns]
    sample = [plan.cells(row) for row in itertools.islice(rows, _SAMPLE_ROWS)]
    widths = _widths(columns, sample)

    sheets: list[tuple[Any, int]] = []

    def new_sheet() -> Any:
        sheet = workbook.add_worksheet(f"Sheet{len(sheets) + 1}")
        for i, column in enumerate(columns):
            sheet.set_column(i, i, widths[i])
            sheet.write_string(0, i, column.name, fmt.header)
        sheet.freeze_panes(1, 0)
        sheets.append((sheet, 0))
        return sheet

    sheet = new_sheet()
    row_index = 0
    total = 0
    for cells in itertools.chain(sample, (plan.cells(row) for row in rows)):
        if row_index == MAX_ROWS_PER_SHEET:
            sheets[-1] = (sheet, row_index)
            sheet = new_sheet()
            row_index = 0
        row_index += 1
        for c, value in enumerate(cells):
            if value is not None:
                writers[c](sheet, row_index, c, value)
        total += 1
    sheets[-1] = (sheet, row_index)
    for each, last_row in sheets:
        each.autofilter(0, 0, max(last_row, 1), max(last_col, 0))
    workbook.close()
    return total
