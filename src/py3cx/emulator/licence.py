"""The PBX's licence and how a PBX without API rights refuses API clients (a guess, configurable).

Known (BEHAVIOUR.md, field): XAPI and Call Control need an 8SC+ Enterprise licence; Standard and
Professional have no API access. Not known: what such a PBX answers. Two forms are offered:

- ``forbidden`` (the default guess): tokens are issued as usual, then every XAPI and Call Control
  request of an API client answers 403 with an OData error naming the licence, except
  ``LicenseStatus`` and ``SystemStatus`` (a client can still see why);
- ``token``: the token endpoint itself refuses, ``400 unauthorized_client`` (RFC 6749's word for a
  known client that may not use the grant).

Web users (the admin console) are not affected: the console works on every edition.
Example: ``EmulatorConfig(licence="PRO", licence_refusal="token")``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from .config import EmulatorConfig
from .errors import XapiError

__all__ = [
    "LICENCE_READABLE",
    "Licence",
    "LicenceRefusal",
    "api_allowed",
    "apply_licence",
    "licence_refusal_message",
    "refuse",
]

Licence = Literal["ENT", "PRO", "expired"]
LicenceRefusal = Literal["forbidden", "token"]

# Product codes of V20 editions: "3CXPSENT" is what the emulator always served; the others follow
# its pattern (a guess: no Professional PBX's LicenseStatus has been seen).
_PRODUCT = {"ENT": "3CXPSENT", "PRO": "3CXPSPROF", "expired": "3CXPSENT"}
_MODULES = {"ENT": ["Enterprise", "CallCenter", "AI"], "PRO": ["Professional"], "expired": ["Enterprise"]}

# what an API client may still read on a PBX whose licence has no API access (``forbidden`` form)
LICENCE_READABLE = frozenset({"LicenseStatus", "SystemStatus"})


def api_allowed(config: EmulatorConfig) -> bool:
    """Whether the configured licence includes API access."""
    return config.licence == "ENT"


def licence_refusal_message(config: EmulatorConfig) -> str:
    """The refusal's text (a guess at the wording; clients must not depend on it)."""
    why = "has expired" if config.licence == "expired" else "is Professional"
    return f"API access requires an 8SC+ Enterprise license; this PBX's license {why}."


def refuse(config: EmulatorConfig, kind: str, first_segment: str | None) -> None:
    """Raise XapiError(403) for an API client's request the licence does not allow.

    ``first_segment`` is the XAPI entity set or singleton (None for Call Control).
    Example: ``refuse(config, identity.kind, "Users")``.
    """
    if api_allowed(config) or kind != "client" or config.licence_refusal != "forbidden":
        return
    if first_segment in LICENCE_READABLE:
        return
    raise XapiError(403, licence_refusal_message(config))


def apply_licence(config: EmulatorConfig, bodies: dict[str, dict[str, Any]]) -> None:
    """Make the seeded ``LicenseStatus``, ``SystemStatus`` and system parameters show the licence."""
    edition = config.licence
    anchor = config.anchor
    # five years ahead of the data's "now": tests pin "now" in the past, and clients compare the
    # expiry with the real clock; an expired licence is also inactive, whatever the clock says
    expiry = anchor - timedelta(days=12) if edition == "expired" else anchor + timedelta(days=5 * 365)
    active = edition != "expired"
    stamp = expiry.strftime("%Y-%m-%dT%H:%M:%SZ")
    licence = bodies["LicenseStatus"]
    licence.update(
        ProductCode=_PRODUCT[edition],
        LicenseActive=active,
        ExpirationDate=stamp,
        ActiveModules=list(_MODULES[edition]),
    )
    if edition == "expired":
        licence["MaintenanceExpiresAt"] = stamp
    if edition == "PRO":
        licence["MaxSimCalls"] = 8
    bodies["SystemStatus"].update(
        ProductCode=licence["ProductCode"], LicenseActive=active, MaxSimCalls=licence["MaxSimCalls"]
    )
    params = bodies["_SystemParameters"]["License"]
    params.update(
        IsEnterprise=edition != "PRO", ProductCode=licence["ProductCode"], MaxSimCalls=licence["MaxSimCalls"]
    )
