"""The operations of the spec as plain data the writers can render: one ``Operation`` per method.

Reading a path template::

    /Users                                  entity set        list (GET), create (POST)
    /Users({Id})                            entity by key     get, update (PATCH), delete
    /Users(Number={Number})                 alternate key     get_by_number
    /Users({Id})/Groups, /Defs/Codecs       navigation        list_groups, list_codecs
    /Defs                                   singleton         get, update (PATCH)
    /Users({Id})/Pbx.GetPhoneSecret()       bound function    get_phone_secret (GET)
    /Users/Pbx.BatchDelete                  bound action      batch_delete (POST, JSON body)
    /GetUpdateDetails(key={key},id={id})    function import   get_update_details
    /PurgeCalls                             action import     purge_calls

Functions and actions are named after their ``operationId``; ``Download…``/``Export…``
functions, and functions typed as ``IActionResult``, return files and become downloads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from xapi_codegen.naming import python_identifier, resource_attribute, resource_class, snake_case
from xapi_codegen.schema_types import TypeMapper, is_nullable, ref_name

HTTP_METHODS = ("get", "post", "patch", "delete")
QUERY_OPTIONS = ("filter", "select", "expand", "orderby", "search", "top", "skip", "count")
# String arguments that the PBX reads as a time span (waitInterval='0:00:20'), by name.
_TIME_SPAN_ARGUMENT = re.compile(r"(Interval|^callTimeFilter(From|To))$")
_SEGMENT_RE = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_.]*)(?:\((?P<args>[^)]*)\))?$")
_PLACEHOLDER_RE = re.compile(r"^\{(?P<name>[^}]+)\}$")
_ARGUMENT_RE = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)=\{(?P<placeholder>[^}]+)\}$")


@dataclass
class Param:
    """A value the caller passes that ends up in the path (a key or a function argument)."""

    wire: str
    python: str
    annotation: str
    edm_type: str
    default: str | None = None  # Python source of the default, None when required
    time_span: bool = False  # a string argument that holds a 3CX time span ('0:00:20')


@dataclass
class BodyField:
    """One property of an action's JSON body."""

    wire: str
    python: str
    annotation: str
    optional: bool


@dataclass
class Segment:
    """One segment of a path: ``Users``, ``Users({Id})``, ``Users(Number={Number})``,
    ``Pbx.GetCallLogData(periodFrom={periodFrom},...)``."""

    name: str
    key: Param | None = None
    named_keys: list[Param] = field(default_factory=list)
    arguments: list[Param] | None = None  # not None for a function call segment

    @property
    def is_call(self) -> bool:
        return self.arguments is not None


@dataclass
class Result:
    """What an operation gives back.

    ``kind``: ``none`` (204), ``model`` (an entity or complex value), ``value`` (``{"value": x}``
    unwrapped), ``list`` (a collection read at once), ``pager`` (a collection paged lazily with
    ``$top``/``$skip``), ``download`` (bytes streamed to a file).
    """

    kind: str
    annotation: str = "None"  # the type (model or value), or the item type for list/pager
    nullable: bool = False


@dataclass
class Operation:
    """One HTTP operation of the spec, ready to render as a typed method."""

    operation_id: str
    http_method: str
    path: str
    tag: str
    kind: str  # list, get, create, update, delete, get_by_key, navigation, function, action
    method_name: str
    summary: str
    description: str
    segments: list[Segment]
    query_options: list[str]
    result: Result
    entity_body: str | None = None  # model annotation for create/update bodies
    body_fields: list[BodyField] = field(default_factory=list)
    etag: bool = False

    @property
    def key_params(self) -> list[Param]:
        """Path values that identify an entity, in path order (positional arguments)."""
        found: list[Param] = []
        for segment in self.segments:
            if segment.key is not None:
                found.append(segment.key)
            found.extend(segment.named_keys)
        return found

    @property
    def function_params(self) -> list[Param]:
        """Function arguments (keyword-only arguments)."""
        return [param for segment in self.segments for param in segment.arguments or []]


@dataclass
class Resource:
    """The operations of one tag, reached as ``client.xapi.<attribute>``."""

    tag: str
    attribute: str
    class_name: str
    operations: list[Operation]

    @property
    def module(self) -> str:
        return self.attribute.rstrip("_")


_EDM_TYPES = {
    ("string", "date-time"): ("datetime", "Edm.DateTimeOffset"),
    ("string", "uuid"): ("str | UUID", "Edm.Guid"),
    ("string", "duration"): ("timedelta", "Edm.Duration"),
    ("string", "date"): ("date", "Edm.Date"),
    ("integer", "int32"): ("int", "Edm.Int32"),
    ("integer", "int64"): ("int", "Edm.Int64"),
    ("integer", "uint8"): ("int", "Edm.Byte"),
    ("boolean", None): ("bool", "Edm.Boolean"),
    ("string", None): ("str", "Edm.String"),
    ("number", "double"): ("float", "Edm.Double"),
    ("number", "float"): ("float", "Edm.Single"),
    ("number", "decimal"): ("float", "Edm.Decimal"),
}


def _path_param(parameter: dict[str, Any], python_name: str) -> Param:
    schema = parameter.get("schema") or {}
    key = (str(schema.get("type")), schema.get("format"))
    if key not in _EDM_TYPES:
        key = (key[0], None)
    if key not in _EDM_TYPES:
        raise ValueError(f"path parameter {parameter.get('name')} has an unsupported schema: {schema}")
    annotation, edm_type = _EDM_TYPES[key]
    if schema.get("nullable"):
        annotation += " | None"
    default = None
    if "default" in schema:
        default = repr(schema["default"])
    time_span = edm_type == "Edm.String" and _TIME_SPAN_ARGUMENT.search(parameter["name"]) is not None
    if time_span:
        # Typed `string` in the spec, but a time span on the wire: a timedelta is written for you.
        annotation = annotation.replace("str", "str | timedelta", 1)
    return Param(parameter["name"], python_name, annotation, edm_type, default, time_span)


class OperationReader:
    """Turns the spec's paths into ``Resource`` objects (one per tag, in the spec's order)."""

    def __init__(self, document: dict[str, Any], model_prefix: str = "m.") -> None:
        self.document = document
        self.components = document.get("components", {})
        self.schemas: dict[str, Any] = self.components.get("schemas", {})
        self.mapper = TypeMapper(self.schemas, lambda name: model_prefix + _class_of(name), runtime_prefix="")

    # -- spec plumbing -------------------------------------------------------------------------

    def _deref(self, item: dict[str, Any]) -> dict[str, Any]:
        seen = 0
        while "$ref" in item:
            _, _, section, name = item["$ref"].split("/", 3)
            item = self.components[section][name]
            seen += 1
            if seen > 20:
                raise ValueError("$ref cycle")
        return item

    def _parameters(self, operation: dict[str, Any]) -> list[dict[str, Any]]:
        return [self._deref(parameter) for parameter in operation.get("parameters", [])]

    # -- results ----------------------------------------------------------------------------------

    def _collection_item(self, schema: dict[str, Any]) -> dict[str, Any] | None:
        """The item schema when ``schema`` is an OData collection (``{"value": [...]}``)."""
        name = ref_name(schema) if "$ref" in schema else None
        if name is not None:
            if not name.endswith("CollectionResponse"):
                return None
            schema = self.schemas[name]
        parts = schema.get("allOf")
        if not parts or not any(
            ref_name(part) == "BaseCollectionPaginationCountResponse" for part in parts if "$ref" in part
        ):
            return None
        for part in parts:
            value = (part.get("properties") or {}).get("value")
            if value is not None and value.get("type") == "array":
                return dict(value.get("items", {}))
        return None

    def _result(self, operation: dict[str, Any], paged: bool, download: bool) -> Result:
        operation_type = operation.get("x-ms-docs-operation-type")
        if download:
            return Result("download", "int")
        responses = operation.get("responses", {})
        success = [code for code in ("200", "201", "204") if code in responses]
        if not success:
            raise ValueError(f"{operation['operationId']} has no success response")
        response = self._deref(responses[success[0]])
        content = response.get("content") or {}
        if not content:
            return Result("none")
        schema = next(iter(content.values())).get("schema") or {}
        item = self._collection_item(schema)
        if item is not None:
            return Result("pager" if paged else "list", self.mapper.expr(item))
        properties = schema.get("properties") or {}
        answers_empty = operation_type in ("action", "actionImport")
        if "$ref" not in schema and "allOf" not in schema and set(properties) == {"value"}:
            value = properties["value"]
            return Result("value", self.mapper.expr(value), is_nullable(value) or answers_empty)
        target = ref_name(schema)
        if target is not None and "enum" in self.schemas.get(target, {}):
            # A null enum value is left out of the answer ({"@odata.context": ...} alone).
            return Result("value", self.mapper.expr(schema), True)
        if target is not None:
            # Actions typed as returning something often answer 204 with no body (BEHAVIOUR.md
            # §2), and an IActionResult has no properties to lose: both may come back as None.
            nullable = is_nullable(schema) or target == "Pbx.IActionResult" or answers_empty
            return Result("model", self.mapper.expr(schema), nullable)
        return Result("value", self.mapper.expr(schema), is_nullable(schema))

    # -- bodies --------------------------------------------------------------------------------------

    def _body(self, operation: dict[str, Any]) -> tuple[str | None, list[BodyField]]:
        body = operation.get("requestBody")
        if body is None:
            return None, []
        body = self._deref(body)
        schema = next(iter(body["content"].values()))["schema"]
        target_name = ref_name(schema)
        if target_name is not None and "properties" not in schema:
            if not target_name.endswith("RequestBody"):
                return self.mapper.expr(schema), []
            # Older specs put action parameters in a named schema instead of inline.
            schema = self.schemas[target_name]
        fields: list[BodyField] = []
        used: set[str] = {"self"}
        for wire, prop in (schema.get("properties") or {}).items():
            python = python_identifier(wire)
            while python in used:
                python += "_"
            used.add(python)
            optional = is_nullable(prop) or "default" in prop
            fields.append(BodyField(wire, python, self.mapper.expr(prop), optional))
        return None, fields

    # -- paths ----------------------------------------------------------------------------------

    def _segments(self, path: str, parameters: dict[str, dict[str, Any]], used: set[str]) -> list[Segment]:
        segments: list[Segment] = []
        for text in path.strip("/").split("/"):
            match = _SEGMENT_RE.match(text)
            if match is None:
                raise ValueError(f"cannot read path segment {text!r} of {path}")
            segment = Segment(match["name"])
            args = match["args"]
            is_function = match["name"].startswith("Pbx.") or (
                args is not None and (args == "" or "=" in args) and not _looks_like_key(args, parameters)
            )
            if args is None:
                pass
            elif is_function:
                segment.arguments = []
                for part in filter(None, args.split(",")):
                    arg = _ARGUMENT_RE.match(part)
                    if arg is None:
                        raise ValueError(f"cannot read argument {part!r} of {path}")
                    python = _unique(python_identifier(arg["name"]), used)
                    segment.arguments.append(_path_param(parameters[arg["placeholder"]], python))
            else:
                single = _PLACEHOLDER_RE.match(args)
                if single is not None:
                    python = _unique(python_identifier(single["name"]), used)
                    segment.key = _key_param(parameters[single["name"]], python)
                else:
                    for part in args.split(","):
                        arg = _ARGUMENT_RE.match(part)
                        if arg is None:
                            raise ValueError(f"cannot read key {part!r} of {path}")
                        python = _unique(python_identifier(arg["name"]), used)
                        named = _key_param(parameters[arg["placeholder"]], python)
                        named.wire = arg["name"]
                        segment.named_keys.append(named)
            segments.append(segment)
        return segments

    # -- classification ---------------------------------------------------------------------------

    def _classify(
        self, http_method: str, operation: dict[str, Any], segments: list[Segment], result: Result
    ) -> tuple[str, str]:
        """(kind, method name) of an operation."""
        operation_type = operation.get("x-ms-docs-operation-type")
        operation_id = operation["operationId"]
        if operation_type in ("function", "functionImport"):
            return "function", python_identifier(operation_id)
        if operation_type in ("action", "actionImport"):
            return "action", python_identifier(operation_id)
        last = segments[-1]
        if last.is_call or last.name.startswith("Pbx."):
            # A function or action the spec forgot to label as one.
            return ("function" if http_method == "get" else "action"), python_identifier(operation_id)
        keyed = last.key is not None or bool(last.named_keys)
        if len(segments) == 1 and not keyed:
            if http_method == "get":
                return ("list", "list") if result.kind in ("pager", "list") else ("get", "get")
            if http_method == "post":
                return "create", "create"
            if http_method == "patch":
                return "update", "update"
        if len(segments) == 1 and last.key is not None:
            return {"get": ("get", "get"), "patch": ("update", "update"), "delete": ("delete", "delete")}[
                http_method
            ]
        if len(segments) == 1 and last.named_keys and http_method == "get":
            return "get_by_key", "get_by_" + "_and_".join(snake_case(p.wire) for p in last.named_keys)
        if len(segments) == 2 and not last.is_call and http_method == "get":
            return "navigation", "list_" + python_identifier(last.name)
        raise ValueError(f"cannot classify {http_method.upper()} {operation_id}")

    def resources(self) -> list[Resource]:
        """Every tag's operations, tags and operations in the spec's order."""
        by_tag: dict[str, Resource] = {}
        for path, item in self.document["paths"].items():
            for http_method in HTTP_METHODS:
                operation = item.get(http_method)
                if operation is None:
                    continue
                parsed = self.operation(path, http_method, operation)
                resource = by_tag.get(parsed.tag)
                if resource is None:
                    resource = Resource(
                        parsed.tag, resource_attribute(parsed.tag), resource_class(parsed.tag), []
                    )
                    by_tag[parsed.tag] = resource
                if any(other.method_name == parsed.method_name for other in resource.operations):
                    raise ValueError(f"two operations of {parsed.tag} are both called {parsed.method_name}")
                resource.operations.append(parsed)
        return list(by_tag.values())

    def operation(self, path: str, http_method: str, operation: dict[str, Any]) -> Operation:
        """One ``Operation`` from its path template, HTTP method and spec object."""
        parameters = self._parameters(operation)
        path_parameters = {p["name"]: p for p in parameters if p.get("in") == "path"}
        names = {p["name"] for p in parameters}
        options = [option for option in QUERY_OPTIONS if f"${option}" in names]
        used: set[str] = {"self", "file", "etag", "page_size"} | set(options)
        segments = self._segments(path, path_parameters, used)
        operation_id = operation["operationId"]
        operation_type = operation.get("x-ms-docs-operation-type")
        download = (
            http_method == "get"
            and operation_type in ("function", "functionImport")
            and (operation_id.startswith(("Download", "Export")) or self._returns_action_result(operation))
        )
        paged = http_method == "get" and "top" in options and "skip" in options
        result = self._result(operation, paged, download)
        if download:
            options = []
        kind, method_name = self._classify(http_method, operation, segments, result)
        if download and not method_name.startswith(("download", "export")):
            method_name = "download_" + method_name
        entity_body, body_fields = self._body(operation)
        etag = any(p.get("in") == "header" and p["name"] == "If-Match" for p in parameters)
        return Operation(
            operation_id=operation_id,
            http_method=http_method.upper(),
            path=path,
            tag=operation.get("tags", ["Default"])[0],
            kind=kind,
            method_name=method_name,
            summary=str(operation.get("summary") or "").strip(),
            description=str(operation.get("description") or "").strip(),
            segments=segments,
            query_options=options,
            result=result,
            entity_body=entity_body,
            body_fields=body_fields,
            etag=etag,
        )

    def _returns_action_result(self, operation: dict[str, Any]) -> bool:
        response = self._deref(operation.get("responses", {}).get("200", {}))
        for content in (response.get("content") or {}).values():
            if ref_name(content.get("schema") or {}) == "Pbx.IActionResult":
                return True
        return False


def _key_param(parameter: dict[str, Any], python_name: str) -> Param:
    """A key is never null, whatever the schema says."""
    param = _path_param(parameter, python_name)
    param.annotation = param.annotation.removesuffix(" | None")
    return param


def _looks_like_key(args: str, parameters: dict[str, dict[str, Any]]) -> bool:
    """``(Number={Number})`` is an alternate key, ``(number={number})`` after ``Pbx.`` a call."""
    parts = [_ARGUMENT_RE.match(part) for part in args.split(",")]
    return all(
        (part is not None and parameters.get(part["placeholder"], {}).get("x-ms-docs-key-type") is not None)
        or (part is not None and part["name"][:1].isupper())
        for part in parts
    )


def _unique(name: str, used: set[str]) -> str:
    while name in used:
        name += "_"
    used.add(name)
    return name


def _class_of(schema_name: str) -> str:
    from xapi_codegen.naming import class_name

    return class_name(schema_name)
