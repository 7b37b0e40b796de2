"""CSV in UTF-8 with a byte-order mark (so that Excel reads the diacritics right).

Rows are appended to the part file page by page; the header is written at the end, when every
column is known, and the part is copied behind it. Lists and objects (``Recordings``) are JSON
text, booleans ``true``/``false``, derived durations ``hh:mm:ss``.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from py3cx.reports.columns import CellKind, ColumnPlan, flat_text

__all__ = ["CsvPart", "finalize_csv"]

_BOM = "\ufeff"
# Cells the csv module would not write as wanted (True, lists, timedelta...): all others are
# str, int, float or None, which it writes itself.
_NEEDS_TEXT = frozenset(
    {CellKind.BOOLEAN, CellKind.JSON, CellKind.EXTRA, CellKind.HMS, CellKind.LOCAL_DATE, CellKind.LOCAL_TIME}
)


class CsvPart:
    """The data rows of a CSV export, without header, appended page by page."""

    def __init__(self, path: Path, plan: ColumnPlan, resume_at: int | None) -> None:
        self._plan = plan
        self._file = path.open("r+b" if resume_at is not None else "wb")
        if resume_at is not None:
            self._file.truncate(resume_at)
            self._file.seek(resume_at)

    def write(self, rows: Sequence[Mapping[str, Any]]) -> None:
        columns = self._plan.columns
        convert = [i for i, c in enumerate(columns) if c.kind in _NEEDS_TEXT]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        for row in rows:
            cells = self._plan.cells(row)
            for i in convert:
                value = cells[i]
                if value is not None and not isinstance(value, str):
                    cells[i] = flat_text(value)
            writer.writerow(cells)
        self._file.write(buffer.getvalue().encode("utf-8"))

    def flush(self) -> int:
        self._file.flush()
        return self._file.tell()

    def close(self) -> None:
        self._file.close()


def _padded(part: Path, width: int) -> Iterator[list[str]]:
    with part.open("r", encoding="utf-8", newline="") as handle:
        for cells in csv.reader(handle):
            yield cells + [""] * (width - len(cells))


def finalize_csv(part: Path, plan: ColumnPlan, output: Path, *, first_width: int) -> None:
    """Write ``output``: BOM, header, then the part's rows (padded if columns were added late).

    Raises OSError. Example: ``finalize_csv(part, plan, out, first_width=27)``.
    """
    names = plan.names
    with output.open("w", encoding="utf-8", newline="") as out:
        out.write(_BOM)
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(names)
        if first_width < len(names):
            writer.writerows(_padded(part, len(names)))
            return
        out.flush()
        with part.open("rb") as source:
            shutil.copyfileobj(source, out.buffer, 1 << 20)
