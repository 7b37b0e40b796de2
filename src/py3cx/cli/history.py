"""`3cx history --from DATE --to DATE`: call history to CSV, XLSX, JSONL or Parquet.

History lives in CallHistoryView on older PBXs and in the call log (ReportCallLogData) from V20
Update 6 on, when call records moved. ``--source auto`` (the default) asks the PBX its version
and uses the call log from Update 6 on, or when the view has nothing for the period.
"""

from __future__ import annotations

import enum
import inspect
from typing import Annotated, Any

import typer

from py3cx._exceptions import ConfigError
from py3cx.cli import options as cli_options
from py3cx.cli.output import info
from py3cx.cli.report import ExportChoices, export_command, run_cli_export
from py3cx.reports.arguments import parse_period, parse_zone
from py3cx.reports.resource import build_query, choose_history_report

__all__ = ["register"]


class Source(str, enum.Enum):
    """Where history is read from."""

    auto = "auto"
    view = "view"
    calllog = "calllog"


_HELP = """Call history for a period, one row per call segment, streamed to a file.

--source auto uses CallHistoryView, or the call log (ReportCallLogData) when the PBX is V20
Update 6 or later or the view is empty for the period. Dates are days in --tz (default: this
machine's zone); --to is included. Example: 3cx history --from 2025-03-01 --to 2025-03-15."""


def _parameters() -> list[inspect.Parameter]:
    keyword = inspect.Parameter.KEYWORD_ONLY
    first = Annotated[
        str, typer.Option("--from", help="First day (YYYY-MM-DD) or an ISO date-time, in --tz.")
    ]
    last = Annotated[str, typer.Option("--to", help="Last day, included (YYYY-MM-DD), or an ISO date-time.")]
    source = Annotated[Source, typer.Option("--source", help="auto, view (CallHistoryView) or calllog.")]
    hide = Annotated[
        bool,
        typer.Option(
            "--hide-pcalls/--no-hide-pcalls",
            help="Call log only: hidePcalls (the web report uses it; the PowerShell module does not).",
        ),
    ]
    return [
        inspect.Parameter("from_", keyword, annotation=first),
        inspect.Parameter("to", keyword, annotation=last),
        inspect.Parameter("source", keyword, annotation=source, default=Source.auto),
        inspect.Parameter("hide_pcalls", keyword, annotation=hide, default=False),
    ]


def _run(values: dict[str, Any]) -> None:
    choices = ExportChoices.pick(values)
    zone = parse_zone(choices.tz)
    start, end = values["from_"], values["to"]
    source = Source(values["source"])
    period = parse_period(start, end, zone)
    with cli_options.connect() as client:
        definition = choose_history_report(client, period, source.value)
        if source is Source.auto:
            where = "CallHistoryView" if definition.function is None else "the call log (ReportCallLogData)"
            info(f"reading history from {where}")
        arguments: dict[str, object] = {}
        if definition.function is not None:
            arguments["hidePcalls"] = bool(values["hide_pcalls"])
        elif values["hide_pcalls"]:
            raise ConfigError("--hide-pcalls applies to the call log only", hint="use --source calllog")
        query = build_query(definition, start=start, end=end, tz=zone, arguments=arguments)
        run_cli_export(
            query, choices, zone=zone, start_text=start, end_text=end, client=client, label="history"
        )


def register(app: typer.Typer) -> None:
    """Add `3cx history` to the main command."""
    command = export_command("history", _HELP, _parameters(), _run, chart=True)
    app.command("history", help=_HELP, short_help="Call history to CSV, XLSX, JSONL or Parquet.")(command)
