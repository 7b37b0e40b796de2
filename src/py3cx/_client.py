"""`Client` and `AsyncClient`: thin sync and async I/O faces over the decisions in `_base_client`.

The two `_send` loops below are the only duplicated code; read them side by side. Each attempt
gets the shared token and sends; what follows a failure (replay once with a fresh token after a
401, retry after a delay, or give up) is decided by `BaseClient._next_step`.
"""

from __future__ import annotations

import asyncio
import functools
import os
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from py3cx._auth import TokenStore
    from py3cx._retry import RetryPolicy
    from py3cx.callcontrol import AsyncCallControl, CallControl
    from py3cx.reports import AsyncReports, Reports
    from py3cx.xapi import XAPI, AsyncXAPI

from py3cx._base_client import (
    AsyncRowIterator,
    BaseClient,
    Page,
    Pager,
    PreparedRequest,
    RowIterator,
    decode_body,
    page_options,
    page_rows,
)
from py3cx._exceptions import APIConnectionError, Py3cxError
from py3cx._http import (
    AsyncHTTPClient,
    HTTPClient,
    Response,
    build_async_client,
    build_sync_client,
    translate_errors,
)

__all__ = ["AsyncClient", "Client"]

_ClientT = TypeVar("_ClientT", bound="Client")
_AsyncClientT = TypeVar("_AsyncClientT", bound="AsyncClient")


@contextmanager
def _partial_file(file: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """Write `<file>.part`, renamed to `file` once complete, removed on failure."""
    target = Path(file)
    partial = target.with_name(target.name + ".part")
    try:
        with open(partial, "wb") as handle:
            yield handle
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


class Client(BaseClient):
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
        max_retries: int | None = None,
        transport: Any = None,
        token_store: TokenStore | None = None,
        retry_policy: RetryPolicy | None = None,
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
            token_store=token_store,
            retry_policy=retry_policy,
        )
        self._http: HTTPClient = build_sync_client(
            self.url, verify=verify, ca_bundle=ca_bundle, timeout=timeout, transport=transport
        )

    # -- life cycle ----------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connections (a `with_options` copy leaves them to its parent). Example: `client.close()`"""
        if self._owns_http:
            self._http.close()

    def __enter__(self: _ClientT) -> _ClientT:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- extension points (issues 3-5) ---------------------------------------------------------

    @functools.cached_property
    def xapi(self) -> XAPI:
        """Typed XAPI resources (`py3cx.xapi.XAPI`), created on first use."""
        from py3cx.xapi import XAPI

        return XAPI(self)

    @functools.cached_property
    def reports(self) -> Reports:
        """The typed reports (`py3cx.reports.Reports`), created on first use."""
        from py3cx.reports import Reports

        return Reports(self)

    @functools.cached_property
    def callcontrol(self) -> CallControl:
        """The Call Control API (`py3cx.callcontrol.CallControl`), created on first use."""
        from py3cx.callcontrol import CallControl

        return CallControl(self)

    # -- the one send loop ---------------------------------------------------------------------

    def _send(self, prepared: PreparedRequest, *, stream: bool = False) -> Response:
        attempt, replayed, failed = 0, False, None
        while True:
            # the token fetch has its own retries: a failure there is final, not retried again here
            # (that multiplied the attempts: five seconds before "connection refused")
            token = self._tokens.get_sync(self._http, failed)
            try:
                started = time.monotonic()
                with translate_errors(prepared.method, prepared.path):
                    response = self._http.send(
                        self._http.build_request(**prepared.build(token), **self._request_options()),
                        stream=stream,
                    )
            except APIConnectionError as exc:
                step = self._next_step(prepared, attempt, replayed, error=exc)
                if step.action == "fail":
                    raise
            else:
                self._log(prepared, response.status_code, started)
                if response.status_code < 400:
                    return response
                with translate_errors(prepared.method, prepared.path):
                    response.read()
                response.close()
                step = self._next_step(prepared, attempt, replayed, response=response)
                if step.action == "fail":
                    error = self._status_error(prepared, response)
                    probe = self._licence_probe(error)
                    if probe is None:
                        self._explain_refusal(error)
                    else:
                        self._explain_refusal(error, self._read_quietly(probe), probed=True)
                    raise error
            replayed, failed = replayed or step.action == "replay", token if step.action == "replay" else None
            if step.action == "retry":
                time.sleep(step.delay)
                attempt += 1

    def _read_quietly(self, prepared: PreparedRequest) -> Any:
        """The JSON answer of a diagnostic read, or None when it fails in any way."""
        try:
            return self._send(prepared).json()
        except (Py3cxError, ValueError):
            return None

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
        return decode_body(self._send(prepared).content)

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
            with _partial_file(file) as handle:
                return self._download_into(prepared, handle)
        return self._download_into(prepared, file)

    def _download_into(self, prepared: PreparedRequest, handle: IO[bytes]) -> int:
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

        The first page asks `$count=true` (unless `count=False`) and each Page carries
        `@odata.count`. Paging ends at that count, on an empty page, or after a page larger than
        asked, never at a merely short one (a PBX may cap the page size): see `Pager`.
        Raises APIStatusError, APIConnectionError (after the retries). Example:
            for page in client.iter_pages("CallHistoryView", page_size=1000, count=True): ...
        """
        options, limit, skip, count = page_options(query)
        pager = Pager(page_size, skip=skip, limit=limit)
        return self._pages(path, pager, options, count)

    def _pages(self, path: str, pager: Pager, options: dict[str, Any], count: bool) -> Iterator[Page]:
        first = True
        while (asked := pager.next()) is not None:
            top, skip = asked
            prepared = self._prepare(
                "GET", path, top=top, skip=skip, count=True if count and first else None, **options
            )
            rows, total = page_rows(decode_body(self._send(prepared).content), "GET", prepared.path)
            first = False
            yield pager.record(rows, total)

    def paginate(self, path: str, *, page_size: int = 500, **query: Any) -> RowIterator:
        """Every row of a collection, page by page, lazily; `.count` is the total once a page is in.

        Takes the options of `get()`; `top` caps the number of rows, `skip` is where to start.
        Raises APIStatusError, APIConnectionError. Example:
            for call in client.paginate("CallHistoryView", filter=..., orderby="SegmentId"): ...
        """
        return RowIterator(self.iter_pages(path, page_size=page_size, **query))


class AsyncClient(BaseClient):
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
        max_retries: int | None = None,
        transport: Any = None,
        token_store: TokenStore | None = None,
        retry_policy: RetryPolicy | None = None,
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
            token_store=token_store,
            retry_policy=retry_policy,
        )
        self._http: AsyncHTTPClient = build_async_client(
            self.url, verify=verify, ca_bundle=ca_bundle, timeout=timeout, transport=transport
        )

    async def close(self) -> None:
        """Close the connections (a `with_options` copy leaves them to its parent)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self: _AsyncClientT) -> _AsyncClientT:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @functools.cached_property
    def xapi(self) -> AsyncXAPI:
        """Typed XAPI resources (`py3cx.xapi.AsyncXAPI`), created on first use."""
        from py3cx.xapi import AsyncXAPI

        return AsyncXAPI(self)

    @functools.cached_property
    def reports(self) -> AsyncReports:
        """The typed reports (`py3cx.reports.AsyncReports`), created on first use."""
        from py3cx.reports import AsyncReports

        return AsyncReports(self)

    @functools.cached_property
    def callcontrol(self) -> AsyncCallControl:
        """The Call Control API (`py3cx.callcontrol.AsyncCallControl`), created on first use."""
        from py3cx.callcontrol import AsyncCallControl

        return AsyncCallControl(self)

    async def _send(self, prepared: PreparedRequest, *, stream: bool = False) -> Response:
        attempt, replayed, failed = 0, False, None
        while True:
            token = await self._tokens.get_async(self._http, failed)  # retried inside, final here
            try:
                started = time.monotonic()
                with translate_errors(prepared.method, prepared.path):
                    request = self._http.build_request(**prepared.build(token), **self._request_options())
                    response = await self._http.send(request, stream=stream)
            except APIConnectionError as exc:
                step = self._next_step(prepared, attempt, replayed, error=exc)
                if step.action == "fail":
                    raise
            else:
                self._log(prepared, response.status_code, started)
                if response.status_code < 400:
                    return response
                with translate_errors(prepared.method, prepared.path):
                    await response.aread()
                await response.aclose()
                step = self._next_step(prepared, attempt, replayed, response=response)
                if step.action == "fail":
                    error = self._status_error(prepared, response)
                    probe = self._licence_probe(error)
                    if probe is None:
                        self._explain_refusal(error)
                    else:
                        self._explain_refusal(error, await self._read_quietly(probe), probed=True)
                    raise error
            replayed, failed = replayed or step.action == "replay", token if step.action == "replay" else None
            if step.action == "retry":
                await asyncio.sleep(step.delay)
                attempt += 1

    async def _read_quietly(self, prepared: PreparedRequest) -> Any:
        """The JSON answer of a diagnostic read, or None when it fails in any way."""
        try:
            return (await self._send(prepared)).json()
        except (Py3cxError, ValueError):
            return None

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
        return decode_body((await self._send(prepared)).content)

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
        """Async `Client.download`; the file is written from a worker thread, never on the loop.

        Example: `await client.download("Recordings(7)/Pbx.DownloadRecording()", "7.wav")`
        """
        prepared = self._prepare("GET", path, **query)
        if isinstance(file, (str, os.PathLike)):
            with _partial_file(file) as handle:
                return await self._download_into(prepared, handle)
        return await self._download_into(prepared, file)

    async def _download_into(self, prepared: PreparedRequest, handle: IO[bytes]) -> int:
        response = await self._send(prepared, stream=True)
        written = 0
        try:
            with translate_errors(prepared.method, prepared.path):
                async for chunk in response.aiter_bytes():
                    await asyncio.to_thread(handle.write, chunk)
                    written += len(chunk)
        finally:
            await response.aclose()
        return written

    def iter_pages(self, path: str, *, page_size: int = 500, **query: Any) -> AsyncIterator[Page]:
        """Async `Client.iter_pages`. Example: `async for page in client.iter_pages("Users"): ...`"""
        options, limit, skip, count = page_options(query)
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
            rows, total = page_rows(decode_body((await self._send(prepared)).content), "GET", prepared.path)
            first = False
            yield pager.record(rows, total)

    def paginate(self, path: str, *, page_size: int = 500, **query: Any) -> AsyncRowIterator:
        """Async `Client.paginate`. Example: `async for row in client.paginate("Users"): ...`"""
        return AsyncRowIterator(self.iter_pages(path, page_size=page_size, **query))
