"""The one OData literal encoder: ``$filter`` values, entity keys and function arguments.

Every value a caller gives is turned into OData literal text here and nowhere else, so a quote in
a name (``O'Brien``) can never end a string early. The output is the literal only; making it safe
inside a URL (percent-encoding) is the job of :mod:`py3cx.odata.query` and
:mod:`py3cx.odata.paths`.

Python value → literal (without ``edm_type``):

============================  ===============================================
``None``                      ``null``
``bool``                      ``true`` / ``false``
``int``                       ``42``
``Decimal``                   ``12.50`` (never an exponent)
``float``                     ``0.5`` (``repr``; NaN and infinities refused)
``str``                       ``'O''Brien'`` (quotes doubled, any character)
``uuid.UUID``                 ``5c1d...`` (bare)
``date``                      ``2025-03-01``
aware ``datetime``            ``2025-03-13T23:00:00.000Z`` (UTC, milliseconds, unquoted)
``time``                      ``13:05:00`` (Edm.TimeOfDay)
``TimeSpan(td)``              ``'0:00:20'`` (the PBX's time-span argument form)
``Duration(td)``              ``duration'P1DT2H3M4.5S'`` (Edm.Duration)
``EnumMember(t, m)``          ``Pbx.Severity'All'``
``Typed(v, edm_type)``        ``literal(v, edm_type)``
============================  ===============================================

A naive ``datetime`` and a bare ``timedelta`` are refused: the first has no zone, the second
could mean either of the two time-span forms above.
"""

from __future__ import annotations

import enum
import math
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from py3cx._durations import (
    format_datetime_utc,
    format_iso_duration,
    format_timespan,
    parse_datetime,
    parse_duration,
)

__all__ = ["EDM_TYPES", "Duration", "EnumMember", "TimeSpan", "Typed", "literal"]

_QUALIFIED_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+")
# Flag enums may combine members ('Read,Write'); numeric values are valid OData too.
_ENUM_VALUE_RE = re.compile(r"-?[0-9]+|[A-Za-z_][A-Za-z0-9_]*(?:,[A-Za-z_][A-Za-z0-9_]*)*")
_INTEGER_TEXT_RE = re.compile(r"[+-]?[0-9]+")

_INTEGER_RANGES: dict[str, tuple[int, int]] = {
    "Edm.Byte": (0, 2**8 - 1),
    "Edm.SByte": (-(2**7), 2**7 - 1),
    "Edm.Int16": (-(2**15), 2**15 - 1),
    "Edm.Int32": (-(2**31), 2**31 - 1),
    "Edm.Int64": (-(2**63), 2**63 - 1),
}


@dataclass(frozen=True)
class TimeSpan:
    """A time span written the way 3CX function arguments take it: ``'0:00:20'``.

    Used for ``waitInterval``, ``answerInterval``, ``callTimeFilterFrom``... (typed ``string`` in
    the spec). ``literal(TimeSpan(timedelta(seconds=20)))`` gives ``'0:00:20'``.
    """

    value: timedelta

    def __post_init__(self) -> None:
        if not isinstance(self.value, timedelta):
            raise TypeError(f"TimeSpan needs a timedelta, not {type(self.value).__name__}")


@dataclass(frozen=True)
class Duration:
    """An ``Edm.Duration`` value: ``literal(Duration(timedelta(minutes=1)))`` gives ``duration'PT1M'``."""

    value: timedelta

    def __post_init__(self) -> None:
        if not isinstance(self.value, timedelta):
            raise TypeError(f"Duration needs a timedelta, not {type(self.value).__name__}")


@dataclass(frozen=True)
class EnumMember:
    """A member of an OData enum type: ``EnumMember("Pbx.Severity", "All")`` → ``Pbx.Severity'All'``."""

    enum_type: str
    member: str

    def __post_init__(self) -> None:
        if not isinstance(self.enum_type, str) or not _QUALIFIED_NAME_RE.fullmatch(self.enum_type):
            raise ValueError(f"enum type must be a qualified name such as 'Pbx.Severity': {self.enum_type!r}")
        if not isinstance(self.member, str) or not _ENUM_VALUE_RE.fullmatch(self.member):
            raise ValueError(f"enum member must be a name such as 'All': {self.member!r}")


@dataclass(frozen=True)
class Typed:
    """A value paired with the Edm type it must be encoded as, for places that take no ``edm_type``.

    ``function_path(..., Id=Typed(7, "Edm.Int64"))`` encodes like ``literal(7, "Edm.Int64")``.
    """

    value: object
    edm_type: str


def _quote(text: str) -> str:
    # OData's only escape inside a string literal is the doubled quote.
    return "'" + text.replace("'", "''") + "'"


def _finite_decimal(value: Decimal) -> str:
    if not value.is_finite():
        raise ValueError(f"OData has no literal for {value}")
    return format(value, "f")


def _finite_float(value: float) -> str:
    if not math.isfinite(value):
        raise ValueError(f"OData literals must be finite numbers, got {value!r}")
    return repr(value)


def _datetime_text(value: datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"naive datetime {value.isoformat()} has no time zone: give it a tzinfo "
            "(timezone.utc or a zoneinfo.ZoneInfo) so the PBX gets the instant you mean"
        )
    # Milliseconds, like the 3CX web UI (periodFrom=2025-03-13T23:00:00.000Z).
    return format_datetime_utc(value, digits=3)


def _enum_text(value: EnumMember) -> str:
    return f"{value.enum_type}'{value.member}'"


def _default_literal(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, enum.Enum):
        # An int- or str-valued enum from a model: encode its value, not its Python name.
        return _default_literal(value.value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return _finite_decimal(value)
    if isinstance(value, float):
        return _finite_float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return _datetime_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise ValueError(f"Edm.TimeOfDay has no time zone: {value!r}")
        return value.isoformat()
    if isinstance(value, TimeSpan):
        return _quote(format_timespan(value.value))
    if isinstance(value, Duration):
        return f"duration'{format_iso_duration(value.value)}'"
    if isinstance(value, EnumMember):
        return _enum_text(value)
    if isinstance(value, Typed):
        return literal(value.value, value.edm_type)
    if isinstance(value, timedelta):
        raise TypeError(
            "a bare timedelta is ambiguous: wrap it in TimeSpan(...) for 3CX arguments such as "
            "waitInterval ('0:00:20') or in Duration(...) for an Edm.Duration (duration'PT20S')"
        )
    raise TypeError(f"no OData literal for a value of type {type(value).__name__}")


def _wrong_type(value: object, edm_type: str, wanted: str) -> TypeError:
    return TypeError(f"{edm_type} needs {wanted}, not {type(value).__name__}")


def _as_string(value: object, edm_type: str) -> str:
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, enum.Enum) and isinstance(value.value, str):
        return _quote(value.value)
    if isinstance(value, TimeSpan):
        return _quote(format_timespan(value.value))
    raise _wrong_type(value, edm_type, "a str (numbers too: '0336' keeps its leading zero)")


def _as_boolean(value: object, edm_type: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower()
    raise _wrong_type(value, edm_type, "a bool")


def _as_integer(value: object, edm_type: str) -> str:
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, str) and _INTEGER_TEXT_RE.fullmatch(value.strip()):
        number = int(value.strip())
    elif isinstance(value, int) and not isinstance(value, bool):
        number = int(value)
    else:
        raise _wrong_type(value, edm_type, "an int")
    low, high = _INTEGER_RANGES[edm_type]
    if not low <= number <= high:
        raise ValueError(f"{number} is out of range for {edm_type} ({low}..{high})")
    return str(number)


def _as_decimal(value: object, edm_type: str) -> str:
    if isinstance(value, Decimal):
        return _finite_decimal(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        _finite_float(value)
        return _finite_decimal(Decimal(repr(value)))
    if isinstance(value, str):
        try:
            parsed = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"not a decimal number: {value!r}") from None
        return _finite_decimal(parsed)
    raise _wrong_type(value, edm_type, "a Decimal, int or float")


def _as_double(value: object, edm_type: str) -> str:
    if isinstance(value, float):
        return _finite_float(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, Decimal):
        return _finite_decimal(value)
    if isinstance(value, str):
        try:
            # float() also takes '1_000'; OData does not.
            if "_" in value:
                raise ValueError(value)
            parsed = float(value.strip())
        except ValueError:
            raise ValueError(f"not a number: {value!r}") from None
        return _finite_float(parsed)
    raise _wrong_type(value, edm_type, "a float or int")


def _as_guid(value: object, edm_type: str) -> str:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, str):
        try:
            return str(uuid.UUID(value.strip()))
        except ValueError:
            raise ValueError(f"not a GUID: {value!r}") from None
    raise _wrong_type(value, edm_type, "a uuid.UUID or GUID text")


def _as_date(value: object, edm_type: str) -> str:
    if isinstance(value, datetime):
        raise TypeError(f"{edm_type} needs a date; take .date() of the datetime in the zone you mean")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            raise ValueError(f"not a date such as '2025-03-01': {value!r}") from None
    raise _wrong_type(value, edm_type, "a date")


def _as_datetime(value: object, edm_type: str) -> str:
    if isinstance(value, datetime):
        return _datetime_text(value)
    if isinstance(value, date):
        raise TypeError(f"{edm_type} needs an aware datetime: a date has no time of day nor zone")
    if isinstance(value, str):
        return _datetime_text(parse_datetime(value))
    raise _wrong_type(value, edm_type, "an aware datetime")


def _as_duration(value: object, edm_type: str) -> str:
    if isinstance(value, Duration):
        return _default_literal(value)
    if isinstance(value, timedelta):
        return _default_literal(Duration(value))
    if isinstance(value, str):
        return _default_literal(Duration(parse_duration(value)))
    raise _wrong_type(value, edm_type, "a timedelta or Duration")


def _as_time_of_day(value: object, edm_type: str) -> str:
    if isinstance(value, time):
        return _default_literal(value)
    if isinstance(value, str):
        try:
            return _default_literal(time.fromisoformat(value.strip()))
        except ValueError:
            raise ValueError(f"not a time of day such as '13:05:00': {value!r}") from None
    raise _wrong_type(value, edm_type, "a datetime.time")


_ENCODERS: dict[str, Callable[[object, str], str]] = {
    "Edm.String": _as_string,
    "Edm.Boolean": _as_boolean,
    **dict.fromkeys(_INTEGER_RANGES, _as_integer),
    "Edm.Decimal": _as_decimal,
    "Edm.Double": _as_double,
    "Edm.Single": _as_double,
    "Edm.Guid": _as_guid,
    "Edm.Date": _as_date,
    "Edm.DateTimeOffset": _as_datetime,
    "Edm.Duration": _as_duration,
    "Edm.TimeOfDay": _as_time_of_day,
}

#: The Edm type names :func:`literal` understands; any other qualified name is an enum type.
EDM_TYPES: frozenset[str] = frozenset(_ENCODERS)


def _as_enum(value: object, enum_type: str) -> str:
    if isinstance(value, EnumMember):
        if value.enum_type != enum_type:
            raise TypeError(f"expected a member of {enum_type}, got one of {value.enum_type}")
        return _enum_text(value)
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, str):
        return _enum_text(EnumMember(enum_type, value))
    raise _wrong_type(value, enum_type, "a member name (str) or EnumMember")


def literal(value: object, edm_type: str | None = None) -> str:
    """Encode ``value`` as an OData literal, for a ``$filter``, a key or a function argument.

    Without ``edm_type`` the Python type decides (see the module's table). With one, the value
    must fit that type and is encoded as it: ``"Edm.Int32"``, ``"Edm.String"``,
    ``"Edm.DateTimeOffset"``, ``"Edm.Duration"``, ``"Edm.Guid"``, ``"Edm.Boolean"``,
    ``"Edm.Decimal"``, ``"Edm.Double"``, ``"Edm.Date"`` (see ``EDM_TYPES``), or an enum type
    such as ``"Pbx.Severity"``. Text is accepted for the typed forms and checked (``"42"`` for
    an Edm.Int32, ``"2025-03-01T00:00:00+01:00"`` for an Edm.DateTimeOffset), so command-line
    input can be encoded safely. ``None`` is ``null`` whatever the type.

    Raises:
        TypeError: the value's type has no literal, or does not fit ``edm_type``
            (an int for an Edm.String, a bare timedelta without ``edm_type``...).
        ValueError: the value fits the type but not the rules: a naive datetime, NaN,
            an out-of-range integer, malformed text, an unknown ``edm_type``.

    Example:
        >>> literal("O'Brien")
        "'O''Brien'"
    """
    if edm_type is None:
        return _default_literal(value)
    if value is None:
        return "null"
    if isinstance(value, Typed):
        raise TypeError("a Typed value already carries its edm_type; pass it without one")
    encoder = _ENCODERS.get(edm_type)
    if encoder is not None:
        return encoder(value, edm_type)
    if _QUALIFIED_NAME_RE.fullmatch(edm_type) and not edm_type.startswith("Edm."):
        return _as_enum(value, edm_type)
    raise ValueError(f"unknown edm_type {edm_type!r}; expected one of {sorted(EDM_TYPES)} or an enum type")
