"""The CLI's output layer: tables on a terminal, JSON when piped, and user-facing messages.

Every command prints through this module, so that `--json`, piping and error messages behave the
same everywhere. It is the only place in py3cx that writes to stdout/stderr.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def json_mode(flag: bool | None) -> bool:
    """JSON when asked for, or when stdout is not a terminal (piped or redirected)."""
    if flag:
        return True
    return not sys.stdout.isatty()


def _default(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def dumps(data: Any, *, indent: int | None = 2) -> str:
    return json.dumps(data, ensure_ascii=False, indent=indent, default=_default)


def write_json(data: Any, stream: IO[str] | None = None, *, indent: int | None = 2) -> None:
    """Write `data` as JSON followed by a newline (`indent=None`: one line, for JSON lines)."""
    out = stream or sys.stdout
    out.write(dumps(data, indent=indent))
    out.write("\n")
    out.flush()


def rows_of(data: Any) -> list[Mapping[str, Any]] | None:
    """The rows of an OData collection (or a list of objects), else None."""
    if isinstance(data, Mapping) and isinstance(data.get("value"), list):
        value = data["value"]
        if all(isinstance(r, Mapping) for r in value):
            return list(value)
        return None
    if isinstance(data, list) and all(isinstance(r, Mapping) for r in data):
        return list(data)
    return None


def columns_of(rows: Iterable[Mapping[str, Any]], preferred: Sequence[str] = ()) -> list[str]:
    """Every key of every row, in first-seen order (the PBX leaves null properties out, so the first
    row alone would lose columns). `preferred` columns come first."""
    cols: dict[str, None] = dict.fromkeys(preferred)
    for row in rows:
        for key in row:
            if not key.startswith("@odata"):
                cols.setdefault(key, None)
    return list(cols)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping | list):
        return dumps(value, indent=None)
    return str(value)


def table(
    rows: Sequence[Mapping[str, Any]],
    *,
    columns: Sequence[str] | None = None,
    title: str | None = None,
    max_columns: int = 12,
) -> Table:
    """A rich table of `rows`; wide entities are cut to `max_columns` columns (use --json for all)."""
    cols = list(columns) if columns is not None else columns_of(rows)
    if len(cols) > max_columns:
        cols = cols[:max_columns]
    tbl = Table(title=title, show_lines=False, header_style="bold")
    for col in cols:
        tbl.add_column(col, overflow="fold")
    for row in rows:
        tbl.add_row(*(_cell(row.get(col)) for col in cols))
    return tbl


def emit(
    data: Any,
    *,
    as_json: bool | None = None,
    columns: Sequence[str] | None = None,
    title: str | None = None,
) -> None:
    """Show `data`: JSON when piped or asked for, else a table (collections) or key/value lines."""
    if json_mode(as_json):
        write_json(data)
        return
    rows = rows_of(data)
    if rows is not None:
        if not rows:
            console.print("[dim]no rows[/dim]")
            return
        console.print(table(rows, columns=columns, title=title))
        return
    if isinstance(data, Mapping):
        tbl = Table(show_header=False, title=title)
        tbl.add_column("property", style="bold")
        tbl.add_column("value", overflow="fold")
        for key, value in data.items():
            if not str(key).startswith("@odata"):
                tbl.add_row(str(key), _cell(value))
        console.print(tbl)
        return
    console.print(_cell(data))


def info(message: str) -> None:
    """A status line for a person: on stderr, so that stdout stays clean for data. Never wrapped, so
    that a URL or a command in it can be copied."""
    err_console.print(message, soft_wrap=True)


def warn(message: str) -> None:
    err_console.print(f"[yellow]warning:[/yellow] {escape(message)}")


def error(message: str, hint: str | None = None) -> None:
    """Print an error for a person, its hint on a line of its own."""
    if hint and message.endswith(f" ({hint})"):
        message = message[: -len(hint) - 3]
    err_console.print(f"[bold red]error:[/bold red] {escape(message)}")
    if hint:
        err_console.print(f"[cyan]hint:[/cyan] {escape(hint)}")


def stream_json_collection(rows: Iterator[Mapping[str, Any]], out: IO[str], *, count: int | None) -> int:
    """Write an OData-style collection to `out` one row at a time (constant memory). Returns rows written."""
    out.write("{")
    if count is not None:
        out.write(f'"@odata.count": {count}, ')
    out.write('"value": [')
    written = 0
    for row in rows:
        if written:
            out.write(",\n")
        out.write(dumps(row, indent=None))
        written += 1
    out.write("]}\n")
    out.flush()
    return written


def open_new_file(path: Path, *, force: bool) -> IO[str]:
    """Open `path` for writing text, refusing to replace an existing file unless `force`."""
    from py3cx._exceptions import ConfigError

    if path.exists() and not force:
        raise ConfigError(
            f"{path} already exists",
            hint="choose another --output, or pass --force to overwrite it",
        )
    require_folder(path)
    return path.open("w", encoding="utf-8", newline="")


def require_folder(path: Path) -> None:
    """Refuse an output file whose folder does not exist (a typo there must not become a new tree).

    Raises ConfigError naming the folder. Example: `require_folder(Path("exports/x.csv"))`.
    """
    from py3cx._exceptions import ConfigError

    folder = path.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise ConfigError(
            f"cannot write {path}: the folder {folder} {what}",
            hint=f"create it first (mkdir -p {folder}) or choose another --output",
        )
