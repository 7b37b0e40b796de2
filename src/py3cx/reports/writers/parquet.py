"""Parquet, one row group at a time, with typed columns (needs the ``parquet`` extra: pyarrow).

Date-times are ``timestamp[us, UTC]``, durations ``duration[us]``, integers ``int64``, decimals
``float64``, booleans ``bool``; lists and objects (``Recordings``) are JSON text; derived columns are
``float64`` seconds, ``duration[us]``, ``date32``, ``time64[us]`` and text. Keys the schema lacks are
written as text.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from py3cx._durations import parse_datetime, parse_duration
from py3cx._exceptions import ConfigError
from py3cx.reports.columns import CellKind, ColumnPlan, OutputColumn

__all__ = ["ROW_GROUP_ROWS", "write_parquet"]

log = logging.getLogger(__name__)

ROW_GROUP_ROWS = 10_000  # ~15 MB of Python objects per group at 27 columns


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _lenient(convert: Callable[[Any], Any], name: str) -> Callable[[Any], Any]:
    def wrapped(value: Any) -> Any:
        if value is None:
            return None
        try:
            return convert(value)
        except (TypeError, ValueError):
            log.warning("column %s: value %r does not fit its type; written as null", name, value)
            return None

    return wrapped


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError("bool")
    return int(value)


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError("not a bool")
    return value


def _array(pa: Any, values: list[Any], arrow_type: Any, column: OutputColumn) -> Any:
    """One column of a row group. Values go to Arrow as they are (it converts numbers, booleans
    and ISO text itself, in C++); only when that fails is each value converted in Python."""
    kind = column.kind
    try:
        if kind is CellKind.DATETIME:
            texts = [v if isinstance(v, str) else None for v in values]
            return pa.array(texts, type=pa.string()).cast(arrow_type)
        if kind in _TEXT_KINDS:
            return pa.array([_json_text(v) for v in values], type=arrow_type)
        if kind in _PYTHON_KINDS:
            raise TypeError("parsed in Python")
        return pa.array(values, type=arrow_type)
    except (TypeError, ValueError, pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        convert = _lenient(_CONVERTERS.get(kind, _same), column.name)
        return pa.array([convert(v) for v in values], type=arrow_type)


def _same(value: Any) -> Any:
    return value


_TEXT_KINDS = frozenset({CellKind.TEXT, CellKind.JSON, CellKind.EXTRA})
_PYTHON_KINDS = frozenset({CellKind.DURATION})
_CONVERTERS: dict[CellKind, Callable[[Any], Any]] = {
    CellKind.INTEGER: _int,
    CellKind.DECIMAL: float,
    CellKind.BOOLEAN: _bool,
    CellKind.DATETIME: parse_datetime,
    CellKind.DURATION: parse_duration,
    CellKind.SECONDS: float,
}


def write_parquet(path: Path, plan: ColumnPlan, rows: Iterator[Mapping[str, Any]]) -> int:
    """Write ``rows`` (as the PBX sent them) to a Parquet file at ``path``; return the row count.

    Raises ConfigError when pyarrow is missing (``pip install 'py3cx[parquet]'``), OSError.
    Example: ``write_parquet(Path("calls.parquet"), plan, iter(rows))``.
    """
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ConfigError(
            "Parquet export needs pyarrow", hint="install it with: pip install 'py3cx[parquet]'"
        ) from None

    columns = plan.columns
    types: dict[CellKind, Any] = {
        CellKind.TEXT: pa.string(),
        CellKind.INTEGER: pa.int64(),
        CellKind.DECIMAL: pa.float64(),
        CellKind.BOOLEAN: pa.bool_(),
        CellKind.DATETIME: pa.timestamp("us", tz="UTC"),
        CellKind.DURATION: pa.duration("us"),
        CellKind.JSON: pa.string(),
        CellKind.SECONDS: pa.float64(),
        CellKind.HMS: pa.duration("us"),
        CellKind.LOCAL_DATE: pa.date32(),
        CellKind.LOCAL_TIME: pa.time64("us"),
        CellKind.DAY_NAME: pa.string(),
        CellKind.EXTRA: pa.string(),
    }
    schema = pa.schema([pa.field(c.name, types[c.kind]) for c in columns])
    total = 0
    with pq.ParquetWriter(str(path), schema) as writer:
        while True:
            buffers: list[list[Any]] = [[] for _ in columns]
            count = 0
            appenders = [buffer.append for buffer in buffers]
            for row in rows:
                for append, value in zip(appenders, plan.cells(row), strict=True):
                    append(value)
                count += 1
                if count == ROW_GROUP_ROWS:
                    break
            if count:
                arrays = [_array(pa, buf, schema.field(i).type, columns[i]) for i, buf in enumerate(buffers)]
                writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
                total += count
            if count < ROW_GROUP_ROWS:
                break
    return total
