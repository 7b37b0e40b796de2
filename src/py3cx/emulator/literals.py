"""OData resource paths and literals as the emulator reads them (pure, no I/O).

The emulator parses these itself, independently of the client's encoder in ``py3cx.odata``,
so that an encoding bug on one side cannot hide behind the same bug on the other.

``split_path("Users(Number='1''0')/Groups")`` gives two :class:`Segment` s; each argument is
kept as its literal text until :func:`parse_literal` types it with the kind the spec gives
(``int``, ``bool``, ``datetime``, ``uuid``, ``str``...).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from py3cx._durations import parse_duration as parse_iso_duration


class PathSyntaxError(ValueError):
    """The path is not a well-formed OData resource path (unbalanced quotes or parentheses)."""


class LiteralError(ValueError):
    """A literal does not match the type it must have (the PBX answers 500 for these)."""


@dataclass
class Segment:
    """One path segment: ``Users``, ``Users(42)``, ``Pbx.GetX(a=1,b='x')``.

    ``args`` is None without parentheses; a list of ``(name or None, literal text)`` otherwise.
    """

    name: str
    args: list[tuple[str | None, str]] | None = field(default=None)

    @property
    def positional(self) -> bool:
        """True for ``Users(42)`` (a single unnamed key)."""
        return self.args is not None and len(self.args) == 1 and self.args[0][0] is None


def split_top(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside single-quoted strings and parentheses. Raises PathSyntaxError.

    Example: ``split_top("a='x,y',b=1", ",") == ["a='x,y'", "b=1"]``.
    """
    parts: list[str] = []
    depth = 0
    in_quote = False
    start = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if in_quote:
            if ch == "'":
                if i + 1 < len(text) and text[i + 1] == "'":
                    i += 1  # doubled quote inside a string
                else:
                    in_quote = False
        elif ch == "'":
            in_quote = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise PathSyntaxError("unbalanced ')'")
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    if in_quote:
        raise PathSyntaxError("unterminated string literal")
    if depth != 0:
        raise PathSyntaxError("unbalanced '('")
    parts.append(text[start:])
    return parts


def split_path(path: str) -> list[Segment]:
    """Split an already percent-decoded resource path (after ``/xapi/v1``) into segments.

    Raises PathSyntaxError. Example: ``split_path("Users(Number='100')")[0].args == [("Number", "'100'")]``.
    """
    segments: list[Segment] = []
    for raw in split_top(path.strip("/"), "/"):
        if raw == "":
            raise PathSyntaxError("empty path segment")
        open_at = raw.find("(")
        if open_at < 0:
            segments.append(Segment(raw))
            continue
        if not raw.endswith(")"):
            raise PathSyntaxError(f"segment {raw[:40]!r} does not end with ')'")
        name = raw[:open_at]
        inner = raw[open_at + 1 : -1]
        args: list[tuple[str | None, str]] = []
        if inner.strip():
            for part in split_top(inner, ","):
                eq = split_top(part, "=")
                if len(eq) == 1:
                    args.append((None, part.strip()))
                else:
                    args.append((eq[0].strip(), "=".join(eq[1:]).strip()))
        segments.append(Segment(name, args))
    return segments


_INT = re.compile(r"^[+-]?\d+$")
_DATETIME = re.compile(
    r"^(\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,12}))?)?(Z|[+-]\d{2}:\d{2})$"
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def parse_string_literal(text: str) -> str:
    """``'O''Brien'`` → ``O'Brien``. Raises LiteralError when the text is not a quoted string."""
    if len(text) < 2 or text[0] != "'" or text[-1] != "'":
        raise LiteralError(f"expected a quoted string literal, got {text[:60]!r}")
    body = text[1:-1]
    if "'" in body.replace("''", ""):
        raise LiteralError("a single quote inside a string literal must be doubled")
    return body.replace("''", "'")


def parse_datetime_literal(text: str) -> datetime:
    """``2025-03-13T23:00:00.000Z`` → aware UTC datetime. Raises LiteralError."""
    match = _DATETIME.match(text)
    if not match:
        raise LiteralError(f"{text[:60]!r} is not a valid Edm.DateTimeOffset")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        tz = timezone.utc
        if zone != "Z":
            sign = 1 if zone[0] == "+" else -1
            tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
        value = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro, tz)
        return value.astimezone(timezone.utc)
    except (ValueError, OverflowError) as exc:  # Feb 30, or year 1 pushed before year 1 by its offset
        raise LiteralError(f"{text[:60]!r} is not a valid Edm.DateTimeOffset: {exc}") from None


def parse_duration(text: str) -> timedelta:
    """``PT1M2S`` / ``-P1DT2H`` → timedelta, read as the client reads it (``py3cx._durations``).

    Raises LiteralError. Example: ``parse_duration("PT1M2S") == timedelta(seconds=62)``.
    """
    try:
        return parse_iso_duration(text)
    except (ValueError, OverflowError):  # OverflowError: beyond what a timedelta holds
        raise LiteralError(f"{text[:60]!r} is not an ISO 8601 duration") from None


def parse_literal(text: str, kind: str, nullable: bool = False) -> Any:
    """Type one literal by its spec kind: ``int``, ``bool``, ``datetime``, ``date``, ``uuid``,
    ``duration`` or ``str`` (single-quoted).

    Raises LiteralError for a malformed value (unquoted string, bad date, wrong type).
    Example: ``parse_literal("2025-03-01T00:00:00Z", "datetime")``.
    """
    if text == "null":
        if nullable:
            return None
        raise LiteralError("null is not allowed here")
    if kind == "int":
        if not _INT.match(text):
            raise LiteralError(f"{text[:60]!r} is not a valid Edm.Int32")
        value = int(text)
        if not -(2**31) <= value < 2**31:
            raise LiteralError(f"{text[:60]!r} is out of range for Edm.Int32")
        return value
    if kind == "float":
        try:
            return float(text)
        except ValueError:
            raise LiteralError(f"{text[:60]!r} is not a number") from None
    if kind == "bool":
        if text not in ("true", "false"):
            raise LiteralError(f"{text[:60]!r} is not a valid Edm.Boolean")
        return text == "true"
    if kind == "datetime":
        return parse_datetime_literal(text)
    if kind == "date":
        if not _DATE.match(text):
            raise LiteralError(f"{text[:60]!r} is not a valid Edm.Date")
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise LiteralError(f"{text[:60]!r} is not a valid Edm.Date") from None
    if kind == "uuid":
        if not _GUID.match(text):
            raise LiteralError(f"{text[:60]!r} is not a valid Edm.Guid")
        return uuid.UUID(text)
    if kind == "duration":
        if text.startswith("duration'") and text.endswith("'"):
            return parse_duration(text[len("duration'") : -1])
        return parse_duration(parse_string_literal(text))
    return parse_string_literal(text)
