"""OData query options (``$filter``, ``$select``, ``$top``...) as a URL query string.

Option names keep their ``$``. Values are percent-encoded with :func:`encode_query_value`:
everything except ASCII letters, digits, ``-._~`` and ``'(),:/$*@`` is encoded, so ``&``, ``=``,
``#``, ``+``, ``%``, ``;``, ``?``, spaces (always ``%20``: ASP.NET Core, the PBX's web stack,
reads ``+`` as a space too, but ``%20`` means a space to every server), control characters and
non-ASCII text (as UTF-8) can never change how the query string is split or read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from urllib.parse import quote

from py3cx.odata.filter import Expr, check_property

__all__ = ["build_query", "encode_query_value", "query_params"]

_QUERY_SAFE = "'(),:/$*@"
_PATH_RE = r"[A-Za-z_][A-Za-z0-9_]*(?:/[A-Za-z_][A-Za-z0-9_]*)*"
_ORDERBY_ITEM_RE = re.compile(rf"({_PATH_RE})(?:\s+(asc|desc))?", re.IGNORECASE)
# Nested options are free text here; encoding keeps them inside their own parameter.
_EXPAND_ITEM_RE = re.compile(rf"\*|{_PATH_RE}(?:\(.*\))?", re.DOTALL)
_OPTION_NAMES = ("$filter", "$select", "$expand", "$orderby", "$top", "$skip", "$count", "$search")


def encode_query_value(text: str) -> str:
    """Percent-encode ``text`` for use as one query-string value (see the module docstring).

    Raises:
        ValueError: the text cannot be written as UTF-8 (a lone surrogate).

    Example:
        >>> encode_query_value("LastName eq 'A&B'")
        "LastName%20eq%20'A%26B'"
    """
    try:
        return quote(text, safe=_QUERY_SAFE)
    except UnicodeEncodeError:
        raise ValueError("query text holds a character that has no UTF-8 form (a lone surrogate)") from None


def _items(option: str, value: str | Sequence[str]) -> list[str]:
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, Sequence):
        items = list(value)
    else:
        raise TypeError(f"{option} takes a str or a sequence of str, not {type(value).__name__}")
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"{option} items must be str, not {type(item).__name__}")
    items = [item.strip() for item in items]
    if not items or not all(items):
        raise ValueError(f"{option} has an empty item: {value!r}")
    return items


def _select(option: str, value: str | Sequence[str]) -> str:
    items = _items(option, value)
    for item in items:
        if item != "*":
            check_property(item)
    return ",".join(items)


def _expand(value: str | Sequence[str]) -> str:
    # A str may hold nested options with commas inside parentheses: keep it whole.
    items = [value.strip()] if isinstance(value, str) else _items("$expand", value)
    for item in items:
        if not _EXPAND_ITEM_RE.fullmatch(item):
            raise ValueError(f"$expand item is not a navigation property (with options): {item!r}")
    return ",".join(items)


def _orderby(value: str | Sequence[str]) -> str:
    clauses = []
    for item in _items("$orderby", value):
        match = _ORDERBY_ITEM_RE.fullmatch(item)
        if match is None:
            raise ValueError(f"$orderby item must be 'Property', 'Property asc' or 'Property desc': {item!r}")
        name, direction = match.groups()
        check_property(name)
        clauses.append(f"{name} {direction.lower()}" if direction else name)
    return ",".join(clauses)


def _count(option: str, value: int) -> str:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{option} takes an int, not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{option} cannot be negative: {value}")
    return str(value)


def _filter(value: Expr | str) -> str:
    if isinstance(value, Expr):
        return value.to_odata()
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("$filter is empty")
        return value
    raise TypeError(f"$filter takes an Expr (F('Name') == 'x') or a str, not {type(value).__name__}")


def query_params(
    *,
    filter: Expr | str | None = None,
    select: str | Sequence[str] | None = None,
    expand: str | Sequence[str] | None = None,
    orderby: str | Sequence[str] | None = None,
    top: int | None = None,
    skip: int | None = None,
    count: bool | None = None,
    search: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> list[tuple[str, str]]:
    """The query options as ``(name, encoded value)`` pairs, in a fixed order, ``None`` left out.

    Takes the same arguments as :func:`build_query`; the values are already percent-encoded.

    Raises:
        ValueError, TypeError: as :func:`build_query`.

    Example:
        >>> query_params(top=10, orderby="StartTime desc")
        [('$orderby', 'StartTime%20desc'), ('$top', '10')]
    """
    raw: list[tuple[str, str]] = []
    if filter is not None:
        raw.append(("$filter", _filter(filter)))
    if select is not None:
        raw.append(("$select", _select("$select", select)))
    if expand is not None:
        raw.append(("$expand", _expand(expand)))
    if orderby is not None:
        raw.append(("$orderby", _orderby(orderby)))
    if top is not None:
        raw.append(("$top", _count("$top", top)))
    if skip is not None:
        raw.append(("$skip", _count("$skip", skip)))
    if count is not None:
        if not isinstance(count, bool):
            raise TypeError(f"$count takes a bool, not {type(count).__name__}")
        raw.append(("$count", "true" if count else "false"))
    if search is not None:
        if not isinstance(search, str) or not search.strip():
            raise ValueError(f"$search takes non-empty text, not {search!r}")
        raw.append(("$search", search))
    pairs = [(name, encode_query_value(value)) for name, value in raw]
    for name, value in (extra or {}).items():
        if not isinstance(name, str) or not name or not isinstance(value, str):
            raise TypeError(f"extra query parameters must be non-empty str names with str values: {name!r}")
        if name in _OPTION_NAMES:
            raise ValueError(f"{name} is a query option: pass it as its keyword argument, not in extra")
        pairs.append((quote(name, safe="$@"), encode_query_value(value)))
    return pairs


def build_query(
    *,
    filter: Expr | str | None = None,
    select: str | Sequence[str] | None = None,
    expand: str | Sequence[str] | None = None,
    orderby: str | Sequence[str] | None = None,
    top: int | None = None,
    skip: int | None = None,
    count: bool | None = None,
    search: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> str:
    """Build the query string of an XAPI request (without the leading ``?``; ``""`` if empty).

    ``filter`` is an :class:`~py3cx.odata.filter.Expr` or raw filter text; ``select``,
    ``expand`` and ``orderby`` take a str or a sequence (comma-joined), ``orderby`` items being
    ``Name``, ``Name asc`` or ``Name desc``; ``extra`` adds other parameters as given.

    Raises:
        ValueError: an empty filter or item, a ``$select``/``$orderby`` item that is not a
            property name, a negative ``top``/``skip``, an ``extra`` name that is a query
            option, or text with no UTF-8 form.
        TypeError: an argument of the wrong type (``top=True``, ``count=1``...).

    Example:
        >>> build_query(filter=F("Number") == "100", top=10, count=True)
        "$filter=Number%20eq%20'100'&$top=10&$count=true"
    """
    pairs = query_params(
        filter=filter,
        select=select,
        expand=expand,
        orderby=orderby,
        top=top,
        skip=skip,
        count=count,
        search=search,
        extra=extra,
    )
    return "&".join(f"{name}={value}" for name, value in pairs)
