"""JSON lines: one object per row, every column present (null where the PBX left a value out).

Lists and objects (``Recordings``) stay JSON; derived values are written as text (``2025-03-14``,
``08:05:00``, ``27:03:04``) or numbers (seconds). The same writer, in ``raw`` mode, keeps the rows
exactly as the PBX sent them: that is the spool XLSX and Parquet exports are built from.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from py3cx.reports.columns import ColumnPlan, flat_text

__all__ = ["JsonlPart", "finalize_jsonl", "read_spool"]


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool | list | dict):
        return value
    return flat_text(value)


class JsonlPart:
    """Rows appended as JSON lines, page by page."""

    def __init__(self, path: Path, plan: ColumnPlan, resume_at: int | None, *, raw: bool) -> None:
        self._plan = plan
        self._raw = raw
        self._file = path.open("r+b" if resume_at is not None else "wb")
        if resume_at is not None:
            self._file.truncate(resume_at)
            self._file.seek(resume_at)

    def write(self, rows: Sequence[Mapping[str, Any]]) -> None:
        dumps = json.dumps
        lines: list[str] = []
        if self._raw:
            lines = [dumps(row, ensure_ascii=False, separators=(",", ":")) for row in rows]
        else:
            names = self._plan.names
            for row in rows:
                cells = self._plan.cells(row)
                record = {name: _plain(value) for name, value in zip(names, cells, strict=True)}
                lines.append(dumps(record, ensure_ascii=False, separators=(",", ":")))
        if lines:
            self._file.write(("\n".join(lines) + "\n").encode("utf-8"))

    def flush(self) -> int:
        self._file.flush()
        return self._file.tell()

    def close(self) -> None:
        self._file.close()


def read_spool(part: Path) -> Iterator[dict[str, Any]]:
    """The raw rows of a spool, one at a time (constant memory).

    Raises OSError, ValueError for a damaged line. Example: ``for row in read_spool(Path("x.part")): ...``.
    """
    with part.open("r", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                assert isinstance(row, dict)
                yield row


def finalize_jsonl(part: Path, output: Path, *, keep_part: bool = True) -> None:
    """Put the part's lines at ``output``: a copy, or a rename when the part is no longer needed.

    Raises OSError. Example: ``finalize_jsonl(Path("out.jsonl.part"), Path("out.jsonl"))``.
    """
    if keep_part:
        shutil.copyfile(part, output)
    else:
        os.replace(part, output)
