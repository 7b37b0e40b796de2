"""Report arguments as Python values, turned into what the PBX expects.

- A period is given as days (or date-times) in a chosen time zone and sent the way the 3CX web UI
  sends it: the *local* midnight of the first day, converted to UTC, up to the local midnight after
  the last day (``periodFrom=2025-03-13T23:00:00.000Z`` for 14 March in Zagreb).
- Several queues (or trunks, ring groups, extensions) go in one space-separated string
  (``queueDns='0336 0337'``); an empty list means all. Leading zeros are kept.
- Wait intervals are ``timedelta`` values written ``'0:00:20'``.
- Integer filter codes take named enums where their meaning is known. Only ``0`` ("no filter")
  is documented for any of them; other codes pass through as plain integers.

Everything here is pure.
"""

from __future__ import annotations

import contextlib
import enum
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from py3cx._durations import parse_datetime, parse_duration, parse_timespan
from py3cx._exceptions import ConfigError
from py3cx.odata import TimeSpan
from py3cx.reports.definitions import ArgRole, ReportDefinition

__all__ = [
    "CallArea",
    "CallsType",
    "ChartBy",
    "FilterType",
    "Period",
    "dn_list",
    "local_zone",
    "parse_interval",
    "parse_period",
    "resolve_arguments",
    "zone_name",
]


class CallsType(enum.IntEnum):
    """``callsType`` of the call log and the trunk reports. ``ALL`` (0) is the only documented code."""

    ALL = 0


class FilterType(enum.IntEnum):
    """``sourceType``, ``destinationType``, ``callTimeFilterType``, ``fromType``... : 0 = no filter."""

    ANY = 0


class CallArea(enum.IntEnum):
    """``callArea`` of the extension reports: 0 = all calls."""

    ALL = 0


class ChartBy(str, enum.Enum):
    """``chartBy`` of the chart reports: the width of one bar. The PBX's accepted values are a
    guess (not documented); any text is passed through."""

    HOUR = "Hour"
    DAY = "Day"
    WEEK = "Week"
    MONTH = "Month"


_DN_RE = re.compile(r"[^\s,;]+")


@dataclass(frozen=True)
class Period:
    """A half-open span of time ``[start, end)``, both aware and in UTC.

    Example: ``Period.from_days(date(2025, 3, 14), date(2025, 3, 14), ZoneInfo("Europe/Zagreb"))``.
    """

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        for value in (self.start, self.end):
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError("a Period needs aware date-times")
        object.__setattr__(self, "start", self.start.astimezone(timezone.utc))
        object.__setattr__(self, "end", self.end.astimezone(timezone.utc))
        if self.end <= self.start:
            raise ValueError(
                f"the period ends ({self.end.isoformat()}) before it starts ({self.start.isoformat()})"
            )

    @classmethod
    def from_days(cls, first: date, last: date, tz: tzinfo) -> Period:
        """Whole days ``first``..``last`` (both included) in zone ``tz``, as the web UI sends them.

        Raises ValueError when ``last`` is before ``first``.
        Example: ``Period.from_days(date(2025, 3, 1), date(2025, 3, 15), ZoneInfo("Europe/Zagreb"))``.
        """
        return cls(local_midnight(first, tz), local_midnight(last + timedelta(days=1), tz))

    @property
    def duration(self) -> timedelta:
        """How long the period lasts."""
        return self.end - self.start

    def halves(self) -> tuple[Period, Period]:
        """The period cut in two at its middle (whole milliseconds, as literals carry no more).

        Raises ValueError when it is too short to cut (under 2 ms).
        Example: ``Period(a, b).halves()``.
        """
        middle = self.start + (self.end - self.start) / 2
        middle = middle.replace(microsecond=middle.microsecond // 1000 * 1000)
        if not self.start < middle < self.end:
            raise ValueError("period too short to split")
        return Period(self.start, middle), Period(middle, self.end)


def local_midnight(day: date, tz: tzinfo) -> datetime:
    """The instant (UTC) at which ``day`` begins in ``tz``.

    Example: ``local_midnight(date(2025, 3, 14), ZoneInfo("Europe/Zagreb"))`` is 2025-03-13 23:00 UTC.
    """
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(timezone.utc)


def local_zone() -> tzinfo:
    """The machine's time zone: ``$TZ``, else ``/etc/localtime``'s zone, else its current UTC offset.

    Never raises. Example: ``local_zone()``.
    """
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    localtime = Path("/etc/localtime")
    try:
        if localtime.is_symlink():
            target = str(localtime.resolve())
            if "zoneinfo/" in target:
                candidates.append(target.split("zoneinfo/", 1)[1])
    except OSError:
        pass
    with contextlib.suppress(OSError):
        candidates.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
    for name in candidates:
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    offset = datetime.now().astimezone().utcoffset() or timedelta(0)
    return timezone(offset)


def zone_name(tz: tzinfo) -> str:
    """An IANA name for ``tz``, for the ``clientTimeZone`` argument (``Etc/GMT-1`` for UTC+1).

    Example: ``zone_name(ZoneInfo("Europe/Zagreb")) == "Europe/Zagreb"``.
    """
    if isinstance(tz, ZoneInfo):
        return tz.key
    offset = tz.utcoffset(None) or timedelta(0)
    hours = int(offset.total_seconds() // 3600)
    if hours == 0:
        return "Etc/GMT"
    # The Etc/GMT zones have their sign inverted (POSIX style): UTC+1 is Etc/GMT-1.
    return f"Etc/GMT{-hours:+d}"


def parse_zone(name: str | None) -> tzinfo:
    """The zone named ``name`` (IANA, e.g. ``Europe/Zagreb``, or ``UTC``); the machine's if None.

    Raises ConfigError for an unknown zone. Example: ``parse_zone("Europe/Zagreb")``.
    """
    if not name:
        return local_zone()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"unknown time zone {name!r}", hint="use an IANA name such as Europe/Zagreb or UTC"
        ) from None


def _instant(value: date | datetime | str, tz: tzinfo, *, end: bool) -> datetime:
    option = "--to" if end else "--from"
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            try:
                value = date.fromisoformat(text)
            except ValueError as exc:  # 2026-11-31, 2025-02-29, 2025-13-01
                raise ConfigError(
                    f"{option} {text}: there is no such day ({exc})",
                    hint="give a day that exists, as YYYY-MM-DD",
                ) from None
        else:
            try:
                value = parse_datetime(text, default_tz=tz)
            except ValueError as exc:
                raise ConfigError(
                    f"{option}: bad date {value!r}",
                    hint="give a day as YYYY-MM-DD or a date-time such as 2025-03-01T08:00",
                ) from exc
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=tz)
    # A whole day: the end of a period includes its last day.
    return local_midnight(value + timedelta(days=1) if end else value, tz)


def parse_period(start: date | datetime | str, end: date | datetime | str, tz: tzinfo) -> Period:
    """The period from ``start`` to ``end`` in ``tz``: days include the last one, date-times are exact.

    Raises ConfigError for an unreadable date or an end before the start.
    Example: ``parse_period("2025-03-01", "2025-03-15", ZoneInfo("Europe/Zagreb"))``.
    """
    first, last = _instant(start, tz, end=False), _instant(end, tz, end=True)
    try:
        return Period(first, last)
    except ValueError:
        # name the days as typed: the end of a whole day is the next midnight, not what was given
        raise ConfigError(
            f"--to {_typed(end)} is before --from {_typed(start)}", hint="--to must not be before --from"
        ) from None


def _typed(value: date | datetime | str) -> str:
    return value.strip() if isinstance(value, str) else value.isoformat()


def dn_list(value: str | Iterable[str] | None) -> str:
    """Numbers (queues, trunks, ring groups, agents...) as the PBX takes them: one space-separated string.

    Text may separate numbers with spaces, commas or semicolons. Leading zeros are kept; ``None``
    or nothing means all (``''``).
    Example: ``dn_list(["0336", "0337"]) == "0336 0337"``.
    """
    if value is None:
        return ""
    items = [value] if isinstance(value, str) else list(value)
    numbers: list[str] = []
    for item in items:
        numbers.extend(_DN_RE.findall(str(item)))
    return " ".join(numbers)


def parse_interval(value: str | timedelta | int | None) -> timedelta:
    """A wait interval from ``0:00:20`` (H:MM:SS), ``PT20S``, a number of seconds or a ``timedelta``.

    Raises ConfigError for anything else. Example: ``parse_interval("0:00:20") == timedelta(seconds=20)``.
    """
    if value is None:
        return timedelta(0)
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int):
        return timedelta(seconds=value)
    text = value.strip()
    try:
        if text.isdigit():
            return timedelta(seconds=int(text))
        if text.upper().startswith(("P", "-P")):
            return parse_duration(text.upper())
        # H:MM:SS where hours may pass 23 (a .NET time span would need d.hh:mm:ss).
        match = re.fullmatch(r"(\d+):(\d{1,2})(?::(\d{1,2}))?", text)
        if match:
            hours, minutes, seconds = (int(g or 0) for g in match.groups())
            if minutes > 59 or seconds > 59:
                raise ValueError(text)
            return timedelta(hours=hours, minutes=minutes, seconds=seconds)
        return parse_timespan(text)
    except ValueError:
        raise ConfigError(f"bad time span {value!r}", hint="write it as H:MM:SS, e.g. 0:00:20") from None


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def resolve_arguments(
    definition: ReportDefinition,
    values: Mapping[str, object] | None = None,
    *,
    period: Period | None = None,
    tz: tzinfo | None = None,
    day: date | None = None,
) -> dict[str, object]:
    """Every function argument of ``definition`` as a value ``py3cx.odata.function_path`` encodes.

    ``values`` is keyed by wire name (``queueDns``) or its snake_case (``queue_dns``); anything
    missing takes the report's default (the PowerShell module's: no filter, ``hidePcalls=false``).
    ``period`` fills the start and end arguments, ``day`` (default: today in ``tz``) ``chartDate``,
    ``tz`` (default: the machine's zone) ``clientTimeZone``.

    Raises ConfigError for an unknown argument, a missing period or a value of the wrong kind.
    Example: ``resolve_arguments(get_report("abandoned-queue-calls"), {"queueDns": ["0336"]}, period=p)``.
    """
    zone = tz or local_zone()
    given = dict(values or {})
    by_name = {a.name: a for a in definition.arguments}
    by_snake = {_snake(a.name): a.name for a in definition.arguments}
    wire: dict[str, object] = {}
    for key, value in given.items():
        name = key if key in by_name else by_snake.get(key)
        if name is None:
            known = ", ".join(a.name for a in definition.arguments) or "none"
            raise ConfigError(f"{definition.name} has no argument {key!r}", hint=f"its arguments: {known}")
        wire[name] = value
    resolved: dict[str, object] = {}
    for arg in definition.arguments:
        value = wire.get(arg.name, arg.default)
        resolved[arg.name] = _convert(definition, arg.name, arg.role, value, period, zone, day)
    return resolved


def _convert(
    definition: ReportDefinition,
    name: str,
    role: ArgRole,
    value: object,
    period: Period | None,
    zone: tzinfo,
    day: date | None,
) -> object:
    if role in (ArgRole.PERIOD_START, ArgRole.PERIOD_END):
        if value is None:
            if period is None:
                raise ConfigError(f"{definition.name} needs a period", hint="give --from and --to")
            return period.start if role is ArgRole.PERIOD_START else period.end
        return _instant(value, zone, end=role is ArgRole.PERIOD_END)  # type: ignore[arg-type]
    if role is ArgRole.DAY:
        chosen = value if value is not None else day
        if chosen is None:
            chosen = datetime.now(zone).date()
        return _instant(chosen, zone, end=False)  # type: ignore[arg-type]
    if role is ArgRole.DN_LIST:
        return dn_list(value)  # type: ignore[arg-type]
    if role is ArgRole.INTERVAL:
        return TimeSpan(parse_interval(value))  # type: ignore[arg-type]
    if role is ArgRole.TIME_ZONE:
        return zone_name(zone) if value is None else str(value)
    if role is ArgRole.CODE:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ConfigError(f"{name} takes an integer code, not {value!r}")
        try:
            return int(value)
        except ValueError:
            raise ConfigError(f"{name} takes an integer code, not {value!r}") from None
    if role is ArgRole.FLAG:
        if isinstance(value, str):
            if value.lower() not in ("true", "false", "yes", "no", "1", "0"):
                raise ConfigError(f"{name} takes yes or no, not {value!r}")
            return value.lower() in ("true", "yes", "1")
        return bool(value)
    if isinstance(value, enum.Enum):
        return str(value.value)
    return "" if value is None else str(value)
