"""Streaming writers for exports: CSV, XLSX, JSONL and Parquet.

An export first appends rows to a *part file* next to the output (``out.csv.part``), page by
page, flushing after each page so that an interrupted export can resume from the last byte
written. CSV and JSONL parts already hold the final format (the CSV header is added at the end,
when every column is known). XLSX and Parquet cannot be appended to, so their part is a JSON-lines
spool of the raw rows, turned into the final file in one streaming pass at the end (XLSX in
xlsxwriter's constant-memory mode, Parquet one row group at a time). Memory stays flat whatever
the row count.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from py3cx._exceptions import ConfigError
from py3cx.reports.columns import ColumnPlan

__all__ = ["Format", "PartWriter", "finalize", "format_for", "open_part", "read_part"]


class Format(str, enum.Enum):
    """An output format, named by its file extension."""

    CSV = "csv"
    XLSX = "xlsx"
    JSONL = "jsonl"
    PARQUET = "parquet"


def format_for(path: str | Path | None, explicit: str | None = None) -> Format:
    """The format given by ``explicit`` (``--format``), else by the extension of ``path``.

    Raises ConfigError for an unknown format or extension.
    Example: ``format_for("out.xlsx") is Format.XLSX``.
    """
    name = explicit
    if not name and path is not None:
        name = Path(path).suffix.lstrip(".")
    aliases = {"ndjson": "jsonl", "pq": "parquet"}
    name = aliases.get((name or "").lower(), (name or "").lower())
    try:
        return Format(name)
    except ValueError:
        known = ", ".join(f.value for f in Format)
        raise ConfigError(
            f"unknown output format {name or '(none)'!r}",
            hint=f"use a file ending in one of: {known}, or --format",
        ) from None


class PartWriter(Protocol):
    """Appends pages of rows to a part file."""

    def write(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Append rows (as the PBX sent them)."""

    def flush(self) -> int:
        """Flush to disk and return the part's size in bytes: the resume point."""

    def close(self) -> None:
        """Close the file."""


def open_part(fmt: Format, path: Path, plan: ColumnPlan, *, resume_at: int | None = None) -> PartWriter:
    """Open the part file of an export in format ``fmt`` (truncated to ``resume_at`` when resuming).

    Raises OSError. Example: ``open_part(Format.CSV, Path("out.csv.part"), plan)``.
    """
    if fmt is Format.CSV:
        from py3cx.reports.writers.csv import CsvPart

        return CsvPart(path, plan, resume_at)
    from py3cx.reports.writers.jsonl import JsonlPart

    # XLSX and Parquet are written at the end from a spool of the raw rows.
    return JsonlPart(path, plan, resume_at, raw=fmt is not Format.JSONL)


def finalize(
    fmt: Format, part: Path, plan: ColumnPlan, output: Path, *, first_width: int, keep_part: bool = True
) -> None:
    """Turn the part file into ``output``.

    ``first_width`` is how many columns the plan had when the first row was written (the CSV
    rows written before a new key appeared are padded). The part file is left in place when
    ``keep_part`` (an incomplete export that may be resumed), else it may be consumed.
    Raises OSError, and ConfigError when Parquet is asked without pyarrow installed.
    Example: ``finalize(Format.XLSX, Path("out.xlsx.part"), plan, Path("out.xlsx"), first_width=27)``.
    """
    if fmt is Format.CSV:
        from py3cx.reports.writers.csv import finalize_csv

        finalize_csv(part, plan, output, first_width=first_width)
        return
    if fmt is Format.JSONL:
        from py3cx.reports.writers.jsonl import finalize_jsonl

        finalize_jsonl(part, output, keep_part=keep_part)
        return
    from py3cx.reports.writers.jsonl import read_spool

    if fmt is Format.XLSX:
        from py3cx.reports.writers.xlsx import write_xlsx

        write_xlsx(output, plan, read_spool(part))
        return
    from py3cx.reports.writers.parquet import write_parquet

    write_parquet(output, plan, read_spool(part))


def read_part(fmt: Format, part: Path, plan: ColumnPlan) -> Iterator[dict[str, Any]]:
    """The rows of a part file again, one at a time, keyed by column name (CSV values are text).

    Raises OSError. Example: ``sum(1 for _ in read_part(Format.CSV, Path("out.csv.part"), plan))``.
    """
    if fmt is Format.CSV:
        import csv

        names = plan.names
        with part.open("r", encoding="utf-8", newline="") as handle:
            for cells in csv.reader(handle):
                yield dict(zip(names, cells, strict=False))
        return
    from py3cx.reports.writers.jsonl import read_spool

    yield from read_spool(part)
