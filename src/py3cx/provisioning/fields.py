"""Checking and normalising the values of a provisioning file: DN numbers, e-mail addresses, external
phone numbers, whole numbers. Pure functions; each raises :class:`ValueError` with a message
written for the person who typed the cell.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from py3cx._exceptions import ConfigError
from py3cx._extras import require

if TYPE_CHECKING:
    from py3cx.provisioning.source import SourceRow

T = TypeVar("T")

__all__ = [
    "Column",
    "ColumnMap",
    "canonical",
    "cells_by_field",
    "checked",
    "dn_number",
    "email_address",
    "external_number",
    "header_map",
    "number_list",
    "same_external_number",
    "whole_number",
]

_DN_NUMBER = re.compile(r"\d{1,10}")
_SEPARATORS = re.compile(r"[\s,;]+")


def canonical(title: str) -> str:
    """A header as compared: lower case, letters and digits only ("E-mail address" -> "emailaddress")."""
    return re.sub(r"[^a-z0-9]", "", title.lower())


def dn_number(text: str) -> str:
    """A DN number (extension, queue) as the PBX stores it: digits only, leading zeros kept.

    Raises ValueError for anything else. Example: ``dn_number(" 0336 ") == "0336"``.
    """
    value = text.strip()
    if not _DN_NUMBER.fullmatch(value):
        raise ValueError(f"{text!r} is not a DN number (digits only, e.g. 101 or 0336)")
    return value


def email_address(text: str) -> str:
    """A syntactically valid e-mail address, normalised (the domain in lower case); nothing is looked up.

    Raises ValueError for an invalid address.
    Example: ``email_address("Ann@Example.COM") == "Ann@example.com"``.
    """
    require("cli", "email_validator", what="checking e-mail addresses")
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(text.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"{text!r} is not a valid e-mail address ({exc})") from None


def external_number(text: str, region: str | None = None) -> str:
    """An external phone number in E.164 form (``+442079460000``).

    ``region`` (ISO 3166 code such as ``"GB"``) is the country of numbers written without ``+``.
    Raises ValueError when the number cannot be read or cannot exist.
    Example: ``external_number("020 7946 0000", "GB") == "+442079460000"``.
    """
    require("cli", "phonenumbers", what="checking phone numbers")
    import phonenumbers

    try:
        parsed = phonenumbers.parse(text, region.upper() if region else None)
    except phonenumbers.NumberParseException:
        hint = "" if region else "; write it as +<country code>..., or give the region of local numbers"
        raise ValueError(f"{text!r} is not a phone number{hint}") from None
    if not phonenumbers.is_possible_number(parsed):
        raise ValueError(f"{text!r} cannot be a phone number (wrong length for its country)")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def same_external_number(current: object, wanted: str, region: str | None = None) -> bool:
    """True when the PBX's stored value is the same number as ``wanted`` (E.164), however it is written."""
    if not isinstance(current, str) or not current:
        return False
    try:
        return external_number(current, region) == wanted
    except ValueError:
        return current == wanted


def whole_number(text: str, *, minimum: int = 0, maximum: int = 2_147_483_647) -> int:
    """A whole number within bounds (``"20"`` -> 20). Raises ValueError otherwise.

    Example: ``whole_number("20", minimum=1)``.
    """
    try:
        value = int(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None
    if not minimum <= value <= maximum:
        raise ValueError(f"{value} is out of range ({minimum}..{maximum})")
    return value


def number_list(text: str) -> list[str]:
    """DN numbers separated by spaces, commas or semicolons, in order, without repeats.

    Raises ValueError naming the first entry that is not a number. Example: ``number_list("101, 102 101")``.
    """
    numbers: dict[str, None] = {}
    for part in _SEPARATORS.split(text.strip()):
        if part:
            numbers.setdefault(dn_number(part), None)
    return list(numbers)


@dataclass(frozen=True)
class Column:
    """A column a provisioning file may have: its field name and the headers that mean it.

    Example: ``Column("EmailAddress", ("email", "e-mail", "email address"))``.
    """

    field: str
    aliases: Sequence[str] = ()


class ColumnMap:
    """Which header of a file holds which field; headers are matched loosely ("E-mail" = "email").

    Raises ValueError (from :meth:`resolve`) for a header that matches no column, since a typo
    would otherwise silently leave a field unmanaged.
    Example: ``ColumnMap(USER_COLUMNS).resolve(["Email", "Ext"])``.
    """

    def __init__(self, columns: Sequence[Column]) -> None:
        self.columns = columns
        self._by_alias: dict[str, str] = {}
        for column in columns:
            for alias in (column.field, *column.aliases):
                self._by_alias[canonical(alias)] = column.field

    def resolve(self, headers: Sequence[str]) -> dict[str, str]:
        """Map each header of the file to its field. Raises ValueError for unknown or doubled fields."""
        mapping: dict[str, str] = {}
        taken: dict[str, str] = {}
        for header in headers:
            field = self._by_alias.get(canonical(header))
            if field is None:
                known = ", ".join(c.field for c in self.columns)
                raise ValueError(f"unknown column {header!r} (known columns: {known})")
            if field in taken:
                raise ValueError(f"columns {taken[field]!r} and {header!r} both mean {field}")
            taken[field] = header
            mapping[header] = field
        return mapping


def cells_by_field(values: Mapping[str, str], mapping: Mapping[str, str]) -> dict[str, str]:
    """A row's non-blank cells by field name (``mapping`` from :func:`header_map`)."""
    return {mapping[header]: text for header, text in values.items() if header in mapping and text}


def header_map(rows: Sequence[SourceRow], columns: Sequence[Column]) -> dict[str, str]:
    """Each header of the rows mapped to its field. Raises ConfigError for an unknown header."""
    headers: dict[str, None] = {}
    for row in rows:
        headers.update(dict.fromkeys(row.values))
    try:
        return ColumnMap(columns).resolve(list(headers))
    except ValueError as exc:
        raise ConfigError(str(exc), hint="rename the column, or remove it from the file") from None


def checked(problems: list[str], what: str, check: Callable[[], T]) -> T | None:
    """Run one check; on ValueError note "<what>: <message>" in ``problems`` and return None."""
    try:
        return check()
    except ValueError as exc:
        problems.append(f"{what}: {exc}")
        return None
