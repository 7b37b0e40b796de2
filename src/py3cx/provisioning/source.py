"""Rows of a provisioning file (CSV or XLSX), each with the line number a person sees in the file.

Every cell is read as text: an extension or queue number such as ``0336`` must keep its leading
zero, so nothing here guesses types. In XLSX a number typed into a cell is stored as a number;
its display format (``0000``) is used to give back the zeros it shows.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from py3cx._exceptions import ConfigError
from py3cx._extras import require

__all__ = ["SourceRow", "read_rows", "rows_from_csv", "rows_from_xlsx"]


@dataclass(frozen=True)
class SourceRow:
    """One data row: its cells by header (stripped text, ``""`` for a blank cell) and its line.

    ``line`` is the file's line (CSV, header = 1) or sheet row (XLSX); ``None`` for a row that did
    not come from a file (the CLI's ``create`` and ``update`` commands build one).
    Example: ``SourceRow(2, {"Email": "ann@example.com", "Number": "101"})``.
    """

    line: int | None
    values: Mapping[str, str]


def read_rows(path: str | Path, *, sheet: str | None = None) -> list[SourceRow]:
    """Read every non-blank data row of a ``.csv`` or ``.xlsx`` file; the first row is the header.

    Raises ConfigError when the file is missing, has an unknown extension, no header, a repeated
    header, or cannot be read as CSV (UTF-8) or XLSX.
    Example: ``rows = read_rows("staff.xlsx")``.
    """
    file = Path(path)
    suffix = file.suffix.lower()
    if not file.is_file():
        raise ConfigError(f"{file}: no such file")
    if suffix == ".csv":
        try:
            with file.open(encoding="utf-8-sig", newline="") as handle:
                return list(rows_from_csv(handle, name=str(file)))
        except UnicodeDecodeError:
            raise ConfigError(
                f"{file}: not UTF-8 text", hint="save the file as 'CSV UTF-8' (Excel) or UTF-8 text"
            ) from None
    if suffix in (".xlsx", ".xlsm"):
        return list(rows_from_xlsx(file, sheet=sheet))
    raise ConfigError(f"{file}: unknown file type {suffix or '(none)'}", hint="give a .csv or .xlsx file")


def rows_from_csv(handle: IO[str], *, name: str = "CSV") -> Iterator[SourceRow]:
    """Rows of CSV text (comma, semicolon or tab separated, sniffed from the header line).

    A quoted cell may span lines; a row's line is the line where it starts.
    Raises ConfigError for a missing or repeated header.
    Example: ``list(rows_from_csv(io.StringIO("Email,Number\\nann@example.com,101\\n")))``.
    """
    text = handle.read()
    first_line = text.split("\n", 1)[0]
    # Excel in many locales writes ';'; the header line alone tells which separator was used
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header: list[str] | None = None
    consumed = 0  # physical lines read so far
    for record in reader:
        start = consumed + 1
        consumed = reader.line_num
        if header is None:
            if not any(cell.strip() for cell in record):
                continue
            header = _header(record, name)
            continue
        values = _cells(header, record)
        if values is not None:
            yield SourceRow(start, values)
    if header is None:
        raise ConfigError(f"{name}: the file is empty", hint="the first line must name the columns")


def rows_from_xlsx(path: str | Path, *, sheet: str | None = None) -> Iterator[SourceRow]:
    """Rows of one sheet of an XLSX workbook (the first sheet unless ``sheet`` names one).

    Raises ConfigError for an unreadable workbook, an unknown sheet, or a missing header.
    Example: ``list(rows_from_xlsx("staff.xlsx", sheet="Users"))``.
    """
    from zipfile import BadZipFile

    require("cli", "openpyxl", what="reading XLSX files")
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, OSError, KeyError, ValueError) as exc:
        raise ConfigError(f"{path}: not a readable XLSX workbook ({type(exc).__name__})") from None
    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            raise ConfigError(
                f"{path}: no sheet named {sheet!r}", hint=f"sheets: {', '.join(workbook.sheetnames)}"
            )
        worksheet = workbook[sheet] if sheet is not None else workbook.worksheets[0]
        header: list[str] | None = None
        for row in worksheet.iter_rows():
            texts = [_xlsx_text(cell.value, getattr(cell, "number_format", "General")) for cell in row]
            if header is None:
                if any(texts):
                    header = _header(texts, str(path))
                continue
            values = _cells(header, texts)
            if values is not None:
                yield SourceRow(row[0].row if row and row[0].row is not None else None, values)
        if header is None:
            raise ConfigError(f"{path}: the sheet is empty", hint="the first row must name the columns")
    finally:
        workbook.close()


_ZEROS_FORMAT = re.compile(r"0+")


def _xlsx_text(value: object, number_format: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not value.is_integer():
            return repr(value)
        text = str(int(value))
        # a cell formatted "0000" shows 0336 for the number 336: give back what the person typed
        if _ZEROS_FORMAT.fullmatch(number_format or ""):
            text = text.zfill(len(number_format))
        return text
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return str(value).strip()


def _header(cells: Iterable[str], name: str) -> list[str]:
    header = [cell.strip() for cell in cells]
    while header and not header[-1]:
        header.pop()
    seen: set[str] = set()
    for title in header:
        if title and title.lower() in seen:
            raise ConfigError(f"{name}: the column {title!r} appears twice in the header")
        seen.add(title.lower())
    return header


def _cells(header: list[str], record: list[str]) -> dict[str, str] | None:
    values = {
        title: (record[i].strip() if i < len(record) else "") for i, title in enumerate(header) if title
    }
    if not any(values.values()) and not any(cell.strip() for cell in record[len(header) :]):
        return None  # blank rows are spacing, not data
    return values
