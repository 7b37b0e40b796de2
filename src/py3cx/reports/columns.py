"""The columns of an export: the schema's, in spec order, then any key the PBX sent that the schema
lacks, and, with ``derived=True``, extra columns computed from durations and date-times.

The header never comes from the first row: the PBX leaves null properties out, so a first row
without ``CallTime`` would lose the column (the PowerShell module's bug).

Derived columns, named the way the PHP sample site names them, follow their source column:

- for a duration ``X``: ``X_seconds`` (a number) and ``X_hhmmss`` (hours may pass 24);
- for a date-time ``X``: ``X_date`` and ``X_time`` in the chosen zone and ``X_dayOfWeek<Language>``
  for each chosen locale (``StartTime_dayOfWeekEnglish``, ``StartTime_dayOfWeekCroatian``), the
  day names from Babel (``ponedjeljak``, lower case with diacritics, as Croatian writes them).

Everything here is pure.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from py3cx._durations import parse_datetime, parse_duration
from py3cx._exceptions import ConfigError
from py3cx._extras import require
from py3cx.reports.definitions import ColumnKind, ReportDefinition

__all__ = ["CellKind", "ColumnPlan", "OutputColumn", "day_names", "flat_text", "language_suffix"]


class CellKind(str, enum.Enum):
    """What one output cell holds, which decides how each writer writes it."""

    TEXT = "text"  # str (wire text)
    INTEGER = "integer"  # int
    DECIMAL = "decimal"  # int, float or Decimal
    BOOLEAN = "boolean"  # bool
    DATETIME = "datetime"  # wire text of an instant (UTC); XLSX and Parquet parse it
    DURATION = "duration"  # wire text of an ISO 8601 duration; XLSX and Parquet parse it
    JSON = "json"  # a list or object, flattened to JSON text in tabular formats
    SECONDS = "seconds"  # derived: int (or float when the duration has a fraction)
    HMS = "hms"  # derived: timedelta, shown as hh:mm:ss ([h]:mm:ss in Excel)
    LOCAL_DATE = "local_date"  # derived: date
    LOCAL_TIME = "local_time"  # derived: time
    DAY_NAME = "day_name"  # derived: str
    EXTRA = "extra"  # a key the schema lacks: whatever JSON value the PBX sent


_CELL_BY_COLUMN: dict[ColumnKind, CellKind] = {
    ColumnKind.STRING: CellKind.TEXT,
    ColumnKind.INTEGER: CellKind.INTEGER,
    ColumnKind.DECIMAL: CellKind.DECIMAL,
    ColumnKind.BOOLEAN: CellKind.BOOLEAN,
    ColumnKind.DATETIME: CellKind.DATETIME,
    ColumnKind.DURATION: CellKind.DURATION,
    ColumnKind.ARRAY: CellKind.JSON,
    ColumnKind.OBJECT: CellKind.JSON,
    ColumnKind.ENUM: CellKind.TEXT,
}


@dataclass(frozen=True)
class OutputColumn:
    """One column of the output: its header, what it holds and the wire key it comes from."""

    name: str
    kind: CellKind
    source: str
    locale: str | None = None


def language_suffix(locale_name: str) -> str:
    """``English`` for ``en``, ``Croatian`` for ``hr``, ``GermanAustria`` for ``de_AT``.

    Raises ConfigError for a locale Babel does not know. Example: ``language_suffix("hr") == "Croatian"``.
    """
    require("cli", "babel", what="columns in a language")
    from babel import Locale, UnknownLocaleError

    try:
        locale = Locale.parse(locale_name.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        raise ConfigError(
            f"unknown locale {locale_name!r}", hint="use a language code Babel knows, such as en, hr or de_AT"
        ) from None
    return re.sub(r"[^0-9A-Za-z]", "", locale.english_name or locale_name)


def day_names(locale_name: str) -> tuple[str, ...]:
    """The seven day names in ``locale_name``, Monday first, as a date is written in that language.

    Raises ConfigError for an unknown locale.
    Example: ``day_names("hr")[0] == "ponedjeljak"``; ``day_names("en")[3] == "Thursday"``.
    """
    require("cli", "babel", what="columns in a language")
    from babel import Locale, UnknownLocaleError
    from babel.dates import get_day_names

    try:
        Locale.parse(locale_name.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        raise ConfigError(
            f"unknown locale {locale_name!r}", hint="use a language code such as en or hr"
        ) from None
    names = get_day_names("wide", context="format", locale=locale_name.replace("-", "_"))
    return tuple(str(names[i]) for i in range(7))


@dataclass
class ColumnPlan:
    """The output columns of one export and the way to turn a PBX row into cells.

    ``extras`` grows as rows bring keys the schema lacks; they go after the schema's columns, so
    cells already written keep their places.
    Example: ``ColumnPlan.for_report(get_report("call-log"), derived=True, tz=zone, locales=["en", "hr"])``.
    """

    base: list[OutputColumn]
    schema_keys: frozenset[str]
    tz: tzinfo | None = None
    locales: tuple[str, ...] = ()
    extras: list[str] = field(default_factory=list)
    _days: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)
    _plain_keys: list[str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if all(c.kind in _PLAIN for c in self.base):
            self._plain_keys = [c.source for c in self.base]

    @classmethod
    def for_report(
        cls,
        definition: ReportDefinition,
        *,
        derived: bool = False,
        tz: tzinfo | None = None,
        locales: Sequence[str] = ("en",),
        extras: Iterable[str] = (),
    ) -> ColumnPlan:
        """The plan for ``definition``'s schema; with ``derived`` the computed columns too.

        Raises ConfigError for an unknown locale, or when ``derived`` is asked without a zone.
        """
        if derived and tz is None:
            raise ConfigError("derived columns need a time zone")
        base: list[OutputColumn] = []
        suffixes = [(loc, language_suffix(loc)) for loc in locales] if derived else []
        for column in definition.columns:
            kind = _CELL_BY_COLUMN[column.kind]
            base.append(OutputColumn(column.name, kind, column.name))
            if not derived:
                continue
            if kind is CellKind.DURATION:
                base.append(OutputColumn(f"{column.name}_seconds", CellKind.SECONDS, column.name))
                base.append(OutputColumn(f"{column.name}_hhmmss", CellKind.HMS, column.name))
            elif kind is CellKind.DATETIME:
                base.append(OutputColumn(f"{column.name}_date", CellKind.LOCAL_DATE, column.name))
                base.append(OutputColumn(f"{column.name}_time", CellKind.LOCAL_TIME, column.name))
                for loc, suffix in suffixes:
                    name = f"{column.name}_dayOfWeek{suffix}"
                    base.append(OutputColumn(name, CellKind.DAY_NAME, column.name, loc))
        plan = cls(
            base=base,
            schema_keys=frozenset(c.name for c in definition.columns),
            tz=tz if derived else None,
            locales=tuple(loc for loc, _ in suffixes),
        )
        for key in extras:
            plan.extras.append(key)
        plan._days = {loc: day_names(loc) for loc in plan.locales}
        return plan

    @property
    def columns(self) -> list[OutputColumn]:
        """Every output column: the schema's (with derived ones) and then the extra keys seen."""
        return [*self.base, *(OutputColumn(key, CellKind.EXTRA, key) for key in self.extras)]

    @property
    def names(self) -> list[str]:
        """The header."""
        return [c.name for c in self.base] + self.extras

    def observe(self, row: Mapping[str, Any]) -> bool:
        """Note the keys of ``row`` the schema lacks; True when the plan grew."""
        grew = False
        for key in row:
            if key not in self.schema_keys and key not in self.extras and not key.startswith("@odata"):
                self.extras.append(key)
                grew = True
        return grew

    def cells(self, row: Mapping[str, Any]) -> list[Any]:
        """The cells of ``row`` in column order, typed as each column's ``CellKind`` says.

        Values the PBX left out are None. A date-time or duration that cannot be read leaves its
        derived cells empty (the original text is kept in its own column).
        """
        if self._plain_keys is not None:
            # no derived column: a straight pick of the keys (the hot path of a big export)
            get = row.get
            return [get(key) for key in self._plain_keys] + [get(key) for key in self.extras]
        out: list[Any] = []
        parsed_at: str | None = None
        parsed: Any = None
        for column in self.base:
            kind = column.kind
            if kind in _PLAIN:
                out.append(row.get(column.source))
                continue
            # Derived: parse the source once for all of its derived columns.
            if parsed_at != column.source:
                parsed_at = column.source
                parsed = self._parse_source(row.get(column.source), kind)
            out.append(None if parsed is None else self._derive(parsed, column))
        for key in self.extras:
            out.append(row.get(key))
        return out

    def _parse_source(self, value: Any, kind: CellKind) -> Any:
        if not isinstance(value, str):
            return None
        try:
            if kind in (CellKind.SECONDS, CellKind.HMS):
                return parse_duration(value)
            assert self.tz is not None
            return parse_datetime(value).astimezone(self.tz)
        except ValueError:
            return None

    def _derive(self, parsed: Any, column: OutputColumn) -> Any:
        kind = column.kind
        if kind is CellKind.SECONDS:
            seconds = parsed.total_seconds()
            return int(seconds) if seconds == int(seconds) else seconds
        if kind is CellKind.HMS:
            return parsed
        if kind is CellKind.LOCAL_DATE:
            return parsed.date()
        if kind is CellKind.LOCAL_TIME:
            return parsed.time().replace(microsecond=0, tzinfo=None)
        assert column.locale is not None
        return self._days[column.locale][parsed.weekday()]


_PLAIN = frozenset(
    {
        CellKind.TEXT,
        CellKind.INTEGER,
        CellKind.DECIMAL,
        CellKind.BOOLEAN,
        CellKind.DATETIME,
        CellKind.DURATION,
        CellKind.JSON,
        CellKind.EXTRA,
    }
)


def flat_text(value: Any) -> str:
    """A cell as text for CSV: lists and objects as compact JSON, booleans ``true``/``false``,
    derived values in their ISO or ``hh:mm:ss`` form, None as empty.

    Example: ``flat_text([{"Id": 1}]) == '[{"Id":1}]'``.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, timedelta):
        from py3cx._durations import format_hms

        return format_hms(value)
    if isinstance(value, date | time | datetime):
        return value.isoformat()
    return str(value)
