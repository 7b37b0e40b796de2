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
from py3cx.reports.columns import CellKind, ColumnPlan

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


def _array(pa: Any, values: list[Any], arrow_type: Any, kind: CellKind) -> Any:
    if kind is not CellKind.DATETIME:
        return pa.array(values, type=arrow_type)
    # Arrow reads ISO 8601 text itself, much faster than a Python parse per value.
    texts = [v if isinstance(v, str) else None for v in values]
    try:
        return pa.array(texts, type=pa.string()).cast(arrow_type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.array([_lenient(parse_datetime, "date-time")(v) for v in texts], type=arrow_type)


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
    converters: dict[CellKind, Callable[[Any], Any]] = {
        CellKind.TEXT: _json_text,
        CellKind.INTEGER: _int,
        CellKind.DECIMAL: float,
        CellKind.BOOLEAN: _bool,
        CellKind.DURATION: parse_duration,
        CellKind.JSON: _json_text,
        CellKind.SECONDS: float,
        CellKind.EXTRA: _json_text,
    }
    schema = pa.schema([pa.field(c.name, types[c.kind]) for c in columns])
    convert = [_lenient(converters[c.kind], c.name) if c.kind in converters else None for c in columns]
    total = 0
    with pq.ParquetWriter(str(path), schema) as writer:
        while True:
            buffers: list[list[Any]] = [[] for _ in columns]
            count = 0
            for row in rows:
                cells = plan.cells(row)
                for i, value in enumerate(cells):
                    fn = convert[i]
                    buffers[i].append(fn(value) if fn is not None and value is not None else value)
                count += 1
                if count == ROW_GROUP_ROWS:
                    break
            if count:
                arrays = [
                    _array(pa, buf, schema.field(i).type, columns[i].kind) for i, buf in enumerate(buffers)
                ]
                writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
                total += count
            if count < ROW_GROUP_ROWS:
                break
    return total
