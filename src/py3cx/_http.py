"""The one module that imports httpx2: builds the HTTP clients and translates transport errors.

Everything else in the library talks to httpx2 through the names defined here, so that the
HTTP library can be swapped or pinned in one place.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx2

from py3cx._exceptions import APIConnectionError, APITimeoutError, ConfigError

__all__ = [
    "AsyncHTTPClient",
    "HTTPClient",
    "Response",
    "build_async_client",
    "build_sync_client",
    "translate_errors",
]

Response = httpx2.Response
HTTPClient = httpx2.Client
AsyncHTTPClient = httpx2.AsyncClient

# Enough parallel connections for a thread pool paging several reports at once.
_LIMITS = httpx2.Limits(max_connections=50, max_keepalive_connections=20)


def ssl_verify(verify: bool, ca_bundle: str | None) -> ssl.SSLContext:
    """What to pass as httpx2's `verify`: one shared context per (verify, ca_bundle).

    A context costs tens of milliseconds and a few hundred KB (the trust store is loaded into
    it); connect keeps hundreds of clients, so contexts are made once and shared (they are not
    changed after creation). Raises ConfigError when the CA bundle cannot be read.
    Example: `ssl_verify(True, "/etc/pbx-ca.pem")`
    """
    with _contexts_lock:
        found = _contexts.get((verify, ca_bundle))
        if found is None:
            found = _contexts[(verify, ca_bundle)] = _new_context(verify, ca_bundle)
        return found


_contexts: dict[tuple[bool, str | None], ssl.SSLContext] = {}
_contexts_lock = threading.Lock()


def _new_context(verify: bool, ca_bundle: str | None) -> ssl.SSLContext:
    if ca_bundle is None or not verify:
        return httpx2.create_ssl_context(verify=verify)
    try:
        return ssl.create_default_context(cafile=ca_bundle)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"cannot read the CA bundle {ca_bundle!r}: {exc}",
            hint="ca_bundle must be a PEM file holding the certificate that signed the PBX's certificate",
        ) from exc


def build_sync_client(
    base_url: str, *, verify: bool, ca_bundle: str | None, timeout: float, transport: Any = None
) -> httpx2.Client:
    """A sync httpx2 client for one PBX. `transport` may be sync or async (an ASGI app's transport).

    Raises ConfigError for an unreadable CA bundle or a transport of the wrong kind.
    Example: `build_sync_client("https://pbx.example.com", verify=True, ca_bundle=None, timeout=30)`
    """
    if isinstance(transport, httpx2.AsyncBaseTransport) and not isinstance(transport, httpx2.BaseTransport):
        transport = AsyncTransportBridge(transport)
    elif transport is not None and not isinstance(transport, httpx2.BaseTransport):
        raise ConfigError(f"transport must be an httpx2 transport, not {type(transport).__name__}")
    return httpx2.Client(
        base_url=base_url,
        verify=ssl_verify(verify, ca_bundle),
        timeout=timeout,
        transport=transport,
        limits=_LIMITS,
        follow_redirects=False,
        trust_env=True,
    )


def build_async_client(
    base_url: str, *, verify: bool, ca_bundle: str | None, timeout: float, transport: Any = None
) -> httpx2.AsyncClient:
    """An async httpx2 client for one PBX. `transport` must be an async transport if given.

    Raises ConfigError for an unreadable CA bundle or a transport of the wrong kind.
    Example: `build_async_client("https://pbx.example.com", verify=True, ca_bundle=None, timeout=30)`
    """
    if transport is not None and not isinstance(transport, httpx2.AsyncBaseTransport):
        raise ConfigError(
            f"AsyncClient needs an async httpx2 transport, not {type(transport).__name__}",
            hint="pass httpx2.ASGITransport(app) or httpx2.AsyncHTTPTransport()",
        )
    return httpx2.AsyncClient(
        base_url=base_url,
        verify=ssl_verify(verify, ca_bundle),
        timeout=timeout,
        transport=transport,
        limits=_LIMITS,
        follow_redirects=False,
        trust_env=True,
    )


@contextmanager
def translate_errors(method: str, path: str) -> Iterator[None]:
    """Turn httpx2 transport errors raised inside the block into py3cx errors.

    Raises APITimeoutError, APIConnectionError (with `.request_sent`) or ConfigError (bad URL).
    Example: `with translate_errors("GET", "/xapi/v1/Users"): http.get(...)`
    """
    try:
        yield
    except (httpx2.ConnectTimeout, httpx2.PoolTimeout) as exc:
        raise APITimeoutError(
            f"timed out connecting to the PBX ({type(exc).__name__})",
            method=method,
            path=path,
            hint="the PBX did not accept the connection in time: check the URL, firewall and network",
            request_sent=False,
        ) from exc
    except httpx2.TimeoutException as exc:
        raise APITimeoutError(
            f"the PBX did not answer in time ({type(exc).__name__})",
            method=method,
            path=path,
            hint="raise the timeout, or ask for less data (a shorter date range, a smaller page)",
            request_sent=True,
        ) from exc
    except (httpx2.UnsupportedProtocol, httpx2.InvalidURL) as exc:
        raise ConfigError(
            f"invalid PBX URL: {exc}", hint="the URL looks like https://pbx.example.com"
        ) from exc
    except httpx2.ConnectError as exc:
        text = str(exc)
        where = _host_and_port(exc)
        hint = "check the PBX URL and that the PBX is reachable from here"
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate" in text.lower():
            hint = "the PBX certificate is not trusted: pass ca_bundle=<PEM file>, or verify=False"
        elif "WRONG_VERSION_NUMBER" in text or "record layer failure" in text:
            hint = f"{where} does not speak HTTPS: is the URL http://{where} (or another port)?"
        elif "refused" in text.lower():
            hint = f"nothing listens on {where}: check the host and port of the PBX URL (the web port: 443 or 5001)"
        raise APIConnectionError(
            f"cannot connect to the PBX at {where}: {text or type(exc).__name__}",
            method=method,
            path=path,
            hint=hint,
            request_sent=False,
        ) from exc
    except httpx2.TransportError as exc:
        raise APIConnectionError(
            f"the connection to the PBX failed: {exc or type(exc).__name__}",
            method=method,
            path=path,
            hint="the PBX or a proxy closed the connection; retrying later usually works",
            request_sent=True,
        ) from exc


class AsyncTransportBridge(httpx2.BaseTransport):
    """Lets a sync client use an async transport (such as `httpx2.ASGITransport(app)`).

    The async transport runs on a private event loop in a daemon thread; each response body is
    read whole there, which is what ASGITransport does anyway.
    """

    def __init__(self, transport: httpx2.AsyncBaseTransport) -> None:
        self._transport = transport
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="py3cx-transport", daemon=True)
        self._thread.start()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        body = request.read()
        forwarded = httpx2.Request(
            request.method, request.url, headers=request.headers, content=body, extensions=request.extensions
        )

        async def send() -> tuple[int, httpx2.Headers, bytes, dict[str, Any]]:
            response = await self._transport.handle_async_request(forwarded)
            stream = response.stream
            try:
                if isinstance(stream, httpx2.AsyncByteStream):
                    raw = b"".join([chunk async for chunk in stream])
                else:
                    raw = b"".join(stream)
            finally:
                await response.aclose()
            return response.status_code, response.headers, raw, dict(response.extensions)

        status, headers, raw, extensions = asyncio.run_coroutine_threadsafe(send(), self._loop).result()
        return httpx2.Response(
            status, headers=headers, stream=httpx2.ByteStream(raw), extensions=extensions, request=request
        )

    def close(self) -> None:
        if self._loop.is_closed():
            return
        asyncio.run_coroutine_threadsafe(self._transport.aclose(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


def _host_and_port(exc: httpx2.RequestError) -> str:
    """``host:port`` of the request that failed (the scheme's default port when none is given)."""
    try:
        url = exc.request.url
    except RuntimeError:  # an error raised without its request
        return "the PBX"
    port = url.port or (443 if url.scheme == "https" else 80)
    return f"{url.host}:{port}"
