"""Python names for things the spec names: resources, methods, arguments, classes, enum members.

Wire names stay as they are on the models (``FirstName``); Python-side names (resources, methods,
arguments) are snake_case. Every function here is pure.
"""

from __future__ import annotations

import keyword
import re

# Attributes of pydantic's BaseModel that a field must not shadow (and `model_` is reserved).
_BASEMODEL_ATTRIBUTES = frozenset(
    {
        "copy",
        "construct",
        "dict",
        "fields",
        "from_orm",
        "json",
        "parse_file",
        "parse_obj",
        "parse_raw",
        "schema",
        "schema_json",
        "update_forward_refs",
        "validate",
    }
)
# Names an Enum member cannot take (they are Enum's own attributes).
_ENUM_RESERVED = frozenset({"name", "value", "mro"})
# Brand words that read as one word, not two (OAuthClients -> oauth_clients, not o_auth_clients).
_COMPOUND_WORDS = {"OAuth": "Oauth"}
_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_IDENTIFIER_CHAR = re.compile(r"[^0-9A-Za-z_]+")


def snake_case(name: str) -> str:
    """``ReportCallLogData`` -> ``report_call_log_data``; acronyms stay together (``AISettings`` ->
    ``ai_settings``, ``GetM365Users`` -> ``get_m365_users``); existing underscores are kept.

    Example: ``snake_case("periodFrom") == "period_from"``.
    """
    text = _NOT_IDENTIFIER_CHAR.sub("_", name)
    for word, plain in _COMPOUND_WORDS.items():
        text = text.replace(word, plain)
    text = _WORD_BOUNDARY.sub("_", text)
    text = re.sub(r"_+", "_", text).strip("_").lower()
    if not text:
        raise ValueError(f"no snake_case form for {name!r}")
    return text


def python_identifier(name: str) -> str:
    """A snake_case name that is a valid, non-keyword Python identifier (``from`` -> ``from_``).

    Example: ``python_identifier("call_id") == "call_id"``.
    """
    text = snake_case(name)
    if text[0].isdigit():
        text = "_" + text
    if keyword.iskeyword(text) or keyword.issoftkeyword(text) or text == "self":
        text += "_"
    return text


def class_name(schema_name: str) -> str:
    """The Python class for a schema: the last dotted part (``Pbx.ODataErrors.MainError`` ->
    ``MainError``), made an identifier.

    Example: ``class_name("Pbx.User") == "User"``.
    """
    text = _NOT_IDENTIFIER_CHAR.sub("_", schema_name.rsplit(".", 1)[-1])
    if text[0].isdigit():
        text = "_" + text
    return text


def field_attribute(wire_name: str) -> str | None:
    """The attribute name for a property when its wire name cannot be one, else ``None``.

    ``@odata.count`` -> ``odata_count``; ``json`` -> ``json_``; ``FirstName`` -> ``None`` (kept).
    Example: ``field_attribute("@odata.count") == "odata_count"``.
    """
    if wire_name.isidentifier() and not keyword.iskeyword(wire_name):
        clash = wire_name in _BASEMODEL_ATTRIBUTES or wire_name.startswith(("model_", "_"))
        return wire_name.lstrip("_") + "_" if clash else None
    text = _NOT_IDENTIFIER_CHAR.sub("_", wire_name).strip("_") or "field"
    if text[0].isdigit():
        text = "_" + text
    if keyword.iskeyword(text) or text in _BASEMODEL_ATTRIBUTES or text.startswith("model_"):
        text += "_"
    return text


def enum_member_name(value: str) -> str:
    """A member name for an enum value: ``WARNINGS.XAPI.NOT_FOUND`` -> ``WARNINGS_XAPI_NOT_FOUND``,
    ``3CX`` -> ``_3CX``, ``None`` -> ``None_``.

    Example: ``enum_member_name("Basic") == "Basic"``.
    """
    text = _NOT_IDENTIFIER_CHAR.sub("_", value).strip("_") or "EMPTY"
    if text[0].isdigit():
        text = "_" + text
    if keyword.iskeyword(text) or text in _ENUM_RESERVED or (text.startswith("_") and text.endswith("_")):
        text += "_"
    return text


def resource_attribute(tag: str) -> str:
    """The attribute on ``client.xapi`` for a tag: ``ReportCallLogData`` -> ``report_call_log_data``.

    Example: ``resource_attribute("Users") == "users"``.
    """
    return python_identifier(tag)


def resource_class(tag: str) -> str:
    """The class of a resource: ``Users`` -> ``UsersResource`` (``AsyncUsersResource`` for async).

    Example: ``resource_class("ReportCallLogData") == "ReportCallLogDataResource"``.
    """
    return class_name(tag)[0].upper() + class_name(tag)[1:] + "Resource"


def isort_key(name: str) -> tuple[int, str]:
    """Where isort (ruff's default, order-by-type) puts an imported name: CONSTANTS, then
    Classes, then functions, each case-insensitively.

    Example: ``sorted(["b", "Pager", "AISettings"], key=isort_key) == ["AISettings", "Pager", "b"]``.
    """
    if name.isupper() and len(name) > 1:
        return 0, name.lower()
    return (1 if name[:1].isupper() else 2), name.lower()


def all_sort_key(name: str) -> tuple[int, str]:
    """Where ruff's RUF022 puts a name in ``__all__``: SCREAMING_CASE, then CamelCase, then the
    rest, each case-sensitively (unlike imports, which sort case-insensitively).

    Example: ``sorted(["Abc", "ABc", "DN"], key=all_sort_key) == ["DN", "ABc", "Abc"]``.
    """
    if name.isupper() and len(name) > 1:
        return 0, name
    return (1 if name[:1].isupper() else 2), name
