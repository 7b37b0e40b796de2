"""Reading provisioning files: every cell as text, each row with the line a person sees."""

from __future__ import annotations

from pathlib import Path

import pytest
import xlsxwriter

from py3cx import ConfigError
from py3cx.provisioning import SourceRow, read_rows


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_csv_rows_carry_the_line_they_start_on(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "staff.csv",
        'Email,FirstName,Notes\n\nann@example.com,Ann,"two\nlines"\nbob@example.com,Bob,\n',
    )
    # header columns must be known ones only for planning; reading keeps every column
    rows = read_rows(path)
    assert [(r.line, r.values["Email"]) for r in rows] == [(3, "ann@example.com"), (5, "bob@example.com")]
    assert rows[0].values["Notes"] == "two\nlines"


def test_csv_keeps_leading_zeros_and_strips_cells(tmp_path: Path) -> None:
    rows = read_rows(write(tmp_path, "queues.csv", "Number,Name\n 0336 , Sales Queue \n"))
    assert rows == [SourceRow(2, {"Number": "0336", "Name": "Sales Queue"})]


def test_semicolon_separated_csv_from_excel_is_read(tmp_path: Path) -> None:
    rows = read_rows(write(tmp_path, "staff.csv", "Email;Last name\nann@example.com;O'Brien, Jr\n"))
    assert rows[0].values == {"Email": "ann@example.com", "Last name": "O'Brien, Jr"}


def test_byte_order_mark_does_not_stick_to_the_first_header(tmp_path: Path) -> None:
    rows = read_rows(write(tmp_path, "staff.csv", "\ufeffEmail,Number\nann@example.com,101\n"))
    assert list(rows[0].values) == ["Email", "Number"]


def test_blank_rows_are_skipped_but_do_not_shift_line_numbers(tmp_path: Path) -> None:
    rows = read_rows(write(tmp_path, "staff.csv", "Email,Number\n,\nann@example.com,101\n"))
    assert [r.line for r in rows] == [3]


def test_file_that_is_not_utf8_is_refused_with_a_hint(tmp_path: Path) -> None:
    path = write(tmp_path, "staff.csv", "Email,LastName\nann@example.com,Müller\n", encoding="latin-1")
    with pytest.raises(ConfigError) as caught:
        read_rows(path)
    assert "UTF-8" in (caught.value.hint or "")


def test_repeated_header_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="appears twice"):
        read_rows(write(tmp_path, "staff.csv", "Email,email\na@example.com,b@example.com\n"))


def test_unknown_file_type_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown file type"):
        read_rows(write(tmp_path, "staff.txt", "Email\n"))


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        read_rows(tmp_path / "absent.csv")


def test_empty_csv_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="empty"):
        read_rows(write(tmp_path, "staff.csv", "\n\n"))


def write_xlsx(path: Path, rows: list[list[object]], *, zero_format_column: int | None = None) -> Path:
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Staff")
    zeros = workbook.add_format({"num_format": "0000"})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None:
                continue
            fmt = zeros if zero_format_column == c and r > 0 else None
            sheet.write(r, c, value, fmt)
    workbook.close()
    return path


def test_xlsx_rows_carry_their_sheet_row_numbers_and_numbers_become_text(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "staff.xlsx",
        [
            ["Email", "Number", "Mobile"],
            ["ann@example.com", 101, None],
            [None, None, None],
            ["bob@example.com", "0102", 4477.0],
        ],
    )
    rows = read_rows(path)
    assert rows == [
        SourceRow(2, {"Email": "ann@example.com", "Number": "101", "Mobile": ""}),
        SourceRow(4, {"Email": "bob@example.com", "Number": "0102", "Mobile": "4477"}),
    ]


def test_xlsx_number_shown_with_leading_zeros_keeps_them(tmp_path: Path) -> None:
    # Excel turns a typed 0336 into the number 336 shown with the format 0000
    path = write_xlsx(
        tmp_path / "queues.xlsx", [["Number", "Name"], [336, "Sales Queue"]], zero_format_column=0
    )
    assert read_rows(path)[0].values["Number"] == "0336"


def test_xlsx_sheet_can_be_chosen_and_an_unknown_one_is_refused(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "staff.xlsx", [["Email"], ["ann@example.com"]])
    assert read_rows(path, sheet="Staff")[0].values == {"Email": "ann@example.com"}
    with pytest.raises(ConfigError) as caught:
        read_rows(path, sheet="Users")
    assert "Staff" in (caught.value.hint or "")


def test_a_file_named_xlsx_that_is_not_a_workbook_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a readable XLSX"):
        read_rows(write(tmp_path, "staff.xlsx", "Email\nann@example.com\n"))
