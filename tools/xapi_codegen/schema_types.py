"""Python type expressions for OpenAPI schemas, shared by the model and resource writers.

``TypeMapper.expr(schema)`` gives the annotation text for a schema (``list[m.User]``,
``_UtcDateTime``, ``int``) without ``| None``; ``is_nullable(schema)`` says whether to add it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from xapi_codegen.naming import class_name

SCHEMA_PREFIX = "#/components/schemas/"

# Wire formats of strings that get a richer Python type; everything else stays `str`.
_STRING_FORMATS = {"date-time": "UtcDateTime", "duration": "IsoDuration"}


def ref_name(schema: dict[str, Any]) -> str | None:
    """The schema name a ``$ref`` (or a lone ``allOf``/``anyOf`` wrapper around one) points to.

    Example: ``ref_name({"allOf": [{"$ref": "#/components/schemas/Pbx.Route"}]}) == "Pbx.Route"``.
    """
    if "$ref" in schema:
        ref = schema["$ref"]
        return ref[len(SCHEMA_PREFIX) :] if ref.startswith(SCHEMA_PREFIX) else None
    for combinator in ("allOf", "anyOf"):
        members = schema.get(combinator)
        if isinstance(members, list):
            refs = [member for member in members if "$ref" in member]
            others = [member for member in members if "$ref" not in member]
            # anyOf [X, {nullable object}] is how older specs wrote "X or null".
            if len(refs) == 1 and all(member.get("nullable") for member in others):
                return ref_name(refs[0])
    return None


def is_nullable(schema: dict[str, Any]) -> bool:
    """True when the schema admits ``null`` (``nullable: true``, or an ``anyOf`` with a null arm).

    Example: ``is_nullable({"type": "string", "nullable": True}) is True``.
    """
    if schema.get("nullable"):
        return True
    return any(member.get("nullable") for member in schema.get("anyOf", []) + schema.get("oneOf", []))


@dataclass
class TypeMapper:
    """Maps schemas to annotation text.

    ``model_ref`` turns a schema name into the text that names its class where the annotation
    is written (``m.User`` in a resource module, ``User`` or a shadow-proof alias in the models
    module); ``runtime_prefix`` is put before the wire types (``_`` in the models module).
    """

    schemas: dict[str, Any]
    model_ref: Callable[[str], str]
    runtime_prefix: str = ""

    def referenced(self, schema: dict[str, Any]) -> list[str]:
        """Names of the schemas an annotation for ``schema`` mentions (for shadowing checks)."""
        found: list[str] = []
        name = ref_name(schema)
        if name is not None:
            found.append(name)
        for combinator in ("oneOf",):
            for member in schema.get(combinator, []):
                found.extend(self.referenced(member))
        if "items" in schema:
            found.extend(self.referenced(schema["items"]))
        return found

    def expr(self, schema: dict[str, Any]) -> str:
        """Annotation text for ``schema`` without ``| None``.

        Example: ``mapper.expr({"type": "array", "items": {"type": "integer"}}) == "list[int]"``.
        """
        name = ref_name(schema)
        if name is not None:
            return self.named(name)
        if "oneOf" in schema:
            parts: list[str] = []
            for member in schema["oneOf"]:
                text = self.expr(member)
                target = ref_name(member)
                # A string-valued enum arm adds nothing when `str` is already an arm.
                if target is not None and self._is_string_enum(target):
                    text = "str"
                if text not in parts:
                    parts.append(text)
            return " | ".join(parts)
        kind = schema.get("type")
        if kind == "string":
            special = _STRING_FORMATS.get(str(schema.get("format")))
            return self.runtime_prefix + special if special else "str"
        if kind == "integer":
            return "float" if schema.get("format") == "decimal" else "int"
        if kind == "number":
            return "float"
        if kind == "boolean":
            return "bool"
        if kind == "array":
            return f"list[{self.expr(schema.get('items', {}))}]"
        if kind == "object" or "properties" in schema:
            return f"dict[str, {self.runtime_prefix}Any]"
        return f"{self.runtime_prefix}Any"

    def named(self, name: str) -> str:
        """Annotation text for the schema called ``name`` (a model, an enum or a scalar alias)."""
        target = self.schemas.get(name)
        if target is None:
            raise KeyError(f"$ref to a schema the spec does not define: {name}")
        if is_model_schema(target) or "enum" in target:
            return self.model_ref(name)
        # A named scalar (ODataCountResponse: integer) is used as what it is.
        return self.expr(target)

    def _is_string_enum(self, name: str) -> bool:
        target = self.schemas.get(name, {})
        return "enum" in target and target.get("type") == "string"


def is_model_schema(schema: dict[str, Any]) -> bool:
    """True for schemas that become a model class (objects, and allOf compositions).

    Example: ``is_model_schema({"type": "object", "properties": {}}) is True``.
    """
    if "enum" in schema:
        return False
    return schema.get("type") == "object" or "allOf" in schema or "properties" in schema


def schema_class(name: str) -> str:
    """The class name a schema gets (re-exported for the writers)."""
    return class_name(name)
