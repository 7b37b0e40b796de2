"""One plausible request per operation of an official spec file, read straight from its YAML.

Independent of the emulator's own spec index, so that a reading mistake there cannot hide here.
Keys come from the emulator's data where the set has rows; function arguments are OData
literals of their declared type; request bodies are empty objects (every property is optional).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml

from py3cx.emulator.spec import spec_path

_TEMPLATE = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class SpecOperation:
    """One path and method of the spec."""

    path: str
    method: str
    operation_id: str
    success: int  # the documented success status
    path_params: dict[str, dict[str, Any]]
    action_result: bool = False  # the success body is Pbx.IActionResult (any ASP.NET result)

    @property
    def entity_set(self) -> str:
        return re.sub(r"\(.*", "", self.path.strip("/").split("/")[0])

    @property
    def id(self) -> str:
        return f"{self.method} {self.operation_id}"


@lru_cache(maxsize=2)
def spec_operations(version: str) -> tuple[SpecOperation, ...]:
    """Every operation of the packaged spec of ``version``, in file order."""
    doc = yaml.load(spec_path(version).read_bytes(), Loader=yaml.CSafeLoader)
    out: list[SpecOperation] = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method not in ("get", "post", "patch", "delete"):
                continue
            params = {
                p["name"]: p.get("schema", {})
                for p in op.get("parameters", [])
                if "$ref" not in p and p.get("in") == "path"
            }
            success = next(code for code in op["responses"] if code != "default")
            body = op["responses"][success].get("content", {}).get("application/json", {}).get("schema", {})
            action_result = "Pbx.IActionResult" in str(body)
            out.append(
                SpecOperation(path, method.upper(), op["operationId"], int(success), params, action_result)
            )
    return tuple(out)


def literal(schema: dict[str, Any]) -> str:
    """A valid OData literal for a parameter schema: ``1``, ``false``, ``2025-03-01T00:00:00Z``, ``''``."""
    kind, fmt = schema.get("type"), schema.get("format")
    if kind == "integer":
        return "1"
    if kind == "boolean":
        return "false"
    if fmt == "date-time":
        return "2025-03-01T00:00:00Z"
    if fmt == "uuid":
        return "00000000-0000-0000-0000-000000000001"
    return "''"


def build_url(op: SpecOperation, key_of: Callable[[str, str], str | None]) -> str:
    """The operation's path with its templates filled: keys by ``key_of(set, name)``, else literals."""
    first = op.path.strip("/").split("/")[0]
    key_part = first[first.find("(") :] if "(" in first else ""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        schema = op.path_params.get(name, {})
        if f"{{{name}}}" in key_part:
            found = key_of(op.entity_set, name)
            if found is not None:
                return found
        return literal(schema)

    return "/" + _TEMPLATE.sub(fill, op.path.lstrip("/"))


def key_lookup(pbx: Any) -> Callable[[str, str], str | None]:
    """``key_of(set, name)`` for ``build_url``: the named key of the set's first row, as an OData literal."""
    keys: dict[str, dict[str, Any]] = {}

    def key_of(entity_set: str, name: str) -> str | None:
        if entity_set not in keys:
            response = pbx.get(f"{entity_set}?$top=1")
            rows = response.json().get("value", []) if response.status_code == 200 else []
            keys[entity_set] = rows[0] if rows else {}
        value = keys[entity_set].get(name)
        if value is None:
            return None
        return str(value) if isinstance(value, int) else "'" + str(value).replace("'", "''") + "'"

    return key_of
