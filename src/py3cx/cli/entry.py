"""The `3cx` console script: checks that the command-line extra is installed, then runs the CLI.

`pip install py3cx` installs the script but not typer or rich (the library needs neither), so this
module imports nothing beyond the standard library before the check: a bare install prints which
extra to add instead of an ImportError traceback.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Console-script entry point."""
    from py3cx._extras import missing

    absent = missing("cli", "typer", "rich")
    if absent:
        sys.stderr.write(
            f"error: the 3cx command needs {', '.join(absent)}, which pip installs with the cli extra\n"
            "hint: pip install 'py3cx[cli]' (or 'py3cx[all]' for the emulator, connect, Parquet and charts)\n"
        )
        sys.exit(2)
    from py3cx.cli.main import main as run

    run()


if __name__ == "__main__":
    main()
