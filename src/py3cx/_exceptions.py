"""The exceptions py3cx raises.

```
Py3cxError
├── ConfigError                     bad/missing configuration or user input
└── APIError                        anything a request can raise
    ├── APIConnectionError          never got an HTTP answer (connect error, reset)
    │   └── APITimeoutError
    ├── TokenError                  the token endpoint refused (carries OAuth error/description)
    └── APIStatusError              got an HTTP answer >= 400
        ├── BadRequestError            400
        ├── AuthenticationError        401
        ├── PermissionDeniedError      403
        ├── NotFoundError              404
        ├── ConflictError              409
        ├── RateLimitError             429
        ├── InternalServerError        500 (and any other 5xx)
        ├── ServiceUnavailableError    503
        └── GatewayTimeoutError        504
```

Every error has a `.hint` (a sentence a person can act on, or None). No message, hint or
attribute ever holds a secret or a token: paths are kept without their query string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigError",
    "ConflictError",
    "GatewayTimeoutError",
    "InternalServerError",
    "NotFoundError",
    "ODataError",
    "PermissionDeniedError",
    "Py3cxError",
    "RateLimitError",
    "ServiceUnavailableError",
    "TokenError",
    "hint_for",
    "status_error_class",
]

# PBX message keys look like WARNINGS.XAPI.ALREADY_IN_USE
_MESSAGE_KEY = re.compile(r"\b[A-Z][A-Z0-9_]*(?:\.[A-Z0-9_]+)+\b")


@dataclass(frozen=True)
class ODataError:
    """The parsed OData error body `{"error": {"code", "message", "details"}}` of an XAPI answer.

    `message` on a real PBX looks like `"Number:\\nWARNINGS.XAPI.ALREADY_IN_USE"`; `keys` lists the
    `WARNINGS.XAPI.*` keys found in the message and the details.

    Example: `ODataError.from_body({"error": {"code": "", "message": "x"}})`
    """

    code: str = ""
    message: str = ""
    details: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    @classmethod
    def from_body(cls, body: Any) -> ODataError | None:
        """Parse a decoded JSON body; return None when it is not an OData error.

        Raises nothing. Example: `ODataError.from_body({"error": {"message": "Number:\\nWARNINGS.X"}})`
        """
        if not isinstance(body, dict):
            return None
        error = body.get("error")
        if not isinstance(error, dict):
            return None
        details = error.get("details")
        return cls(
            code=str(error.get("code") or ""),
            message=str(error.get("message") or ""),
            details=tuple(d for d in details if isinstance(d, dict)) if isinstance(details, list) else (),
        )

    @property
    def keys(self) -> tuple[str, ...]:
        """The message keys (`WARNINGS.XAPI.ALREADY_IN_USE`, ...) in the message and details."""
        found: list[str] = []
        texts = [self.message, *(str(d.get("message") or "") for d in self.details)]
        for text in texts:
            for key in _MESSAGE_KEY.findall(text):
                if key not in found:
                    found.append(key)
        return tuple(found)

    @property
    def target(self) -> str | None:
        """The property the error is about (`Number` in `"Number:\\nWARNINGS..."`), if any."""
        for detail in self.details:
            if detail.get("target"):
                return str(detail["target"])
        head, sep, _ = self.message.partition(":\n")
        return head if sep and head else None

    def summary(self) -> str:
        """The message on one line (`"Number: WARNINGS.XAPI.ALREADY_IN_USE"`)."""
        return " ".join(part.strip() for part in self.message.splitlines() if part.strip())


class Py3cxError(Exception):
    """Base of every error py3cx raises on purpose."""

    hint: str | None = None


class ConfigError(Py3cxError):
    """Missing or invalid configuration (profile, environment variable, argument).

    Example: `raise ConfigError("no PBX URL", hint="set PY3CX_URL or use --profile")`
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class APIError(Py3cxError):
    """Anything a request to the PBX can raise. `.method` and `.path` say which request."""

    def __init__(
        self, message: str, *, method: str | None = None, path: str | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.path = path
        self.hint = hint

    def __str__(self) -> str:
        where = f" on {self.path}" if self.path else ""
        text = f"{self.message}{where}"
        return f"{text} ({self.hint})" if self.hint else text


class APIConnectionError(APIError):
    """No HTTP answer came back (connection refused, reset, TLS failure, DNS).

    `.request_sent` is False when the request certainly never reached the server (a connect
    error), which is what makes retrying a POST safe.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        path: str | None = None,
        hint: str | None = None,
        request_sent: bool = True,
    ) -> None:
        super().__init__(message, method=method, path=path, hint=hint)
        self.request_sent = request_sent


class APITimeoutError(APIConnectionError):
    """The PBX did not answer within the timeout."""


class TokenError(APIError):
    """The token endpoint refused to issue a token.

    `.error` and `.error_description` carry the OAuth reply (`invalid_client`, ...);
    `.status_code` is the HTTP status of the token endpoint (None if it never answered).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        error: str | None = None,
        error_description: str | None = None,
        method: str | None = "POST",
        path: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, method=method, path=path, hint=hint)
        self.status_code = status_code
        self.error = error
        self.error_description = error_description


class APIStatusError(APIError):
    """The PBX answered with a status >= 400.

    `str(err)` reads `"403 Forbidden on /xapi/v1/CallHistoryView: <message> (<hint>)"`.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        reason: str = "",
        method: str | None = None,
        path: str | None = None,
        odata_error: ODataError | None = None,
        hint: str | None = None,
        body: str | None = None,
    ) -> None:
        super().__init__(message, method=method, path=path, hint=hint)
        self.status_code = status_code
        self.reason = reason
        self.odata_error = odata_error
        self.body = body

    def __str__(self) -> str:
        head = f"{self.status_code} {self.reason}".strip()
        where = f" on {self.path}" if self.path else ""
        text = f"{head}{where}: {self.message}" if self.message else f"{head}{where}"
        return f"{text} ({self.hint})" if self.hint else text


class BadRequestError(APIStatusError):
    """400: the PBX refused the request as malformed (bad `$filter`, invalid body)."""


class AuthenticationError(APIStatusError):
    """401: the token was missing, expired or invalidated, even after one fresh token."""


class PermissionDeniedError(APIStatusError):
    """403: the API client's role or the PBX's address restrictions forbid this."""


class NotFoundError(APIStatusError):
    """404: no such entity or path, or a function called with a missing argument."""


class ConflictError(APIStatusError):
    """409: the change conflicts with the current state (ETag mismatch, duplicate)."""


class RateLimitError(APIStatusError):
    """429: too many requests."""


class InternalServerError(APIStatusError):
    """500 or another 5xx: on a function, usually an argument of the wrong type or date format."""


class ServiceUnavailableError(APIStatusError):
    """503: the PBX is busy or restarting."""


class GatewayTimeoutError(APIStatusError):
    """504: the query ran too long on the PBX."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
    500: InternalServerError,
    503: ServiceUnavailableError,
    504: GatewayTimeoutError,
}


def status_error_class(status_code: int) -> type[APIStatusError]:
    """The exception class for an HTTP status (`APIStatusError` when no subclass fits).

    Example: `status_error_class(403) is PermissionDeniedError`
    """
    cls = _BY_STATUS.get(status_code)
    if cls is not None:
        return cls
    return InternalServerError if status_code >= 500 else APIStatusError


# -- hints: what an error status usually means on a real PBX -------------------------------------

_OWNER_ONLY = {
    "CallHistoryView": "call history",
    "ChatHistoryView": "chat history",
    "ChatMessagesHistoryView": "chat history",
    "Recordings": "recordings",
    "ScheduledReports": "scheduled reports",
}

_KEY_HINTS = {
    "WARNINGS.XAPI.ALREADY_IN_USE": "that number is taken",
    "WARNINGS.XAPI.DUPLICATE": "an entity with that value already exists",
    "WARNINGS.XAPI.NOT_FOUND": "no such entity: check the id or key",
    "WARNINGS.XAPI.FILE_NOT_FOUND": "that file does not exist on the PBX",
}


# ASP.NET Core OData's words for a $filter/$orderby it cannot read ("Syntax error at position 12 in '...'")
_QUERY_SYNTAX = re.compile(r"query specified in the URI is not valid|at position \d+ in '|[Ss]yntax error")
_QUOTING_HINT = (
    "the $filter or $orderby could not be read: put a string in single quotes and double each quote "
    "inside it (LastName eq 'O''Brien'), or build the filter with py3cx.F, which quotes for you"
)


def _first_segment(path: str) -> str:
    rest = path[len("/xapi/v1") :] if path.startswith("/xapi/v1/") else path
    head = rest.lstrip("/").split("/", 1)[0]
    return head.split("(", 1)[0]


def hint_for(
    status: int, path: str, odata_error: ODataError | None = None, *, function: bool = False
) -> str | None:
    """A sentence saying what usually causes `status` on `path` (BEHAVIOUR.md §4), or None.

    `function` says the path calls an OData function (there 404 and 500 mean a bad argument).
    Example: `hint_for(504, "/xapi/v1/CallHistoryView")` == "the query ran too long: ..."
    """
    if odata_error is not None:
        for key in odata_error.keys:
            if key in _KEY_HINTS:
                hint = _KEY_HINTS[key]
                target = odata_error.target
                if key.endswith("ALREADY_IN_USE") and target and target.lower() != "number":
                    hint = f"that {target} is already in use"
                return hint
        if "field is required" in odata_error.message:
            return "a required function argument is missing"
        if status == 400 and _QUERY_SYNTAX.search(odata_error.message):
            return _QUOTING_HINT
    segment = _first_segment(path)
    if status == 401:
        return (
            "the PBX refused a fresh token: the API client may be disabled or revoked, or another "
            "program is using the same client id (the PBX keeps one token per client id)"
        )
    if status == 403:
        if segment in _OWNER_ONLY:
            return (
                f"this API client has the System Admin role; {_OWNER_ONLY[segment]} needs System Owner "
                "(Admin > Integrations > API)."
            )
        if segment.startswith("My"):
            return "My* endpoints serve signed-in users, not API clients"
        if path.startswith("/callcontrol"):
            return (
                "Call Control needs a route point's API client (its id is the route point's number, "
                "Admin > Integrations > API > 3CX Call Control API access) that monitors this DN"
            )
        return (
            "the API client's role does not allow this (System Owner can do everything), "
            "or the PBX refuses API access from this address"
        )
    if status == 404:
        if function:
            return "a function was called with a missing or malformed argument, or the path is wrong"
        return "no such path or entity: check the spelling, the id, and that this PBX version has it"
    if status == 500 and function:
        return "an argument has the wrong type or date format"
    if status == 502:
        return "a proxy in front of the PBX got no answer from it"
    if status == 503:
        return "the PBX is busy or restarting; try again shortly"
    if status == 504:
        return "the query ran too long: use a shorter date range"
    if status == 429:
        return "too many requests: slow down"
    if status == 409 or status == 412:
        return "the entity changed since it was read: read it again and retry"
    return None
