"""Signed, expiring recording URLs: what call events carry so a CRM fetches a recording without
PBX credentials, and what ``3cx connect run`` checks before it streams the file from the PBX.

A link is ``{base}/recordings/{pbx}/{recording id}?expires={unix time}&sig={signature}``; the
signature is HMAC-SHA256 over the PBX's name, the recording id and the expiry, with a key derived
from the connect key (``Vault.derived_keys``): every process of one database and key makes and
accepts the same links, across restarts, and nothing new is stored. A link signed with another key
or changed on the way is refused (403), one past its expiry is gone (410), before the PBX is asked.

Where links are made (``emit_call_events``): the process's settings (``use_links``, set by
``3cx connect run`` from ``--public-url``), else ``PY3CX_CONNECT_PUBLIC_URL`` with the connect key
of this machine (``sync`` from cron, ``worker``); without either, a recording's ``url`` is null.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, urlencode

from py3cx._exceptions import ConfigError
from py3cx.connect.vault import Vault, load_vault

__all__ = [
    "DEFAULT_TTL",
    "LinkRefused",
    "RecordingLinks",
    "check_link",
    "current_links",
    "public_url_from_env",
    "recording_entries",
    "recording_links",
    "ttl_from_env",
    "use_links",
]

log = logging.getLogger("py3cx.connect")

DEFAULT_TTL = timedelta(days=7)
ENV_PUBLIC_URL = "PY3CX_CONNECT_PUBLIC_URL"
ENV_TTL_DAYS = "PY3CX_CONNECT_RECORDING_DAYS"
PURPOSE = "recording-urls v1"
_RECORDING_ID = re.compile(r"^[0-9]{1,10}$")  # XAPI's recId is an Edm.Int32


def _signature(key: bytes, pbx_name: str, recording_id: str, expires: int) -> str:
    # NUL separates the parts: PBX names and ids cannot hold one, so no two triples sign alike
    message = f"recording\0{pbx_name}\0{recording_id}\0{expires}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def recording_links(
    pbx_name: str, recording_ids: Sequence[str], *, base_url: str, key: bytes, expires: datetime
) -> list[dict[str, Any]]:
    """One ``{"id", "url", "expires_at"}`` per recording, the URL signed with ``key`` until ``expires``.

    Pure. An id that is no recording id of the PBX (not an integer) gets ``url`` null.
    Example: ``recording_links("office", ["5531"], base_url="https://connect.example.com",
    key=vault.derived_keys(PURPOSE)[0], expires=now + DEFAULT_TTL)``
    """
    until = int(expires.timestamp())
    base = base_url.rstrip("/")
    links = []
    for recording_id in recording_ids:
        if not _RECORDING_ID.match(recording_id):
            links.append({"id": recording_id, "url": None, "expires_at": None})
            continue
        query = urlencode({"expires": until, "sig": _signature(key, pbx_name, recording_id, until)})
        url = f"{base}/recordings/{quote(pbx_name, safe='')}/{recording_id}?{query}"
        at = _iso(datetime.fromtimestamp(until, timezone.utc))
        links.append({"id": recording_id, "url": url, "expires_at": at})
    return links


class LinkRefused(Exception):
    """A recording link that is not honoured: ``status`` (403 or 410) and a short ``reason``."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def check_link(
    pbx_name: str,
    recording_id: str,
    expires: str | None,
    sig: str | None,
    keys: Sequence[bytes],
    now: datetime,
) -> None:
    """Accept a link's parts or raise LinkRefused: 403 when the signature is missing, changed or made
    with another key (any of ``keys`` may have signed it), 410 when it has expired. Pure.

    Example: ``check_link("office", "5531", "1767225600", "AbC...", vault.derived_keys(PURPOSE), now)``
    """
    if not expires or not sig or not expires.isdigit() or not _RECORDING_ID.match(recording_id):
        raise LinkRefused(403, "this recording link is incomplete or malformed")
    until = int(expires)
    if not any(hmac.compare_digest(_signature(k, pbx_name, recording_id, until), sig) for k in keys):
        raise LinkRefused(403, "this recording link's signature is not valid")
    if now.timestamp() >= until:
        raise LinkRefused(410, "this recording link has expired; the call's newer events carry fresh ones")


@dataclass(frozen=True)
class RecordingLinks:
    """How one process makes recording links: the public base URL, the signing key, their lifetime.
    The repr hides the key. Example: ``RecordingLinks.for_vault(vault, "https://connect.example.com")``
    """

    base_url: str
    key: bytes = field(repr=False)
    ttl: timedelta = DEFAULT_TTL

    @classmethod
    def for_vault(cls, vault: Vault, base_url: str, ttl: timedelta | None = None) -> RecordingLinks:
        """Links signed with ``vault``'s current key. Raises ConfigError for a base URL that is not http(s)."""
        if not re.match(r"^https?://[^/\s]+", base_url):
            raise ConfigError(
                f"the public URL {base_url!r} is not an http(s) URL",
                hint="such as https://connect.example.com (what CRMs reach `3cx connect run` at)",
            )
        return cls(base_url.rstrip("/"), vault.derived_keys(PURPOSE)[0], ttl or ttl_from_env())

    def links(self, pbx_name: str, recording_ids: Sequence[str], now: datetime) -> list[dict[str, Any]]:
        """``recording_links`` valid for ``ttl`` from ``now``."""
        return recording_links(
            pbx_name, recording_ids, base_url=self.base_url, key=self.key, expires=now + self.ttl
        )


def ttl_from_env() -> timedelta:
    """``PY3CX_CONNECT_RECORDING_DAYS`` (days, may be fractional) or 7 days. Raises ConfigError."""
    text = os.environ.get(ENV_TTL_DAYS)
    if not text:
        return DEFAULT_TTL
    try:
        days = float(text)
    except ValueError:
        days = 0.0
    if not 0 < days <= 3650:
        raise ConfigError(f"{ENV_TTL_DAYS}={text!r} is not a number of days", hint="such as 7 or 0.5")
    return timedelta(days=days)


def public_url_from_env() -> str | None:
    """``PY3CX_CONNECT_PUBLIC_URL``, or None."""
    return os.environ.get(ENV_PUBLIC_URL) or None


_configured: list[RecordingLinks | None] = []


@contextmanager
def use_links(links: RecordingLinks | None) -> Iterator[None]:
    """Make this process's call events carry ``links`` (None: url null) while the block runs.

    Example: ``with use_links(RecordingLinks.for_vault(vault, url)): await run(...)``
    """
    _configured.append(links)
    try:
        yield
    finally:
        _configured.pop()


def current_links() -> RecordingLinks | None:
    """The links of this process: ``use_links``'s, else from ``PY3CX_CONNECT_PUBLIC_URL`` and this
    machine's connect key, else None (a bad setting is logged once per event batch, and gives None)."""
    if _configured:
        return _configured[-1]
    base_url = public_url_from_env()
    if base_url is None:
        return None
    try:
        return RecordingLinks.for_vault(load_vault(create=False), base_url)
    except ConfigError as exc:
        log.warning("py3cx connect: recording links are off: %s", exc)
        return None


def recording_entries(
    pbx_name: str, recording_ids: Sequence[str], links: RecordingLinks | None, now: datetime | None
) -> list[dict[str, Any]]:
    """What a call event's ``recordings`` holds: signed links, or ``url`` null without settings."""
    if links is None:
        return [{"id": r, "url": None, "expires_at": None} for r in recording_ids]
    return links.links(pbx_name, recording_ids, now or datetime.now(timezone.utc))
