"""Schema-valid values built from the spec's own component schemas (pure, no I/O).

The emulator answers every operation of the spec; where no handler models an operation, its
body is made here from the response schema, so that it validates against the spec and reads
like a PBX's: names where the schema says ``Name``, numbers where it says ``Number``, the data
anchor for date-times, ``PT1M`` for durations, the first member of an enum.

Rules: ``$ref`` and ``allOf`` are followed (inheritance merged), ``oneOf``/``anyOf`` take their
first variant, integers respect ``minimum``/``maximum``, strings ``maxLength``. Navigation
properties are left out (the PBX sends them only when ``$expand``-ed), null values are left
out (as the PBX does), and nesting stops after two levels. The same inputs always give the
same value.

Example::

    synth = Synthesizer(spec.schemas, anchor)
    synth.entity("Pbx.FirstAvailableNumber")      # {"Number": "100"}
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

__all__ = ["Synthesizer"]

_REF_PREFIX = "#/components/schemas/"
_MAX_DEPTH = 2
_NAMESPACE = uuid.UUID("6f1f7e0c-3c1d-4a59-9d7a-0b7b3cf1c3a1")  # for deterministic Edm.Guid values


class Synthesizer:
    """Builds values for JSON schemas of one spec. Example: ``Synthesizer(schemas, anchor).entity("Pbx.User")``."""

    def __init__(self, schemas: Mapping[str, Any], anchor: datetime) -> None:
        self.schemas = schemas
        self.anchor = anchor.astimezone(timezone.utc)

    # -- schema plumbing ------------------------------------------------------------------------
    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        """Follow ``$ref`` (and one-part ``allOf`` wrappers) to the schema that says what a value is."""
        seen = 0
        while seen < 32:
            seen += 1
            if "$ref" in schema:
                schema = self.schemas.get(str(schema["$ref"]).removeprefix(_REF_PREFIX), {})
            elif "allOf" in schema and len(schema["allOf"]) == 1 and "properties" not in schema:
                schema = schema["allOf"][0]
            else:
                break
        return schema

    def properties(self, schema: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
        """All properties of an object schema, inherited ones (``allOf``) included."""
        schema = self.resolve(schema)
        props: dict[str, Mapping[str, Any]] = {}
        for part in schema.get("allOf", []):
            props.update(self.properties(part))
        props.update(schema.get("properties", {}))
        return props

    def is_object(self, schema: Mapping[str, Any]) -> bool:
        """True when values of the schema are JSON objects."""
        schema = self.resolve(schema)
        return schema.get("type") == "object" or "properties" in schema or "allOf" in schema

    # -- values ---------------------------------------------------------------------------------
    def entity(self, type_name: str, index: int = 0) -> dict[str, Any]:
        """One object of the component schema ``type_name`` (``"Pbx.User"``), without navigation properties."""
        value = self.value({"$ref": _REF_PREFIX + type_name}, index=index)
        return value if isinstance(value, dict) else {}

    def value(self, schema: Mapping[str, Any], name: str = "", depth: int = 0, index: int = 0) -> Any:
        """A value valid against ``schema``; ``name`` is the property it is for, ``index`` varies it."""
        schema = self.resolve(schema)
        if "enum" in schema:
            members = [m for m in schema["enum"] if m is not None]
            return members[index % len(members)] if members else None
        variants = schema.get("oneOf") or schema.get("anyOf")
        if variants:
            return self.value(variants[0], name, depth, index)
        if self.is_object(schema) and schema.get("type") != "array":
            return self._object(schema, depth, index)
        kind = schema.get("type")
        if kind == "array":
            if depth >= _MAX_DEPTH:
                return []
            items = schema.get("items", {})
            return [self.value(items, name, depth + 1, index)]
        if kind == "integer":
            return self._integer(schema, name, index)
        if kind == "number":
            return float(index) + 0.5
        if kind == "boolean":
            return bool(schema.get("default", False))
        if kind == "string":
            return self._string(schema, name, index)
        return {}  # an untyped value (Edm.Untyped): an empty object is valid

    def _object(self, schema: Mapping[str, Any], depth: int, index: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for prop, sub in self.properties(schema).items():
            if prop.startswith("@") or sub.get("x-ms-navigationProperty"):
                continue
            target = self.resolve(sub)
            nested = target.get("type") == "array" or (self.is_object(target) and "enum" not in target)
            if nested and depth + 1 >= _MAX_DEPTH:
                continue  # deep complex values are optional; leaving them out keeps bodies small
            value = self.value(sub, prop, depth + 1, index)
            if value is not None:
                out[prop] = value
        return out

    @staticmethod
    def _integer(schema: Mapping[str, Any], name: str, index: int) -> int:
        value = index + 1 if name.endswith(("Id", "ID", "Count", "Number")) or name == "Id" else index
        low = schema.get("minimum")
        high = schema.get("maximum")
        if low is not None:
            value = max(value, int(low))
        if high is not None:
            value = min(value, int(high))
        return value

    def _string(self, schema: Mapping[str, Any], name: str, index: int) -> str:
        fmt = schema.get("format")
        moment = self.anchor - timedelta(days=index)
        if fmt == "date-time":
            return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
        if fmt == "date":
            return moment.date().isoformat()
        if fmt == "time":
            return "09:00:00"
        if fmt == "duration":
            return f"PT{index + 1}M"
        if fmt == "uuid":
            return str(uuid.uuid5(_NAMESPACE, f"{name}:{index}"))
        text = _text_for(name, index)
        limit = schema.get("maxLength")
        return text[: int(limit)] if limit is not None else text


# plausible values by what a property's name says it holds; the first rule that matches wins.
# Never "<Property> <n>" filler: a client shows these to people (docs/emulator.md, Fidelity).
_NAMES = ("Head office", "Support line", "Sales team", "Night service", "Reception", "Warehouse")
_TEXT = (
    "Set up by the administrator.",
    "Default settings of the PBX.",
    "Changed after the last update.",
    "Used by the reception desk.",
)
_CHOICES = ("Default", "Standard", "Custom")
_RULES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("password", "secret", "apikey", "token"), ("****",)),  # the PBX never shows stored secrets back
    (("mailserver", "smtp"), ("smtp.example.com",)),
    (("email", "mailaddress", "mailuser"), ("admin@example.com", "support@example.com", "it@example.com")),
    (("url", "link", "uri", "endpoint", "image", "logo"), ("https://pbx.example.com/",)),
    (("macaddress", "mac"), ("00:15:65:3a:7c:01", "00:15:65:3a:7c:02", "0c:38:3e:11:22:33")),
    (("ipaddress", "ipwhitelist", "socketip", "addressstr"), ("192.0.2.10", "192.0.2.11", "198.51.100.7")),
    (("iface", "interface"), ("eth0", "eth1", "ens18")),
    (("fqdn", "host", "domain", "server", "registrar", "proxy"), ("pbx.example.com", "sip.provider.example")),
    (("timezone",), ("Europe/London", "Europe/Berlin", "America/New_York")),
    (("culture", "language", "lang"), ("EN", "DE", "FR")),
    (("version", "firmware"), ("20.0.10.817",)),
    (("useragent",), ("Yealink SIP-T54W 96.86.0.70", "Fanvil X6U 2.12.16", "3CX Phone for Windows 20.0.1")),
    (("model",), ("Yealink T54W", "Fanvil X6U", "Snom D785")),
    (("countrycodes", "countrycode", "areacode", "internationalcode"), ("44", "49", "1")),
    (("countryname", "country", "cityname", "location"), ("United Kingdom", "Germany", "United States")),
    (("region",), ("eu-west-1", "eu-central-1", "us-east-1")),
    (("bucket",), ("pbx-backups",)),
    (("database",), ("crm",)),
    (("user", "login", "authid"), ("admin", "pbx-backup", "ftp-user")),
    (("path", "folder", "directory"), ("/var/lib/3cxpbx/Instance1/Data/",)),
    (("file", "filename"), ("greeting.wav", "hold-music.wav", "ivr-menu.wav")),
    (("script",), ("/var/lib/3cxpbx/Instance1/Data/Scripts/failover.sh",)),
    (("dialcode",), ("*30", "*31", "*32")),
    (("prefix", "digits", "musiconhold", "forwarddn", "operatorextension"), ("9", "10", "0")),
    (("codec",), ("G.711 A-law", "G.722", "Opus")),
    (("guid", "meetingid", "mcuid", "vectorstore", "firstid", "lastid", "tenantid", "applicationid"), ("",)),
    (("category",), ("Phone firmware", "Prompt sets", "CRM templates")),
    (("description", "message", "html", "contents", "content", "example", "reason", "details"), _TEXT),
    (("name", "profile", "zone", "provider", "status", "gender", "anchor"), _NAMES),
)


def _text_for(name: str, index: int) -> str:
    """A plausible string for a property (or a function's result), from its name."""
    lowered = name.lower()
    if lowered.endswith("number") or lowered in ("dn", "extension", "number"):
        return str(100 + index)
    opaque = ("generate", "apitoken", "getmicrosoftaccesstoken", "getphonesecret")
    if lowered.startswith(opaque) and "link" not in lowered:
        # a value made for the caller to copy (an API token, a key, a secret): opaque, URL-safe
        digest = hashlib.sha256(f"{name}:{index}".encode()).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")
    for needles, values in _RULES:
        if any(n in lowered for n in needles):
            if values == ("",):  # an identifier: deterministic, unique, the shape the PBX uses
                return str(uuid.uuid5(_NAMESPACE, f"{name}:{index}"))
            if values == ("https://pbx.example.com/",):
                return f"https://pbx.example.com/{lowered.removeprefix('get')}/{index + 1}"
            return values[index % len(values)]
    if lowered.endswith("id"):
        return str(uuid.uuid5(_NAMESPACE, f"{name}:{index}"))
    return _CHOICES[index % len(_CHOICES)]
