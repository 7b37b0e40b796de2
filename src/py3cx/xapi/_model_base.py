"""What every generated XAPI model is made of: the base model, open enums, wire types.

Rules (DESIGN.md decision 2):

- **Lenient.** A model keeps properties it does not know (``extra="allow"``), and every property
  is optional with ``None`` as default: a PBX leaves null properties out and ``$select`` returns
  a subset, so a missing property must never be an error.
- **Wire names.** Fields carry the PBX's names (``FirstName``); the few names that cannot be Python
  attributes (``@odata.count``) get an alias, and both forms are accepted (``populate_by_name``).
- **Open enums.** :class:`OpenEnum` is a ``str`` enum that accepts members it does not know: a
  newer PBX may send ``Pbx.PeerType'Bridge2'`` and the value is kept, not rejected. Unknown
  members compare equal to their text and serialise back unchanged.
- **Times.** ``format: duration`` properties are ``timedelta`` (ISO 8601 ``PT1M16.46S`` on the
  wire, parsed by :func:`py3cx._durations.parse_duration`); ``date-time`` properties are aware
  ``datetime`` (``...Z`` on the wire; a zone-less value is read as UTC).
- **Writing back.** :func:`to_wire` turns a model (only the fields that were set), a list or a
  plain value into JSON-ready data; PATCH bodies therefore carry only what the caller changed.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer

from py3cx._durations import format_datetime_utc, format_iso_duration, parse_datetime, parse_duration

__all__ = ["IsoDuration", "OpenEnum", "UtcDateTime", "XapiModel", "to_wire"]


class XapiModel(BaseModel):
    """Base of every generated XAPI model: lenient, wire-named, built on first use.

    Example: ``User(FirstName="Ann").model_dump(exclude_unset=True) == {"FirstName": "Ann"}``.
    """

    # defer_build: 597 models are created at import, but each builds its validator only when
    # first used, which keeps the first `client.xapi.<resource>` access fast.
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
        defer_build=True,
        use_enum_values=False,
        protected_namespaces=(),
    )

    def __repr_args__(self) -> Any:
        # A User has ~90 properties; show the ones that hold something.
        for name, value in super().__repr_args__():
            if value is not None:
                yield name, value

    def to_wire(self) -> dict[str, Any]:
        """The JSON body for this model: wire names, only the fields that were set.

        Example: ``User(FirstName="Ann").to_wire() == {"FirstName": "Ann"}``.
        """
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


class OpenEnum(str, enum.Enum):
    """A string enum that keeps values it does not know instead of rejecting them.

    ``PeerType("Bridge2")`` returns a pseudo-member whose ``value`` and ``name`` are
    ``"Bridge2"``; it is not added to the class, equals ``"Bridge2"`` and serialises as such.

    Example: ``PeerType("Bridge2") == "Bridge2"``.
    """

    @classmethod
    def _missing_(cls, value: object) -> OpenEnum | None:
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = value
        member._value_ = value
        return member

    def __str__(self) -> str:
        return str(self.value)

    @property
    def is_known(self) -> bool:
        """False for a value the spec did not list (a newer PBX's member).

        Example: ``PeerType("Bridge2").is_known is False``.
        """
        return self._name_ in type(self).__members__


def _duration_in(value: Any) -> Any:
    if isinstance(value, str):
        return parse_duration(value)
    return value


def _duration_out(value: timedelta) -> str:
    return format_iso_duration(value)


def _datetime_in(value: Any) -> Any:
    if isinstance(value, str):
        return parse_datetime(value, default_tz=timezone.utc)
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def _datetime_out(value: datetime) -> str:
    return format_datetime_utc(value)


#: ``timedelta`` read from and written as an ISO 8601 duration (``PT1M16.46S``).
IsoDuration = Annotated[
    timedelta, BeforeValidator(_duration_in), PlainSerializer(_duration_out, when_used="json")
]
#: Aware ``datetime`` read from any ISO 8601 form and written in UTC with ``Z``.
UtcDateTime = Annotated[
    datetime, BeforeValidator(_datetime_in), PlainSerializer(_datetime_out, when_used="json")
]


def to_wire(value: Any) -> Any:
    """Turn a value given to a typed method into JSON-ready data for a request body.

    Models give only the fields that were set (wire names); enums give their value; datetimes
    become UTC ``...Z`` text (a naive one is refused); timedeltas become ISO 8601 durations;
    lists, tuples, sets and mappings are converted item by item.

    Raises:
        ValueError: a naive ``datetime`` (its zone is unknown).
        TypeError: a value with no JSON form.

    Example: ``to_wire([timedelta(minutes=1)]) == ["PT1M"]``.
    """
    if value is None or (isinstance(value, (bool, int, float, str)) and not isinstance(value, enum.Enum)):
        return value
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    if isinstance(value, enum.Enum):
        return to_wire(value.value)
    if isinstance(value, datetime):
        return format_datetime_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return format_iso_duration(value)
    if isinstance(value, (UUID, Decimal)):
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): to_wire(item) for key, item in value.items()}
    if isinstance(value, (Sequence, AbstractSet)) and not isinstance(value, (bytes, bytearray)):
        return [to_wire(item) for item in value]
    raise TypeError(f"no JSON form for a value of type {type(value).__name__}")
