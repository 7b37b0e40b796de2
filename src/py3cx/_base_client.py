"""Pure decisions shared by Client and AsyncClient: URLs, queries, retries, paging, errors.

Nothing here does I/O, so the sync and async faces (`_client.py`) stay thin and every rule is
tested as a plain function. `BaseClient` holds what both faces share.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

from py3cx._auth import (
    ClientCredentials,
    Credentials,
    PasswordCredentials,
    TokenManager,
    TokenStore,
    default_cache_dir,
)
from py3cx._auth import normalize_url as _normalize_url
from py3cx._exceptions import (
    APIConnectionError,
    APIError,
    APIStatusError,
    ConfigError,
    ODataError,
    _first_segment,
    hint_for,
    status_error_class,
)
from py3cx._retry import DEFAULT_RETRY_POLICY, RetryPolicy, parse_retry_after, retry_delay
from py3cx.licence import Licence
from py3cx.odata import build_query

__all__ = [
    "API_PREFIX",
    "QUERY_OPTIONS",
    "RETRYABLE_STATUSES",
    "AsyncRowIterator",
    "BaseClient",
    "NextStep",
    "Page",
    "Pager",
    "PreparedRequest",
    "RetryPolicy",
    "RowIterator",
    "api_path",
    "decode_body",
    "error_from_response",
    "is_function_path",
    "next_step",
    "page_options",
    "page_rows",
    "parse_retry_after",
    "query_string",
    "retry_delay",
    "should_retry",
]

log = logging.getLogger("py3cx")

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


def should_retry(
    method: str,
    path: str,
    *,
    status: int | None = None,
    error: APIConnectionError | None = None,
    retry_after: str | None = None,
) -> bool:
    """Whether a failed attempt may be repeated (the caller also checks the retry budget).

    GET and DELETE are repeated on connect errors, timeouts, resets, 429, 502, 503 and 504, never
    on 500 (on a PBX a 500 means a malformed argument: asking again gives the same 500; DESIGN.md
    decision 6). POST and PATCH
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
        return status in RETRYABLE_STATUSES
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

    A short page does not end the collection: a PBX may send fewer rows than `$top` asks (a
    page-size cap), so the pager asks again from where the rows stopped. It stops on an empty
    page, once `skip` reaches `@odata.count` (when known), after `limit` rows, or after a page
    larger than asked (the PBX ignored `$top` and sent everything: asking again would repeat it).
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
        whole = len(rows) > top
        past_count = self.count is not None and self.skip >= self.count
        self.done = not rows or whole or past_count or (self.remaining is not None and self.remaining <= 0)
        if whole:
            log.warning("GET ignored $top=%d and sent %d rows at once: not asking again", top, len(rows))
        elif not rows and self.count is not None and self.skip < self.count:
            log.warning("the PBX announced %d rows but sent none past row %d", self.count, self.skip)
        return page


def page_rows(body: Any, method: str, path: str) -> tuple[list[dict[str, Any]], int | None]:
    """The rows and `@odata.count` of a collection body (`{"value": [...]}` or a bare list).

    The count may come as a number or, from an OData server asked for IEEE754-compatible
    numbers, as a string of digits; anything else counts as no count.
    Raises APIError when the body is not a collection. Example: `page_rows({"value": []}, "GET", "/x")`
    """
    if isinstance(body, list):
        return [row for row in body if isinstance(row, dict)], None
    if isinstance(body, Mapping) and isinstance(body.get("value"), list):
        rows = [row for row in body["value"] if isinstance(row, dict)]
        return rows, _odata_count(body.get("@odata.count"))
    raise APIError(
        "the answer is not a collection, so it cannot be paged",
        method=method,
        path=path,
        hint="use client.get() for single entities and singletons",
    )


def _odata_count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


# -- requests ----------------------------------------------------------------------------------

QUERY_OPTIONS = ("filter", "select", "expand", "orderby", "search")


@dataclass(frozen=True)
class PreparedRequest:
    """One request, ready to send any number of times."""

    method: str
    path: str  # without the query: safe for messages and logs
    target: str  # path + query, relative to the PBX root
    json: Any = None
    content: bytes | Iterable[bytes] | None = field(default=None, repr=False)
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def replayable(self) -> bool:
        # a streamed upload (an iterator) cannot be sent twice
        return self.content is None or isinstance(self.content, bytes)

    def build(self, token: str) -> dict[str, Any]:
        """Keyword arguments for httpx2's `build_request`, with the bearer token."""
        return {
            "method": self.method,
            "url": self.target,
            "json": self.json,
            "content": self.content,
            "headers": {**self.headers, "Authorization": f"Bearer {token}"},
        }


def decode_body(content: bytes) -> Any:
    """Parsed JSON, None for an empty answer, text for anything that is not JSON.

    Example: `decode_body(b'{"value": []}') == {"value": []}`; `decode_body(b"") is None`
    """
    if not content.strip():
        return None
    try:
        return json.loads(content)
    except ValueError:
        return content.decode("utf-8", "replace")


def page_options(query: Mapping[str, Any]) -> tuple[dict[str, Any], int | None, int | None, bool]:
    """Split paginate()'s options: (the other options, limit from top, start from skip, count).

    `count` is True unless the caller passed `count=False`: the first page asks `$count=true` so
    that paging knows where the collection ends (as the community tools do on every request).
    Raises TypeError for an unknown option. Example: `page_options({"top": 5})[1] == 5`.
    """
    options = dict(query)
    limit = options.pop("top", None)
    skip = options.pop("skip", None)
    count = options.pop("count", None) is not False
    unknown = set(options) - {*QUERY_OPTIONS, "params"}
    if unknown:
        raise TypeError(f"unexpected query option(s): {', '.join(sorted(unknown))}")
    return options, limit, skip, count


class RowIterator(Iterator[dict[str, Any]]):
    """Rows of a collection, fetched page by page as they are consumed.

    `.count` holds `@odata.count` once the first page is in (when paging with `count=True`).
    """

    def __init__(self, pages: Iterator[Page]) -> None:
        self._pages = pages
        self._rows: Iterator[dict[str, Any]] = iter(())
        self.count: int | None = None

    def __iter__(self) -> RowIterator:
        return self

    def __next__(self) -> dict[str, Any]:
        while True:
            row = next(self._rows, None)
            if row is not None:
                return row
            page = next(self._pages)  # StopIteration ends us too
            self.count = page.count
            self._rows = iter(page.rows)


class AsyncRowIterator(AsyncIterator[dict[str, Any]]):
    """The async twin of RowIterator: `async for row in client.paginate(...)`."""

    def __init__(self, pages: AsyncIterator[Page]) -> None:
        self._pages = pages
        self._rows: Iterator[dict[str, Any]] = iter(())
        self.count: int | None = None

    def __aiter__(self) -> AsyncRowIterator:
        return self

    async def __anext__(self) -> dict[str, Any]:
        while True:
            row = next(self._rows, None)
            if row is not None:
                return row
            page = await self._pages.__anext__()
            self.count = page.count
            self._rows = iter(page.rows)


@dataclass(frozen=True)
class NextStep:
    """What a send loop does after a failed attempt: replay with a fresh token, retry, or fail."""

    action: Literal["replay", "retry", "fail"]
    delay: float = 0.0


def next_step(
    prepared: PreparedRequest,
    *,
    attempt: int,
    replayed: bool,
    policy: RetryPolicy,
    status: int | None = None,
    retry_after: str | None = None,
    error: APIConnectionError | None = None,
) -> NextStep:
    """Decide what follows a failed attempt (an error status or a connection error).

    A first 401 is replayed once with a fresh token; then `should_retry` and the retry budget
    decide; a streamed upload is never sent twice.
    Example: `next_step(req, attempt=0, replayed=False, policy=RetryPolicy(max_retries=2), status=503)`
    """
    if not prepared.replayable:
        return NextStep("fail")
    if status == 401 and not replayed:
        return NextStep("replay")
    if policy.allows(attempt) and should_retry(
        prepared.method, prepared.path, status=status, error=error, retry_after=retry_after
    ):
        return NextStep("retry", policy.delay(attempt, retry_after))
    return NextStep("fail")


# -- errors ------------------------------------------------------------------------------------


_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def _plain_text(content: bytes, limit: int = 200) -> str:
    """A short, one-line message from a non-JSON error body (a proxy's HTML page: its title)."""
    text = content[:4000].decode("utf-8", "replace")
    if "<" in text and ">" in text:
        title = _TITLE.search(text)
        text = title.group(1) if title else _TAG.sub(" ", text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


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
        message = _plain_text(content)
    cls = status_error_class(status)
    return cls(
        message,
        status_code=status,
        reason=reason,
        method=method,
        path=path,
        odata_error=odata_error,
        hint=hint_for(status, path, odata_error, function=is_function_path(path)),
        body=content[:2000].decode("utf-8", "replace") if content else None,
    )


# -- the shared core of Client and AsyncClient -------------------------------------------------


_BaseClientT = TypeVar("_BaseClientT", bound="BaseClient")


class BaseClient:
    """What both faces share: settings, credentials, the token manager, and every decision.

    No I/O here: `Client` and `AsyncClient` (in `_client.py`) send; this class prepares and decides.
    """

    def __init__(
        self,
        url: str,
        client_id: str | None,
        client_secret: str | None,
        *,
        username: str | None,
        password: str | None,
        verify: bool,
        ca_bundle: str | None,
        timeout: float,
        max_retries: int | None,
        token_store: TokenStore | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        parts = urlsplit(url.strip() if isinstance(url, str) else "")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"invalid PBX URL {url!r}", hint="give the PBX root, such as https://pbx.example.com"
            )
        credentials: Credentials
        if client_id and client_secret:
            credentials = ClientCredentials(client_id, client_secret)
        elif username and password:
            credentials = PasswordCredentials(username, password)
        else:
            raise ConfigError(
                "no credentials: give client_id and client_secret (or username and password)",
                hint="create an API client in the PBX admin console (Admin > Integrations > API)",
            )
        if max_retries is not None and max_retries < 0:
            raise ConfigError("max_retries must be 0 or more")
        # one policy decides every retry; max_retries, when given, sets its budget
        policy = retry_policy or DEFAULT_RETRY_POLICY
        if max_retries is not None:
            policy = dataclasses.replace(policy, max_retries=max_retries)
        self.url = _normalize_url(url)
        self.client_id = client_id if client_id else username
        # kept for the Call Control WebSocket, which must trust the PBX the same way
        self.verify = verify
        self.ca_bundle = ca_bundle
        self.timeout = timeout
        self._retry_policy: RetryPolicy = policy
        self._timeout_override: float | None = None
        self._owns_http = True
        # what LicenseStatus said after a first 403 (a dict shared with with_options() clones):
        # a licence without API access is then named in every 403's hint
        self._licence_seen: dict[str, Licence | None] = {}
        self._tokens = TokenManager(
            self.url,
            credentials,
            cache_dir=default_cache_dir(),
            retry_policy=policy,
            store=token_store,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={self.url!r}, client_id={self.client_id!r})"

    @property
    def max_retries(self) -> int:
        """How many times a failed request may be sent again (the retry policy's budget)."""
        return self._retry_policy.max_retries

    @property
    def retry_policy(self) -> RetryPolicy:
        """The retry policy of this client (see `py3cx.RetryPolicy`)."""
        return self._retry_policy

    def with_options(
        self: _BaseClientT,
        *,
        max_retries: int | None = None,
        timeout: float | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> _BaseClientT:
        """A client for the same PBX that shares this one's connections and token, with other
        retries or timeout (as openai-python and stripe-python do). Closing it closes nothing:
        the connections belong to this client.

        Raises ConfigError for a negative `max_retries`.
        Example: `client.with_options(max_retries=0).get("Users")`
        """
        if max_retries is not None and max_retries < 0:
            raise ConfigError("max_retries must be 0 or more")
        clone = copy.copy(self)
        # typed layers (xapi, reports, callcontrol) hold their client: the copy makes its own
        for name in ("xapi", "reports", "callcontrol"):
            clone.__dict__.pop(name, None)
        policy = retry_policy or self._retry_policy
        if max_retries is not None:
            policy = dataclasses.replace(policy, max_retries=max_retries)
        clone._retry_policy = policy
        if timeout is not None:
            clone.timeout = timeout
            clone._timeout_override = timeout
        clone._owns_http = False
        return clone

    @classmethod
    def from_env(cls: type[_BaseClientT], profile: str | None = None, **options: Any) -> _BaseClientT:
        """A client from `PY3CX_URL`, `PY3CX_CLIENT_ID`, `PY3CX_CLIENT_SECRET` (`PY3CX_VERIFY=0`,
        `PY3CX_CA_BUNDLE`), or from the named profile of the config file; `options` go to the
        constructor (`timeout=`, `transport=`...).

        Raises ConfigError when neither is set up. Example: `Client.from_env("office")`
        """
        from py3cx._config import resolve_profile

        found = resolve_profile(profile)
        options.setdefault("verify", found.verify)
        options.setdefault("ca_bundle", found.ca_bundle)
        return cls(found.url, found.client_id, found.client_secret, **options)

    def _prepare(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | Iterable[bytes] | None = None,
        headers: Mapping[str, str] | None = None,
        etag: str | None = None,
        **query: Any,
    ) -> PreparedRequest:
        full = api_path(path)
        qs = query_string(**query)
        extra = dict(headers or {})
        if etag is not None:
            extra["If-Match"] = etag
        return PreparedRequest(method.upper(), full, f"{full}?{qs}" if qs else full, json, content, extra)

    def _request_options(self) -> dict[str, Any]:
        """Per-request options of httpx2's `build_request` (a `with_options` timeout)."""
        return {} if self._timeout_override is None else {"timeout": self._timeout_override}

    def _log(self, prepared: PreparedRequest, status: int, started: float) -> None:
        elapsed = (time.monotonic() - started) * 1000
        log.debug("%s %s -> %d (%.0f ms)", prepared.method, prepared.path, status, elapsed)

    def _next_step(
        self,
        prepared: PreparedRequest,
        attempt: int,
        replayed: bool,
        *,
        response: Any = None,
        error: APIConnectionError | None = None,
    ) -> NextStep:
        """What to do after a failed attempt (`response` has `.status_code` and `.headers`)."""
        return next_step(
            prepared,
            attempt=attempt,
            replayed=replayed,
            policy=self._retry_policy,
            status=None if response is None else response.status_code,
            retry_after=None if response is None else response.headers.get("Retry-After"),
            error=error,
        )

    def _licence_probe(self, error: APIStatusError) -> PreparedRequest | None:
        """The LicenseStatus read that may explain a 403, when its answer is not known yet (None
        when it is, or when the error is no 403 or was that very read)."""
        if error.status_code != 403 or "licence" in self._licence_seen:
            return None
        if error.path is not None and _first_segment(error.path) in ("LicenseStatus", "MyUser"):
            return None
        return self._prepare("GET", "LicenseStatus")

    def _explain_refusal(self, error: APIStatusError, status: Any = None, *, probed: bool = False) -> None:
        """Name the licence in a 403's hint when LicenseStatus shows it has no API access.

        ``status`` is LicenseStatus's body when ``probed`` (None if it could not be read); it is
        remembered, so a client asks once and names the licence in every later 403.
        """
        if probed:
            self._licence_seen["licence"] = Licence.from_status(status) if isinstance(status, dict) else None
        licence = self._licence_seen.get("licence")
        hint = licence.refusal_hint() if licence is not None and error.status_code == 403 else None
        if hint is not None:
            error.hint = hint

    def _status_error(self, prepared: PreparedRequest, response: Any) -> APIStatusError:
        """The exception for an error answer whose body has been read."""
        return error_from_response(
            response.status_code, response.reason_phrase, response.content, prepared.method, prepared.path
        )
