"""Build ``_catalog.py``, the table of report functions, from the official XAPI spec.

Every ``Report*`` entity set is reached only through its functions; each listing function
(a GET that returns a collection) becomes one catalog entry with its arguments in spec order,
its row schema's columns in spec order, and its ``Download…`` twin. CallHistoryView and
ActiveCalls, plain entity sets, are listed with their columns.

Run it after the spec changes, from the repository root::

    python -m py3cx.reports._catalog_build src/py3cx/emulator/specs/xapi-swagger-20.0.10.yaml \
        > src/py3cx/reports/_catalog.py

``tests/reports/test_catalog.py`` fails when the committed table differs from a fresh build.
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path
from typing import Any

import yaml

__all__ = ["build_catalog_source"]

_REPORT_PATH = re.compile(r"^/(?P<set>Report\w+)/(?P<fn>Pbx\.\w+)\((?P<args>[^)]*)\)$")
_LIST_SETS = ("CallHistoryView", "ActiveCalls")


def _resolve(spec: dict[str, Any], ref: str) -> dict[str, Any]:
    node: Any = spec
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    assert isinstance(node, dict)
    return node


def _edm_type(schema: dict[str, Any]) -> str:
    """The Edm type of a path argument, as the literal encoder names it."""
    kind, fmt = schema.get("type"), schema.get("format")
    if kind == "integer":
        return "Edm.Int64" if fmt == "int64" else "Edm.Int32"
    if kind == "boolean":
        return "Edm.Boolean"
    if kind == "string" and fmt == "date-time":
        return "Edm.DateTimeOffset"
    if kind == "number":
        return "Edm.Decimal"
    return "Edm.String"


def _column_kind(spec: dict[str, Any], prop: dict[str, Any]) -> str:
    """One word for how a column is shown and written: see ``py3cx.reports.columns.ColumnKind``."""
    ref = prop.get("$ref")
    for key in ("allOf", "anyOf", "oneOf"):
        if not ref and prop.get(key):
            ref = prop[key][0].get("$ref")
    if ref:
        target = _resolve(spec, ref)
        return "enum" if "enum" in target else "object"
    kind, fmt = prop.get("type"), prop.get("format")
    if kind == "array":
        return "array"
    if kind == "boolean":
        return "boolean"
    if kind == "integer":
        return "decimal" if fmt == "decimal" else "integer"
    if kind == "number":
        return "decimal"
    if kind == "string":
        if fmt == "date-time":
            return "datetime"
        if fmt == "duration":
            return "duration"
    return "string"


def _row_schema(spec: dict[str, Any], response: dict[str, Any]) -> str | None:
    """The schema name of the rows of a collection response, or None when it is not a collection."""
    if "$ref" in response:
        response = _resolve(spec, response["$ref"])
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    if "$ref" in schema:
        schema = _resolve(spec, schema["$ref"])
    parts = [schema, *schema.get("allOf", [])]
    for part in parts:
        value = part.get("properties", {}).get("value")
        if value and value.get("type") == "array":
            ref = value.get("items", {}).get("$ref")
            return ref.rsplit("/", 1)[-1] if ref else None
    return None


def _columns(spec: dict[str, Any], schema_name: str) -> tuple[tuple[str, str], ...]:
    props = spec["components"]["schemas"][schema_name].get("properties", {})
    return tuple((name, _column_kind(spec, prop)) for name, prop in props.items())


def _path_args(op: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(
        (p["name"], _edm_type(p.get("schema", {}))) for p in op.get("parameters", []) if p.get("in") == "path"
    )


def _emit(value: Any, depth: int) -> str:
    """Python source for nested tuples, laid out the way ``ruff format`` leaves it: a tuple of
    scalars on one line, any other tuple exploded one item per line with a trailing comma."""
    if value is None or isinstance(value, str):
        return "None" if value is None else '"' + value + '"'
    assert isinstance(value, tuple)
    if not value:
        return "()"
    if all(isinstance(v, str) for v in value) and len(value) > 1:
        return "(" + ", ".join(_emit(v, depth) for v in value) + ")"
    if len(value) == 1 and "\n" not in (only := _emit(value[0], depth)):
        return f"({only},)"  # a one-item tuple's comma is not a "magic" one: ruff joins it
    pad = "    " * (depth + 1)
    body = "".join(f"{pad}{_emit(v, depth + 1)},\n" for v in value)
    return "(\n" + body + "    " * depth + ")"


def build_catalog_source(spec_text: str) -> str:
    """Return the Python source of ``_catalog.py`` for the spec given as YAML text.

    Raises KeyError or AssertionError when the spec lacks the parts a report needs.
    Example: ``build_catalog_source(Path("xapi-swagger.yaml").read_text())``.
    """
    spec = yaml.load(spec_text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    sha = hashlib.sha256(spec_text.encode("utf-8")).hexdigest()
    functions: list[tuple[Any, ...]] = []
    downloads: dict[str, list[tuple[str, tuple[tuple[str, str], ...]]]] = {}
    for path, item in spec["paths"].items():
        match = _REPORT_PATH.match(path)
        op = item.get("get")
        if not match or op is None:
            continue
        entity_set, function = match["set"], match["fn"]
        if function.startswith("Pbx.Download"):
            downloads.setdefault(entity_set, []).append((function, _path_args(op)))
            continue
        row_schema = _row_schema(spec, op["responses"]["200"])
        if row_schema is None:
            continue  # a single object (GetCallQualityReport), not a report listing
        functions.append((entity_set, function, _path_args(op), row_schema, _columns(spec, row_schema)))
    entries = []
    for entity_set, function, args, row_schema, columns in functions:
        twins = downloads.get(entity_set, [])
        twin = twins[0] if len(twins) == 1 else (None, ())
        entries.append((entity_set, function, args, row_schema, columns, twin[0], twin[1]))
    lists = []
    for entity_set in _LIST_SETS:
        op = spec["paths"][f"/{entity_set}"]["get"]
        row_schema = _row_schema(spec, op["responses"]["200"])
        assert row_schema is not None
        prefix = f"/{entity_set}/Pbx.Download"
        download = next((p.split("/")[2].split("(")[0] for p in spec["paths"] if p.startswith(prefix)), None)
        lists.append((entity_set, row_schema, _columns(spec, row_schema), download))
    return (
        '"""Report functions and listed entity sets of the XAPI spec. Generated: do not edit.\n\n'
        "Built by ``python -m py3cx.reports._catalog_build`` from the spec whose sha256 is below.\n"
        "FUNCTIONS rows: (entity set, function, ((argument, Edm type), ...), row schema,\n"
        "((column, kind), ...), Download twin or None, ((twin argument, Edm type), ...)).\n"
        'LISTS rows: (entity set, row schema, ((column, kind), ...), Download function or None).\n"""\n\n'
        "from __future__ import annotations\n\n"
        f'SPEC_SHA256 = "{sha}"\n\n'
        f"FUNCTIONS = {_emit(tuple(entries), 0)}\n\n"
        f"LISTS = {_emit(tuple(lists), 0)}\n"
    )


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        sys.stderr.write("usage: python -m py3cx.reports._catalog_build SPEC.yaml > _catalog.py\n")
        return 2
    sys.stdout.write(build_catalog_source(Path(argv[1]).read_text(encoding="utf-8")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
