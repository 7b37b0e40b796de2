"""Optional parts of py3cx and the extra that installs each.

`pip install py3cx` is the library alone; the command line, the emulator, Parquet, charts and
connect come with extras. Code that needs an optional package calls :func:`require` first, so a
missing one is a message naming the extra to install, never an ImportError traceback.
"""

from __future__ import annotations

import importlib.util

from py3cx._exceptions import ConfigError

# import name -> the extra that installs it
EXTRAS: dict[str, dict[str, str]] = {
    "cli": {
        "typer": "typer",
        "rich": "rich",
        "babel": "Babel",
        "xlsxwriter": "XlsxWriter",
        "openpyxl": "openpyxl",
        "phonenumbers": "phonenumbers",
        "email_validator": "email-validator",
        "starlette": "starlette",
        "uvicorn": "uvicorn",
    },
    "emulator": {
        "starlette": "starlette",
        "uvicorn": "uvicorn",
        "sqlalchemy": "SQLAlchemy",
        "odata_query": "odata-query",
        "yaml": "PyYAML",
        "multipart": "python-multipart",
    },
    "mcp": {"mcp": "mcp", "uvicorn": "uvicorn"},
    "exporter": {
        "prometheus_client": "prometheus-client",
        "starlette": "starlette",
        "uvicorn": "uvicorn",
    },
    "connect": {
        "sqlalchemy": "SQLAlchemy",
        "alembic": "alembic",
        "cryptography": "cryptography",
        "psycopg": "psycopg",
        "procrastinate": "procrastinate",
        "prometheus_client": "prometheus-client",
        "aiolimiter": "aiolimiter",
    },
}


def missing(extra: str, *modules: str) -> list[str]:
    """The distributions of ``extra`` (or only of ``modules`` in it) that are not installed.

    Example: ``missing("cli", "babel") == []`` when Babel is installed.
    """
    wanted = EXTRAS[extra]
    names = modules or tuple(wanted)
    return [wanted[name] for name in names if importlib.util.find_spec(name) is None]


def require(extra: str, *modules: str, what: str) -> None:
    """Raise ConfigError naming ``pip install 'py3cx[extra]'`` when a package ``what`` needs is missing.

    ``modules`` narrows the check to some import names of the extra (all of them when empty).
    Example: ``require("emulator", what="the emulator")``.
    """
    absent = missing(extra, *modules)
    if absent:
        raise ConfigError(
            f"{what} needs {', '.join(absent)}, which {'is' if len(absent) == 1 else 'are'} not installed",
            hint=f"pip install 'py3cx[{extra}]'",
        )
