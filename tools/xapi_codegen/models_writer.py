"""Writes ``_generated/models.py``: one pydantic model per object schema, one open enum per enum.

See ``py3cx.xapi._model_base`` for the rules the classes follow (lenient, wire names, open enums,
ISO durations, aware date-times). Class order: bases before subclasses, otherwise the spec's order.
"""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass, field
from typing import Any

from xapi_codegen.naming import class_name, enum_member_name, field_attribute
from xapi_codegen.schema_types import TypeMapper, is_model_schema, is_nullable, ref_name
from xapi_codegen.text_blocks import docstring, file_header

# Names the annotations of the models module use besides model classes.
_ANNOTATION_BUILTINS = frozenset({"int", "str", "float", "bool", "list", "dict"})
_RUNTIME_NAMES = _ANNOTATION_BUILTINS | {"None", "_Any", "_IsoDuration", "_UtcDateTime"}
# Not matched against booleans and numbers: AllowChangePassword is no secret.
_SECRET_NAME = re.compile(
    r"(password|secret|secretkey|privatekey|apikey|accesskey|licensekey|rpskey|keygrok|pin|pinnumber"
    r"|credentials)$|^(token|key)$",
    re.IGNORECASE,
)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class ModelField:
    """One property of a model."""

    wire_name: str
    attribute: str
    annotation: str
    nullable: bool
    secret: bool = False


@dataclass
class ModelClass:
    """One model class to write."""

    schema_name: str
    name: str
    base: str | None
    fields: list[ModelField] = field(default_factory=list)
    doc: str = ""


@dataclass
class EnumClass:
    """One open enum class to write."""

    schema_name: str
    name: str
    members: list[tuple[str, str]]
    flags: bool
    doc: str = ""


def _properties(schema: dict[str, Any], schemas: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """The base schema (first ``allOf`` reference) and the schema's own properties."""
    base: str | None = None
    props: dict[str, Any] = dict(schema.get("properties") or {})
    for part in schema.get("allOf", []):
        target = ref_name(part)
        if target is not None and "properties" not in part:
            if base is not None:
                raise ValueError(f"schema with two bases is not supported: {base} and {target}")
            base = target
        props.update(part.get("properties") or {})
    return base, props


def is_secret_name(wire_name: str) -> bool:
    """True for property names that hold passwords, keys, PINs or tokens (kept out of reprs).

    Example: ``is_secret_name("AuthPassword") is True``; ``is_secret_name("AuthID") is False``.
    """
    return _SECRET_NAME.search(wire_name) is not None


class ModelsWriter:
    """Collects the classes of a spec and writes them as one module."""

    def __init__(self, schemas: dict[str, Any]) -> None:
        self.schemas = schemas
        self.class_names: dict[str, str] = {}
        for schema_name in schemas:
            name = class_name(schema_name)
            if name in self.class_names.values():
                raise ValueError(f"two schemas map to the class name {name}")
            if name.startswith("_") or name in _ANNOTATION_BUILTINS or hasattr(builtins, name):
                raise ValueError(f"schema {schema_name} would shadow a Python name: {name}")
            self.class_names[schema_name] = name
        # Classes whose names some field shadows get a private alias (`_License = License`).
        self.aliases: set[str] = set()

    def enums(self) -> list[EnumClass]:
        """Every enum schema as an open enum class, in the spec's order."""
        result = []
        for schema_name, schema in self.schemas.items():
            if "enum" not in schema:
                continue
            values = [str(value) for value in schema["enum"] if value is not None]
            names = schema.get("x-enum-varnames") or [enum_member_name(value) for value in values]
            seen: dict[str, int] = {}
            members = []
            for member_name, value in zip(names, values, strict=True):
                unique = member_name
                if unique in seen:
                    seen[member_name] += 1
                    unique = f"{member_name}_{seen[member_name]}"
                seen.setdefault(unique, 1)
                members.append((unique, value))
            flags = bool((schema.get("x-ms-enum-flags") or {}).get("isFlags"))
            doc = f"``{schema_name}``" + (f": {schema['title']}" if schema.get("title") else "") + "."
            if flags:
                doc += "\n\nA flags enum: the PBX may send several members joined as ``'A, B'``."
            result.append(EnumClass(schema_name, self.class_names[schema_name], members, flags, doc))
        return result

    def models(self) -> list[ModelClass]:
        """Every object schema as a model class, bases first."""
        by_name: dict[str, ModelClass] = {}
        for schema_name, schema in self.schemas.items():
            if not is_model_schema(schema):
                continue
            base_schema, props = _properties(schema, self.schemas)
            model = ModelClass(
                schema_name,
                self.class_names[schema_name],
                self.class_names[base_schema] if base_schema else None,
            )
            inherited = self._inherited_properties(base_schema)
            own_attributes = {field_attribute(wire) or wire for wire in props}
            shadowed = own_attributes & set(self.class_names.values())
            mapper = TypeMapper(self.schemas, self._model_ref(shadowed), runtime_prefix="_")
            for wire_name, prop in props.items():
                if wire_name in inherited:
                    continue
                attribute = field_attribute(wire_name) or wire_name
                if attribute in _ANNOTATION_BUILTINS:
                    raise ValueError(f"{schema_name}.{wire_name} would shadow a builtin type")
                # A ConcealedPassword's Value is as secret as a field called Password.
                secret = prop.get("type") not in ("boolean", "integer", "number") and (
                    is_secret_name(wire_name) or is_secret_name(model.name)
                )
                model.fields.append(
                    ModelField(wire_name, attribute, mapper.expr(prop), is_nullable(prop), secret)
                )
            title = schema.get("title")
            doc = f"``{schema_name}``" + (f": {title}" if title and title != model.name else "") + "."
            if schema.get("description"):
                doc += "\n\n" + str(schema["description"])
            model.doc = doc
            by_name[model.name] = model
        return self._dependency_order(by_name)

    def _dependency_order(self, by_name: dict[str, ModelClass]) -> list[ModelClass]:
        """Bases first, then (where no cycle prevents it) referenced classes before their users.

        Fewer forward references means fewer string annotations for pydantic to compile.
        """
        ordered: list[ModelClass] = []
        placed: set[str] = set()
        visiting: set[str] = set()

        def place(model: ModelClass) -> None:
            if model.name in placed or model.name in visiting:
                return
            visiting.add(model.name)
            if model.base is not None:
                place(by_name[model.base])
            for item in model.fields:
                for word in _IDENTIFIER.findall(item.annotation):
                    target = by_name.get(word.lstrip("_"))
                    if target is not None:
                        place(target)
            visiting.discard(model.name)
            placed.add(model.name)
            ordered.append(model)

        for model in by_name.values():
            place(model)
        return ordered

    def scalars(self) -> list[tuple[str, str]]:
        """Named non-object schemas (``ODataCountResponse: integer``) as type aliases."""
        mapper = TypeMapper(self.schemas, self._model_ref(set()), runtime_prefix="_")
        return [
            (self.class_names[name], mapper.expr(schema))
            for name, schema in self.schemas.items()
            if not is_model_schema(schema) and "enum" not in schema
        ]

    @staticmethod
    def _uses_any(models: list[ModelClass], scalars: list[tuple[str, str]]) -> bool:
        annotations = [item.annotation for model in models for item in model.fields] + [e for _, e in scalars]
        return any("_Any" in _IDENTIFIER.findall(text) for text in annotations)

    def _inherited_properties(self, base_schema: str | None) -> set[str]:
        names: set[str] = set()
        while base_schema is not None:
            parent, props = _properties(self.schemas[base_schema], self.schemas)
            names.update(props)
            base_schema = parent
        return names

    def _model_ref(self, shadowed: set[str]) -> Any:
        def ref(schema_name: str) -> str:
            name = self.class_names[schema_name]
            if name in shadowed:
                self.aliases.add(name)
                return "_" + name
            return name

        return ref

    def write(self, sha256: str, spec_file: str) -> str:
        """The full text of ``models.py``."""
        enums = self.enums()
        models = self.models()
        scalars = self.scalars()
        names = sorted(
            [item.name for item in enums] + [item.name for item in models] + [n for n, _ in scalars]
        )
        out: list[str] = [
            file_header(sha256, spec_file, "Every schema of the XAPI spec as a pydantic model or open enum."),
            # No `from __future__ import annotations`: evaluating ready annotations directly is
            # much faster than pydantic compiling 2,600 strings, and this module loads on first use.
            *(["from typing import Any as _Any", ""] if self._uses_any(models, scalars) else []),
            "from pydantic import Field as _Field",
            "",
            "from py3cx.xapi._model_base import IsoDuration as _IsoDuration",
            "from py3cx.xapi._model_base import OpenEnum as _OpenEnum",
            "from py3cx.xapi._model_base import UtcDateTime as _UtcDateTime",
            "from py3cx.xapi._model_base import XapiModel as _XapiModel",
            "",
            "__all__ = [",
            *[f'    "{name}",' for name in names],
            "]",
            "",
        ]
        defined = set(_RUNTIME_NAMES)
        for enum_class in enums:
            out += ["", f"class {enum_class.name}(_OpenEnum):", docstring(enum_class.doc, 4), ""]
            out += [f"    {member} = {value!r}" for member, value in enum_class.members]
            out.append("")
            defined.add(enum_class.name)
        for name, expr in scalars:
            out += ["", f"{name} = {expr}", ""]
            defined.add(name)
        for enum_class in enums:
            if enum_class.name in self.aliases:
                out.append(f"_{enum_class.name} = {enum_class.name}")
                defined.add("_" + enum_class.name)
        for model in models:
            out += ["", f"class {model.name}({model.base or '_XapiModel'}):", docstring(model.doc, 4)]
            if model.fields:
                out.append("")
            for item in model.fields:
                annotation = f"{item.annotation} | None"
                if not set(_IDENTIFIER.findall(annotation)) <= defined:
                    # Refers to a class defined further down: pydantic resolves it on first use.
                    annotation = f'"{annotation}"'
                options = ["default=None"]
                if item.attribute != item.wire_name:
                    options.append(f"alias={item.wire_name!r}")
                if item.secret:
                    options.append("repr=False")  # a password or key never shows in a repr or a log
                if len(options) > 1:
                    out.append(f"    {item.attribute}: {annotation} = _Field({', '.join(options)})")
                else:
                    out.append(f"    {item.attribute}: {annotation} = None")
            out.append("")
            defined.add(model.name)
            if model.name in self.aliases:
                # A field of the same name shadows this class inside some class body.
                out += ["", f"_{model.name} = {model.name}", ""]
                defined.add("_" + model.name)
        return "\n".join(out).rstrip("\n") + "\n"
