"""Calling every operation of the spec through its typed method, with arguments that make sense.

The generator's own reading of the spec (``xapi_codegen.operations``) says which method each
operation became and what it takes; the values come from the emulator's data where an entity
must exist (keys are read from the entity set first), and from the argument's type otherwise.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from py3cx import APIStatusError, AsyncClient
from py3cx.xapi import XapiModel
from py3cx.xapi._generated import models
from xapi_codegen.operations import Operation, OperationReader, Param, Resource
from xapi_codegen.spec_loader import LoadedSpec

from .emulated_pbx import ANCHOR


@dataclass(frozen=True)
class WalkStep:
    """One operation to call: the resource attribute, the operation, a readable id for pytest."""

    resource: Resource
    operation: Operation

    @property
    def id(self) -> str:
        return f"{self.operation.http_method} {self.operation.operation_id}"


def walk_steps(spec: LoadedSpec) -> list[WalkStep]:
    """Every operation of the spec: creates first (so every set has an entity to read), then
    reads, updates, actions, and deletes last."""

    def rank(step: WalkStep) -> int:
        if step.operation.kind == "create":
            return 0
        return {"GET": 1, "PATCH": 2, "POST": 3, "DELETE": 4}[step.operation.http_method]

    steps = [
        WalkStep(resource, operation)
        for resource in OperationReader(spec.document).resources()
        for operation in resource.operations
    ]
    return sorted(steps, key=rank)


# Keys the caller chooses (not numbered by the PBX), for entities the walk creates.
_CHOSEN_KEYS = {"MacAddress": "00155d0a0b0c", "Link": "https://example.com/walk"}


async def _created_entity(pbx: AsyncClient, step: WalkStep) -> Any:
    """A new entity for a create: a copy of an existing one with a fresh number and key, as an
    admin would make it; or, in an empty set, only the key the caller must choose."""
    model = getattr(models, (step.operation.entity_body or "").removeprefix("m."))
    entity_set = step.operation.segments[0].name
    values: dict[str, Any] = {}
    try:
        rows = (await pbx.get(entity_set, top=1)).get("value", [])
    except APIStatusError:
        rows = []
    if rows:
        values = {k: v for k, v in rows[0].items() if not k.startswith("@") and k != "Id"}
    if "Number" in model.model_fields:
        # A number no seeded entity has (the seed numbers extensions from 100, queues from 0336).
        values["Number"] = "7" + str(sum(map(ord, step.operation.operation_id)) % 1000).zfill(3)
    for other in step.resource.operations:
        key = other.segments[0].key if other.kind == "get" and other.segments else None
        if key is not None and key.annotation == "str":
            values[key.wire] = _CHOSEN_KEYS.get(key.wire, "walk")
    return model.model_validate(values)


def _sample(param: Param) -> Any:
    """A value of the argument's type that a PBX accepts as "no filter" / "the last week"."""
    annotation = param.annotation.removesuffix(" | None")
    name = param.wire.lower()
    if annotation == "datetime":
        return ANCHOR if ("to" in name or "end" in name) else ANCHOR - timedelta(days=7)
    if annotation == "bool":
        return False
    if annotation == "int":
        return 0
    if annotation == "str | UUID":
        return str(uuid.UUID(int=1))
    if "interval" in name or name.startswith("calltimefilter"):
        return "0:00:0"
    if "timezone" in name:
        return "Etc/GMT"
    return ""


async def _key_value(pbx: AsyncClient, entity_set: str, key: Param) -> Any:
    """The key of an existing entity of ``entity_set`` (read with the raw client), or ``None``
    when the set has none to read."""
    try:
        answer = await pbx.get(entity_set, top=1)
    except APIStatusError:
        return None  # no list (404), or not for API clients (403 on My*)
    rows = answer.get("value", []) if isinstance(answer, dict) else []
    if rows and rows[0].get(key.wire) is not None:
        return rows[0][key.wire]
    return None


def _body_value(annotation: str) -> Any:
    """An empty value of an action parameter's type (models are sent with no properties set)."""
    text = annotation.removesuffix(" | None")
    if text.startswith(("list[", "Sequence[")):
        return []
    if text.startswith("m."):
        target = getattr(models, text[2:].split("[")[0])
        if isinstance(target, type) and issubclass(target, XapiModel):
            return target()
        return next(iter(target))  # an enum: its first member
    return {"str": "", "int": 0, "bool": False, "float": 0.0, "datetime": ANCHOR}.get(text)


# Arguments a sample of the right type does not satisfy (they must name something that exists).
_REALISTIC_ARGUMENTS: dict[str, dict[str, Any]] = {
    "MakeCall": {"dn": "100", "destination": "101"},
    "GetCallQualityReport": {"cdr_id": "1"},
    "RetreivePeersByNumbers": {"peers_request": models.RetreivePeersRequest(DnNumbers=["100", "101"])},
}


@dataclass
class PreparedCall:
    """A typed method with its arguments, and whether the walk had to make some of them up."""

    method: Any
    args: list[Any]
    kwargs: dict[str, Any]
    made_up: bool
    paged: bool

    async def invoke(self) -> Any:
        """Call the method (and read a pager to the end)."""
        result = self.method(*self.args, **self.kwargs)
        if self.paged:
            return await result.to_list()
        return await result


async def prepare_step(pbx: AsyncClient, step: WalkStep) -> PreparedCall:
    """The step's typed method on ``pbx.xapi`` with sensible arguments (keys of real entities)."""
    op = step.operation
    method = getattr(getattr(pbx.xapi, step.resource.attribute), op.method_name)
    args: list[Any] = []
    made_up = False
    for segment in op.segments:
        for key in ([segment.key] if segment.key is not None else []) + segment.named_keys:
            value = await _key_value(pbx, segment.name, key)
            if value is None:
                made_up = True
                value = _sample(key)
            args.append(value)
    kwargs: dict[str, Any] = {
        param.python: _sample(param) for param in op.function_params if param.default is None
    }
    if op.entity_body is not None:
        if op.kind == "create":
            args.append(await _created_entity(pbx, step))
        else:
            args.append(getattr(models, op.entity_body[2:])())
    for field in op.body_fields:
        if not field.optional:
            kwargs[field.python] = _body_value(field.annotation)
    if op.result.kind == "download":
        kwargs["file"] = io.BytesIO()
    realistic = _REALISTIC_ARGUMENTS.get(op.operation_id, {})
    kwargs.update(realistic)
    # Arguments and bodies made of samples may name nothing that exists, or be refused as empty.
    sampled = {name for name in kwargs if name != "file"} - set(realistic)
    if sampled or (op.entity_body is not None and op.kind != "create"):
        made_up = True
    return PreparedCall(method, args, kwargs, made_up, op.result.kind == "pager")
