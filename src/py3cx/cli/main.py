"""The `3cx` command.

Each command group lives in its own module under `py3cx.cli` and exposes
`register(app: typer.Typer) -> None`; `COMMAND_GROUPS` lists them. `main()` is the console script:
it turns every py3cx error into a message with its hint and a non-zero exit code, without a
traceback unless `--debug` is given.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
from typing import Annotated

import typer

from py3cx.cli import options as cli_options

app = typer.Typer(
    name="3cx",
    help="py3cx: the command line for 3CX V20 phone systems (XAPI and Call Control).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help text is plain: "ID:SECRET:ROLE" must not turn into an emoji
    context_settings={"help_option_names": ["-h", "--help"]},
)

# Modules registered in this order; each exposes register(app). A listed module that is not
# present in this build is skipped (find_spec), but one that is present and fails to import fails loudly.
COMMAND_GROUPS: tuple[str, ...] = (
    "py3cx.cli.config",
    "py3cx.cli.request",
    "py3cx.cli.calls",
    "py3cx.cli.history",
    "py3cx.cli.report",
    "py3cx.cli.users",
    "py3cx.cli.departments",
    "py3cx.cli.queues",
    "py3cx.cli.call",
    "py3cx.cli.events",
    "py3cx.cli.wallboard",
    "py3cx.cli.emulator",
    "py3cx.cli.demo",
    "py3cx.cli.connect",
    "py3cx.cli.exporter",
    "py3cx.cli.mcp",
)


@app.callback()
def _global(
    ctx: typer.Context,
    profile: Annotated[
        str | None,
        typer.Option("--profile", "-p", help="Profile from `3cx config` to use.", envvar="PY3CX_PROFILE"),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option("--url", help="PBX URL, e.g. https://pbx.example.com:5001.", envvar="PY3CX_URL"),
    ] = None,
    client_id: Annotated[
        str | None, typer.Option("--client-id", help="API client id.", envvar="PY3CX_CLIENT_ID")
    ] = None,
    insecure: Annotated[
        bool, typer.Option("--insecure", help="Do not verify the PBX's TLS certificate (not recommended).")
    ] = False,
    ca_bundle: Annotated[
        str | None,
        typer.Option(
            "--ca-bundle", help="CA bundle to verify a self-signed PBX certificate.", envvar="PY3CX_CA_BUNDLE"
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False,
) -> None:
    """Global options. The client secret is never an option: it comes from `3cx config`, the keyring
    or the PY3CX_CLIENT_SECRET environment variable."""
    # Options typed on the command line win over a profile; those from the environment do not.
    typed = {
        name
        for name in ("profile", "url", "client_id")
        if getattr(ctx.get_parameter_source(name), "name", None) == "COMMANDLINE"
    }
    cli_options.STATE.clear()
    cli_options.STATE.update(
        profile=profile,
        url=url,
        client_id=client_id,
        insecure=insecure,
        ca_bundle=ca_bundle,
        debug=debug,
        typed=typed,
    )
    if debug:
        logging.basicConfig(level=logging.DEBUG, format="%(asctime)s %(name)s %(levelname)s %(message)s")


def _register_groups() -> None:
    for module_name in COMMAND_GROUPS:
        if importlib.util.find_spec(module_name) is None:
            continue
        module = importlib.import_module(module_name)
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_register_groups()


def main() -> None:
    """Console-script entry point."""
    from py3cx._exceptions import APIError, Py3cxError
    from py3cx.cli.output import error

    debug = "--debug" in sys.argv
    try:
        app()
    except Py3cxError as exc:
        if debug:
            raise
        error(str(exc), getattr(exc, "hint", None))
        sys.exit(1 if isinstance(exc, APIError) else 2)
    except KeyboardInterrupt:
        error("interrupted")
        sys.exit(130)
    except BrokenPipeError:
        # stdout went away (e.g. `| head`): not an error of ours
        sys.exit(0)


if __name__ == "__main__":
    main()
