"""`3cx report`: every report of the PBX exported to CSV, XLSX, JSONL or Parquet, and `3cx report list`.

Each report is its own command with the options its function takes (``3cx report call-log
--help``); the options every export shares (output, format, derived columns, resume...) are
defined once here and also used by `3cx history`.
"""

from __future__ import annotations

import enum
import inspect
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Annotated, Any

import typer

from py3cx._exceptions import ConfigError
from py3cx.cli import options as cli_options
from py3cx.cli.output import emit, err_console, info, json_mode, require_folder, warn
from py3cx.reports.arguments import parse_zone
from py3cx.reports.charts import CHARTED_REPORTS, build_panels, write_chart
from py3cx.reports.columns import ColumnPlan
from py3cx.reports.definitions import ArgRole, ReportDefinition, all_reports
from py3cx.reports.export import ExportOptions, ExportResult, run_export
from py3cx.reports.query import ReportQuery
from py3cx.reports.resource import build_query
from py3cx.reports.writers import Format, format_for

__all__ = ["ExportChoices", "export_command", "register", "report_app", "run_cli_export"]

report_app = typer.Typer(
    name="report",
    help="Export any report of the PBX to CSV, XLSX, JSONL or Parquet. `3cx report list` shows them all.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)


class ExportFormat(str, enum.Enum):
    """Output formats for --format."""

    csv = "csv"
    xlsx = "xlsx"
    jsonl = "jsonl"
    parquet = "parquet"


DEFAULT_FORMAT = Format.XLSX


_HELP = {
    "output": "Output file; its extension picks the format. "
    "Default: exports/<report>-from_<from>_to_<to>.xlsx.",
    "format": "Format when the file name does not say it.",
    "derived": "Add seconds and hh:mm:ss for durations, and local date, time and day name for date-times.",
    "locale": "Language of day names (repeat: --locale en --locale hr). Default: en.",
    "tz": "Time zone of the dates you give and of derived columns, e.g. Europe/Zagreb. "
    "Default: this machine's.",
    "concurrency": "Pages fetched at once.",
    "page_size": "Rows per request.",
    "window": "Fetch the period in slices, e.g. 1d or 6h (for PBXs that time out on long ranges).",
    "limit": "Stop after this many rows.",
    "resume": "Continue an interrupted export of the same file.",
    "force": "Overwrite the output file if it exists.",
    "as_json": "Print the result as JSON.",
    "chart": "Also draw a chart: out.png or out.html.",
}


def _option(*names: str, key: str, **extra: Any) -> Any:
    return typer.Option(*names, help=_HELP[key], **extra)


def _common_parameters(chart: bool) -> list[inspect.Parameter]:
    """The options every export takes, as parameters of a generated command."""
    keyword = inspect.Parameter.KEYWORD_ONLY
    opts: list[tuple[str, Any, Any]] = [
        ("output", Annotated[Path | None, _option("--output", "-o", key="output")], None),
        ("format", Annotated[ExportFormat | None, _option("--format", key="format")], None),
        ("derived", Annotated[bool, _option("--derived", key="derived")], False),
        ("locale", Annotated[list[str] | None, _option("--locale", key="locale")], None),
        ("tz", Annotated[str | None, _option("--tz", key="tz")], None),
        ("concurrency", Annotated[int, _option("--concurrency", key="concurrency", min=1, max=32)], 4),
        ("page_size", Annotated[int, _option("--page-size", key="page_size", min=1, max=100_000)], 1000),
        ("window", Annotated[str | None, _option("--window", key="window")], None),
        ("limit", Annotated[int | None, _option("--limit", key="limit", min=0)], None),
        ("resume", Annotated[bool, _option("--resume", key="resume")], False),
        ("force", Annotated[bool, _option("--force", key="force")], False),
        ("as_json", Annotated[bool, _option("--json", key="as_json")], False),
    ]
    if chart:
        opts.append(("chart", Annotated[Path | None, _option("--chart", key="chart")], None))
    return [inspect.Parameter(name, keyword, annotation=ann, default=default) for name, ann, default in opts]


@dataclass
class ExportChoices:
    """The shared export options as given on the command line."""

    output: Path | None = None
    format: ExportFormat | None = None
    derived: bool = False
    locale: list[str] | None = None
    tz: str | None = None
    concurrency: int = 4
    page_size: int = 1000
    window: str | None = None
    limit: int | None = None
    resume: bool = False
    force: bool = False
    as_json: bool = False
    chart: Path | None = None

    @classmethod
    def pick(cls, values: dict[str, Any]) -> ExportChoices:
        """Take the shared options out of a command's keyword arguments."""
        names = cls.__dataclass_fields__
        return cls(**{k: values.pop(k) for k in list(values) if k in names})


def export_command(
    name: str,
    help_text: str,
    specific: list[inspect.Parameter],
    run: Callable[[dict[str, Any]], None],
    *,
    chart: bool,
) -> Callable[..., None]:
    """A command function whose options are ``specific`` plus the shared export options."""

    def command(**values: Any) -> None:
        run(values)

    parameters = specific + _common_parameters(chart)
    command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in parameters}
    command.__doc__ = help_text
    command.__name__ = name.replace("-", "_")
    return command


_DURATION_RE = re.compile(r"(\d+)\s*([dhm])", re.IGNORECASE)


def parse_window(text: str | None) -> timedelta | None:
    """``1d``, ``6h``, ``30m`` (or ``1d12h``) as a timedelta. Raises ConfigError."""
    if not text:
        return None
    parts = _DURATION_RE.findall(text)
    if not parts or "".join(f"{n}{u}" for n, u in parts).lower() != re.sub(r"\s+", "", text).lower():
        raise ConfigError(f"bad --window {text!r}", hint="write it like 1d, 6h or 30m")
    units = {"d": 86_400, "h": 3600, "m": 60}
    return timedelta(seconds=sum(int(n) * units[u.lower()] for n, u in parts))


def _safe(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z._+-]", "-", text.replace(":", "-"))


def default_output(name: str, fmt: Format, *, start: str | None, end: str | None, day: str | None) -> Path:
    """``exports/call-log-from_2025-03-01_to_2025-03-15.xlsx``, the PowerShell module's pattern."""
    if start and end:
        stem = f"{name}-from_{_safe(start)}_to_{_safe(end)}"
    elif day:
        stem = f"{name}-date_{_safe(day)}"
    else:
        stem = f"{name}-{date.today().isoformat()}"
    return Path("exports") / f"{stem}.{fmt.value}"


def _existing(output: Path, choices: ExportChoices) -> Path:
    """Never replace a file silently: ask on a terminal (Overwrite, Rename, Cancel), else refuse."""
    if choices.resume or choices.force or not output.exists():
        return output
    if sys.stdin.isatty() and err_console.is_terminal:
        answer = (
            typer.prompt(f"{output} exists: [O]verwrite, [R]ename, [C]ancel", default="R").strip().lower()
        )
        if answer.startswith("o"):
            choices.force = True
            return output
        if answer.startswith("r"):
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            return output.with_name(f"{output.stem}-{stamp}{output.suffix}")
        raise typer.Exit(1)
    raise ConfigError(
        f"{output} already exists", hint="pass --force to overwrite it, or choose another --output"
    )


class _Progress:
    """A rich progress bar on stderr when it is a terminal: rows done of @odata.count, rate, ETA."""

    def __init__(self, label: str) -> None:
        self.rows = 0
        self._bar: Any = None
        if err_console.is_terminal:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]} rows/s"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=err_console,
                transient=True,
            )
            self._task = self._bar.add_task(label, total=None, rate="-")

    def __enter__(self) -> _Progress:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def update(self, rows: int, total: int | None) -> None:
        self.rows = rows
        if self._bar is not None:
            task = self._bar.tasks[0]
            speed = task.speed
            self._bar.update(self._task, completed=rows, total=total, rate=f"{speed:.0f}" if speed else "-")


def run_cli_export(
    query: ReportQuery,
    choices: ExportChoices,
    *,
    zone: tzinfo,
    start_text: str | None,
    end_text: str | None,
    day_text: str | None = None,
    client: Any = None,
    label: str | None = None,
) -> ExportResult:
    """Run an export for a command: pick the file, show progress, print the outcome.

    Raises ConfigError for user errors; exits 1 when rows are missing, 130 when interrupted.
    """
    definition = query.definition
    name = label or definition.name
    fmt = (
        format_for(choices.output, choices.format.value if choices.format else None)
        if (choices.output or choices.format)
        else DEFAULT_FORMAT
    )
    if choices.output is not None:
        require_folder(choices.output)
    output = choices.output or default_output(name, fmt, start=start_text, end=end_text, day=day_text)
    output = _existing(output, choices)
    locales = choices.locale or ["en"]
    plan = ColumnPlan.for_report(definition, derived=choices.derived, tz=zone, locales=locales)
    chart_path = choices.chart
    drawer = None
    if chart_path is not None:
        if definition.name not in CHARTED_REPORTS:
            known = ", ".join(sorted(CHARTED_REPORTS))
            raise ConfigError(f"no chart for {definition.name}", hint=f"charts exist for: {known}")
        if chart_path.suffix.lower() not in (".png", ".html"):
            raise ConfigError(
                f"cannot draw a chart as {chart_path.name}", hint="use a file ending in .png or .html"
            )

        def drawer(rows: Iterator[dict[str, Any]]) -> None:
            title = f"{definition.title}: {start_text or day_text or ''} .. {end_text or ''}".rstrip(" .")
            write_chart(build_panels(definition.name, rows, zone), chart_path, title=title)

    options = ExportOptions(
        page_size=choices.page_size,
        concurrency=choices.concurrency,
        window=parse_window(choices.window),
        limit=choices.limit,
    )
    owned = client is None
    connection = client or cli_options.connect()
    progress = _Progress(definition.title)
    try:
        with progress:
            result = run_export(
                connection,
                query,
                plan,
                output,
                fmt,
                options=options,
                resume=choices.resume,
                overwrite=choices.force,
                progress=progress.update,
                inspect=drawer,
            )
    except KeyboardInterrupt:
        info(f"interrupted: {progress.rows} rows are saved; run the same command again with --resume")
        raise typer.Exit(130) from None
    finally:
        if owned:
            connection.close()
    for note in result.warnings:
        warn(note)
    info(result.summary())
    info(f"written to {output}" + (f", chart in {chart_path}" if chart_path and result.rows else ""))
    if not result.complete:
        info("run the same command again with --resume to fetch what is missing")
    if json_mode(choices.as_json or None):
        emit(
            {
                "output": str(output),
                "rows": result.rows,
                "complete": result.complete,
                "missing": [m.describe() for m in result.missing],
                "splits": result.splits,
            },
            as_json=True,
        )
    if not result.complete:
        raise typer.Exit(1)
    return result


# -- one command per report ------------------------------------------------------------------------


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _specific_parameters(definition: ReportDefinition) -> list[inspect.Parameter]:
    keyword = inspect.Parameter.KEYWORD_ONLY
    params: list[inspect.Parameter] = []
    for arg in definition.arguments:
        ann: Any
        default: Any = None
        if arg.role is ArgRole.TIME_ZONE:
            continue  # from --tz
        if arg.role is ArgRole.PERIOD_START:
            name, ann = "from_", Annotated[str | None, typer.Option("--from", help=arg.help)]
        elif arg.role is ArgRole.PERIOD_END:
            name, ann = "to", Annotated[str | None, typer.Option("--to", help=arg.help)]
        elif arg.role is ArgRole.DAY:
            name, ann = (
                "day",
                Annotated[str | None, typer.Option(arg.option, help=arg.help + " Default: today.")],
            )
        elif arg.role is ArgRole.DN_LIST:
            name, ann = _snake(arg.name), Annotated[list[str] | None, typer.Option(arg.option, help=arg.help)]
        elif arg.role is ArgRole.INTERVAL:
            name = _snake(arg.name)
            ann = Annotated[str | None, typer.Option(arg.option, help=arg.help + " Default: 0:00:00.")]
        elif arg.role is ArgRole.CODE:
            name, default = _snake(arg.name), arg.default
            ann = Annotated[int, typer.Option(arg.option, help=f"{arg.name}: {arg.help}")]
        elif arg.role is ArgRole.FLAG:
            name, default = _snake(arg.name), arg.default
            flag = arg.option[2:]
            ann = Annotated[bool, typer.Option(f"--{flag}/--no-{flag}", help=f"{arg.name}.")]
        else:
            name, default = _snake(arg.name), arg.default
            ann = Annotated[str, typer.Option(arg.option, help=f"{arg.name}: {arg.help}")]
        params.append(inspect.Parameter(name, keyword, annotation=ann, default=default))
    if definition.function is None and definition.time_column is not None:
        start_help = ArgRole.PERIOD_START
        first = Annotated[str | None, typer.Option("--from", help=_ROLE_HELP[start_help])]
        last = Annotated[str | None, typer.Option("--to", help=_ROLE_HELP[ArgRole.PERIOD_END])]
        params.append(inspect.Parameter("from_", keyword, annotation=first, default=None))
        params.append(inspect.Parameter("to", keyword, annotation=last, default=None))
    return params


_ROLE_HELP = {
    ArgRole.PERIOD_START: "First day (YYYY-MM-DD) or an ISO date-time, in --tz.",
    ArgRole.PERIOD_END: "Last day, included (YYYY-MM-DD), or an ISO date-time (excluded), in --tz.",
}


def _source(definition: ReportDefinition) -> str:
    if definition.function is None:
        return definition.entity_set
    return f"{definition.entity_set}/{definition.function}"


def _help(definition: ReportDefinition) -> str:
    where = _source(definition)
    lines = [f"{definition.title}.", "", f"Source: {where}. Columns: {', '.join(definition.column_names())}."]
    if definition.splittable:
        lines.append("Rows are events in time: a range that times out (504) is fetched in smaller windows.")
    if definition.name == "call-log":
        lines.append(
            "Defaults are the PowerShell module's: every filter off and --no-hide-pcalls "
            "(the 3CX web report uses hidePcalls=true: pass --hide-pcalls to match it)."
        )
    return "\n\n".join(lines)


def _run_report(definition: ReportDefinition, values: dict[str, Any]) -> None:
    choices = ExportChoices.pick(values)
    zone = parse_zone(choices.tz)
    start, end, day = values.pop("from_", None), values.pop("to", None), values.pop("day", None)
    if definition.has_period and (start is None or end is None):
        raise ConfigError(f"{definition.name} needs a period", hint="give --from and --to (YYYY-MM-DD)")
    by_snake = {_snake(a.name): a for a in definition.arguments}
    arguments: dict[str, object] = {}
    for key, value in values.items():
        arg = by_snake[key]
        if value is None:
            continue
        arguments[arg.name] = value
    if day is not None:
        day_arg = next(a for a in definition.arguments if a.role is ArgRole.DAY)
        arguments[day_arg.name] = day
    query = build_query(definition, start=start, end=end, tz=zone, arguments=arguments)
    run_cli_export(query, choices, zone=zone, start_text=start, end_text=end, day_text=day)


def _runner(definition: ReportDefinition) -> Callable[[dict[str, Any]], None]:
    def run(values: dict[str, Any]) -> None:
        _run_report(definition, values)

    return run


def _add_report_commands() -> None:
    for definition in all_reports():
        command = export_command(
            definition.name,
            _help(definition),
            _specific_parameters(definition),
            _runner(definition),
            chart=definition.name in CHARTED_REPORTS,
        )
        report_app.command(definition.name, help=_help(definition), short_help=definition.title)(command)


@report_app.command("list")
def list_reports(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON even on a terminal.")] = False,
) -> None:
    """Every report: its command name, what it shows, the PBX function and its options."""
    rows = []
    for definition in all_reports():
        options = {a.option for a in definition.arguments if a.role is not ArgRole.TIME_ZONE}
        if definition.function is None and definition.time_column:
            options |= {"--from", "--to"}
        rows.append(
            {
                "name": definition.name,
                "title": definition.title,
                "function": _source(definition),
                "options": " ".join(sorted(options)),
                "windows": definition.splittable,
            }
        )
    emit(rows, as_json=as_json or None, columns=["name", "title", "options", "windows"])


_add_report_commands()


def register(app: typer.Typer) -> None:
    """Add `3cx report` to the main command."""
    app.add_typer(report_app, name="report")
