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
