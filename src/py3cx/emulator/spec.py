"""The emulator's reading of the official XAPI OpenAPI file (package data under ``specs/``).

The YAML is parsed once (CSafeLoader, ~0.7 s) and the index below is cached as JSON in the
user cache directory, keyed by the file's sha256, so later starts take milliseconds.

What the index knows, all derived from the spec's paths and schemas:

- entity sets (``/Users`` answering a ``...CollectionResponse``): entity type, key
  (``/Users({Id})``), alternate keys (``/Users(Number={Number})``), which operations exist;
- singletons (``/Defs``, ``/SystemStatus``);
- entity types: properties flattened through ``allOf`` inheritance, each with a storage kind
  (int, float, bool, str, datetime, duration, date, uuid, enum, json) and whether it is a
  navigation property (``x-ms-navigationProperty``: left out unless ``$expand``-ed);
- functions and actions (``/ReportCallLogData/Pbx.GetCallLogData(periodFrom={periodFrom},...)``):
  binding (``"Users"``, ``"Users({Id})"`` or ``""`` for imports), typed parameters, result,
  success status and the raw response schema (for the responses the emulator synthesises);
- the raw component schemas, which :mod:`py3cx.emulator.synthesis` reads to build valid bodies.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import platformdirs
import yaml

SPEC_DIR = Path(__file__).parent / "specs"
_INDEX_FORMAT = 5  # bump when the cached index layout changes

_REF_PREFIX = "#/components/schemas/"
_COLLECTION_RESPONSE = re.compile(r"#/components/responses/(.+)CollectionResponse$")
_KEY_SEGMENT = re.compile(r"^(?P<name>\w+)\((?P<inner>[^)]*)\)$")
_PARAM_TEMPLATE = re.compile(r"^\{(\w+)\}$")


def spec_path(version: str) -> Path:
    """Path of the packaged spec file for a PBX version (``"20.0.10"`` or ``"20.0.4"``).

    Raises ValueError for an unknown version. Example: ``spec_path("20.0.4").name``.
    """
    path = SPEC_DIR / f"xapi-swagger-{version}.yaml"
    if not path.is_file():
        known = sorted(p.stem.removeprefix("xapi-swagger-") for p in SPEC_DIR.glob("xapi-swagger-*.yaml"))
        raise ValueError(f"no spec for PBX version {version!r}; known: {', '.join(known)}")
    return path


@dataclass(frozen=True)
class Prop:
    """One property of an entity or complex type, as the emulator stores and serialises it."""

    name: str
    kind: str  # int, float, bool, str, datetime, duration, date, uuid, enum, json
    nullable: bool = True
    navigation: bool = False
    collection: bool = False
    ref: str | None = None  # schema name of the complex/enum type (or collection item)


@dataclass(frozen=True)
class Param:
    """One typed parameter of a function (inlined in the path) or a key segment."""

    name: str
    kind: str  # int, bool, datetime, uuid, str
    nullable: bool = False


@dataclass
class EntitySet:
    """An entity set such as ``Users``: its type, key, alternate keys and the operations the spec lists."""

    name: str
    entity_type: str
    key: list[Param] = field(default_factory=list)
    alternate_keys: list[list[Param]] = field(default_factory=list)
    listable: bool = False
    operations: set[str] = field(default_factory=set)  # list, create, get, update, delete
    # what the alternate-key paths (``Peers(Number='100')``) allow: get, update, delete
    alt_operations: set[str] = field(default_factory=set)


@dataclass
class Singleton:
    """A singleton such as ``Defs``: one object, read with GET and sometimes PATCH-ed."""

    name: str
    entity_type: str
    operations: set[str] = field(default_factory=set)


@dataclass
class Operation:
    """A bound function (GET) or action (POST), or an import at the root (binding ``""``)."""

    binding: str  # "Users", "Users({Id})" or "" for function/action imports
    name: str  # "Pbx.GetSystemParameters"; imports have no namespace ("GetUpdates")
    kind: str  # "function" or "action"
    params: list[Param] = field(default_factory=list)
    returns_collection: bool = False
    returns_type: str | None = None  # schema name of the result (or its items)
    has_parens: bool = False
    status: int = 200  # the spec's success status: 200, 201 or 204 (no body)
    response_schema: dict[str, Any] | None = None  # raw JSON schema of the success body ($refs kept)

    @property
    def key(self) -> str:
        """Registry key: ``"Users/Pbx.BatchDelete"``, ``"ActiveCalls({Id})/Pbx.DropCall"``."""
        return f"{self.binding}/{self.name}" if self.binding else self.name


@dataclass
class SpecIndex:
    """Everything the emulator needs to know from one spec file. Build with :func:`load_spec_index`."""

    version: str
    sha256: str
    entity_sets: dict[str, EntitySet]
    singletons: dict[str, Singleton]
    types: dict[str, dict[str, Prop]]
    enums: dict[str, list[str]]
    operations: dict[str, Operation]
    navigation_paths: set[str]  # "Users({Id})/Groups", "Defs/Codecs"
    schemas: dict[str, Any] = field(default_factory=dict)  # the spec's raw components.schemas

    def properties(self, type_name: str) -> dict[str, Prop]:
        """Properties of an entity/complex type (empty for unknown types)."""
        return self.types.get(type_name, {})

    def operation(self, binding: str, name: str) -> Operation | None:
        """The function or action ``name`` bound to ``binding`` (``"Users"``, ``"Users({Id})"``, ``""``)."""
        return self.operations.get(f"{binding}/{name}" if binding else name)

    # -- (de)serialisation of the cache -------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        def prop(p: Prop) -> list[Any]:
            return [p.kind, p.nullable, p.navigation, p.collection, p.ref]

        def param(p: Param) -> list[Any]:
            return [p.name, p.kind, p.nullable]

        return {
            "format": _INDEX_FORMAT,
            "version": self.version,
            "sha256": self.sha256,
            "entity_sets": {
                n: {
                    "type": s.entity_type,
                    "key": [param(p) for p in s.key],
                    "alt": [[param(p) for p in k] for k in s.alternate_keys],
                    "listable": s.listable,
                    "ops": sorted(s.operations),
                    "alt_ops": sorted(s.alt_operations),
                }
                for n, s in self.entity_sets.items()
            },
            "singletons": {
                n: {"type": s.entity_type, "ops": sorted(s.operations)} for n, s in self.singletons.items()
            },
            "types": {t: {n: prop(p) for n, p in props.items()} for t, props in self.types.items()},
            "enums": self.enums,
            "operations": {
                k: {
                    "binding": o.binding,
                    "name": o.name,
                    "kind": o.kind,
                    "params": [param(p) for p in o.params],
                    "coll": o.returns_collection,
                    "rtype": o.returns_type,
                    "parens": o.has_parens,
                    "status": o.status,
                    "response": o.response_schema,
                }
                for k, o in self.operations.items()
            },
            "nav": sorted(self.navigation_paths),
            "schemas": self.schemas,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SpecIndex:
        def param(x: list[Any]) -> Param:
            return Param(x[0], x[1], x[2])

        return cls(
            version=data["version"],
            sha256=data["sha256"],
            entity_sets={
                n: EntitySet(
                    n,
                    s["type"],
                    [param(p) for p in s["key"]],
                    [[param(p) for p in k] for k in s["alt"]],
                    s["listable"],
                    set(s["ops"]),
                    set(s["alt_ops"]),
                )
                for n, s in data["entity_sets"].items()
            },
            singletons={n: Singleton(n, s["type"], set(s["ops"])) for n, s in data["singletons"].items()},
            types={
                t: {n: Prop(n, p[0], p[1], p[2], p[3], p[4]) for n, p in props.items()}
                for t, props in data["types"].items()
            },
            enums=data["enums"],
            operations={
                k: Operation(
                    o["binding"],
                    o["name"],
                    o["kind"],
                    [param(p) for p in o["params"]],
                    o["coll"],
                    o["rtype"],
                    o["parens"],
                    o["status"],
                    o["response"],
                )
                for k, o in data["operations"].items()
            },
            navigation_paths=set(data["nav"]),
            schemas=data["schemas"],
        )


# -- building the index from the parsed YAML ---------------------------------------------------


def _ref_name(ref: str) -> str:
    return ref.removeprefix(_REF_PREFIX)


def _param_kind(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    fmt = schema.get("format")
    if kind == "integer":
        return "int"
    if kind == "boolean":
        return "bool"
    if kind == "number":
        return "float"
    if fmt == "date-time":
        return "datetime"
    if fmt == "uuid":
        return "uuid"
    if fmt == "duration":
        return "duration"
    if fmt == "date":
        return "date"
    return "str"


class _Builder:
    def __init__(self, doc: dict[str, Any], version: str, sha256: str) -> None:
        self.doc = doc
        self.schemas: dict[str, Any] = doc["components"]["schemas"]
        self.responses: dict[str, Any] = doc["components"].get("responses", {})
        self.version = version
        self.sha256 = sha256
        self.types: dict[str, dict[str, Prop]] = {}
        self.enums: dict[str, list[str]] = {}

    # schema -> properties
    def _prop(self, name: str, schema: dict[str, Any]) -> Prop:
        nav = bool(schema.get("x-ms-navigationProperty"))
        nullable = bool(schema.get("nullable", False))
        if schema.get("type") == "array":
            items = schema.get("items", {})
            ref = _ref_name(items["$ref"]) if "$ref" in items else None
            if ref is not None and "enum" not in self.schemas.get(ref, {}):
                self.type_properties(ref)  # item types are indexed too (nested $expand, $select)
            return Prop(name, "json", True, nav, True, ref)
        ref_schema = schema
        if "allOf" in schema and len(schema["allOf"]) == 1:
            ref_schema = schema["allOf"][0]
        if "$ref" in ref_schema:
            ref = _ref_name(ref_schema["$ref"])
            target = self.schemas.get(ref, {})
            if "enum" in target:
                self.enums[ref] = [str(v) for v in target["enum"]]
                return Prop(name, "enum", nullable, nav, False, ref)
            self.type_properties(ref)  # make sure nested complex types are indexed too
            return Prop(name, "json", nullable, nav, False, ref)
        kind = _param_kind(schema)
        variants = schema.get("anyOf") or schema.get("oneOf") or []
        if any(v.get("type") == "number" for v in variants):  # numbers that may be "INF"/"NaN" strings
            kind = "float"
        return Prop(name, kind, nullable, nav, False, None)

    def type_properties(self, type_name: str) -> dict[str, Prop]:
        if type_name in self.types:
            return self.types[type_name]
        self.types[type_name] = {}  # guards recursion
        schema = self.schemas.get(type_name, {})
        props: dict[str, Prop] = {}
        parts = schema.get("allOf", [schema])
        for part in parts:
            if "$ref" in part:
                props.update(self.type_properties(_ref_name(part["$ref"])))
            for name, sub in part.get("properties", {}).items():
                props[name] = self._prop(name, sub)
        self.types[type_name] = props
        return props

    def _success(self, op: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
        """The success status of an operation and the raw schema of its body (None: no body)."""
        responses = op.get("responses", {})
        status = next((int(c) for c in ("200", "201", "204") if c in responses), 200)
        resp = responses.get(str(status), {})
        if "$ref" in resp:
            resp = self.responses.get(resp["$ref"].rsplit("/", 1)[-1], {})
        schema = resp.get("content", {}).get("application/json", {}).get("schema")
        return status, schema

    def _response_schema(self, op: dict[str, Any]) -> tuple[bool, str | None]:
        """(is a collection, type name) of an operation's success response."""
        responses = op.get("responses", {})
        resp = responses.get("200") or responses.get("201")
        if resp is None:
            return False, None
        if "$ref" in resp:
            match = _COLLECTION_RESPONSE.search(resp["$ref"])
            if match:
                return True, match.group(1)
            resp = self.responses.get(resp["$ref"].rsplit("/", 1)[-1], {})
        schema = resp.get("content", {}).get("application/json", {}).get("schema", {})
        return self._schema_type(schema)

    def _schema_type(self, schema: dict[str, Any]) -> tuple[bool, str | None]:
        if "$ref" in schema:
            name = _ref_name(schema["$ref"])
            target = self.schemas.get(name, {})
            if name.endswith("CollectionResponse"):
                return self._collection_item(target)
            return False, name
        if "allOf" in schema:
            for part in schema["allOf"]:
                if "$ref" in part and part["$ref"].endswith("BaseCollectionPaginationCountResponse"):
                    return self._collection_item(schema)
            if len(schema["allOf"]) == 1:
                return self._schema_type(schema["allOf"][0])
        if schema.get("type") == "array":
            items = schema.get("items", {})
            return True, _ref_name(items["$ref"]) if "$ref" in items else None
        return False, None

    def _collection_item(self, schema: dict[str, Any]) -> tuple[bool, str | None]:
        for part in schema.get("allOf", [schema]):
            value = part.get("properties", {}).get("value")
            if value is not None:
                items = value.get("items", {})
                return True, _ref_name(items["$ref"]) if "$ref" in items else None
        return True, None

    @staticmethod
    def _path_params(op: dict[str, Any]) -> dict[str, Param]:
        out: dict[str, Param] = {}
        for prm in op.get("parameters", []):
            if prm.get("in") != "path":
                continue
            schema = prm.get("schema", {})
            out[prm["name"]] = Param(prm["name"], _param_kind(schema), bool(schema.get("nullable", False)))
        return out

    def build(self) -> SpecIndex:
        entity_sets: dict[str, EntitySet] = {}
        singletons: dict[str, Singleton] = {}
        operations: dict[str, Operation] = {}
        nav_paths: set[str] = set()
        keyed: list[tuple[str, str, dict[str, Any]]] = []

        for path, item in self.doc["paths"].items():
            segments = path.strip("/").split("/")
            methods = {m: op for m, op in item.items() if m in ("get", "post", "patch", "delete", "put")}
            last = segments[-1]
            first_op = next(iter(methods.values()))
            op_type = first_op.get("x-ms-docs-operation-type")
            if op_type in ("function", "action", "functionImport", "actionImport"):
                binding = "/".join(segments[:-1])
                name, _, rest = last.partition("(")
                params_by_name = self._path_params(first_op)
                order = re.findall(r"(\w+)=\{\w+\}", rest)
                params = [params_by_name[n] for n in order if n in params_by_name]
                coll, rtype = self._response_schema(first_op)
                kind = "function" if op_type.startswith("function") else "action"
                status, body = self._success(first_op)
                operation = Operation(binding, name, kind, params, coll, rtype, "(" in last, status, body)
                operations[operation.key] = operation
                continue
            if len(segments) == 1:
                match = _KEY_SEGMENT.match(last)
                if match:
                    keyed.append((match.group("name"), match.group("inner"), methods))
                    continue
                get = methods.get("get")
                if get is None:
                    continue
                coll, rtype = self._response_schema(get)
                if coll and rtype:
                    es = entity_sets.setdefault(last, EntitySet(last, rtype))
                    es.listable = True
                    es.operations.add("list")
                    if "post" in methods:
                        es.operations.add("create")
                    self.type_properties(rtype)
                elif rtype:
                    singletons[last] = Singleton(
                        last, rtype, {"get"} | ({"update"} if "patch" in methods else set())
                    )
                    self.type_properties(rtype)
            else:
                nav_paths.add("/".join(segments))

        for set_name, inner, methods in keyed:
            get = methods.get("get") or next(iter(methods.values()))
            _, rtype = self._response_schema(get)
            found = entity_sets.get(set_name)
            if found is None:
                if rtype is None:
                    continue
                found = entity_sets[set_name] = EntitySet(set_name, rtype)
                self.type_properties(rtype)
            key_params = self._path_params(get)
            if "=" in inner:
                names = re.findall(r"(\w+)=\{\w+\}", inner)
                found.alternate_keys.append([key_params.get(n, Param(n, "str")) for n in names])
                found.alt_operations.update(
                    {"get": "get", "patch": "update", "delete": "delete"}[m] for m in methods if m != "put"
                )
            else:
                names = [m.group(1) for m in [_PARAM_TEMPLATE.match(inner)] if m]
                found.key = [key_params.get(n, Param(n, "str")) for n in names]
                found.operations.update(
                    {"get": "get", "patch": "update", "delete": "delete"}[m] for m in methods if m != "put"
                )
        # sets without a key path (CallHistoryView, ActiveCalls...): Id if present, else SegmentId-like
        for es in entity_sets.values():
            if not es.key:
                props = self.types.get(es.entity_type, {})
                candidates = ["Id", "SegmentId"] + [n for n in props if n.endswith("Id")]
                for cand in candidates:
                    if cand in props:
                        es.key = [Param(cand, props[cand].kind)]
                        break
        return SpecIndex(
            version=self.version,
            sha256=self.sha256,
            entity_sets=entity_sets,
            singletons=singletons,
            types=self.types,
            enums=self.enums,
            operations=operations,
            navigation_paths=nav_paths,
            schemas=self.schemas,
        )


def build_index(doc: dict[str, Any], version: str, sha256: str = "") -> SpecIndex:
    """Build the index from an already parsed spec document.

    Example: ``build_index(yaml.load(f, Loader=yaml.CSafeLoader), "20.0.10")``.
    """
    return _Builder(doc, version, sha256).build()


def _cache_dir() -> Path:
    override = os.environ.get("PY3CX_CACHE_DIR")
    return Path(override) if override else Path(platformdirs.user_cache_dir("py3cx"))


@lru_cache(maxsize=4)
def load_spec_index(version: str) -> SpecIndex:
    """Load the index of the packaged spec for ``version``, from the JSON cache when it is fresh.

    The cache is keyed by the spec file's sha256; an unreadable or stale cache is rebuilt.
    Raises ValueError for an unknown version. Example: ``load_spec_index("20.0.10").entity_sets["Users"]``.
    """
    path = spec_path(version)
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    cache_file = _cache_dir() / f"xapi-index-{digest[:16]}-v{_INDEX_FORMAT}.json"
    try:
        data = json.loads(cache_file.read_text(encoding="utf-8"))
        if data.get("sha256") == digest and data.get("format") == _INDEX_FORMAT:
            return SpecIndex.from_json(data)
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        pass  # no cache yet, or a damaged one: rebuild below
    doc = yaml.load(raw, Loader=yaml.CSafeLoader)
    index = build_index(doc, version, digest)
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_file.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(index.to_json()), encoding="utf-8")
        os.replace(tmp, cache_file)
    except OSError:
        pass  # a read-only cache directory only costs start-up time
    return index
