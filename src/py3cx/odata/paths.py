"""Key, function and action paths of the XAPI, ready to put in a URL path.

Literals come from :func:`py3cx.odata.literals.literal` and are then percent-encoded with
:func:`encode_path_literal`: every character except ASCII letters, digits, ``-._~`` and the
quote ``'`` and colon ``:`` is encoded as UTF-8 ``%XX``. So ``/`` (``%2F``), ``?``, ``#``,
``%``, space (``%20``), ``(``, ``)``, ``,``, ``=``, ``&``, ``+``, ``;``, ``$``, ``@``, control
characters and non-ASCII text never leave the literal or change the path's meaning, while dates
(``2025-03-13T23:00:00.000Z``), numbers and quoted strings stay readable.

The names (entity sets, functions, argument names) are checked, never encoded: a name that is
not an identifier raises ``ValueError``.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from py3cx.odata.literals import literal

__all__ = ["action_path", "encode_path_literal", "function_path", "key_path"]

_PATH_SAFE = "':"
_IDENTIFIER_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_QUALIFIED_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_SEGMENT = r"[A-Za-z_][A-Za-z0-9_.]*(?:\([^/?#\s()]*\))?"
# A bound path: segments such as Users, Users(42), ReportX, Users(Number='100%2F1'), Defs.
_BOUND_PATH_RE = re.compile(rf"{_SEGMENT}(?:/{_SEGMENT})*")


def encode_path_literal(text: str) -> str:
    """Percent-encode one literal for a URL path (see the module docstring for the characters).

    Raises:
        ValueError: the text cannot be written as UTF-8 (a lone surrogate).

    Example:
        >>> encode_path_literal("'0336 0337'")
        "'0336%200337'"
    """
    try:
        return quote(text, safe=_PATH_SAFE)
    except UnicodeEncodeError:
        raise ValueError("path literal holds a character that has no UTF-8 form (a lone surrogate)") from None


def _check(kind: str, name: object, pattern: re.Pattern[str]) -> str:
    if not isinstance(name, str) or not pattern.fullmatch(name):
        raise ValueError(f"not a valid {kind}: {name!r}")
    return name


def _check_bound(path: str | None) -> str:
    if path is None or path == "":
        return ""
    return _check("entity set or bound path", path.strip("/"), _BOUND_PATH_RE) + "/"


def _arguments(kind: str, arguments: dict[str, object]) -> str:
    parts = []
    for name, value in arguments.items():
        _check(f"{kind} name", name, _IDENTIFIER_RE)
        parts.append(f"{name}={encode_path_literal(literal(value))}")
    return ",".join(parts)


def key_path(entity_set: str, key: object = None, /, **named_keys: object) -> str:
    """The path of one entity: ``Users(42)``, or by named (alternate) keys ``Users(Number='100')``.

    Give either one key value or named keys (kept in the order given); values are encoded with
    ``literal()`` (wrap in ``Typed`` to force an Edm type) and then percent-encoded.

    Raises:
        ValueError: ``entity_set`` or a key name is not an identifier, or no key / both kinds given.
        TypeError: a key value has no OData literal.

    Example:
        >>> key_path("Users", Number="100")
        "Users(Number='100')"
    """
    prefix = _check_bound(entity_set)[:-1]
    if not prefix:
        raise ValueError("key_path() needs an entity set such as 'Users'")
    if key is not None and named_keys:
        raise ValueError("give either one key value or named keys, not both")
    if named_keys:
        return f"{prefix}({_arguments('key', named_keys)})"
    if key is None:
        raise ValueError(f"key_path({entity_set!r}) needs a key value or named keys")
    return f"{prefix}({encode_path_literal(literal(key))})"


def function_path(bound_path: str | None, function: str, /, **arguments: object) -> str:
    """The path of an OData function call, arguments inlined: ``Defs/Pbx.GetSystemParameters()``.

    ``bound_path`` is the entity set or entity the function is bound to (``"ReportCallLogData"``,
    ``key_path("Users", 42)``) or ``None``; arguments keep the order given, each encoded with
    ``literal()`` (wrap in ``TimeSpan``, ``Duration``, ``EnumMember`` or ``Typed`` as needed) and
    percent-encoded. The PBX answers 404 when any argument is missing, so pass them all.

    Raises:
        ValueError: a name is not valid, or a value breaks a literal rule (a naive datetime...).
        TypeError: a value has no OData literal (a bare timedelta...).

    Example:
        >>> function_path("ReportAbandonedQueueCalls", "Pbx.GetAbandonedQueueCallsData",
        ...               periodFrom=start, periodTo=end, queueDns="0336 0337",
        ...               waitInterval=TimeSpan(timedelta(0)))
        "ReportAbandonedQueueCalls/Pbx.GetAbandonedQueueCallsData(periodFrom=2025-03-13T23:00:00.000Z,...)"
    """
    prefix = _check_bound(bound_path)
    _check("function name", function, _QUALIFIED_RE)
    return f"{prefix}{function}({_arguments('argument', arguments)})"


def action_path(bound_path: str | None, action: str) -> str:
    """The path of an OData action (POSTed with a JSON body): ``Users/Pbx.BatchDelete``.

    Raises:
        ValueError: ``bound_path`` or ``action`` is not a valid name.

    Example:
        >>> action_path(key_path("ActiveCalls", 7), "Pbx.DropCall")
        'ActiveCalls(7)/Pbx.DropCall'
    """
    return _check_bound(bound_path) + _check("action name", action, _QUALIFIED_RE)
