"""The answer of every spec function or action that no handler models: made from the spec itself.

The core calls :func:`answer_from_spec` when the registry has no handler for an operation, so
that every path of the spec answers (none with 501). What it answers follows the spec's success
response:

- no body (``204``): nothing;
- a collection of an entity type the emulator stores (``Users/Pbx.ExportExtensions()`` →
  ``Pbx.User``): the rows of that set (the core then applies ``$filter``, ``$top``...);
- any other collection: two items made from the item schema (:mod:`.synthesis`);
- ``{"value": ...}`` (a primitive result): a value of that type; a body typed as a bare enum
  (``SystemStatus/Pbx.GetRemoteAccessStatus()``): that JSON string;
- ``Pbx.IActionResult`` from a function: a file (the PBX sends files there: recordings,
  greetings, scripts, exports), a WAV for audio and text otherwise; from an action, ``{}``;
- ``Download…`` functions with a collection result: the rows as a CSV file (BEHAVIOUR.md §2:
  typed as JSON in the spec, files on the wire);
- any other object: one object of the schema.

Arguments have already been checked by the core (404 missing, 500 malformed); the default
answer does not depend on them.
"""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from starlette.responses import Response

from .audio import wav_tone
from .errors import json_response
from .registry import FunctionContext, HandlerResult
from .spec import Operation
from .store import ROW_NUMBER

if TYPE_CHECKING:
    from .state import EmulatorState

__all__ = ["answer_from_spec", "csv_file", "rows_of_type"]

_ACTION_RESULT = "#/components/schemas/Pbx.IActionResult"
_AUDIO_HINTS = ("Recording", "Greeting", "Playlist", "Prompt", "Audio")
_GENERATED_ITEMS = 2


def answer_from_spec(ctx: FunctionContext, op: Operation) -> HandlerResult:
    """The spec-shaped answer of ``op`` (see the module docstring).

    Example: ``answer_from_spec(ctx, state.spec.operation("Queues", "Pbx.GetFirstAvailableQueueNumber"))``.
    """
    state = ctx.state
    schema = op.response_schema
    if op.status == 204 or schema is None:
        return None
    if _is_action_result(schema):
        return _file(op) if op.kind == "function" else {}
    synth = state.synthesizer
    if op.returns_collection:
        rows = _collection(state, op)
        if op.name.startswith("Pbx.Download"):
            names = list(state.spec.properties(op.returns_type)) if op.returns_type else []
            return csv_file(rows, names)
        return rows
    resolved = synth.resolve(schema)
    if "enum" in resolved or resolved.get("type") in ("string", "integer", "number", "boolean"):
        # the spec types the body as the bare value (an enum member): sent as a JSON string
        return json_response(synth.value(schema))
    props = synth.properties(schema)
    if list(props) == ["value"]:
        # the function's name says what its one value is (APIToken, GenerateProvLink, GetIfaces...)
        return {"value": synth.value(props["value"], op.name.removeprefix("Pbx."))}
    if op.returns_type:
        return synth.entity(op.returns_type)
    value = synth.value(schema)
    return value if isinstance(value, dict) else {"value": value}


def _is_action_result(schema: dict[str, Any]) -> bool:
    if schema.get("$ref") == _ACTION_RESULT:
        return True
    parts = schema.get("allOf", [])
    return len(parts) == 1 and parts[0].get("$ref") == _ACTION_RESULT


def _file(op: Operation) -> Response:
    stem = op.name.removeprefix("Pbx.")
    if any(hint in stem for hint in _AUDIO_HINTS):
        return Response(wav_tone(1.0), media_type="audio/wav")
    body = f"# {stem} exported by the py3cx PBX emulator\n".encode()
    return Response(body, media_type="text/plain; charset=utf-8")


def _collection(state: EmulatorState, op: Operation) -> list[Any]:
    if op.returns_type is None:
        # a collection of primitives (Collection(Edm.String)): the item schema says which
        items = _primitive_items(op.response_schema or {})
        hint = op.name.removeprefix("Pbx.")
        return [state.synthesizer.value(items, hint, index=i) for i in range(_GENERATED_ITEMS)]
    binding_set = op.binding.split("(", 1)[0]
    rows = rows_of_type(state, op.returns_type, prefer=binding_set)
    if rows is not None:
        return rows
    return [state.synthesizer.entity(op.returns_type, index=i) for i in range(_GENERATED_ITEMS)]


def _primitive_items(schema: dict[str, Any]) -> dict[str, Any]:
    for part in schema.get("allOf", [schema]):
        value = part.get("properties", {}).get("value")
        if value is not None:
            items: dict[str, Any] = value.get("items", {})
            return items
    return {"type": "string"}


def rows_of_type(state: EmulatorState, type_name: str, prefer: str = "") -> list[dict[str, Any]] | None:
    """Wire rows of the entity set that stores ``type_name`` (``prefer`` first), or None when none does.

    Example: ``rows_of_type(state, "Pbx.User", prefer="Users")``.
    """
    candidates = [state.tables[prefer]] if prefer in state.tables else []
    candidates += [t for t in state.tables.values() if t.name != prefer]
    entity = next((t for t in candidates if t.type_name == type_name), None)
    if entity is None:
        return None
    names = [p.name for p in entity.scalar_props]
    order = [entity.table.c[k] for k in entity.key]
    with state.engine.connect() as conn:
        rows = conn.execute(sa.select(entity.table).order_by(*order)).mappings().all()
    return [{k: v for k, v in entity.to_wire(row, names).items() if k != ROW_NUMBER} for row in rows]


def csv_file(rows: list[dict[str, Any]], names: list[str]) -> Response:
    """Rows as a UTF-8 CSV download; columns from ``names`` (the schema) plus any other key seen.

    Example: ``csv_file([{"Number": "100"}], ["Number", "Name"])``.
    """
    columns = list(dict.fromkeys([*names, *(k for row in rows for k in row)]))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_cell(v) for k, v in row.items()})
    return Response(buffer.getvalue().encode("utf-8"), media_type="text/csv; charset=utf-8")


def _csv_cell(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value
