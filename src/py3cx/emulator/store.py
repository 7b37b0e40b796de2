"""SQLite storage of XAPI entities: one table per entity set, columns from the spec schema.

Storage forms, chosen so that SQL comparisons mean what OData comparisons mean:

==========  ===============================  ===========================
kind        column                           on the wire
==========  ===============================  ===========================
datetime    TEXT ``2025-03-01 10:00:02.437000``  ``2025-03-01T10:00:02.437Z``
duration    REAL seconds                     ``PT1M2.5S``
bool        INTEGER 0/1                      ``true``/``false``
json        TEXT (complex values, arrays,    the parsed JSON
            navigation properties)
others      INTEGER / REAL / TEXT            as stored
==========  ===============================  ===========================

The fixed-width date-time text sorts like the instant it names and works with SQLite's
``date()``, which is what ``date(SegmentStartTime) ge 2025-03-01`` becomes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from py3cx._durations import format_iso_duration

from .errors import bad_request
from .literals import LiteralError, parse_datetime_literal, parse_duration
from .spec import Prop, SpecIndex

_COLUMN_TYPES: dict[str, Any] = {
    "int": sa.Integer,
    "float": sa.Float,
    "bool": sa.Boolean,
    "duration": sa.Float,
}


#: the hidden key column of sets whose entity type has no key; never sent on the wire
ROW_NUMBER = "__row"


def datetime_to_storage(value: datetime) -> str:
    """Aware (or naive UTC) datetime → fixed-width UTC text. Example: ``datetime_to_storage(dt)``.

    Raises ValueError when the instant falls outside years 1..9999 in UTC.
    """
    if value.tzinfo is not None:
        try:
            value = value.astimezone(timezone.utc)
        except OverflowError:
            raise ValueError(f"{value.isoformat()} is outside the years 1 to 9999 in UTC") from None
    # not strftime: it does not pad years before 1000, and the text must keep its width to sort
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d} "
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{value.microsecond:06d}"
    )


def storage_to_wire_datetime(text: str) -> str:
    """``2025-03-01 10:00:02.437000`` → ``2025-03-01T10:00:02.437Z`` (no fraction when it is zero)."""
    fraction = text[20:26].rstrip("0")
    return f"{text[:10]}T{text[11:19]}{'.' + fraction if fraction else ''}Z"


def duration_to_wire(seconds: float) -> str:
    """Seconds → ISO 8601 duration as .NET writes it: ``PT0S``, ``PT1M2S``, ``P1DT2H3M``, ``-PT5S``.

    Written by ``py3cx._durations.format_iso_duration``, the client's own writer. Never raises
    for a finite number. Example: ``duration_to_wire(62) == "PT1M2S"``.
    """
    return format_iso_duration(timedelta(seconds=seconds))


@dataclass
class EntityTable:
    """One entity set's table and how its rows map to and from JSON."""

    name: str
    type_name: str
    props: dict[str, Prop]
    table: sa.Table
    key: list[str]
    alternate_keys: list[list[str]] = field(default_factory=list)

    @property
    def scalar_props(self) -> list[Prop]:
        """Properties sent by default (everything except navigation properties)."""
        return [p for p in self.props.values() if not p.navigation]

    def unknown_property(self, name: str) -> Exception:
        return bad_request(f"Could not find a property named '{name}' on type '{self.type_name}'.")

    # -- rows -> JSON ---------------------------------------------------------------------------
    def to_wire(self, row: Mapping[str, Any] | sa.RowMapping, names: Sequence[str]) -> dict[str, Any]:
        """Serialise the named columns of a row; null values are left out, as the PBX does."""
        out: dict[str, Any] = {}
        props = self.props
        for name in names:
            value = row[name]
            if value is None:
                continue
            out[name] = wire_value(props[name].kind, value)
        return out

    # -- JSON -> rows ---------------------------------------------------------------------------
    def from_wire(self, body: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
        """Validate a POST/PATCH body and convert it to column values. Raises XapiError(400)."""
        out: dict[str, Any] = {}
        for name, value in body.items():
            if name.startswith("@odata."):
                continue
            prop = self.props.get(name)
            if prop is None:
                raise bad_request(
                    f"The property '{name}' does not exist on type '{self.type_name}'. "
                    "Make sure to only use property names that are defined by the type."
                )
            out[name] = storage_value(prop, value)
        return out


def wire_value(kind: str, value: Any) -> Any:
    """One stored value → its JSON form."""
    if kind == "datetime":
        return storage_to_wire_datetime(value)
    if kind == "duration":
        return duration_to_wire(value)
    if kind == "bool":
        return bool(value)
    if kind == "json":
        return without_nulls(json.loads(value) if isinstance(value, str) else value)
    return value


def without_nulls(value: Any) -> Any:
    """Drop null properties at every level of a complex value, as the PBX does on the wire."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def storage_value(prop: Prop, value: Any) -> Any:
    """One JSON (or Python) value → its stored form. Raises XapiError(400) on a type mismatch."""
    if value is None:
        return None
    kind = prop.kind
    try:
        if kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError
            if not -(2**63) <= value < 2**63:
                raise ValueError  # beyond Int64: the PBX cannot hold it either
            return value
        if kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError
            return float(value)
        if kind == "bool":
            if not isinstance(value, bool):
                raise TypeError
            return value
        if kind == "datetime":
            if isinstance(value, datetime):
                return datetime_to_storage(value)
            return datetime_to_storage(parse_datetime_literal(str(value)))
        if kind == "duration":
            if isinstance(value, timedelta):
                return value.total_seconds()
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
            return parse_duration(str(value)).total_seconds()
        if kind == "date":
            return (
                value.isoformat() if isinstance(value, date) else date.fromisoformat(str(value)).isoformat()
            )
        if kind == "json":
            if prop.collection and not isinstance(value, list):
                raise TypeError
            return json.dumps(value, ensure_ascii=False, default=_json_default)
        if kind == "enum":
            if not isinstance(value, str):
                raise TypeError
            return value
        if not isinstance(value, str):
            if kind == "uuid":
                return str(value)
            raise TypeError
        return value
    except (TypeError, ValueError, LiteralError):
        raise bad_request(
            f"Cannot convert the value of property '{prop.name}' to its type ({kind})."
        ) from None


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return storage_to_wire_datetime(datetime_to_storage(value))
    if isinstance(value, timedelta):
        return duration_to_wire(value.total_seconds())
    raise TypeError(f"cannot serialise {type(value).__name__}")


def column_for(prop: Prop, primary_key: bool = False) -> sa.Column[Any]:
    """The SQLAlchemy column that stores one property."""
    col_type = _COLUMN_TYPES.get(prop.kind, sa.Text)
    if primary_key:
        return sa.Column(prop.name, col_type, primary_key=True, autoincrement=prop.kind == "int")
    return sa.Column(prop.name, col_type, nullable=True)


def build_tables(
    spec: SpecIndex, metadata: sa.MetaData, set_names: Iterable[str] | None = None
) -> dict[str, EntityTable]:
    """Create the table objects (not yet in the database) for the entity sets the emulator serves.

    Example: ``build_tables(spec, sa.MetaData(), ["Users"])["Users"].table``.
    """
    tables: dict[str, EntityTable] = {}
    names = list(set_names) if set_names is not None else list(spec.entity_sets)
    for name in names:
        es = spec.entity_sets[name]
        props = spec.properties(es.entity_type)
        key = [p.name for p in es.key if p.name in props]
        if not props:
            continue
        columns = [column_for(p, primary_key=(len(key) == 1 and p.name in key)) for p in props.values()]
        if not key:
            # sets whose type has no key (Countries, Services): a hidden row number orders and keys them
            columns.append(sa.Column(ROW_NUMBER, sa.Integer, primary_key=True, autoincrement=True))
            key = [ROW_NUMBER]
        numbered = key == [ROW_NUMBER] or (len(key) == 1 and props[key[0]].kind == "int")
        # AUTOINCREMENT: like a database sequence, an id is never given again after a delete
        table = sa.Table(name, metadata, *columns, sqlite_autoincrement=numbered)
        alt = [[p.name for p in k] for k in es.alternate_keys]
        for cols in alt:
            sa.Index(f"ix_{name}_{'_'.join(cols)}", *[table.c[c] for c in cols])
        for prop in props.values():
            if prop.kind == "datetime":
                sa.Index(f"ix_{name}_{prop.name}", table.c[prop.name])
        tables[name] = EntityTable(name, es.entity_type, props, table, key, alt)
    return tables
