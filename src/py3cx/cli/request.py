"""`3cx token`, `3cx get` and `3cx swagger`: raw access to any XAPI path.

`3cx get` is the equivalent of the PowerShell module's `Invoke-XAPIRequestWithProgress` (whose result
lands in `$global:3cxdata`): it prints the full JSON, and `--all` pages through everything with
`$top`/`$skip`, since the PBX never sends `@odata.nextLink`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from py3cx._exceptions import ConfigError
from py3cx.cli import output
from py3cx.cli.options import ForceOption, JsonOption, connect
from py3cx.odata.query import build_query


def _split(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    parts = [p.strip() for v in values for p in v.split(",")]
    return [p for p in parts if p]


def token() -> None:
    """Print an access token for use in other tools (curl, Postman).

    The token is shared with other `3cx` commands through the token cache, so printing it does not
    invalidate the token that a running export is using.
    """
    with connect() as client:
        sys.stdout.write(client.token() + "\n")


def get(
    path: Annotated[str, typer.Argument(help="Path under /xapi/v1, e.g. Users or 'Users(Number=''100'')'.")],
    filter: Annotated[str | None, typer.Option("--filter", "-f", help="OData $filter expression.")] = None,
    select: Annotated[
        list[str] | None,
        typer.Option("--select", "-s", help="Properties to return (repeat or comma-separate)."),
    ] = None,
    expand: Annotated[
        list[str] | None, typer.Option("--expand", help="Navigation properties to expand.")
    ] = None,
    orderby: Annotated[
        list[str] | None,
        typer.Option("--orderby", help="e.g. 'LastName desc' (no short form: -o is --output)."),
    ] = None,
    top: Annotated[
        int | None, typer.Option("--top", min=0, help="At most N rows (with --all: page size).")
    ] = None,
    skip: Annotated[int | None, typer.Option("--skip", min=0, help="Skip N rows.")] = None,
    count: Annotated[bool, typer.Option("--count", help="Ask for @odata.count.")] = False,
    search: Annotated[str | None, typer.Option("--search", help="OData $search text.")] = None,
    all_rows: Annotated[bool, typer.Option("--all", help="Page through every row ($top/$skip).")] = False,
    as_json: JsonOption = False,
    output_file: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the JSON to this file.")
    ] = None,
    force: ForceOption = False,
) -> None:
    """Run any GET on XAPI and give the full JSON (a table on a terminal)."""
    query: dict[str, Any] = {
        "filter": filter,
        "select": _split(select),
        "expand": _split(expand),
        "orderby": _split(orderby),
        "search": search,
    }
    try:
        build_query(**query)  # the same checks the client makes, before any request
    except ValueError as exc:
        raise ConfigError(
            str(exc), hint="e.g. --orderby 'LastName desc' --select Number,FirstName --expand Groups"
        ) from None
    with connect() as client:
        if all_rows:
            _get_all(
                client,
                path,
                query,
                page_size=top,
                skip=skip,
                count=count,
                as_json=as_json,
                output_file=output_file,
                force=force,
            )
            return
        data = client.get(path, top=top, skip=skip, count=count or None, **query)
        if output_file is not None:
            with output.open_new_file(output_file, force=force) as fh:
                output.write_json(data, fh)
            output.info(f"wrote {output_file}")
        else:
            output.emit(data, as_json=as_json)
        _summary(data)


def _summary(data: Any) -> None:
    """The PowerShell module's habit: say how many rows matched and how many came back."""
    rows = output.rows_of(data)
    if rows is None or not isinstance(data, dict):
        return
    total = data.get("@odata.count")
    if total is None:
        output.info(f"fetched: {len(rows)}")
    elif total <= len(rows):
        output.info(
            f"Total records filtered: {total} / fetched: {len(rows)}. The entire dataset has been fetched."
        )
    else:
        output.info(
            f"Total records filtered: {total} / fetched: {len(rows)}. "
            "Use --all to page through the rest, or --skip/--top."
        )


def _get_all(
    client: Any,
    path: str,
    query: dict[str, Any],
    *,
    page_size: int | None,
    skip: int | None,
    count: bool,
    as_json: bool,
    output_file: Path | None,
    force: bool,
) -> None:
    pages = client.iter_pages(path, page_size=page_size or 500, skip=skip, count=True, **query)
    first = next(pages, None)
    total = first.count if first is not None else 0

    def rows() -> Any:
        if first is None:
            return
        yield from first.rows
        for page in pages:
            yield from page.rows

    if output_file is not None:
        with output.open_new_file(output_file, force=force) as fh:
            written = output.stream_json_collection(rows(), fh, count=total if count else None)
        output.info(f"{written} rows written to {output_file}")
    elif output.json_mode(as_json):
        written = output.stream_json_collection(rows(), sys.stdout, count=total if count else None)
    else:
        collected = list(rows())
        written = len(collected)
        output.emit({"value": collected})
    if total is not None and written < total:
        output.warn(f"fetched {written} of {total} rows: the data changed while paging")
    else:
        output.info(f"{written} rows, complete")


def swagger(
    output_file: Annotated[Path, typer.Option("--output", "-o", help="Where to save the spec.")] = Path(
        "swagger.yaml"
    ),
    force: ForceOption = False,
) -> None:
    """Save the PBX's own OpenAPI spec (/xapi/v1/swagger.yaml)."""
    if output_file.exists() and not force:
        from py3cx._exceptions import ConfigError

        raise ConfigError(f"{output_file} already exists", hint="choose another --output, or pass --force")
    output.require_folder(output_file)
    partial = output_file.with_name(output_file.name + ".part")
    try:
        with connect() as client, partial.open("wb") as fh:
            size = client.download("swagger.yaml", fh)
        partial.replace(output_file)
    finally:
        partial.unlink(missing_ok=True)
    output.info(f"saved {size} bytes to {output_file}")


def register(app: typer.Typer) -> None:
    app.command("token")(token)
    app.command("get")(get)
    app.command("swagger")(swagger)
