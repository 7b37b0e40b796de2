"""Access tokens: one per (PBX, client id) in the process, shared with other processes by a file.

A 3CX PBX keeps ONE active token per client id: asking for a new one invalidates the old one.
So every Client and AsyncClient of this process that talks to the same PBX as the same client
shares one `_TokenSlot` (single-flight: whoever finds no valid token fetches, everyone else
waits), and processes on one machine share the token through a locked cache file (0600), so
that two `3cx` commands do not knock each other out.

Fetching, in order: the in-memory token if still fresh; else, under the file lock, the cached
file's token if fresh and not the one that just failed; else a token request, written back to
the file. After a 401 the caller passes the token that failed, so a token already replaced by
another caller is reused instead of fetched again.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import filelock
import platformdirs

from py3cx._exceptions import APIConnectionError, APITimeoutError, TokenError
from py3cx._http import AsyncHTTPClient, HTTPClient, Response, translate_errors
from py3cx._retry import DEFAULT_RETRY_POLICY, RetryPolicy
from py3cx.licence import API_LICENCE

__all__ = [
    "ClientCredentials",
    "Credentials",
    "PasswordCredentials",
    "Token",
    "TokenManager",
    "TokenStore",
    "default_cache_dir",
    "forget_tokens",
    "normalize_url",
    "refresh_margin",
    "token_expiry",
]

log = logging.getLogger("py3cx")

TOKEN_PATH = "/connect/token"
LOGIN_PATH = "/webclient/api/Login/GetAccessToken"

# expires_in below this is in minutes (PBX 20.0.4 to 20.0.8 answered 60), above it in seconds.
_MINUTES_THRESHOLD = 300
_DEFAULT_LIFETIME = 3600.0
# How long a caller waits for another caller's token request before giving up.
_WAIT_LIMIT = 120.0
_FILE_LOCK_TIMEOUT = 60.0
# A token request may always be repeated (a token we never received is nobody's to lose), but
# not after a 500: on a PBX that means the request itself is wrong (DESIGN.md decision 6).
_RETRY_STATUSES = frozenset({429, 502, 503, 504})

_TOKEN_HINT = (
    "check the client id and secret, that the API client is enabled (Admin > Integrations > API), "
    "and that the PBX has an Enterprise (8SC+) licence"
)
_LOGIN_HINT = "check the username and password; API client credentials do not work on this endpoint"


def jwt_expiry(access_token: str) -> float | None:
    """The `exp` claim of a JWT (seconds since the epoch), or None if the token is not a JWT.

    The signature is not checked: the PBX checks it; we only want to know when to refresh.
    Raises nothing. Example: `jwt_expiry("eyJhbGciOi...")`
    """
    parts = access_token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    if isinstance(exp, (int, float)) and not isinstance(exp, bool):
        return float(exp)
    return None


def token_expiry(access_token: str, expires_in: Any, now: float) -> float:
    """When a token expires (epoch seconds): the JWT `exp` claim if any, else `expires_in`.

    `expires_in` below 300 is read as minutes (20.0.4-20.0.8 sent `60`), else as seconds.
    Raises nothing. Example: `token_expiry("opaque", 60, time.time())` is one hour ahead.
    """
    exp = jwt_expiry(access_token)
    if exp is not None and exp > now:
        return exp
    try:
        value = float(expires_in)
    except (TypeError, ValueError):
        return now + _DEFAULT_LIFETIME
    if value <= 0:
        return now + _DEFAULT_LIFETIME
    return now + (value * 60.0 if value < _MINUTES_THRESHOLD else value)


def refresh_margin(lifetime: float) -> float:
    """How long before expiry a token is refreshed: 10% of its lifetime, at most 60 s.

    Example: `refresh_margin(3600) == 60.0`; `refresh_margin(2) == 0.2`
    """
    return max(0.0, min(lifetime * 0.1, 60.0))


@dataclass(frozen=True)
class Token:
    """An access token and its lifetime (epoch seconds). Its repr hides the token.

    `fingerprint` says which credentials fetched it (see `credentials_fingerprint`), so a token
    is only shared with callers that could have fetched it themselves.
    """

    access_token: str = field(repr=False)
    expires_at: float
    obtained_at: float
    fingerprint: str = field(default="", repr=False)

    def is_fresh(self, now: float) -> bool:
        """True until the refresh margin before expiry. Example: `token.is_fresh(time.time())`"""
        return now < self.expires_at - refresh_margin(self.expires_at - self.obtained_at)


def normalize_url(url: str) -> str:
    """The PBX URL in one spelling: lower-case scheme and host, no default port, no trailing slash.

    An API path pasted with it (`/xapi/v1`, `/callcontrol`, as copied from the admin console or
    from 3CX's examples) is dropped: py3cx adds the paths itself.
    Example: `normalize_url("HTTPS://PBX.example.com:443/xapi/v1/")` == `"https://pbx.example.com"`
    """
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/")
    for api in ("/xapi/v1", "/callcontrol", "/connect/token"):
        if path.lower().endswith(api):
            path = path[: -len(api)].rstrip("/")
            break
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    netloc = host if port is None or (scheme, port) in {("https", 443), ("http", 80)} else f"{host}:{port}"
    return f"{scheme}://{netloc}{path}"


def credentials_fingerprint(identity: str, secret: str) -> str:
    """A keyed hash of the credentials: equal for equal credentials, useless to recover the secret.

    Example: `credentials_fingerprint("reports", "s3cret")`
    """
    return hmac.new(secret.encode(), f"py3cx-token\n{identity}".encode(), hashlib.sha256).hexdigest()[:32]


def _scrub(text: str, secret: str) -> str:
    # a server could echo what it was sent: never let the secret through
    return text.replace(secret, "***") if secret else text


def _json_or_none(content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        return None


@dataclass(frozen=True)
class TokenRequest:
    """What to send to get a token. Its repr hides the body (it holds the secret)."""

    path: str
    data: dict[str, str] | None = field(default=None, repr=False)
    json: dict[str, str] | None = field(default=None, repr=False)


class Credentials(Protocol):
    """How a client proves who it is: client credentials or username/password."""

    @property
    def identity(self) -> str: ...

    @property
    def fingerprint(self) -> str: ...

    def token_request(self) -> TokenRequest: ...

    def parse_reply(self, status: int, content: bytes, now: float) -> Token: ...


@dataclass(frozen=True)
class ClientCredentials:
    """An API client (Admin > Integrations > API): id and secret. The repr hides the secret."""

    client_id: str
    client_secret: str = field(repr=False)

    @property
    def identity(self) -> str:
        return self.client_id

    @property
    def fingerprint(self) -> str:
        return credentials_fingerprint(self.identity, self.client_secret)

    def token_request(self) -> TokenRequest:
        return TokenRequest(
            TOKEN_PATH,
            data={
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "grant_type": "client_credentials",
            },
        )

    def parse_reply(self, status: int, content: bytes, now: float) -> Token:
        """Token from a /connect/token reply. Raises TokenError for a refusal or a garbled reply."""
        body = _json_or_none(content)
        if status == 200 and isinstance(body, dict) and isinstance(body.get("access_token"), str):
            access = body["access_token"]
            return Token(access, token_expiry(access, body.get("expires_in"), now), now, self.fingerprint)
        error = description = None
        if isinstance(body, dict):
            error = _scrub(str(body.get("error") or ""), self.client_secret) or None
            description = _scrub(str(body.get("error_description") or ""), self.client_secret) or None
        detail = ": ".join(part for part in (error, description) if part) or "no token in the reply"
        hint = _TOKEN_HINT
        if status == 404:
            hint = "no token endpoint there: the URL must be the PBX root, such as https://pbx.example.com"
        elif error == "unauthorized_client":
            # the client is known but may not have tokens: on V20 the usual reason is the licence
            hint = (
                f"the PBX knows this client but refuses it tokens; {API_LICENCE} (or the client is disabled)"
            )
        raise TokenError(
            f"{status} token request refused for client {self.client_id!r}: {detail}",
            status_code=status,
            error=error,
            error_description=description,
            path=TOKEN_PATH,
            hint=hint,
        )


@dataclass(frozen=True)
class PasswordCredentials:
    """A user's login (what the web client does). The repr hides the password."""

    username: str
    password: str = field(repr=False)

    @property
    def identity(self) -> str:
        return f"user:{self.username}"

    @property
    def fingerprint(self) -> str:
        return credentials_fingerprint(self.identity, self.password)

    def token_request(self) -> TokenRequest:
        return TokenRequest(
            LOGIN_PATH, json={"Username": self.username, "Password": self.password, "SecurityCode": ""}
        )

    def parse_reply(self, status: int, content: bytes, now: float) -> Token:
        """Token from a GetAccessToken reply. Raises TokenError unless Status is AuthSuccess."""
        body = _json_or_none(content)
        token = body.get("Token") if isinstance(body, dict) else None
        if status == 200 and isinstance(token, dict) and isinstance(token.get("access_token"), str):
            access = token["access_token"]
            return Token(access, token_expiry(access, token.get("expires_in"), now), now, self.fingerprint)
        state = body.get("Status") if isinstance(body, dict) else None
        error = _scrub(str(state), self.password) if state else None
        raise TokenError(
            f"{status} login refused for user {self.username!r}: {error or 'no token in the reply'}",
            status_code=status,
            error=error,
            path=LOGIN_PATH,
            hint=_LOGIN_HINT,
        )


class TokenStore(Protocol):
    """Where a token is shared beyond this process, with a lock that makes fetching single-flight.

    `TokenFile` shares it between the processes of one machine; py3cx connect keeps it in its
    database to share it between machines. `acquire` blocks up to `timeout` seconds and says
    whether the lock was taken; `read` and `write` are called only while it is held.
    """

    def acquire(self, timeout: float) -> bool: ...

    def release(self) -> None: ...

    def read(self) -> Token | None: ...

    def write(self, token: Token) -> None: ...


def default_cache_dir() -> Path:
    """Where token files live: `PY3CX_CACHE_DIR`, else the user cache dir (`~/.cache/py3cx`).

    Example: `default_cache_dir() / "tokens"`
    """
    override = os.environ.get("PY3CX_CACHE_DIR")
    return Path(override) if override else Path(platformdirs.user_cache_dir("py3cx"))


class TokenFile:
    """The cache file one (PBX, client id) shares between processes: JSON, mode 0600.

    Named by a hash of url and client id, so neither the secret nor the token shows in a name.
    """

    def __init__(self, directory: Path, url: str, identity: str) -> None:
        digest = hashlib.sha256(f"{url}\n{identity}".encode()).hexdigest()[:32]
        self.url = url
        self.identity = identity
        self.path = directory / f"token-{digest}.json"
        self.lock = filelock.FileLock(str(directory / f"token-{digest}.lock"), thread_local=False)

    def acquire(self, timeout: float) -> bool:
        """Take the file lock; False when another process held it for `timeout` seconds."""
        try:
            self.lock.acquire(timeout=timeout)
        except filelock.Timeout:
            return False
        return True

    def release(self) -> None:
        """Let go of the file lock."""
        self.lock.release()

    def read(self) -> Token | None:
        """The cached token, or None when the file is missing, unreadable or for someone else."""
        try:
            data = json.loads(self.path.read_bytes())
            if data.get("url") != self.url or data.get("identity") != self.identity:
                return None
            return Token(
                str(data["access_token"]),
                float(data["expires_at"]),
                float(data["obtained_at"]),
                str(data.get("fingerprint", "")),
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def write(self, token: Token) -> None:
        """Replace the file atomically (temp file created 0600, then renamed). Never raises."""
        payload = {
            "url": self.url,
            "identity": self.identity,
            "access_token": token.access_token,
            "expires_at": token.expires_at,
            "obtained_at": token.obtained_at,
            "fingerprint": token.fingerprint,
        }
        try:
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".token-", suffix=".tmp")  # 0600
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump(payload, handle)
                os.replace(tmp, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError as exc:
            log.debug("py3cx: cannot write the token cache file: %s", exc.strerror)


def _open_token_file(cache_dir: Path | None, url: str, identity: str) -> TokenFile | None:
    if cache_dir is None:
        return None
    try:
        cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        log.debug("py3cx: no token cache file (%s); tokens are shared in this process only", exc.strerror)
        return None
    return TokenFile(cache_dir, url, identity)


class _TokenSlot:
    """The process-wide state of one (PBX, client id): the token and who is fetching one."""

    def __init__(self) -> None:
        self.cond = threading.Condition(threading.Lock())
        self.token: Token | None = None
        # when the PBX refused a token with 401, the time it was obtained: a PBX keeps only the
        # newest token of a client, so a cached token obtained no later is dead too
        self.refused_obtained_at = 0.0
        self.fetching = False
        self.async_waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []


_slots: dict[tuple[str, str], _TokenSlot] = {}
_slots_lock = threading.Lock()


def _slot_for(key: tuple[str, str]) -> _TokenSlot:
    with _slots_lock:
        slot = _slots.get(key)
        if slot is None:
            slot = _slots[key] = _TokenSlot()
        return slot


def forget_tokens() -> None:
    """Drop every token this process holds in memory (the cache files stay).

    The next request of every client fetches or re-reads its token. Tests use it so that a
    server on a recycled port is never sent an earlier server's token.
    Example: `forget_tokens()`
    """
    with _slots_lock:
        slots = list(_slots.values())
    for slot in slots:
        with slot.cond:
            slot.token = None


def _reset_locks_after_fork() -> None:
    # a forked child must not inherit locks held by threads that do not exist in it
    global _slots_lock
    _slots_lock = threading.Lock()
    for slot in _slots.values():
        slot.cond = threading.Condition(threading.Lock())
        slot.fetching = False
        slot.async_waiters = []


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_locks_after_fork)


def _release_if_acquired(store: TokenStore) -> Callable[[asyncio.Future[bool]], None]:
    def release(done: asyncio.Future[bool]) -> None:
        if not done.cancelled() and done.exception() is None and done.result():
            store.release()

    return release


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


@dataclass(frozen=True)
class _Post:
    """Send the token request; the flow gets the response back."""

    request: TokenRequest


@dataclass(frozen=True)
class _Sleep:
    """Wait before the next attempt."""

    seconds: float


@dataclass(frozen=True)
class _Call:
    """A blocking call on the shared store (lock, file, database); `acquire` marks the lock."""

    function: Callable[..., Any]
    args: tuple[Any, ...] = ()
    acquire: bool = False


_Flow = Generator["_Post | _Sleep | _Call", Any, Token]


async def _acquire_async(action: _Call) -> bool:
    acquiring = asyncio.ensure_future(asyncio.to_thread(action.function, *action.args))
    try:
        return bool(await asyncio.shield(acquiring))
    except asyncio.CancelledError:
        # the thread may still get the lock: release it then, or no process could ever fetch
        store = getattr(action.function, "__self__", None)
        if store is not None:
            acquiring.add_done_callback(_release_if_acquired(store))
        raise


class TokenManager:
    """Gets the token for one client: shared, single-flight, cached on disk, refreshed early.

    Example: `TokenManager("https://pbx", ClientCredentials("id", "secret")).get_sync(http)`
    """

    def __init__(
        self,
        url: str,
        credentials: Credentials,
        *,
        cache_dir: Path | None = None,
        retry_policy: RetryPolicy | None = None,
        store: TokenStore | None = None,
    ) -> None:
        self.url = normalize_url(url)
        self.credentials = credentials
        self.retry_policy = retry_policy or DEFAULT_RETRY_POLICY
        self._fingerprint = credentials.fingerprint
        self._slot = _slot_for((self.url, credentials.identity))
        # a given store (connect's database) replaces the cache file
        self._cache_dir = None if store is not None else cache_dir
        self._token_store: TokenStore | None = store

    @property
    def _store(self) -> TokenStore | None:
        # the cache file is opened on first need, so that creating a client touches no disk
        if self._token_store is None and self._cache_dir is not None:
            self._token_store = _open_token_file(self._cache_dir, self.url, self.credentials.identity)
            if self._token_store is None:
                self._cache_dir = None  # not writable: do not try again
        return self._token_store

    def _usable(self, token: Token | None, failed: str | None) -> Token | None:
        slot = self._slot
        current = slot.token
        if failed is not None and current is not None and current.access_token == failed:
            slot.refused_obtained_at = max(slot.refused_obtained_at, current.obtained_at)
        if token is None or token.access_token == failed or not token.is_fresh(time.time()):
            return None
        if token.obtained_at <= slot.refused_obtained_at:
            return None  # older than a token the PBX refused: another program replaced both
        # a token fetched with other credentials (a wrong secret, say) is not ours to use
        if not hmac.compare_digest(token.fingerprint, self._fingerprint):
            return None
        return token

    def _finish(self, token: Token | None) -> None:
        with self._slot.cond:
            if token is not None:
                self._slot.token = token
            self._slot.fetching = False
            self._slot.cond.notify_all()
            waiters, self._slot.async_waiters = self._slot.async_waiters, []
        for loop, future in waiters:
            with contextlib.suppress(RuntimeError):  # that loop has closed meanwhile
                loop.call_soon_threadsafe(_wake, future)

    def _waited_too_long(self) -> APITimeoutError:
        return APITimeoutError(
            f"waited {_WAIT_LIMIT:.0f} s for another token request to {self.url} to finish",
            method="POST",
            path=self.credentials.token_request().path,
            hint="the PBX's token endpoint is not answering; check the URL and network",
        )

    # -- sync ----------------------------------------------------------------------------------

    def get_sync(self, http: HTTPClient, failed: str | None = None) -> str:
        """A valid access token; `failed` is a token the PBX just refused with 401.

        Raises TokenError, APIConnectionError. Example: `manager.get_sync(http)`
        """
        deadline = time.monotonic() + _WAIT_LIMIT
        slot = self._slot
        with slot.cond:
            while True:
                token = self._usable(slot.token, failed)
                if token is not None:
                    return token.access_token
                if not slot.fetching:
                    slot.fetching = True
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise self._waited_too_long()
                slot.cond.wait(remaining)
        fetched: Token | None = None
        try:
            fetched = self._fetch_sync(http, failed)
        finally:
            self._finish(fetched)
        return fetched.access_token

    # -- async ---------------------------------------------------------------------------------

    async def get_async(self, http: AsyncHTTPClient, failed: str | None = None) -> str:
        """A valid access token, without blocking the event loop while another caller fetches.

        Raises TokenError, APIConnectionError. Example: `await manager.get_async(http)`
        """
        deadline = time.monotonic() + _WAIT_LIMIT
        slot = self._slot
        while True:
            with slot.cond:
                token = self._usable(slot.token, failed)
                if token is not None:
                    return token.access_token
                if not slot.fetching:
                    slot.fetching = True
                    break
                loop = asyncio.get_running_loop()
                future: asyncio.Future[None] = loop.create_future()
                slot.async_waiters.append((loop, future))
            remaining = deadline - time.monotonic()
            try:
                await asyncio.wait_for(future, timeout=max(remaining, 0.0))
            except asyncio.TimeoutError:
                raise self._waited_too_long() from None
        fetched: Token | None = None
        try:
            fetched = await self._fetch_async(http, failed)
        finally:
            self._finish(fetched)
        return fetched.access_token

    # -- the fetch: one flow, driven by each face ------------------------------------------------

    def _fetch_flow(self, failed: str | None) -> _Flow:
        """Take the shared store's lock, reuse its token or request one and store it, let go.

        The flow says what to do (`_Post`, `_Sleep`, `_Call`) and the face does it: the sync face
        directly, the async one without blocking the loop. So both follow the same steps.
        """
        store = self._store
        if store is None:
            return (yield from self._request_flow())
        if not (yield _Call(store.acquire, (_FILE_LOCK_TIMEOUT,), acquire=True)):
            log.debug("py3cx: the shared token stayed locked; fetching without it")
            return (yield from self._request_flow())
        try:
            cached = self._usable((yield _Call(store.read)), failed)
            if cached is not None:
                log.debug("py3cx: token for %s taken from the shared store", self.credentials.identity)
                return cached
            token = yield from self._request_flow()
            yield _Call(store.write, (token,))
            return token
        finally:
            yield _Call(store.release)

    def _request_flow(self) -> _Flow:
        request = self.credentials.token_request()
        attempt = 0
        while True:
            started = time.monotonic()
            try:
                response: Response = yield _Post(request)
            except APIConnectionError:
                if not self.retry_policy.allows(attempt):
                    raise
                retry_after = None
            else:
                self._log(request.path, response, started)
                if response.status_code not in _RETRY_STATUSES or not self.retry_policy.allows(attempt):
                    return self.credentials.parse_reply(response.status_code, response.content, time.time())
                retry_after = response.headers.get("Retry-After")
            yield _Sleep(self.retry_policy.delay(attempt, retry_after))
            attempt += 1

    def _fetch_sync(self, http: HTTPClient, failed: str | None) -> Token:
        flow = self._fetch_flow(failed)
        result: Any = None
        error: BaseException | None = None
        while True:
            try:
                action = flow.throw(error) if error is not None else flow.send(result)
            except StopIteration as done:
                token: Token = done.value
                return token
            result, error = None, None
            try:
                if isinstance(action, _Post):
                    with translate_errors("POST", action.request.path):
                        result = http.post(
                            action.request.path, data=action.request.data, json=action.request.json
                        )
                elif isinstance(action, _Sleep):
                    time.sleep(action.seconds)
                else:
                    result = action.function(*action.args)
            except BaseException as exc:  # handed to the flow, whose `finally` may release the lock
                error = exc

    async def _fetch_async(self, http: AsyncHTTPClient, failed: str | None) -> Token:
        flow = self._fetch_flow(failed)
        result: Any = None
        error: BaseException | None = None
        while True:
            try:
                action = flow.throw(error) if error is not None else flow.send(result)
            except StopIteration as done:
                token: Token = done.value
                return token
            result, error = None, None
            try:
                if isinstance(action, _Post):
                    with translate_errors("POST", action.request.path):
                        result = await http.post(
                            action.request.path, data=action.request.data, json=action.request.json
                        )
                elif isinstance(action, _Sleep):
                    await asyncio.sleep(action.seconds)
                elif action.acquire:
                    result = await _acquire_async(action)
                else:
                    # the lock, the file and the database block: a worker thread, not the loop
                    result = await asyncio.to_thread(action.function, *action.args)
            except BaseException as exc:  # handed to the flow, whose `finally` may release the lock
                error = exc

    def _log(self, path: str, response: Response, started: float) -> None:
        elapsed = (time.monotonic() - started) * 1000
        log.debug("POST %s -> %d (%.0f ms)", path, response.status_code, elapsed)
