"""The differences between the newest spec and an older one, as far as the typed methods care.

For every operation of the newest spec:

- same method and path in the old spec: the same operation. If its action body gained fields,
  the old field names are recorded (``LEGACY_BODY_FIELDS``) so that a new field is refused on
  an old PBX.
- same method, tag and ``operationId`` but another path: a **changed form**
  (``GetCallQualityReport(call_id=...)`` -> ``(cdrId=...)``). An alternate key
  ``Users(Number={Number})`` also matches an old ``Users/Pbx.Get…ByNumber(number={number})``
  function of the same tag.
- otherwise the operation was **added** after the old build.

Old operations that match nothing are listed as removed (for the reference page only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from xapi_codegen.operations import HTTP_METHODS, Operation, OperationReader, Param

# Old arguments that the new form does not have get these values (Python source) on an old PBX.
# GetLogs took its own paging arguments on 20.0.4; $top/$skip do the paging, so these stay wide.
LEGACY_ARGUMENT_DEFAULTS: dict[tuple[str, str], str] = {
    ("GetLogs", "search"): "None",
    ("GetLogs", "top"): "2147483647",
    ("GetLogs", "skip"): "0",
}

_ALTERNATE_KEY_RE = re.compile(r"^/(?P<set>[A-Za-z]+)\((?P<key>[A-Za-z]+)=\{[A-Za-z]+\}\)$")
_BY_KEY_FUNCTION_RE = re.compile(
    r"^/(?P<set>[A-Za-z]+)/Pbx\.Get[A-Za-z]*By(?P<key>[A-Za-z]+)\((?P<arg>[A-Za-z]+)=\{[A-Za-z]+\}\)$"
)


@dataclass
class LegacyForm:
    """How to call an operation on the old build: its old path and the old argument values."""

    operation: Operation  # the old operation, parsed from the old spec
    arguments: dict[str, str]  # old wire name -> Python source (a variable of the new method, or a default)


@dataclass
class SpecDrift:
    """Everything the generated code and the reference page need about the old build."""

    changed: dict[str, LegacyForm] = field(default_factory=dict)  # new operationId -> old form
    added: list[str] = field(default_factory=list)
    body_fields: dict[str, list[str]] = field(default_factory=dict)  # operationId -> old body fields
    removed: dict[str, str] = field(default_factory=dict)  # old operationId -> "METHOD path"
    current_paths: dict[str, str] = field(default_factory=dict)  # guarded operationId -> new path

    def guarded(self, operation_id: str) -> bool:
        """True when the generated method must consult the PBX's build."""
        return operation_id in self.current_paths


def _operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    found = {}
    for path, item in document["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                found[(method, path)] = item[method]
    return found


def _body_field_names(reader: OperationReader, operation: dict[str, Any]) -> list[str] | None:
    _, fields = reader._body(operation)
    if not fields:
        return None
    return [item.wire for item in fields]


def _match_arguments(new: Operation, old: Operation) -> dict[str, str]:
    """Old wire argument -> Python source, by name (case-insensitive), then by position, then default."""
    new_params: list[Param] = new.key_params + new.function_params
    by_name = {param.wire.lower(): param for param in new_params}
    old_params: list[Param] = old.key_params + old.function_params
    old_names = {param.wire.lower() for param in old_params}
    renamed = [param for param in new_params if param.wire.lower() not in old_names]
    mapping: dict[str, str] = {}
    for index, param in enumerate(old_params):
        match = by_name.get(param.wire.lower())
        if match is None and index < len(new_params) and new_params[index] in renamed:
            match = new_params[index]
        if match is not None:
            source = match.python
            if match.edm_type != param.edm_type:
                # cdrId:string -> call_id:int: checked, so a value that cannot fit says why.
                source = f'as_legacy_argument({source}, "{param.edm_type}", "{match.wire}", "{param.wire}")'
            mapping[param.wire] = source
            continue
        default = LEGACY_ARGUMENT_DEFAULTS.get((new.operation_id, param.wire))
        if default is None:
            raise ValueError(
                f"{new.operation_id}: the old form's argument {param.wire!r} has no counterpart; "
                "add it to LEGACY_ARGUMENT_DEFAULTS"
            )
        mapping[param.wire] = default
    return mapping


def compare(current: dict[str, Any], legacy: dict[str, Any]) -> SpecDrift:
    """The drift between two spec documents (the newest first).

    Raises ValueError when a changed form has an old argument nothing can fill.
    Example: ``compare(new_doc, old_doc).changed["GetUserByNumber"].operation.path``.
    """
    drift = SpecDrift()
    new_reader = OperationReader(current)
    old_reader = OperationReader(legacy)
    new_ops = _operations(current)
    old_ops = _operations(legacy)
    old_by_id = {
        (method, op.get("tags", [""])[0], op["operationId"]): (path, op)
        for (method, path), op in old_ops.items()
    }
    matched_old: set[tuple[str, str]] = set()
    for (method, path), operation in new_ops.items():
        operation_id = operation["operationId"]
        if (method, path) in old_ops:
            matched_old.add((method, path))
            new_fields = _body_field_names(new_reader, operation)
            old_fields = _body_field_names(old_reader, old_ops[(method, path)]) or []
            if new_fields is not None and not set(new_fields) <= set(old_fields):
                drift.body_fields[operation_id] = sorted(old_fields)
                drift.current_paths[operation_id] = path
            continue
        old = old_by_id.get((method, operation.get("tags", [""])[0], operation_id))
        if old is None:
            old = _old_by_key_function(method, path, operation, old_ops)
        if old is not None:
            old_path, old_operation = old
            matched_old.add((method, old_path))
            new_parsed = new_reader.operation(path, method, operation)
            old_parsed = old_reader.operation(old_path, method, old_operation)
            drift.changed[operation_id] = LegacyForm(old_parsed, _match_arguments(new_parsed, old_parsed))
            drift.current_paths[operation_id] = path
            continue
        drift.added.append(operation_id)
        drift.current_paths[operation_id] = path
    for (method, path), operation in old_ops.items():
        if (method, path) not in matched_old:
            drift.removed[operation["operationId"]] = f"{method.upper()} {path}"
    return drift


def _old_by_key_function(
    method: str, path: str, operation: dict[str, Any], old_ops: dict[tuple[str, str], dict[str, Any]]
) -> tuple[str, dict[str, Any]] | None:
    """``/Users(Number={Number})`` <- ``/Users/Pbx.GetByNumber(number={number})`` (same tag)."""
    match = _ALTERNATE_KEY_RE.match(path)
    if match is None or method != "get":
        return None
    tag = operation.get("tags", [""])[0]
    for (old_method, old_path), old_operation in old_ops.items():
        old_match = _BY_KEY_FUNCTION_RE.match(old_path)
        if (
            old_method == method
            and old_match is not None
            and old_match["set"] == match["set"]
            and old_match["key"].lower() == match["key"].lower()
            and old_operation.get("tags", [""])[0] == tag
        ):
            return old_path, old_operation
    return None
