"""Writes ``_generated/models.py``: one pydantic model per object schema, one open enum per enum.

See ``py3cx.xapi._model_base`` for the rules the classes follow (lenient, wire names, open enums,
ISO durations, aware date-times). Class order: bases before subclasses, otherwise the spec's order.
"""

from __future__ import annotations

import builtins
import json
import re
from dataclasses import dataclass, field
from typing import Any

from xapi_codegen.naming import (
    all_sort_key,
    class_name,
    enum_member_name,
    field_attribute,
    isort_key,
    snake_case,
)
from xapi_codegen.schema_types import TypeMapper, is_model_schema, is_nullable, ref_name
from xapi_codegen.text_blocks import docstring, file_header

# Names the annotations of the models module use besides model classes.
_ANNOTATION_BUILTINS = frozenset({"int", "str", "float", "bool", "list", "dict"})
_RUNTIME_NAMES = _ANNOTATION_BUILTINS | {"None", "_Any", "_IsoDuration", "_UtcDateTime"}
_RUNTIME_IMPORTS = frozenset({"_Any", "_IsoDuration", "_UtcDateTime"})
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

    def __init__(self, schemas: dict[str, Any], legacy_schemas: dict[str, Any] | None = None) -> None:
        self.schemas = schemas
        # An older build's schemas: where a property's type changed, the model accepts both.
        self.legacy_schemas = legacy_schemas or {}
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
        self._models: list[ModelClass] | None = None
        self._class_set = set(self.class_names.values())
        self._enum_classes = {self.class_names[name] for name, schema in schemas.items() if "enum" in schema}
        self._modules: dict[str, list[ModelClass]] | None = None
        self._owners: dict[str, str] | None = None

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
        """Every object schema as a model class, bases first (computed once)."""
        if self._models is None:
            self._models = self._read_models()
        return self._models

    def _read_models(self) -> list[ModelClass]:
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
                annotation = mapper.expr(prop)
                legacy = self._legacy_annotation(schema_name, wire_name, shadowed)
                if legacy is not None and not self._compatible(annotation, legacy):
                    # e.g. Trunk.AuthPassword: a ConcealedPassword now, a plain string on 20.0.4.
                    annotation = f"{annotation} | {legacy}"
                model.fields.append(ModelField(wire_name, attribute, annotation, is_nullable(prop), secret))
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

    def _legacy_annotation(self, schema_name: str, wire_name: str, shadowed: set[str]) -> str | None:
        """The property's annotation as the older spec types it, in this spec's class names; None
        when the older spec lacks it, or types it with a class this spec does not have."""
        legacy_schema = self.legacy_schemas.get(schema_name)
        if legacy_schema is None:
            return None
        prop = _properties(legacy_schema, self.legacy_schemas)[1].get(wire_name)
        if prop is None:
            return None

        def ref(name: str) -> str:
            if class_name(name) not in self._class_set:
                raise KeyError(name)
            return self._model_ref(shadowed)(name)

        try:
            return TypeMapper(self.legacy_schemas, ref, runtime_prefix="_").expr(prop)
        except KeyError:
            return None

    def _compatible(self, annotation: str, legacy: str) -> bool:
        """True when a value the older build sends already validates as ``annotation``: the same
        type, or text on both sides (open enums take any text)."""
        if annotation == legacy:
            return True

        def takes_text(text: str) -> bool:
            words = {word.lstrip("_") for word in _IDENTIFIER.findall(text)}
            return "str" in words or bool(words & self._enum_classes)

        return takes_text(annotation) and takes_text(legacy) and "list" not in annotation + legacy

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

    # -- one module per model ---------------------------------------------------------------------

    def modules(self) -> dict[str, list[ModelClass]]:
        """The model classes grouped into modules: one per strongly connected group of classes
        (almost always one class; two for a pair that refer to each other), named after the
        first class. Modules then import each other without cycles. Computed once."""
        if self._modules is None:
            self._modules = self._group_modules()
        return self._modules

    def _group_modules(self) -> dict[str, list[ModelClass]]:
        models = self.models()
        by_name = {model.name: model for model in models}
        groups = _strongly_connected(
            [model.name for model in models], lambda name: self._model_references(by_name[name], by_name)
        )
        result: dict[str, list[ModelClass]] = {}
        for group in groups:
            ordered = [model for model in models if model.name in group]
            module = snake_case(ordered[0].name)
            if module in result or module in ("enums", "models"):
                raise ValueError(f"two model modules would be called {module}")
            result[module] = ordered
        return dict(sorted(result.items()))

    def _model_references(self, model: ModelClass, by_name: dict[str, ModelClass]) -> set[str]:
        found = {model.base} if model.base else set()
        for item in model.fields:
            found.update(word.lstrip("_") for word in _IDENTIFIER.findall(item.annotation))
        return {name for name in found if name in by_name}

    def module_of(self) -> dict[str, str]:
        """Class name -> the module (under the schemas package) that defines it. Computed once."""
        if self._owners is not None:
            return self._owners
        owners = {item.name: "enums" for item in self.enums()}
        owners.update({name: "enums" for name, _ in self.scalars()})
        for module, classes in self.modules().items():
            owners.update({model.name: module for model in classes})
        self._owners = owners
        return owners

    def write_enums(self, sha256: str, spec_file: str) -> str:
        """``schemas/enums.py``: every open enum and named scalar."""
        out = [
            file_header(
                sha256, spec_file, "Every enum of the XAPI spec as an open enum (unknown members are kept)."
            ),
            "from py3cx.xapi._model_base import OpenEnum as _OpenEnum",
            "",
            "__all__ = [",
            *[
                f'    "{name}",'
                for name in sorted(
                    [e.name for e in self.enums()] + [n for n, _ in self.scalars()], key=all_sort_key
                )
            ],
            "]",
            "",
        ]
        for enum_class in self.enums():
            out += ["", f"class {enum_class.name}(_OpenEnum):", docstring(enum_class.doc, 4), ""]
            out += [f"    {member} = {json.dumps(value)}" for member, value in enum_class.members]
            out.append("")
        for name, expr in self.scalars():
            out += ["", f"{name} = {expr}"]
        return "\n".join(out).rstrip("\n") + "\n"

    def write_module(
        self, module: str, classes: list[ModelClass], package: str, sha256: str, spec_file: str
    ) -> str:
        """``schemas/<module>.py``: the module's classes and the imports they need."""
        owners = self.module_of()
        local = {model.name for model in classes}
        plain: set[str] = set()  # imported under their own name
        aliased: set[str] = set()  # imported as _Name (a field of that name shadows it)
        local_aliases: set[str] = set()
        runtime: set[str] = set()
        for model in classes:
            if model.base is None:
                runtime.add("_XapiModel")
            elif model.base not in local:
                plain.add(model.base)
            for item in model.fields:
                for word in _IDENTIFIER.findall(item.annotation):
                    if word in _RUNTIME_IMPORTS:
                        runtime.add(word)
                    elif word.startswith("_") and word[1:] in local:
                        local_aliases.add(word[1:])
                    elif word.startswith("_") and word[1:] in owners:
                        aliased.add(word[1:])
                    elif word in owners and word not in local:
                        plain.add(word)
                if item.secret or item.attribute != item.wire_name:
                    runtime.add("_Field")
        imports: dict[str, list[str]] = {}
        for name in sorted(plain, key=isort_key):
            imports.setdefault(owners[name], []).append(name)
        out = [
            file_header(sha256, spec_file, "; ".join(f"``{model.schema_name}``" for model in classes) + ".")
        ]
        # No `from __future__ import annotations`: ready annotations are evaluated by Python at
        # once; pydantic would compile each string, which is much slower on first use.
        if "_Any" in runtime:
            out += ["from typing import Any as _Any", ""]
        if "_Field" in runtime:
            out += ["from pydantic import Field as _Field", ""]
        first_party = [
            f"from py3cx.xapi._model_base import {name} as _{name}"
            for name in ("IsoDuration", "UtcDateTime", "XapiModel")
            if f"_{name}" in runtime
        ]
        first_party += [f"from {package}.{source} import {', '.join(imports[source])}" for source in imports]
        # `import X as _X` stands on a line of its own, as isort writes it.
        first_party += [f"from {package}.{owners[name]} import {name} as _{name}" for name in aliased]
        # isort order: by module path, then by the first name imported.
        out += [_import_line(line) for line in sorted(first_party, key=lambda line: line.split(" import "))]
        out += ["", "__all__ = [" + ", ".join(f'"{model.name}"' for model in classes) + "]"]
        defined = set(_RUNTIME_NAMES) | plain | {f"_{name}" for name in aliased}
        for model in classes:
            out += self._class_lines(model, defined)
            defined.add(model.name)
            if model.name in local_aliases:
                # A field of the same name shadows this class inside a class body of this module.
                out += ["", f"_{model.name} = {model.name}"]
                defined.add("_" + model.name)
        return "\n".join(out).rstrip("\n") + "\n"

    def _class_lines(self, model: ModelClass, defined: set[str]) -> list[str]:
        out = ["", "", f"class {model.name}({model.base or '_XapiModel'}):", docstring(model.doc, 4)]
        if model.fields:
            out.append("")
        for item in model.fields:
            annotation = f"{item.annotation} | None"
            if not set(_IDENTIFIER.findall(annotation)) <= defined:
                # Refers to a class defined further down: pydantic resolves it on first use.
                annotation = f'"{annotation}"'
            options = ["default=None"]
            if item.attribute != item.wire_name:
                options.append(f"alias={json.dumps(item.wire_name)}")
            if item.secret:
                options.append("repr=False")  # a password or key never shows in a repr or a log
            if len(options) > 1:
                out.append(f"    {item.attribute}: {annotation} = _Field({', '.join(options)})")
            else:
                out.append(f"    {item.attribute}: {annotation} = None")
        return out

    def write_all(self, package: str, sha256: str, spec_file: str) -> dict[str, str]:
        """Every module of the schemas package, by module name (``enums``, ``user``...), plus
        ``__init__``."""
        files = {
            "__init__": file_header(
                sha256,
                spec_file,
                "One module per model (and one for the enums); import them from ``models``.",
            ),
            "enums": self.write_enums(sha256, spec_file),
        }
        for module, classes in self.modules().items():
            files[module] = self.write_module(module, classes, package, sha256, spec_file)
        return files

    def write_index(self, package: str, sha256: str, spec_file: str) -> str:
        """``models.py``: every class by name (importing it loads all of them)."""
        owners = self.module_of()
        by_module: dict[str, list[str]] = {}
        for name, module in owners.items():
            by_module.setdefault(module, []).append(name)
        out = [
            file_header(
                sha256,
                spec_file,
                "Every schema of the XAPI spec, by name (importing this loads all of them).",
            ),
        ]
        out += [
            _import_line(
                f"from {package}.{module} import {', '.join(sorted(by_module[module], key=isort_key))}"
            )
            for module in sorted(by_module)
        ]
        out += ["", "__all__ = [", *[f'    "{name}",' for name in sorted(owners, key=all_sort_key)], "]"]
        return "\n".join(out) + "\n"


def _import_line(line: str, width: int = 110) -> str:
    """A long ``from x import a, b`` as a parenthesised list, one name per line."""
    if len(line) <= width:
        return line
    head, names = line.split(" import ", 1)
    return "\n".join([f"{head} import (", *[f"    {name}," for name in names.split(", ")], ")"])


def _strongly_connected(nodes: list[str], edges: Any) -> list[set[str]]:
    """Tarjan's strongly connected components, iteratively (no recursion limit), in a stable order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(edges(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges(child)))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                groups.append(group)
    return groups
