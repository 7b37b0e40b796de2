"""ISO 8601 durations and date-times as a 3CX V20 PBX writes them, and the time-span text it reads.

The PBX sends durations as ISO 8601 (``PT1M16.46S``, ``P1DT2H3M``, ``-PT5S``) and date-times in UTC
with ``Z`` or ``±hh:mm`` and any fraction length. Function arguments such as ``waitInterval`` take a
.NET-style time span text (``'0:00:20'``). Everything here is pure and works on Python 3.10, whose
``datetime.fromisoformat`` accepts neither ``Z`` nor seven fraction digits.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo

__all__ = [
    "format_datetime_utc",
    "format_hms",
    "format_iso_duration",
    "format_timespan",
    "parse_datetime",
    "parse_duration",
    "parse_timespan",
    "total_seconds_int",
]

# Years and months have no fixed length, so they are refused rather than guessed.
_DURATION_RE = re.compile(
    r"(?P<sign>[-+])?P"
    r"(?:(?P<weeks>\d+)W)?"
    r"(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)(?:[.,](?P<fraction>\d+))?S)?)?",
    re.ASCII,
)

_DATETIME_RE = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})[Tt ]"
    r"(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,12}))?)?"
    r"(?P<zone>[Zz]|[+-]\d{2}:?\d{2})?",
    re.ASCII,
)

_TIMESPAN_RE = re.compile(
    r"(?P<sign>-)?(?:(?P<days>\d+)\.)?(?P<hours>\d{1,2}):(?P<minutes>\d{1,2})"
    r"(?::(?P<seconds>\d{1,2})(?:\.(?P<fraction>\d{1,7}))?)?",
    re.ASCII,
)

_MICROSECONDS_PER_SECOND = 1_000_000


def _fraction_to_microseconds(fraction: str | None) -> int:
    # Digits past the sixth are truncated: timedelta and datetime stop at microseconds.
    if not fraction:
        return 0
    return int(fraction[:6].ljust(6, "0"))


def parse_duration(text: str) -> timedelta:
    """Parse an ISO 8601 duration as the PBX writes it into a ``timedelta``.

    Accepts ``-?P[nW][nD][T[nH][nM][n[.n]S]]`` with at least one component, a leading ``-`` (or
    ``+``) and any number of fraction digits (truncated to microseconds). ``P1D`` is one day.

    Raises:
        ValueError: the text is not such a duration (including years or months, whose length
            is not fixed, and the empty ``P`` / ``PT``).

    Example:
        >>> parse_duration("PT1M16.46S")
        datetime.timedelta(seconds=76, microseconds=460000)
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_duration() expects a str, not {type(text).__name__}")
    match = _DURATION_RE.fullmatch(text.strip())
    parts = match.groupdict() if match else {}
    components = ("weeks", "days", "hours", "minutes", "seconds")
    if not match or not any(parts[name] for name in components) or text.strip().endswith("T"):
        raise ValueError(f"not an ISO 8601 duration such as 'PT1M16.46S' or 'P1DT2H3M': {text!r}")
    value = timedelta(
        weeks=int(parts["weeks"] or 0),
        days=int(parts["days"] or 0),
        hours=int(parts["hours"] or 0),
        minutes=int(parts["minutes"] or 0),
        seconds=int(parts["seconds"] or 0),
        microseconds=_fraction_to_microseconds(parts["fraction"]),
    )
    return -value if parts["sign"] == "-" else value


def _split(td: timedelta) -> tuple[str, int, int, int, int, int]:
    """Sign and magnitude of ``td`` as (sign, days, hours, minutes, seconds, microseconds)."""
    sign = "-" if td < timedelta(0) else ""
    magnitude = -td if sign else td
    days = magnitude.days
    hours, rest = divmod(magnitude.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return sign, days, hours, minutes, seconds, magnitude.microseconds


def format_iso_duration(td: timedelta) -> str:
    """Write ``td`` as an ISO 8601 duration, the inverse of :func:`parse_duration`.

    Zero is ``PT0S``; a negative value gets a leading ``-``; the fraction of a second keeps only
    the digits it needs. Never raises for a ``timedelta``.

    Example:
        >>> format_iso_duration(timedelta(days=1, hours=2, minutes=3, seconds=4.5))
        'P1DT2H3M4.5S'
    """
    sign, days, hours, minutes, seconds, micro = _split(td)
    text = f"{sign}P"
    if days:
        text += f"{days}D"
    time = ""
    if hours:
        time += f"{hours}H"
    if minutes:
        time += f"{minutes}M"
    if seconds or micro:
        time += f"{seconds}.{micro:06d}".rstrip("0").rstrip(".") + "S"
    if time:
        text += "T" + time
    elif not days:
        text += "T0S"
    return text


def total_seconds_int(td: timedelta) -> int:
    """Whole seconds in ``td``, the fraction truncated toward zero (as ``format_hms`` shows them).

    Example:
        >>> total_seconds_int(timedelta(seconds=76.46))
        76
    """
    micro = (td.days * 86_400 + td.seconds) * _MICROSECONDS_PER_SECOND + td.microseconds
    whole = abs(micro) // _MICROSECONDS_PER_SECOND
    return -whole if micro < 0 else whole


def format_hms(td: timedelta) -> str:
    """Write ``td`` as ``hh:mm:ss``; hours may pass 24 and a negative value gets a leading ``-``.

    The fraction of a second is truncated, so the text agrees with :func:`total_seconds_int`.

    Example:
        >>> format_hms(timedelta(days=1, hours=3, minutes=3, seconds=4))
        '27:03:04'
    """
    seconds = total_seconds_int(td)
    sign = "-" if seconds < 0 else ""
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours:02d}:{minutes:02d}:{secs:02d}"


def format_timespan(td: timedelta) -> str:
    """Write ``td`` in the time-span form 3CX function arguments take (``waitInterval='0:00:20'``).

    Hours unpadded, minutes on two digits, seconds unpadded, as the 3CX web UI sends them:
    ``0:00:0``, ``0:00:20``, ``1:02:3``. A day or more becomes ``d.hh:mm:s`` (the .NET form;
    .NET refuses hours above 23), a negative value gets a leading ``-``.

    Raises:
        ValueError: ``td`` has a fraction of a second (the PBX's form has none).

    Example:
        >>> format_timespan(timedelta(seconds=20))
        '0:00:20'
    """
    sign, days, hours, minutes, seconds, micro = _split(td)
    if micro:
        raise ValueError(f"a 3CX time span has whole seconds only, got {td!r}")
    if days:
        return f"{sign}{days}.{hours:02d}:{minutes:02d}:{seconds}"
    return f"{sign}{hours}:{minutes:02d}:{seconds}"


def parse_timespan(text: str) -> timedelta:
    """Parse a .NET-style time span such as ``0:00:20`` or ``1.03:00:00`` into a ``timedelta``.

    Accepts ``[-][d.]h:mm[:ss[.fffffff]]``; hours must be below 24, minutes and seconds below 60.

    Raises:
        ValueError: the text is not such a time span.

    Example:
        >>> parse_timespan("0:00:20")
        datetime.timedelta(seconds=20)
    """
    match = _TIMESPAN_RE.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"not a time span such as '0:00:20' (h:mm:ss): {text!r}")
    parts = match.groupdict()
    hours, minutes, seconds = int(parts["hours"]), int(parts["minutes"]), int(parts["seconds"] or 0)
    if hours > 23 or minutes > 59 or seconds > 59:
        raise ValueError(f"time span out of range (hours < 24, minutes and seconds < 60): {text!r}")
    value = timedelta(
        days=int(parts["days"] or 0),
        hours=hours,
        minutes=minutes,
        seconds=seconds,
        microseconds=_fraction_to_microseconds(parts["fraction"]),
    )
    return -value if parts["sign"] else value


def parse_datetime(text: str, *, default_tz: tzinfo | None = None) -> datetime:
    """Parse an ISO 8601 date-time as the PBX writes it into an aware ``datetime``.

    Accepts ``Z`` or ``±hh:mm`` (``±hhmm`` too), a ``T`` or a space, and 1 to 12 fraction digits
    (truncated to microseconds), on every supported Python. Text without a zone is read in
    ``default_tz`` when one is given.

    Raises:
        ValueError: the text is not such a date-time, a field is out of range, or it has no zone
            and no ``default_tz`` was given.

    Example:
        >>> parse_datetime("2025-03-13T23:00:00.1234567Z")
        datetime.datetime(2025, 3, 13, 23, 0, 0, 123456, tzinfo=datetime.timezone.utc)
    """
    match = _DATETIME_RE.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"not an ISO 8601 date-time such as '2025-03-13T23:00:00Z': {text!r}")
    parts = match.groupdict()
    zone_text = parts["zone"]
    zone: tzinfo
    if zone_text is None:
        if default_tz is None:
            raise ValueError(f"date-time has no time zone (add 'Z' or '+hh:mm'): {text!r}")
        zone = default_tz
    elif zone_text in ("Z", "z"):
        zone = timezone.utc
    else:
        digits = zone_text[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        if offset >= timedelta(hours=24):
            raise ValueError(f"time zone offset out of range: {text!r}")
        zone = timezone(-offset if zone_text[0] == "-" else offset)
    try:
        return datetime(
            int(parts["year"]),
            int(parts["month"]),
            int(parts["day"]),
            int(parts["hour"]),
            int(parts["minute"]),
            int(parts["second"] or 0),
            _fraction_to_microseconds(parts["fraction"]),
            tzinfo=zone,
        )
    except ValueError as exc:
        raise ValueError(f"date-time out of range ({exc}): {text!r}") from None


def format_datetime_utc(dt: datetime, *, digits: int | None = None) -> str:
    """Write an aware ``dt`` in UTC as ``2025-03-13T23:00:00Z``, the PBX's JSON and literal form.

    ``digits`` fixes the fraction length (0 to 6, truncated, ``3`` gives ``...00.000Z`` as the
    3CX web UI sends in function arguments); ``None`` writes the shortest exact fraction (none on
    a whole second).

    Raises:
        ValueError: ``dt`` is naive (its zone is unknown) or ``digits`` is outside 0..6.

    Example:
        >>> format_datetime_utc(datetime(2025, 3, 14, tzinfo=timezone.utc), digits=3)
        '2025-03-14T00:00:00.000Z'
    """
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(
            f"naive datetime {dt.isoformat()} has no time zone; give it a tzinfo "
            "(e.g. zoneinfo.ZoneInfo('Europe/Zagreb') or timezone.utc)"
        )
    if digits is not None and not 0 <= digits <= 6:
        raise ValueError(f"digits must be between 0 and 6, got {digits}")
    utc = dt.astimezone(timezone.utc)
    text = f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}"
    fraction = f"{utc.microsecond:06d}"
    fraction = fraction.rstrip("0") if digits is None else fraction[:digits]
    if fraction:
        text += "." + fraction
    return text + "Z"
