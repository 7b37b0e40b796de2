"""Tokens and roles, as strict as a PBX (BEHAVIOUR.md §1).

- ``POST /connect/token`` (client credentials) and ``POST /webclient/api/Login/GetAccessToken``
  (username/password) issue HS256 JWTs signed with a key made fresh for each run.
- One active token per principal: issuing a new one makes the previous one answer 401.
- Expired, invalidated, forged or missing tokens answer 401 with an empty body and a
  ``WWW-Authenticate: Bearer`` header (what ASP.NET's JWT handler sends).
- System Admin clients get 403 on call history, chat history, recordings and scheduled
  reports; every ``My*`` path answers 403 to API clients.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from .config import EmulatorConfig
from .errors import XapiError

#: entity sets (first path segment) that a System Admin client may not read
OWNER_ONLY_SETS = frozenset(
    {"CallHistoryView", "ChatHistoryView", "ChatMessagesHistoryView", "Recordings", "ScheduledReports"}
)


@dataclass(frozen=True)
class Identity:
    """Who a request comes from: ``kind`` is ``"client"`` (API client) or ``"user"`` (web login)."""

    principal: str
    kind: str
    role: str


@dataclass(frozen=True)
class IssuedToken:
    """A freshly issued token: the JWT, its lifetime in seconds and (web logins) a refresh token."""

    access_token: str = ""
    lifetime: float = 0.0
    refresh_token: str | None = None

    def __repr__(self) -> str:  # tokens are secrets
        return f"IssuedToken(lifetime={self.lifetime!r})"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _unauthorized(reason: str) -> XapiError:
    challenge = f'Bearer error="invalid_token", error_description="{reason}"'
    return XapiError(401, headers={"WWW-Authenticate": challenge}, body={})


class TokenService:
    """Issues and checks tokens. Thread-safe: the uvicorn thread and test threads share it.

    Example: ``TokenService(cfg).issue_for_client("owner", "secret")``.
    """

    def __init__(self, config: EmulatorConfig, clock: Callable[[], float] = time.time) -> None:
        self._config = config
        self._clock = clock
        self._key = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._active: dict[str, str] = {}  # principal -> jti of its only valid token
        self._refresh: dict[str, str] = {}  # refresh token -> username
        self.token_requests: dict[str, int] = {}
        self.tokens_issued: dict[str, int] = {}

    # -- issuing --------------------------------------------------------------------------------
    def expires_in(self) -> int:
        """``expires_in`` as this PBX reports it (seconds, or minutes rounded up for old builds)."""
        ttl = self._config.token_ttl
        return math.ceil(ttl / 60.0) if self._config.expires_in_unit == "minutes" else math.ceil(ttl)

    def _issue(self, principal: str, kind: str, role: str) -> IssuedToken:
        now = self._clock()
        jti = secrets.token_hex(12)
        claims = {
            "sub": principal,
            "kind": kind,
            "role": role,
            "iat": int(now),
            "nbf": int(now),
            "exp": now + self._config.token_ttl,
            "jti": jti,
        }
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signature = _b64(hmac.new(self._key, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        with self._lock:
            self._active[principal] = jti
            self.tokens_issued[principal] = self.tokens_issued.get(principal, 0) + 1
        return IssuedToken(f"{header}.{payload}.{signature}", self._config.token_ttl)

    def count_request(self, client_id: str) -> None:
        """Count one token request for ``client_id`` (shown by ``GET /_emulator/stats``)."""
        with self._lock:
            self.token_requests[client_id] = self.token_requests.get(client_id, 0) + 1

    def issue_for_client(self, client_id: str, secret: str) -> IssuedToken | None:
        """A token for an API client, or None when the id or secret is wrong (constant-time compare)."""
        for client in self._config.clients:
            if client.client_id == client_id and hmac.compare_digest(client.secret.encode(), secret.encode()):
                return self._issue(f"client:{client_id}", "client", client.role)
        return None

    def issue_for_user(self, username: str, password: str) -> IssuedToken | None:
        """A token plus refresh token for a web user, or None when the login is wrong."""
        for user in self._config.users:
            if user.username == username and hmac.compare_digest(user.password.encode(), password.encode()):
                return self._with_refresh(self._issue(f"user:{username}", "user", user.role), username)
        return None

    def refresh_user(self, refresh_token: str) -> IssuedToken | None:
        """Trade a web user's refresh token for a new pair (the old refresh token stops working)."""
        with self._lock:
            username = self._refresh.pop(refresh_token, None)
        if username is None:
            return None
        for user in self._config.users:
            if user.username == username:
                return self._with_refresh(self._issue(f"user:{username}", "user", user.role), username)
        return None

    def _with_refresh(self, token: IssuedToken, username: str) -> IssuedToken:
        refresh = secrets.token_urlsafe(32)
        with self._lock:
            self._refresh[refresh] = username
        return IssuedToken(token.access_token, token.lifetime, refresh)

    def revoke(self, principal: str) -> None:
        """Invalidate the active token of ``principal`` (``"client:owner"``), as an admin would."""
        with self._lock:
            self._active.pop(principal, None)

    def reset_counters(self) -> None:
        with self._lock:
            self.token_requests.clear()
            self.tokens_issued.clear()

    # -- checking -------------------------------------------------------------------------------
    def verify(self, token: str) -> Identity:
        """Check a bearer token. Raises XapiError(401) when forged, expired or superseded."""
        parts = token.split(".")
        if len(parts) != 3:
            raise _unauthorized("The token is malformed")
        header, payload, signature = parts
        expected = _b64(hmac.new(self._key, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(expected, signature):
            raise _unauthorized("The signature is invalid")
        try:
            claims: dict[str, Any] = json.loads(_unb64(payload))
        except ValueError:
            raise _unauthorized("The token is malformed") from None
        if float(claims.get("exp", 0)) <= self._clock():
            raise _unauthorized("The token expired")
        principal = str(claims.get("sub", ""))
        with self._lock:
            active = self._active.get(principal)
        if active != claims.get("jti"):
            raise _unauthorized("The token was replaced by a newer one")
        return Identity(principal, str(claims.get("kind", "")), str(claims.get("role", "")))

    def authenticate(self, request: Request) -> Identity:
        """The identity behind a request's ``Authorization: Bearer`` header. Raises XapiError(401)."""
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise XapiError(401, headers={"WWW-Authenticate": "Bearer"}, body={})
        return self.verify(token.strip())


def authorize(identity: Identity, first_segment: str) -> None:
    """Apply the role rules to the first path segment (``"CallHistoryView"``, ``"MyUser"``...).

    Raises XapiError(403) with an OData body. Example: ``authorize(identity, "Users")``.
    """
    if first_segment.startswith("My") and identity.kind == "client":
        raise XapiError(403, f"{first_segment} is not available to API clients.")
    if first_segment in OWNER_ONLY_SETS and identity.role != "SystemOwner":
        raise XapiError(403, f"Access to {first_segment} requires the System Owner role.")
