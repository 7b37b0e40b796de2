"""`Client` and `AsyncClient`: thin sync and async I/O faces over the decisions in `_base_client`.

The two `_send` loops below are the only duplicated code; read them side by side. Each attempt
gets the shared token, sends, and on a 401 replays once with a fresh token (unless another
caller already replaced the one that failed); other failures are retried per `should_retry`.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import json as jsonlib
import logging
import os
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, TypeVar
from urllib.parse import urlsplit

from py3cx._auth import ClientCredentials, Credentials, PasswordCredentials, TokenManager, default_cache_dir
from py3cx._auth import normalize_url as _normalize_url
from py3cx._base_client import (
    DEFAULT_RETRY_POLICY,
    Page,
    Pager,
    RetryPolicy,
    api_path,
    error_from_response,
    page_rows,
    query_string,
    should_retry,
)
from py3cx._exceptions import APIConnectionError, ConfigError
from py3cx._http import (
    AsyncHTTPClient,
    HTTPClient,
    Response,
    build_async_client,
    build_sync_client,
    translate_errors,
)

__all__ = ["AsyncClient", "AsyncRowIterator", "Client", "RowIterator"]

log = logging.getLogger("py3cx")

_ClientT = TypeVar("_ClientT", bound="Client")
_AsyncClientT = TypeVar("_AsyncClientT", bound="AsyncClient")

_QUERY_OPTIONS = ("filter", "select", "expand", "orderby", "search")


@dataclass(frozen=True)
class _Prepared:
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


def _decode(response: Response) -> Any:
    """Parsed JSON, None for an empty answer, text for anything that is not JSON."""
    content = response.content
    if not content.strip():
        return None
    try:
        return jsonlib.loads(content)
    except ValueError:
        return response.text


class _ClientCore:
    """What both faces share: settings, credentials, the token manager, request preparation."""

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
        max_retries: int,
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
        if max_retries < 0:
            raise ConfigError("max_retries must be 0 or more")
        self.url = _normalize_url(url)
        self.client_id = client_id if client_id else username
        # kept for the Call Control WebSocket, which must trust the PBX the same way
        self.verify = verify
        self.ca_bundle = ca_bundle
        self.timeout = timeout
        self.max_retries = max_retries
        self._retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY
        self._tokens = TokenManager(
            self.url, credentials, cache_dir=default_cache_dir(), max_retries=max_retries
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={self.url!r}, client_id={self.client_id!r})"

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
    ) -> _Prepared:
        full = api_path(path)
        qs = query_string(**query)
        extra = dict(headers or {})
        if etag is not None:
            extra["If-Match"] = etag
        return _Prepared(method.upper(), full, f"{full}?{qs}" if qs else full, json, content, extra)

    def _log(self, prepared: _Prepared, status: int, started: float) -> None:
        elapsed = (time.monotonic() - started) * 1000
        log.debug("%s %s -> %d (%.0f ms)", prepared.method, prepared.path, status, elapsed)

    def _extension(self, module: str, name: str) -> Any:
        # later issues add client.xapi / .reports / .callcontrol; import them only when used
        try:
            factory = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            raise AttributeError(f"{module}.{name} is not available in this version of py3cx") from None
        return factory(self)


def _page_query(query: Mapping[str, Any]) -> tuple[dict[str, Any], int | None, int | None, bool]:
    """Split paginate()'s options: (the other options, limit from top, start from skip, count)."""
    options = dict(query)
    limit = options.pop("top", None)
    skip = options.pop("skip", None)
    count = bool(options.pop("count", False))
    unknown = set(options) - {*_QUERY_OPTIONS, "params"}
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


class Client(_ClientCore):
    """A sync client for one PBX's XAPI (and the Call Control REST API, by absolute paths).

    Raises ConfigError for a bad URL or missing credentials.
    Example:
        with Client("https://pbx.example.com", "my-client", "secret") as pbx:
            users = pbx.get("Users", filter=F("LastName") == "O'Brien", top=10)
    """

    def __init__(
        self,
        url: str,
        client_id: str | None = None,
        client_secret: str | None = None,
        *,
        username: str | None = None,
        password: str | None = None,
        verify: bool = True,
        ca_bundle: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 2,
        transport: Any = None,
    ) -> None:
        super().__init__(
            url,
            client_id,
            client_secret,
            username=username,
            password=password,
            verify=verify,
            ca_bundle=ca_bundle,
            timeout=timeout,
            max_retries=max_retries,
        )
        self._http: HTTPClient = build_sync_client(
            self.url, verify=verify, ca_bundle=ca_bundle, timeout=timeout, transport=transport
        )

    @classmethod
    def from_env(cls: type[_ClientT], profile: str | None = None, **options: Any) -> _ClientT:
        """A client from `PY3CX_URL`, `PY3CX_CLIENT_ID`, `PY3CX_CLIENT_SECRET` (`PY3CX_VERIFY=0`,
        `PY3CX_CA_BUNDLE`), or from the named profile of the config file.

        Raises ConfigError when neither is set up. Example: `Client.from_env("office")`
        """
        from py3cx._config import resolve_profile

        found = resolve_profile(profile)
        options.setdefault("verify", found.verify)
        options.setdefault("ca_bundle", found.ca_bundle)
        return cls(found.url, found.client_id, found.client_secret, **options)

    # -- life cycle ----------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connections. Example: `client.close()`"""
        self._http.close()

    def __enter__(self: _ClientT) -> _ClientT:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- extension points (issues 3-5) ---------------------------------------------------------

    @functools.cached_property
    def xapi(self) -> Any:
        """Typed XAPI resources (`py3cx.xapi.XAPI`), created on first use."""
        return self._extension("py3cx.xapi", "XAPI")

    @functools.cached_property
    def reports(self) -> Any:
        """The typed reports (`py3cx.reports.Reports`), created on first use."""
        return self._extension("py3cx.reports", "Reports")

    @functools.cached_property
    def callcontrol(self) -> Any:
        """The Call Control API (`py3cx.callcontrol.CallControl`), created on first use."""
        return self._extension("py3cx.callcontrol", "CallControl")

    # -- the one send loop ---------------------------------------------------------------------

    def _send(self, prepared: _Prepared, *, stream: bool = False) -> Response:
        attempt = 0
        failed: str | None = None
        replayed = False
        while True:
            try:
                token = self._tokens.get_sync(self._http, failed)
                failed = None
                started = time.monotonic()
                with translate_errors(prepared.method, prepared.path):
                    request = self._http.build_request(
                        prepared.method,
                        prepared.target,
                        json=prepared.json,
                        content=prepared.content,
                        headers={**prepared.headers, "Authorization": f"Bearer {token}"},
                    )
                    response = self._http.send(request, stream=stream)
            except APIConnectionError as exc:
                if (
                    prepared.replayable
                    and attempt < self.max_retries
                    and should_retry(prepared.method, prepared.path, error=exc)
                ):
                    time.sleep(self._retry_policy.delay(attempt))
                    attempt += 1
                    continue
                raise
            self._log(prepared, response.status_code, started)
            if response.status_code < 400:
                return response
            with translate_errors(prepared.method, prepared.path):
                response.read()
            response.close()
            if response.status_code == 401 and not replayed and prepared.replayable:
                replayed = True
                failed = token
                continue
            retry_after = response.headers.get("Retry-After")
            if (
                prepared.replayable
                and attempt < self.max_retries
                and should_retry(
                    prepared.method, prepared.path, status=response.status_code, retry_after=retry_after
                )
            ):
                time.sleep(self._retry_policy.delay(attempt, retry_after))
                attempt += 1
                continue
            raise error_from_response(
                response.status_code, response.reason_phrase, response.content, prepared.method, prepared.path
            )

    def _send_raw(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | Iterable[bytes] | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        stream: bool = False,
    ) -> Response:
        """Send with token, replay and retries; return the raw response (status < 400).

        With `stream=True` the body is not read: the caller must close the response.
        Raises APIStatusError and friends. Example: `client._send_raw("GET", "/callcontrol")`
        """
        prepared = self._prepare(method, path, json=json, content=content, headers=headers, params=params)
        return self._send(prepared, stream=stream)

    @contextmanager
    def _stream(self, method: str, path: str, **options: Any) -> Iterator[Response]:
        """`_send_raw(..., stream=True)` as a context manager that closes the response."""
        response = self._send_raw(method, path, stream=True, **options)
        try:
            yield response
        finally:
            response.close()

    # -- public requests -----------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        etag: str | None = None,
        **query: Any,
    ) -> Any:
        """Send any request; return the parsed JSON (None for an empty answer).

        `query` takes filter, select, expand, orderby, top, skip, count, search, params.
        Raises APIStatusError (per status), APIConnectionError, TokenError.
        Example: `client.request("POST", "Users/Pbx.BatchDelete", json={"ids": [1, 2]})`
        """
        prepared = self._prepare(method, path, json=json, headers=headers, etag=etag, **query)
        return _decode(self._send(prepared))

    def get(
        self,
        path: str,
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
    ) -> Any:
        """GET a path; return the parsed JSON.

        Raises APIStatusError (per status), APIConnectionError, TokenError.
        Example: `client.get("Users", filter=F("Number") == "100", select=["Id", "FirstName"])`
        """
        return self.request(
            "GET",
            path,
            filter=filter,
            select=select,
            expand=expand,
            orderby=orderby,
            top=top,
            skip=skip,
            count=count,
            search=search,
            params=params,
        )

    def post(self, path: str, json: Any = None) -> Any:
        """POST (create an entity, or call an action); return the parsed answer or None.

        Raises APIStatusError (e.g. BadRequestError with hint "that number is taken").
        Example: `client.post("Users", {"Number": "150", "FirstName": "Ann"})`
        """
        return self.request("POST", path, json=json)

    def patch(self, path: str, json: Any) -> Any:
        """PATCH an entity with the fields to change; return the answer (usually None).

        Raises APIStatusError. Example: `client.patch("Users(42)", {"FirstName": "Ann"})`
        """
        return self.request("PATCH", path, json=json)

    def delete(self, path: str, *, etag: str | None = None) -> None:
        """DELETE an entity (`etag` is sent as If-Match).

        Raises APIStatusError. Example: `client.delete("Users(42)")`
        """
        self.request("DELETE", path, etag=etag)

    def token(self) -> str:
        """The current access token, fetched if needed (shared with every client of this PBX).

        Raises TokenError, APIConnectionError.
        Example: `headers = {"Authorization": f"Bearer {client.token()}"}`
        """
        return self._tokens.get_sync(self._http)

    def download(self, path: str, file: str | os.PathLike[str] | IO[bytes], **query: Any) -> int:
        """Stream a GET answer (a `Download…` function, a recording) into a file; return the byte count.

        A path is written through a temporary `.part` file, renamed when complete.
        Raises APIStatusError, APIConnectionError.
        Example: `client.download("Recordings(7)/Pbx.DownloadRecording()", "7.wav")`
        """
        prepared = self._prepare("GET", path, **query)
        if isinstance(file, (str, os.PathLike)):
            target = Path(file)
            partial = target.with_name(target.name + ".part")
            try:
                with open(partial, "wb") as handle:
                    written = self._download_into(prepared, handle)
                os.replace(partial, target)
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
            return written
        return self._download_into(prepared, file)

    def _download_into(self, prepared: _Prepared, handle: IO[bytes]) -> int:
        response = self._send(prepared, stream=True)
        written = 0
        try:
            with translate_errors(prepared.method, prepared.path):
                for chunk in response.iter_bytes():
                    handle.write(chunk)
                    written += len(chunk)
        finally:
            response.close()
        return written

    def iter_pages(self, path: str, *, page_size: int = 500, **query: Any) -> Iterator[Page]:
        """Pages of a collection over `$top`/`$skip`, fetched lazily; `top` caps the total rows.

        Stops at a short page. With `count=True` each Page carries `@odata.count`.
        Raises APIStatusError, APIConnectionError (after the retries). Example:
            for page in client.iter_pages("CallHistoryView", page_size=1000, count=True): ...
        """
        options, limit, skip, count = _page_query(query)
        pager = Pager(page_size, skip=skip, limit=limit)
        return self._pages(path, pager, options, count)

    def _pages(self, path: str, pager: Pager, options: dict[str, Any], count: bool) -> Iterator[Page]:
        first = True
        while (asked := pager.next()) is not None:
            top, skip = asked
            prepared = self._prepare(
                "GET", path, top=top, skip=skip, count=True if count and first else None, **options
            )
            rows, total = page_rows(_decode(self._send(prepared)), "GET", prepared.path)
            first = False
            yield pager.record(rows, total)

    def paginate(self, path: str, *, page_size: int = 500, **query: Any) -> RowIterator:
        """Every row of a collection, page by page, lazily; `.count` is the total with `count=True`.

        Takes the options of `get()`; `top` caps the number of rows, `skip` is where to start.
        Raises APIStatusError, APIConnectionError. Example:
            for call in client.paginate("CallHistoryView", filter=..., orderby="SegmentId"): ...
        """
        return RowIterator(self.iter_pages(path, page_size=page_size, **query))


class AsyncClient(_ClientCore):
    """The async twin of Client: same arguments, same methods, awaited.

    Raises ConfigError for a bad URL or missing credentials.
    Example:
        async with AsyncClient("https://pbx.example.com", "my-client", "secret") as pbx:
            async for call in pbx.paginate("CallHistoryView"): ...
    """

    def __init__(
        self,
        url: str,
        client_id: str | None = None,
        client_secret: str | None = None,
        *,
        username: str | None = None,
        password: str | None = None,
        verify: bool = True,
        ca_bundle: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 2,
        transport: Any = None,
    ) -> None:
        super().__init__(
            url,
            client_id,
            client_secret,
            username=username,
            password=password,
            verify=verify,
            ca_bundle=ca_bundle,
            timeout=timeout,
            max_retries=max_retries,
        )
        self._http: AsyncHTTPClient = build_async_client(
            self.url, verify=verify, ca_bundle=ca_bundle, timeout=timeout, transport=transport
        )

    @classmethod
    def from_env(cls: type[_AsyncClientT], profile: str | None = None, **options: Any) -> _AsyncClientT:
        """Like `Client.from_env`. Raises ConfigError. Example: `AsyncClient.from_env()`"""
        from py3cx._config import resolve_profile

        found = resolve_profile(profile)
        options.setdefault("verify", found.verify)
        options.setdefault("ca_bundle", found.ca_bundle)
        return cls(found.url, found.client_id, found.client_secret, **options)

    async def close(self) -> None:
        """Close the connections. Example: `await client.close()`"""
        await self._http.aclose()

    async def __aenter__(self: _AsyncClientT) -> _AsyncClientT:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @functools.cached_property
    def xapi(self) -> Any:
        """Typed XAPI resources (`py3cx.xapi.AsyncXAPI`), created on first use."""
        return self._extension("py3cx.xapi", "AsyncXAPI")

    @functools.cached_property
    def reports(self) -> Any:
        """The typed reports (`py3cx.reports.AsyncReports`), created on first use."""
        return self._extension("py3cx.reports", "AsyncReports")

    @functools.cached_property
    def callcontrol(self) -> Any:
        """The Call Control API (`py3cx.callcontrol.AsyncCallControl`), created on first use."""
        return self._extension("py3cx.callcontrol", "AsyncCallControl")

    async def _send(self, prepared: _Prepared, *, stream: bool = False) -> Response:
        attempt = 0
        failed: str | None = None
        replayed = False
        while True:
            try:
                token = await self._tokens.get_async(self._http, failed)
                failed = None
                started = time.monotonic()
                with translate_errors(prepared.method, prepared.path):
                    request = self._http.build_request(
                        prepared.method,
                        prepared.target,
                        json=prepared.json,
                        content=prepared.content,
                        headers={**prepared.headers, "Authorization": f"Bearer {token}"},
                    )
                    response = await self._http.send(request, stream=stream)
            except APIConnectionError as exc:
                if (
                    prepared.replayable
                    and attempt < self.max_retries
                    and should_retry(prepared.method, prepared.path, error=exc)
                ):
                    await asyncio.sleep(self._retry_policy.delay(attempt))
                    attempt += 1
                    continue
                raise
            self._log(prepared, response.status_code, started)
            if response.status_code < 400:
                return response
            with translate_errors(prepared.method, prepared.path):
                await response.aread()
            await response.aclose()
            if response.status_code == 401 and not replayed and prepared.replayable:
                replayed = True
                failed = token
                continue
            retry_after = response.headers.get("Retry-After")
            if (
                prepared.replayable
                and attempt < self.max_retries
                and should_retry(
                    prepared.method, prepared.path, status=response.status_code, retry_after=retry_after
                )
            ):
                await asyncio.sleep(self._retry_policy.delay(attempt, retry_after))
                attempt += 1
                continue
            raise error_from_response(
                response.status_code, response.reason_phrase, response.content, prepared.method, prepared.path
            )

    async def _send_raw(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | Iterable[bytes] | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        stream: bool = False,
    ) -> Response:
        """Async `Client._send_raw`. Example: `await client._send_raw("GET", "/callcontrol")`"""
        prepared = self._prepare(method, path, json=json, content=content, headers=headers, params=params)
        return await self._send(prepared, stream=stream)

    @asynccontextmanager
    async def _stream(self, method: str, path: str, **options: Any) -> AsyncIterator[Response]:
        """`_send_raw(..., stream=True)` as an async context manager that closes the response."""
        response = await self._send_raw(method, path, stream=True, **options)
        try:
            yield response
        finally:
            await response.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        etag: str | None = None,
        **query: Any,
    ) -> Any:
        """Async `Client.request`. Example: `await client.request("GET", "Defs")`"""
        prepared = self._prepare(method, path, json=json, headers=headers, etag=etag, **query)
        return _decode(await self._send(prepared))

    async def get(
        self,
        path: str,
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
    ) -> Any:
        """Async `Client.get`. Example: `await client.get("Users", top=10)`"""
        return await self.request(
            "GET",
            path,
            filter=filter,
            select=select,
            expand=expand,
            orderby=orderby,
            top=top,
            skip=skip,
            count=count,
            search=search,
            params=params,
        )

    async def post(self, path: str, json: Any = None) -> Any:
        """Async `Client.post`. Example: `await client.post("Users", {"Number": "150"})`"""
        return await self.request("POST", path, json=json)

    async def patch(self, path: str, json: Any) -> Any:
        """Async `Client.patch`. Example: `await client.patch("Users(42)", {"FirstName": "Ann"})`"""
        return await self.request("PATCH", path, json=json)

    async def delete(self, path: str, *, etag: str | None = None) -> None:
        """Async `Client.delete`. Example: `await client.delete("Users(42)")`"""
        await self.request("DELETE", path, etag=etag)

    async def token(self) -> str:
        """Async `Client.token`. Example: `await client.token()`"""
        return await self._tokens.get_async(self._http)

    async def download(self, path: str, file: str | os.PathLike[str] | IO[bytes], **query: Any) -> int:
        """Async `Client.download` (file writes are small and synchronous).

        Example: `await client.download("Recordings(7)/Pbx.DownloadRecording()", "7.wav")`
        """
        prepared = self._prepare("GET", path, **query)
        if isinstance(file, (str, os.PathLike)):
            target = Path(file)
            partial = target.with_name(target.name + ".part")
            try:
                with open(partial, "wb") as handle:
                    written = await self._download_into(prepared, handle)
                os.replace(partial, target)
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
            return written
        return await self._download_into(prepared, file)

    async def _download_into(self, prepared: _Prepared, handle: IO[bytes]) -> int:
        response = await self._send(prepared, stream=True)
        written = 0
        try:
            with translate_errors(prepared.method, prepared.path):
                async for chunk in response.aiter_bytes():
                    handle.write(chunk)
                    written += len(chunk)
        finally:
            await response.aclose()
        return written

    def iter_pages(self, path: str, *, page_size: int = 500, **query: Any) -> AsyncIterator[Page]:
        """Async `Client.iter_pages`. Example: `async for page in client.iter_pages("Users"): ...`"""
        options, limit, skip, count = _page_query(query)
        pager = Pager(page_size, skip=skip, limit=limit)
        return self._pages(path, pager, options, count)

    async def _pages(
        self, path: str, pager: Pager, options: dict[str, Any], count: bool
    ) -> AsyncIterator[Page]:
        first = True
        while (asked := pager.next()) is not None:
            top, skip = asked
            prepared = self._prepare(
                "GET", path, top=top, skip=skip, count=True if count and first else None, **options
            )
            rows, total = page_rows(_decode(await self._send(prepared)), "GET", prepared.path)
            first = False
            yield pager.record(rows, total)

    def paginate(self, path: str, *, page_size: int = 500, **query: Any) -> AsyncRowIterator:
        """Async `Client.paginate`. Example: `async for row in client.paginate("Users"): ...`"""
        return AsyncRowIterator(self.iter_pages(path, page_size=page_size, **query))
