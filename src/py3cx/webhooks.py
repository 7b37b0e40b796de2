"""Standard Webhooks signatures (https://www.standardwebhooks.com): what py3cx connect sends, and
`verify` for the receiving side (a CRM bridge, a FastAPI app), with the standard library only.

The signed content is ``{webhook-id}.{webhook-timestamp}.{body}``, HMAC-SHA256 with the secret's
bytes (``whsec_`` + base64), sent as ``webhook-signature: v1,<base64>`` (several, space-separated,
while a rotated secret overlaps). The tests check both directions against the ``standardwebhooks``
package. See docs/webhooks.md.

>>> secret = generate_secret()
>>> headers = sign_headers(secret, "evt_1", b'{"type":"call.ended"}', timestamp=1767225600)
>>> verify(b'{"type":"call.ended"}', headers, secret, now=1767225600)["type"]
'call.ended'
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterable, Mapping
from typing import Any

from py3cx._exceptions import Py3cxError

__all__ = [
    "TOLERANCE_SECONDS",
    "WebhookVerificationError",
    "generate_secret",
    "sign",
    "sign_headers",
    "verify",
]

TOLERANCE_SECONDS = 5 * 60  # a message older or newer than this is refused (replayed or forged)
_PREFIX = "whsec_"


class WebhookVerificationError(Py3cxError):
    """The message is not signed by the secret, lacks a header, or is too old or too new.

    The message never holds the secret or the signatures.
    """


def generate_secret() -> str:
    """A new ``whsec_`` secret: 32 random bytes, base64."""
    return _PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    text = secret[len(_PREFIX) :] if secret.startswith(_PREFIX) else secret
    try:
        key = base64.b64decode(text + "==", validate=False)
    except (binascii.Error, ValueError):
        raise WebhookVerificationError("the webhook secret is not base64 (expected whsec_...)") from None
    if not key:
        raise WebhookVerificationError("the webhook secret is empty")
    return key


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``v1,<base64>`` signature of one message."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(_key(secret), content, hashlib.sha256).digest()).decode()


def sign_headers(
    secrets_: str | Iterable[str], msg_id: str, body: bytes, *, timestamp: int | None = None
) -> dict[str, str]:
    """The three Standard Webhooks headers for ``body``, signed by each secret given (rotation)."""
    stamp = int(time.time()) if timestamp is None else int(timestamp)
    keys = [secrets_] if isinstance(secrets_, str) else list(secrets_)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": " ".join(sign(key, msg_id, stamp, body) for key in keys),
    }


def verify(
    body: bytes | str,
    headers: Mapping[str, str],
    secret: str,
    *,
    tolerance: int = TOLERANCE_SECONDS,
    now: float | None = None,
) -> Any:
    """Check a received webhook and return its parsed JSON body.

    ``body`` must be the raw bytes as received (not re-serialised JSON); ``headers`` any mapping
    (names are matched without regard to case).
    Raises WebhookVerificationError. Example: ``event = verify(await request.body(), request.headers, SECRET)``.
    """
    raw = body.encode() if isinstance(body, str) else bytes(body)
    lower = {k.lower(): v for k, v in headers.items()}
    msg_id, stamp, signatures = (
        lower.get(h) for h in ("webhook-id", "webhook-timestamp", "webhook-signature")
    )
    if not (msg_id and stamp and signatures):
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature header")
    try:
        sent = int(stamp)
    except ValueError:
        raise WebhookVerificationError("webhook-timestamp is not a number of seconds") from None
    current = time.time() if now is None else now
    if abs(current - sent) > tolerance:
        raise WebhookVerificationError(
            f"the message timestamp is {int(current - sent)} s from now (more than {tolerance} s)"
        )
    expected = sign(secret, msg_id, sent, raw).encode()
    if not any(hmac.compare_digest(expected, given.encode()) for given in signatures.split(" ") if given):
        raise WebhookVerificationError("no signature matches the secret")
    try:
        return json.loads(raw)
    except ValueError:
        raise WebhookVerificationError("the body is not JSON") from None
