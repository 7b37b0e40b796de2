"""A ``$filter`` builder in which injection is impossible by construction.

Values only ever reach the text through :func:`py3cx.odata.literals.literal`, and property
names must match ``Name`` or ``Name/Sub``, so neither a value nor a name can add a clause::

    (F("LastName") == "O'Brien") & F("Number").startswith("1")
    # LastName eq 'O''Brien' and startswith(Number,'1')

Python's ``&`` binds tighter than ``==``: parenthesise each comparison. ``bool(expr)`` raises
``TypeError``, so ``a == 1 and b == 2`` (which would silently drop a clause) fails loudly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from py3cx.odata.literals import literal

__all__ = ["Expr", "F", "Operand", "and_", "date_of", "or_", "tolower", "toupper"]

_PROPERTY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:/[A-Za-z_][A-Za-z0-9_]*)*")
_VARIABLE_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# Binding strength of each node kind (higher binds tighter), after OData URL conventions §5.1.1.
_OR = 1
_AND = 2
_COMPARISON = 3
_NOT = 8
_ATOM = 9


# Names an OData parser reads as values (case-insensitive, as in the OData ABNF).
_LITERAL_WORDS = frozenset({"null", "true", "false", "inf", "nan"})


def check_property(name: object) -> str:
    """Return ``name`` if it is a property name or path (``Name``, ``Name/Sub``), else raise.

    Raises:
        ValueError: not letters, digits and ``_`` (not starting with a digit) joined by ``/``,
            or a segment that reads as a literal (``null``, ``true``...).
    """
    if not isinstance(name, str) or not _PROPERTY_RE.fullmatch(name):
        raise ValueError(f"not a property name or path (Name or Name/Sub): {name!r}")
    if any(segment.lower() in _LITERAL_WORDS for segment in name.split("/")):
        raise ValueError(f"a property cannot be named like an OData literal: {name!r}")
    return name


class Expr:
    """A boolean ``$filter`` expression; combine with ``&`` (and), ``|`` (or), ``~`` (not).

    ``str(expr)`` and ``expr.to_odata()`` give the filter text.
    """

    __slots__ = ("_precedence", "_text")

    def __init__(self, text: str, precedence: int) -> None:
        # Private: build expressions from F(...) and its operators, never from text.
        self._text = text
        self._precedence = precedence

    def to_odata(self) -> str:
        """The expression as ``$filter`` text (not yet URL-encoded).

        Example:
            >>> (F("Id") == 1).to_odata()
            'Id eq 1'
        """
        return self._text

    def _within(self, precedence: int) -> str:
        return self._text if self._precedence >= precedence else f"({self._text})"

    def __and__(self, other: Expr) -> Expr:
        return and_(self, other)

    def __or__(self, other: Expr) -> Expr:
        return or_(self, other)

    def __invert__(self) -> Expr:
        return Expr(f"not {self._within(_ATOM)}", _NOT)

    def __rand__(self, other: object) -> Expr:
        raise TypeError(_combine_error(other))

    __ror__ = __rand__

    def __bool__(self) -> bool:
        raise TypeError(
            "a filter expression has no truth value: combine with & | ~ instead of and/or/not, "
            "and parenthesise comparisons: (F('A') == 1) & (F('B') == 2)"
        )

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"Expr({self._text!r})"


def _combine_error(other: object) -> str:
    return (
        f"cannot combine a filter expression with {type(other).__name__}; "
        "parenthesise comparisons: (F('A') == 1) & (F('B') == 2)"
    )


def _join(operator: str, precedence: int, exprs: tuple[Expr, ...]) -> Expr:
    if not exprs:
        raise ValueError(f"{operator} needs at least one expression")
    for expr in exprs:
        if not isinstance(expr, Expr):
            raise TypeError(_combine_error(expr))
    if len(exprs) == 1:
        return exprs[0]
    # and/or are associative, so only a looser child needs parentheses.
    return Expr(f" {operator} ".join(e._within(precedence) for e in exprs), precedence)


def and_(*exprs: Expr) -> Expr:
    """All of ``exprs`` (``a and b and c``); one expression is returned as is.

    Raises:
        ValueError: no expression given.
        TypeError: an argument is not an ``Expr``.

    Example:
        >>> str(and_(F("A") == 1, F("B") == 2))
        'A eq 1 and B eq 2'
    """
    return _join("and", _AND, exprs)


def or_(*exprs: Expr) -> Expr:
    """Any of ``exprs`` (``a or b or c``); one expression is returned as is.

    Raises:
        ValueError: no expression given.
        TypeError: an argument is not an ``Expr``.

    Example:
        >>> str(or_(F("A") == 1, F("B") == 2))
        'A eq 1 or B eq 2'
    """
    return _join("or", _OR, exprs)


def _operand(value: object) -> Operand:
    return value if isinstance(value, Operand) else _Literal(literal(value))


class Operand:
    """A value inside a filter: a property (:class:`F`), a function of one, or a literal.

    Comparison operators give an :class:`Expr`; every plain value goes through ``literal()``.
    """

    __slots__ = ()

    def to_odata(self) -> str:
        """The operand as filter text, e.g. ``tolower(LastName)``."""
        raise NotImplementedError

    def _compare(self, operator: str, other: object) -> Expr:
        return Expr(f"{self.to_odata()} {operator} {_operand(other).to_odata()}", _COMPARISON)

    def __eq__(self, other: object) -> Expr:  # type: ignore[override]
        return self._compare("eq", other)

    def __ne__(self, other: object) -> Expr:  # type: ignore[override]
        return self._compare("ne", other)

    def __gt__(self, other: object) -> Expr:
        return self._compare("gt", other)

    def __ge__(self, other: object) -> Expr:
        return self._compare("ge", other)

    def __lt__(self, other: object) -> Expr:
        return self._compare("lt", other)

    def __le__(self, other: object) -> Expr:
        return self._compare("le", other)

    def is_null(self) -> Expr:
        """``X eq null``."""
        return self._compare("eq", None)

    def is_not_null(self) -> Expr:
        """``X ne null``."""
        return self._compare("ne", None)

    def _text_function(self, name: str, value: object) -> Expr:
        return Expr(f"{name}({self.to_odata()},{_operand(value).to_odata()})", _ATOM)

    def contains(self, value: object) -> Expr:
        """``contains(X,'value')``: the text contains ``value``.

        Example:
            >>> str(F("LastName").contains("O'B"))
            "contains(LastName,'O''B')"
        """
        return self._text_function("contains", value)

    def startswith(self, value: object) -> Expr:
        """``startswith(X,'value')``."""
        return self._text_function("startswith", value)

    def endswith(self, value: object) -> Expr:
        """``endswith(X,'value')``."""
        return self._text_function("endswith", value)

    def lower(self) -> Operand:
        """``tolower(X)``, to compare without case: ``F("Email").lower() == email.lower()``."""
        return tolower(self)

    def upper(self) -> Operand:
        """``toupper(X)``."""
        return toupper(self)

    def in_(self, values: Iterable[object]) -> Expr:
        """``X in ('a','b')``: the value is one of ``values``.

        A single value gives ``X eq 'a'`` (the same test, understood by every OData parser).

        Raises:
            ValueError: ``values`` is empty.
            TypeError: ``values`` is a str or bytes (a list of values was surely meant).

        Example:
            >>> str(F("Number").in_(["100", "101"]))
            "Number in ('100','101')"
        """
        if isinstance(values, (str, bytes)):
            raise TypeError("in_() takes a list of values, not a single str")
        items = [_operand(value).to_odata() for value in values]
        if not items:
            raise ValueError("in_() needs at least one value")
        if len(items) == 1:
            return Expr(f"{self.to_odata()} eq {items[0]}", _COMPARISON)
        return Expr(f"{self.to_odata()} in ({','.join(items)})", _COMPARISON)

    def __bool__(self) -> bool:
        raise TypeError("a filter operand has no truth value; compare it: F('CallAnswered') == True")

    def __str__(self) -> str:
        return self.to_odata()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.to_odata()!r})"


class _Literal(Operand):
    __slots__ = ("_text",)

    def __init__(self, text: str) -> None:
        self._text = text

    def to_odata(self) -> str:
        return self._text


class _Call(Operand):
    __slots__ = ("_argument", "_name")

    def __init__(self, name: str, argument: Operand) -> None:
        if not isinstance(argument, Operand):
            raise TypeError(f"{name}() takes a filter operand such as F('Name'), not {argument!r}")
        self._name = name
        self._argument = argument

    def to_odata(self) -> str:
        return f"{self._name}({self._argument.to_odata()})"


class F(Operand):
    """A property of the entity, by its wire name: ``F("LastName")``, ``F("Group/Name")``.

    Raises:
        ValueError: the name is not ``Name`` or ``Name/Sub`` (letters, digits, ``_``).

    Example:
        >>> str(F("LastName") == "O'Brien")
        "LastName eq 'O''Brien'"
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = check_property(name)

    def to_odata(self) -> str:
        return self.name

    def _lambda(self, operator: str, variable: str | None, condition: Expr | None) -> Expr:
        if variable is None and condition is None:
            return Expr(f"{self.name}/{operator}()", _ATOM)
        if not isinstance(variable, str) or not _VARIABLE_RE.fullmatch(variable):
            raise ValueError(f"lambda variable must be a name such as 'g': {variable!r}")
        if not isinstance(condition, Expr):
            raise TypeError(f"{operator}() needs a condition built with F(), such as F('g/Id') == 5")
        return Expr(f"{self.name}/{operator}({variable}:{condition.to_odata()})", _ATOM)

    def any(self, variable: str | None = None, condition: Expr | None = None) -> Expr:
        """``Groups/any(g:g/GroupId eq 5)``; without arguments, ``Groups/any()`` (not empty).

        Raises:
            ValueError: ``variable`` is not a plain name.
            TypeError: ``condition`` is not an ``Expr``.

        Example:
            >>> str(F("Groups").any("g", F("g/GroupId") == 5))
            'Groups/any(g:g/GroupId eq 5)'
        """
        return self._lambda("any", variable, condition)

    def all(self, variable: str, condition: Expr) -> Expr:
        """``Groups/all(g:g/Rights/RoleName eq 'users')``.

        Raises:
            ValueError: ``variable`` is not a plain name.
            TypeError: ``condition`` is not an ``Expr``.
        """
        return self._lambda("all", variable, condition)


def tolower(operand: Operand) -> Operand:
    """``tolower(X)``: ``tolower(F("EmailAddress")) == email.lower()``.

    Raises:
        TypeError: ``operand`` is not a filter operand (a str is refused: name or text?).
    """
    return _Call("tolower", operand)


def toupper(operand: Operand) -> Operand:
    """``toupper(X)``.

    Raises:
        TypeError: ``operand`` is not a filter operand.
    """
    return _Call("toupper", operand)


def date_of(operand: Operand) -> Operand:
    """OData's ``date(X)``, the date part of a date-time property.

    Raises:
        TypeError: ``operand`` is not a filter operand.

    Example:
        >>> str(date_of(F("SegmentStartTime")) >= datetime.date(2025, 3, 1))
        'date(SegmentStartTime) ge 2025-03-01'
    """
    return _Call("date", operand)
