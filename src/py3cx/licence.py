"""A PBX's licence as the API sees it, and whether it includes API access.

XAPI and Call Control need an active 8SC+ Enterprise licence (BEHAVIOUR.md: field reports and 3CX's
own pages); Standard and Professional have none. The edition is read from ``LicenseStatus``'s
``ProductCode``: "3CXPSENT" is Enterprise; "PROF", "STD" and "FREE" in a code are read as
Professional, Standard and Free (a guess from the pattern: only Enterprise codes have been seen).

>>> lic = Licence.from_status({"ProductCode": "3CXPSPROF", "LicenseActive": True})
>>> lic.edition, lic.api_access()
('Professional', False)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from py3cx._durations import parse_datetime

__all__ = ["API_LICENCE", "Licence"]

API_LICENCE = "XAPI and Call Control need an active 8SC+ Enterprise licence"

_EDITIONS = (("ENT", "Enterprise"), ("PROF", "Professional"), ("STD", "Standard"), ("FREE", "Free"))


@dataclass(frozen=True)
class Licence:
    """Edition, product code, whether it is active, expiry and simultaneous calls of a PBX's licence."""

    edition: str
    product_code: str | None
    active: bool
    expires_at: datetime | None
    max_sim_calls: int | None

    @classmethod
    def from_status(cls, body: Mapping[str, Any]) -> Licence:
        """Read a ``LicenseStatus`` (or ``SystemStatus``) body; unknown fields are left None."""
        code = body.get("ProductCode")
        code = str(code) if code else None
        edition = next((name for mark, name in _EDITIONS if code and mark in code.upper()), "unknown")
        expires: datetime | None = None
        raw = body.get("ExpirationDate")
        if isinstance(raw, str) and raw:
            try:
                expires = parse_datetime(raw)
            except ValueError:
                expires = None
            # the spec's example is 0001-01-01: no expiry (a perpetual licence), not "expired"
            if expires is not None and expires.year < 1971:
                expires = None
        sim = body.get("MaxSimCalls")
        return cls(
            edition=edition,
            product_code=code,
            active=body.get("LicenseActive") is not False,
            expires_at=expires,
            max_sim_calls=sim if isinstance(sim, int) else None,
        )

    def expired(self, now: datetime | None = None) -> bool:
        """Inactive, or past its expiry date."""
        now = now or datetime.now(timezone.utc)
        return not self.active or (self.expires_at is not None and self.expires_at <= now)

    def api_access(self, now: datetime | None = None) -> bool | None:
        """True for an active Enterprise licence, False for another edition or an expired one,
        None when the edition cannot be told."""
        if self.expired(now):
            return False
        if self.edition == "unknown":
            return None
        return self.edition == "Enterprise"

    def describe(self) -> str:
        """One line for people: ``Enterprise (3CXPSENT), 16 simultaneous calls, expires 2027-06-30``."""
        parts = [f"{self.edition} ({self.product_code})" if self.product_code else self.edition]
        if self.max_sim_calls is not None:
            parts.append(f"{self.max_sim_calls} simultaneous calls")
        if self.expires_at is not None:
            verb = "expired" if self.expired() else "expires"
            parts.append(f"{verb} {self.expires_at.date().isoformat()}")
        elif not self.active:
            parts.append("not active")
        return ", ".join(parts)

    def refusal_hint(self) -> str | None:
        """The hint for a refused API request when this licence is the likely cause, else None."""
        if self.api_access() is not False:
            return None
        return f"this PBX's licence is {self.describe()}: {API_LICENCE}"
