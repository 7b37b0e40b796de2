"""Pure decisions shared by Client and AsyncClient: URLs, queries, retries, paging, errors.

Nothing here does I/O, so the sync and async faces (`_client.py`) stay thin and every rule is
tested as a plain function.
"""

from __future__ import annotations

import email.utils
import json
import math
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from py3cx._exceptions import APIConnectionError, APIError, APIStatusError, ODataError, status_error_class
from py3cx.odata import build_query

__all__ = [
    "API_PREFIX",
    "RETRYABLE_STATUSES",
    "Page",
    "Pager",
    "RetryPolicy",
    "api_path",
    "error_from_response",
    "hint_for",
    "is_function_path",
    "parse_retry_after",
    "query_string",
    "retry_delay",
    "should_retry",
]

API_PREFIX = "/xapi/v1"

# Statuses worth another try when the request may be repeated (DESIGN.md decision 6).
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
# Statuses after which even a POST may be repeated, if the server sent Retry-After.
_RETRY_AFTER_STATUSES = frozenset({429, 503})
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "PUT"})

_FUNCTION_SEGMENT = re.compile(r"(?:^|/)Pbx\.[A-Za-z0-9_]+(?:\(|$|/|\?)")


def api_path(path: str) -> str:
    """The path on the PBX: relative paths go under `/xapi/v1`, absolute ones are kept.

    Example: `api_path("Users(42)") == "/xapi/v1/Users(42)"`; `api_path("/callcontrol")` is kept.
    """
    if path.startswith("/"):
        return path
    return f"{API_PREFIX}/{path}"


def is_function_path(path: str) -> bool:
    """True when the path calls an OData function or action (`.../Pbx.GetCallLogData(...)`).

    Example: `is_function_path("ReportCallLogData/Pbx.GetCallLogData(periodFrom=...)")` is True.
    """
    return bool(_FUNCTION_SEGMENT.search(path))


def query_string(
    *,
    filter: Any = None,
    select: Any = None,
    expand: Any = None,
    orderby: Any = None,
    top: int | None = None,
    skip: int | None = None,
    count: bool | None = None,
    search: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> str:
    """The encoded query string (no `?`) for OData options plus extra `params`.

    Everything goes through `py3cx.odata.build_query` (spaces as `%20`, never `+`).
    Raises ValueError/TypeError for invalid options (see build_query).
    Example: `query_string(top=10, count=True)` == `"$top=10&$count=true"` (order per build_query).
    """
    options = {
        "filter": filter,
        "select": select,
        "expand": expand,
        "orderby": orderby,
        "top": top,
        "skip": skip,
        "count": count,
        "search": search,
    }
    given = {name: value for name, value in options.items() if value is not None}
    extra = {str(k): _param_text(v) for k, v in (params or {}).items() if v is not None}
    if not given and not extra:
        return ""
    return build_query(**given, extra=extra or None)


def _param_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# -- retries -----------------------------------------------------------------------------------


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta seconds or an HTTP date), or None.

    Example: `parse_retry_after("2") == 2.0`; `parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT")`
    """
    if not value:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff for retries: exponential from `initial_delay`, capped, with jitter.

    `Retry-After` is honoured up to `max_retry_after` seconds.
    Example: `RetryPolicy().delay(1)` is between 0.75 and 1.0 s.
    """

    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    random: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def delay(self, attempt: int, retry_after: str | None = None, now: float | None = None) -> float:
        """Seconds to sleep before retry number `attempt + 1` (attempt counts from 0)."""
        waited = parse_retry_after(retry_after, now)
        if waited is not None:
            return min(waited, self.max_retry_after)
        backoff = min(self.initial_delay * (2.0 ** min(attempt, 30)), self.max_delay)
        # jitter spreads clients that failed together so they do not retry together
        return backoff * (1.0 - 0.25 * self.random())


DEFAULT_RETRY_POLICY = RetryPolicy()


def retry_delay(attempt: int, retry_after: str | None = None) -> float:
    """`RetryPolicy().delay(...)` with the default policy. Example: `retry_delay(0)` is ~0.4-0.5 s."""
    return DEFAULT_RETRY_POLICY.delay(attempt, retry_after)


def should_retry(
    method: str,
    path: str,
    *,
    status: int | None = None,
    error: APIConnectionError | None = None,
    retry_after: str | None = None,
) -> bool:
    """Whether a failed attempt may be repeated (the caller also checks the retry budget).

    GET and DELETE are repeated on connect errors, timeouts, resets, 429, 502, 503, 504, and on
    500 unless the path is a function (there a 500 means a bad argument). POST and PATCH
    (XAPI has no idempotency keys) only when the request never reached the server, or on
    429/503 with a Retry-After header.
    Example: `should_retry("POST", "Users", status=503, retry_after="1")` is True.
    """
    idempotent = method.upper() in _IDEMPOTENT
    if error is not None:
        return idempotent or not error.request_sent
    if status is None:
        return False
    if idempotent:
        return status in RETRYABLE_STATUSES or (status == 500 and not is_function_path(path))
    return status in _RETRY_AFTER_STATUSES and parse_retry_after(retry_after) is not None


# -- paging ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """One page of a collection: its rows, the `$skip` it started at, and `@odata.count` if asked."""

    rows: list[dict[str, Any]]
    skip: int
    count: int | None = None


class Pager:
    """Plans `$top`/`$skip` requests over a collection (XAPI has no `@odata.nextLink`).

    Stops after a short page, after `limit` rows, or once `skip` reaches a known count.
    Example: `Pager(page_size=500).next()` == `(500, 0)`
    """

    def __init__(self, page_size: int = 500, *, skip: int | None = None, limit: int | None = None) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.page_size = page_size
        self.skip = skip or 0
        self.remaining = limit
        self.count: int | None = None
        self.done = limit is not None and limit <= 0

    def next(self) -> tuple[int, int] | None:
        """`(top, skip)` for the next request, or None when the collection is exhausted."""
        if self.done:
            return None
        top = self.page_size if self.remaining is None else min(self.page_size, self.remaining)
        return top, self.skip

    def record(self, rows: list[dict[str, Any]], count: int | None) -> Page:
        """Account for a page just received (asked with the last `next()`); returns it as a Page."""
        asked = self.next()
        if asked is None:
            raise RuntimeError("record() called after the last page")
        top, skip = asked
        if count is not None:
            self.count = count
        page = Page(rows, skip, self.count)
        self.skip += len(rows)
        if self.remaining is not None:
            self.remaining -= len(rows)
        short = len(rows) < top
        past_count = self.count is not None and self.skip >= self.count
        self.done = short or past_count or (self.remaining is not None and self.remaining <= 0)
        return page


def page_rows(body: Any, method: str, path: str) -> tuple[list[dict[str, Any]], int | None]:
    """The rows and `@odata.count` of a collection body (`{"value": [...]}` or a bare list).

    Raises APIError when the body is not a collection. Example: `page_rows({"value": []}, "GET", "/x")`
    """
    if isinstance(body, list):
        return [row for row in body if isinstance(row, dict)], None
    if isinstance(body, dict) and isinstance(body.get("value"), list):
        count = body.get("@odata.count")
        rows = [row for row in body["value"] if isinstance(row, dict)]
        return rows, int(count) if isinstance(count, (int, float)) and not isinstance(count, bool) else None
    raise APIError(
        "the answer is not a collection, so it cannot be paged",
        method=method,
        path=path,
        hint="use client.get() for single entities and singletons",
    )


# -- errors ------------------------------------------------------------------------------------

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


def _first_segment(path: str) -> str:
    rest = path[len(API_PREFIX) :] if path.startswith(API_PREFIX + "/") else path
    head = rest.lstrip("/").split("/", 1)[0]
    return head.split("(", 1)[0]


def hint_for(status: int, method: str, path: str, odata_error: ODataError | None = None) -> str | None:
    """A sentence saying what usually causes `status` on `path` (BEHAVIOUR.md §4), or None.

    Example: `hint_for(504, "GET", "/xapi/v1/CallHistoryView")` == "the query ran too long: ..."
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
    function = is_function_path(path)
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


def error_from_response(status: int, reason: str, content: bytes, method: str, path: str) -> APIStatusError:
    """The exception for an HTTP error answer, with the parsed OData error and a hint.

    `path` must be the path without its query string. Raises nothing (returns the error).
    Example: `raise error_from_response(403, "Forbidden", body, "GET", "/xapi/v1/CallHistoryView")`
    """
    try:
        body: Any = json.loads(content) if content else None
    except ValueError:
        body = None
    odata_error = ODataError.from_body(body)
    if odata_error is not None and odata_error.message:
        message = odata_error.summary()
    elif isinstance(body, dict) and isinstance(body.get("error"), str):
        message = str(body.get("error_description") or body["error"])
    else:
        message = content[:300].decode("utf-8", "replace").strip() if content else ""
    cls = status_error_class(status)
    return cls(
        message,
        status_code=status,
        reason=reason,
        method=method,
        path=path,
        odata_error=odata_error,
        hint=hint_for(status, method, path, odata_error),
        body=content[:2000].decode("utf-8", "replace") if content else None,
    )
