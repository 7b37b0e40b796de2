"""py3cx: the Python toolkit for 3CX V20 phone systems.

    from py3cx import Client, F
    with Client("https://pbx.example.com", "my-client", "secret") as pbx:
        for user in pbx.paginate("Users", filter=F("LastName") == "O'Brien"):
            ...

The façade: clients, errors and the OData helpers. Everything heavier (typed XAPI resources,
reports, Call Control, the emulator) is imported only when used.
"""

from typing import Any as _Any

from py3cx._base_client import Page
from py3cx._client import AsyncClient, Client
from py3cx._exceptions import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigError,
    ConflictError,
    GatewayTimeoutError,
    InternalServerError,
    NotFoundError,
    ODataError,
    PermissionDeniedError,
    Py3cxError,
    RateLimitError,
    ServiceUnavailableError,
    TokenError,
)
from py3cx._retry import RetryPolicy
from py3cx.odata import (
    Duration,
    EnumMember,
    Expr,
    F,
    TimeSpan,
    action_path,
    and_,
    build_query,
    function_path,
    key_path,
    literal,
    or_,
)


def __getattr__(name: str) -> _Any:
    # importlib.metadata costs a third of `import py3cx`: read the version only when asked
    if name == "__version__":
        from importlib import metadata

        try:
            return metadata.version("py3cx")
        except metadata.PackageNotFoundError:  # pragma: no cover - a source tree without metadata
            return "0.0.0"
    raise AttributeError(f"module 'py3cx' has no attribute {name!r}")


__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ConfigError",
    "ConflictError",
    "Duration",
    "EnumMember",
    "Expr",
    "F",
    "GatewayTimeoutError",
    "InternalServerError",
    "NotFoundError",
    "ODataError",
    "Page",
    "PermissionDeniedError",
    "Py3cxError",
    "RateLimitError",
    "RetryPolicy",
    "ServiceUnavailableError",
    "TimeSpan",
    "TokenError",
    "__version__",
    "action_path",
    "and_",
    "build_query",
    "function_path",
    "key_path",
    "literal",
    "or_",
]
