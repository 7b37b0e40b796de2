"""`3cx demo`: start the embedded emulator on a free loopback port, run a few real commands against it
over HTTP, show what a user would see, and stop it."""

from __future__ import annotations

import os
import shlex
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from py3cx.cli import output


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def _quote(arg: str) -> str:
    """Quote an argument the way a person would type it in a POSIX shell."""
    if arg and not any(c in arg for c in " '\"$`\\*?&|;<>()"):
        return arg
    if not any(c in arg for c in '"$`\\'):
        return f'"{arg}"'
    return shlex.quote(arg)


def _run(args: Sequence[str], *, expect_failure: bool = False) -> bool:
    """Run one `3cx` command in this process, as a user would type it. Returns True on success."""
    from py3cx._exceptions import Py3cxError
    from py3cx.cli.main import app

    shown = " ".join(_quote(a) for a in args)
    output.console.rule(f"[bold]$ 3cx {escape(shown)}", align="left", style="cyan")
    try:
        app(list(args), standalone_mode=False)
    except Py3cxError as exc:
        if not expect_failure:
            raise
        output.error(str(exc), exc.hint)
        return False
    return True


def _steps(export_dir: Path) -> list[tuple[list[str], bool]]:
    """The commands the demo runs; the second item says whether the command is expected to fail."""
    to_day = date.today()
    from_day = to_day - timedelta(days=30)
    steps: list[tuple[list[str], bool]] = [
        (
            [
                "get",
                "SystemStatus",
                "--select",
                "FQDN,Version,CallsActive,ExtensionsRegistered,ExtensionsTotal",
            ],
            False,
        ),
        (
            ["get", "Users", "--select", "Number,FirstName,LastName,EmailAddress", "--top", "5", "--count"],
            False,
        ),
        (
            ["get", "Users", "--filter", "LastName eq 'O''Brien'", "--select", "Number,FirstName,LastName"],
            False,
        ),
        (["calls", "active"], False),
        (
            [
                "get",
                "CallHistoryView",
                "--select",
                "SegmentStartTime,SrcCallerNumber,DstCallerNumber,CallTime",
                "--orderby",
                "SegmentStartTime desc",
                "--top",
                "5",
                "--count",
            ],
            False,
        ),
    ]
    import importlib.util

    if importlib.util.find_spec("py3cx.cli.history") is not None:
        steps.append(
            (
                [
                    "history",
                    "--from",
                    from_day.isoformat(),
                    "--to",
                    to_day.isoformat(),
                    "--output",
                    str(export_dir / "call-history.csv"),
                ],
                False,
            )
        )
    if importlib.util.find_spec("py3cx.cli.report") is not None:
        steps.append(
            (
                [
                    "report",
                    "queue-performance-overview",
                    "--from",
                    from_day.isoformat(),
                    "--to",
                    to_day.isoformat(),
                    "--output",
                    str(export_dir / "queue-performance-overview.xlsx"),
                ],
                False,
            )
        )
    return steps


def demo(
    seed: Annotated[int, typer.Option("--seed", help="Seed of the emulator's synthetic data.")] = 1,
    calls: Annotated[int, typer.Option("--calls", min=0, help="Historical calls in the emulator.")] = 2000,
    exports: Annotated[
        Path | None,
        typer.Option("--exports", help="Folder for the exported files (default: exports/demo-<time>)."),
    ] = None,
) -> None:
    """Run the emulator and a tour of the `3cx` command against it, over HTTP on loopback."""
    from py3cx.cli.options import STATE
    from py3cx.emulator import EmulatorConfig, running_emulator

    cfg = EmulatorConfig(seed=seed, calls=calls)
    owner = next(c for c in cfg.clients if c.role == "SystemOwner")
    admin = next((c for c in cfg.clients if c.role == "SystemAdmin"), None)
    with tempfile.TemporaryDirectory(prefix="py3cx-demo-") as tmp:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        export_dir = exports or Path("exports") / f"demo-{stamp}"
        export_dir.mkdir(parents=True, exist_ok=True)  # its own folder: --output wants one that exists
        with running_emulator(cfg) as emu:
            output.info(
                f"[bold]py3cx demo[/bold]: emulator listening on {emu.url} (seed {seed}, {calls} calls)"
            )
            saved_state = dict(STATE)
            env = {
                "PY3CX_URL": emu.url,
                "PY3CX_CLIENT_ID": owner.client_id,
                "PY3CX_CLIENT_SECRET": owner.secret,
                "PY3CX_CACHE_DIR": str(Path(tmp) / "cache"),
            }
            try:
                with _environment(env):
                    for args, expect_failure in _steps(export_dir):
                        _run(args, expect_failure=expect_failure)
                if admin is not None:
                    output.info(
                        "\nThe same request with a System Admin client (call history needs System Owner):"
                    )
                    with _environment(
                        {**env, "PY3CX_CLIENT_ID": admin.client_id, "PY3CX_CLIENT_SECRET": admin.secret}
                    ):
                        _run(["get", "CallHistoryView", "--top", "1"], expect_failure=True)
            finally:
                STATE.clear()
                STATE.update(saved_state)
        files = sorted(p for p in export_dir.glob("*") if p.is_file()) if export_dir.exists() else []
        for f in files:
            output.info(f"exported {f}: {f.stat().st_size} bytes")
        output.info("[bold green]demo complete[/bold green]: the emulator has stopped.")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
