"""OData query options (``$filter``, ``$select``, ``$orderby``, ``$top``, ``$skip``, ``$count``,
``$search``, ``$expand``) read from a raw query string and applied to an entity table.

The query string is split the way the PBX's web stack (ASP.NET Core) does: on ``&`` and the
first ``=``, then ``+`` becomes a space and percent escapes are decoded, so a literal plus must
be sent as ``%2B`` (BEHAVIOUR.md §3). ``$filter`` goes through
odata-query's SQLAlchemy Core visitor, extended so that date-times, ``date()`` and
durations compare correctly against the storage forms described in ``store.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta, timezone
from typing import Any
from urllib.parse import unquote

import sqlalchemy as sa
from odata_query import ast as odata_ast
from odata_query import exceptions as odata_exc
from odata_query.grammar import ODataLexer, ODataParser
from odata_query.sqlalchemy.core import AstToSqlAlchemyCoreVisitor

from .errors import XapiError, bad_request
from .literals import split_top
from .store import EntityTable, datetime_to_storage

_KNOWN_OPTIONS = {
    "$filter",
    "$select",
    "$orderby",
    "$top",
    "$skip",
    "$count",
    "$search",
    "$expand",
    "$format",
}


@dataclass
class ExpandItem:
    """One ``$expand`` entry with its nested options: ``Groups($select=Name;$expand=Rights;$top=1)``."""

    name: str
    options: QueryOptions = field(default_factory=lambda: QueryOptions())

    @property
    def select(self) -> list[str] | None:
        return self.options.select


@dataclass
class QueryOptions:
    """The parsed system query options of one request."""

    filter: str | None = None
    select: list[str] | None = None
    orderby: list[tuple[str, bool]] = field(default_factory=list)  # (property, descending)
    top: int | None = None
    skip: int = 0
    count: bool = False
    search: str | None = None
    expand: list[ExpandItem] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)  # non-$ parameters, kept for handlers


def split_query_string(raw: bytes | str) -> list[tuple[str, str]]:
    """Split a raw query string into (name, value) pairs; ``%20`` and ``+`` are spaces, ``%2B`` a plus.

    Example: ``split_query_string(b"$top=5&$filter=Number+eq+'1%2B2'")``.
    """
    text = raw.decode("latin-1") if isinstance(raw, bytes) else raw
    pairs: list[tuple[str, str]] = []
    for part in text.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append((_decode(name), _decode(value)))
    return pairs


def _decode(text: str) -> str:
    # ASP.NET Core decodes a query value as a form value: '+' is a space before %XX is decoded
    plain = text.encode("latin-1").decode("utf-8", errors="replace").replace("+", " ")
    return unquote(plain, errors="replace")


def _comma_list(value: str) -> list[str]:
    try:
        return [v.strip() for v in split_top(value, ",") if v.strip()]
    except ValueError:
        raise bad_request(f"The query option value '{value[:60]}' is not valid.") from None


def _non_negative(name: str, value: str) -> int:
    if not value.isdigit():
        raise bad_request(
            f"Invalid value '{value[:40]}' for {name} query option found. It must be a non-negative integer."
        )
    return int(value)


def parse_query_options(raw: bytes | str) -> QueryOptions:
    """Parse the query string of a request. Raises XapiError(400) for a bad or unknown ``$`` option.

    Example: ``parse_query_options(b"$top=10&$orderby=Number%20desc").orderby == [("Number", True)]``.
    """
    opts = QueryOptions()
    seen: set[str] = set()
    for name, value in split_query_string(raw):
        if not name.startswith("$"):
            opts.extra[name] = value
            continue
        _set_option(opts, name, value, seen)
    return opts


def _set_option(opts: QueryOptions, name: str, value: str, seen: set[str], nested: bool = False) -> None:
    lowered = name.lower()
    if lowered not in _KNOWN_OPTIONS or (nested and lowered == "$format"):
        where = " in $expand" if nested else ""
        raise bad_request(f"The query parameter '{name}' is not supported{where}.")
    if lowered in seen:
        raise bad_request(
            f"Query option '{name}' was specified more than once, but it must be specified at most once."
        )
    seen.add(lowered)
    if lowered == "$filter":
        opts.filter = value
    elif lowered == "$select":
        opts.select = _comma_list(value)
    elif lowered == "$orderby":
        opts.orderby = parse_orderby(value)
    elif lowered == "$top":
        opts.top = _non_negative(name, value)
    elif lowered == "$skip":
        opts.skip = _non_negative(name, value)
    elif lowered == "$count":
        if value not in ("true", "false"):
            raise bad_request(f"'{value[:40]}' is not a valid count option.")
        opts.count = value == "true"
    elif lowered == "$search":
        opts.search = value
    elif lowered == "$expand":
        opts.expand = [_expand_item(v) for v in _comma_list(value)]


_ORDERBY_NAME = re.compile(r"[A-Za-z_]\w*(?:/[A-Za-z_]\w*)*")
_ORDERBY_DIRECTION = re.compile(r"\s+(asc|desc)\b")


def parse_orderby(text: str) -> list[tuple[str, bool]]:
    """``Number desc,LastName`` → ``[("Number", True), ("LastName", False)]``. Raises XapiError(400)
    naming the position of the first thing that is not ``Property [asc|desc]``, as ODataLib does.

    Example: ``parse_orderby("Number desc")``.
    """

    def refuse(position: int) -> XapiError:
        what = "Expression expected" if position >= len(text) or text[position] == "," else "Syntax error"
        return bad_request(f"{INVALID_QUERY}{what} at position {position} in '{text}'.")

    items: list[tuple[str, bool]] = []
    at = 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        name = _ORDERBY_NAME.match(text, at)
        if name is None:
            raise refuse(at)
        at = name.end()
        direction = _ORDERBY_DIRECTION.match(text, at)
        if direction is not None:
            at = direction.end()
        items.append((name.group(0), direction is not None and direction.group(1) == "desc"))
        while at < len(text) and text[at].isspace():
            at += 1
        if at == len(text):
            return items
        if text[at] != ",":
            raise refuse(at)
        at += 1


_EXPAND_NAME = re.compile(r"[A-Za-z_]\w*")


def _expand_item(text: str) -> ExpandItem:
    # Name or Name(option=value;option=value...), options nested to any depth (OData v4 §5.1.2)
    name, paren, rest = text.partition("(")
    name = name.strip()
    if "/" in name:
        raise bad_request(
            f"Multi-level $expand '{text[:60]}' is not supported; nest it: {name.split('/')[0]}($expand=…)."
        )
    if not _EXPAND_NAME.fullmatch(name) or (paren and not rest.rstrip().endswith(")")):
        raise bad_request(f"Syntax error in $expand at '{text[:60]}'.")
    item = ExpandItem(name)
    if not paren:
        return item
    inner = rest.rstrip()[:-1]
    try:
        parts = split_top(inner, ";")
    except ValueError:
        raise bad_request(f"Syntax error in $expand at '{text[:60]}'.") from None
    seen: set[str] = set()
    for part in parts:
        if not part.strip():
            continue
        option, equals, value = part.partition("=")
        if not equals or not option.strip().startswith("$"):
            raise bad_request(f"Syntax error in $expand at '{part.strip()[:60]}'.")
        _set_option(item.options, option.strip(), value.strip(), seen, nested=True)
    return item


class _FilterVisitor(AstToSqlAlchemyCoreVisitor):
    """odata-query's Core visitor, taught the emulator's storage forms."""

    def __init__(self, entity: EntityTable) -> None:
        super().__init__(entity.table)  # type: ignore[arg-type]  # the stub asks for a type, wrongly
        self.entity = entity

    def visit_Identifier(self, node: odata_ast.Identifier) -> Any:
        prop = self.entity.props.get(node.name)
        if prop is None:
            raise self.entity.unknown_property(node.name)
        if prop.kind == "json":
            raise bad_request(f"The property '{node.name}' cannot be used in $filter.")
        return self.entity.table.c[node.name]

    def visit_Compare(self, node: odata_ast.Compare) -> Any:
        # date(X) op 2025-03-01 becomes a range on X itself, so the index on X is used
        left, right = node.left, node.right
        if (
            isinstance(left, odata_ast.Call)
            and left.func.name.lower() == "date"
            and len(left.args) == 1
            and isinstance(left.args[0], odata_ast.Identifier)
            and isinstance(right, odata_ast.Date)
            and self.entity.props.get(left.args[0].name, None) is not None
            and self.entity.props[left.args[0].name].kind == "datetime"
        ):
            column = self.visit(left.args[0])
            try:
                day = right.py_val
            except ValueError:
                raise bad_request(f"'{right.val}' is not a valid Edm.Date.") from None
            start = day.isoformat()
            following = (day + timedelta(days=1)).isoformat()
            op = node.comparator
            if isinstance(op, odata_ast.Eq):
                return sa.and_(column >= start, column < following)
            if isinstance(op, odata_ast.NotEq):
                return sa.or_(column < start, column >= following)
            if isinstance(op, odata_ast.Lt):
                return column < start
            if isinstance(op, odata_ast.LtE):
                return column < following
            if isinstance(op, odata_ast.Gt):
                return column >= following
            if isinstance(op, odata_ast.GtE):
                return column >= start
        return super().visit_Compare(node)

    def visit_DateTime(self, node: odata_ast.DateTime) -> Any:
        value = node.py_val
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return sa.literal(datetime_to_storage(value))

    def visit_Date(self, node: odata_ast.Date) -> Any:
        return sa.literal(node.py_val.isoformat())

    def visit_Duration(self, node: odata_ast.Duration) -> Any:
        return sa.literal(node.py_val.total_seconds())

    def visit_GUID(self, node: odata_ast.GUID) -> Any:
        return sa.literal(str(node.val).lower())

    def func_date(self, field: odata_ast._Node) -> Any:
        return sa.func.date(self.visit(field))

    def func_time(self, field: odata_ast._Node) -> Any:
        return sa.func.time(self.visit(field))

    def _part(self, fmt: str, field: odata_ast._Node) -> Any:
        return sa.cast(sa.func.strftime(fmt, self.visit(field)), sa.Integer)

    def func_year(self, field: odata_ast._Node) -> Any:
        return self._part("%Y", field)

    def func_month(self, field: odata_ast._Node) -> Any:
        return self._part("%m", field)

    def func_day(self, field: odata_ast._Node) -> Any:
        return self._part("%d", field)

    def func_hour(self, field: odata_ast._Node) -> Any:
        return self._part("%H", field)

    def func_minute(self, field: odata_ast._Node) -> Any:
        return self._part("%M", field)

    def func_second(self, field: odata_ast._Node) -> Any:
        return self._part("%S", field)

    # case-sensitive, wildcard-free substring tests (LIKE would treat % and _ as patterns)
    def func_contains(self, field: odata_ast._Node, substr: odata_ast._Node) -> Any:
        return sa.func.instr(self.visit(field), self.visit(substr)) > 0

    def func_startswith(self, field: odata_ast._Node, substr: odata_ast._Node) -> Any:
        value = self.visit(substr)
        return sa.func.substr(self.visit(field), 1, sa.func.length(value)) == value

    def func_endswith(self, field: odata_ast._Node, substr: odata_ast._Node) -> Any:
        value = self.visit(substr)
        return sa.func.substr(self.visit(field), -sa.func.length(value)) == value

    def func_indexof(self, field: odata_ast._Node, substr: odata_ast._Node) -> Any:
        return sa.func.instr(self.visit(field), self.visit(substr)) - 1

    def func_length(self, field: odata_ast._Node) -> Any:
        return sa.func.length(self.visit(field))


#: how ASP.NET Core OData introduces every query option it cannot read
INVALID_QUERY = "The query specified in the URI is not valid. "


def filter_clause(entity: EntityTable, text: str) -> Any:
    """Compile a ``$filter`` expression to a SQLAlchemy clause. Raises XapiError(400) when invalid,
    worded as the PBX's OData library words it (:func:`filter_syntax_message`).

    Example: ``filter_clause(users, "LastName eq 'O''Brien'")``.
    """
    try:
        tree = ODataParser().parse(ODataLexer().tokenize(text))
        return _FilterVisitor(entity).visit(tree)
    except XapiError:
        raise
    except (
        odata_exc.ODataException,
        NotImplementedError,
        TypeError,
        ValueError,
        AttributeError,
        OverflowError,  # date(X) gt 9999-12-31 has no next day
    ) as exc:
        raise bad_request(INVALID_QUERY + filter_syntax_message(text, exc)) from None


def _word_start(text: str, index: int) -> int:
    while index > 0 and (text[index - 1].isalnum() or text[index - 1] in "_."):
        index -= 1
    return index


def filter_syntax_message(text: str, exc: Exception) -> str:
    """The message ODataLib gives for a ``$filter`` that odata-query could not read: a position
    (0-based, as ODataLib counts) and the whole text, never a tokenizer's repr.

    Example: ``filter_syntax_message("LastName eq O'Brien", exc)`` is
    ``"Syntax error at position 12 in 'LastName eq O'Brien'."``.
    """
    if isinstance(exc, odata_exc.TokenizingException):
        index = int(exc.token.index)
        bad = str(exc.token.value)[:1]
        if bad == "'":
            start = _word_start(text, index)
            if start < index:
                # O'Brien: ODataLib reads a word glued to a quote as a typed literal, and fails there
                return f"Syntax error at position {start} in '{text}'."
            return f"There is an unterminated string literal at position {len(text)} in '{text}'."
        return f"Syntax error: character '{bad}' is not valid at position {index} in '{text}'."
    if isinstance(exc, odata_exc.ParsingException):
        if exc.token is None or exc.eof:
            return f"Expression expected at position {len(text)} in '{text}'."
        index = int(exc.token.index)
        # the parser stops on the blank before a word it did not expect: point at the word
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            return f"Expression expected at position {len(text)} in '{text}'."
        return f"Syntax error at position {index} in '{text}'."
    if isinstance(exc, odata_exc.UnknownFunctionException):
        return (
            f"An unknown function with name '{exc.function_name}' was found. This may also be a "
            "function import or a key lookup on a navigation property, which is not allowed."
        )
    return str(exc)


def _search_clause(entity: EntityTable, term: str) -> Any:
    term = term.strip().strip('"')
    needle = sa.literal(term.lower())
    columns = [entity.table.c[p.name] for p in entity.scalar_props if p.kind in ("str", "enum")]
    if not columns or not term:
        return sa.true()
    return sa.or_(*[sa.func.instr(sa.func.lower(c), needle) > 0 for c in columns])


def check_select(entity: EntityTable, names: list[str]) -> list[str]:
    """Validate ``$select`` names and return the scalar columns to send. Raises XapiError(400)."""
    out: list[str] = []
    for name in names:
        if name == "*":
            return [p.name for p in entity.scalar_props]
        prop = entity.props.get(name)
        if prop is None:
            raise entity.unknown_property(name)
        if not prop.navigation and name not in out:
            out.append(name)
    return out


def check_expand(entity: EntityTable, items: list[ExpandItem]) -> list[ExpandItem]:
    """Validate ``$expand`` names (navigation properties only). Raises XapiError(400)."""
    for item in items:
        prop = entity.props.get(item.name)
        if prop is None or not prop.navigation:
            raise bad_request(
                f"Property '{item.name}' on type '{entity.type_name}' is not a navigation property "
                "or complex property. Only navigation properties can be expanded."
            )
    return items


def build_select(entity: EntityTable, opts: QueryOptions, base_where: Any = None) -> tuple[Any, Any]:
    """The (rows, count) SQL statements for a collection request. Raises XapiError(400).

    Example: ``rows_sql, count_sql = build_select(users, parse_query_options(b"$top=5"))``.
    """
    table = entity.table
    conditions = []
    if base_where is not None:
        conditions.append(base_where)
    if opts.filter:
        conditions.append(filter_clause(entity, opts.filter))
    if opts.search:
        conditions.append(_search_clause(entity, opts.search))
    where = sa.and_(*conditions) if conditions else None

    rows_sql = sa.select(table)
    count_sql = sa.select(sa.func.count()).select_from(table)
    if where is not None:
        rows_sql = rows_sql.where(where)
        count_sql = count_sql.where(where)
    order = []
    for name, desc in opts.orderby:
        prop = entity.props.get(name)
        if prop is None:
            raise entity.unknown_property(name)
        if prop.kind == "json":
            raise bad_request(f"The property '{name}' cannot be used in the $orderby query option.")
        order.append(table.c[name].desc() if desc else table.c[name].asc())
    order.extend(table.c[k].asc() for k in entity.key if k not in {n for n, _ in opts.orderby})
    rows_sql = rows_sql.order_by(*order)
    if opts.skip:
        rows_sql = rows_sql.offset(opts.skip)
    if opts.top is not None:
        rows_sql = rows_sql.limit(opts.top)
    return rows_sql, count_sql
