"""Every one of the spec's 601 operations, called through its typed method against the emulator.

An operation passes when its method's request reaches that very operation and the answer is
read into the declared type. While the emulator grows, three of its answers also count as
reaching the operation, and nothing else does:

- ``501`` naming the operation: the emulator routed the request but has no handler yet;
- ``403`` on a ``My*`` resource: a real PBX refuses those to API clients (BEHAVIOUR.md §1);
- ``404 WARNINGS.XAPI.NOT_FOUND`` (or ``FILE_NOT_FOUND``) and ``400`` when the walk had to make
  arguments up (no entity of the set to take a key from; sample function arguments; empty
  bodies): the operation judged them, so the request reached it.

A route miss (``404 No HTTP resource``, ``405``), a server error, or a typed method that cannot
read its answer fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from py3cx import APIStatusError, AsyncClient
from py3cx.xapi._generated import models
from xapi_codegen.spec_loader import load_spec

from .conftest import spec_file
from .emulated_pbx import ConnectedClient, emulator_app
from .operation_walk import PreparedCall, WalkStep, prepare_step, walk_steps

STEPS = walk_steps(load_spec(spec_file("20.0.10")))


@pytest.fixture(scope="module")
def walk_pbx() -> Iterator[ConnectedClient]:
    """One emulator and one client for the whole walk: creates come first, deletes last."""
    connected = ConnectedClient(emulator_app())
    yield connected
    connected.close()


def _check_type(step: WalkStep, value: Any) -> None:
    """The value a typed method returned has the type its signature promises."""
    result = step.operation.result
    if result.kind == "none" or (value is None and result.nullable):
        assert value is None
        return
    if result.kind == "download":
        assert isinstance(value, int) and value >= 0
    elif result.kind in ("pager", "list"):
        assert isinstance(value, list)
        if result.annotation.startswith("m."):
            assert all(isinstance(item, BaseModel) for item in value)
    elif result.kind == "model":
        assert isinstance(value, BaseModel)
    elif result.annotation in _PLAIN_TYPES:
        assert isinstance(value, _PLAIN_TYPES[result.annotation])


_PLAIN_TYPES: dict[str, type] = {"bool": bool, "int": int, "str": str}


def _reached_the_operation(step: WalkStep, error: APIStatusError, made_up: bool) -> bool:
    """True for the emulator's answers that prove the request reached this operation."""
    last_segment = re.sub(r"\(.*\)$", "", step.operation.path.rsplit("/", 1)[-1])
    message = str(error)
    if error.status_code == 501:
        return "emulator does not implement it yet" in message and last_segment in message
    if error.status_code == 403:
        return step.resource.tag.startswith("My") and "not available to API clients" in message
    if error.status_code == 404:
        return made_up and ("WARNINGS.XAPI.NOT_FOUND" in message or "WARNINGS.XAPI.FILE_NOT_FOUND" in message)
    if error.status_code == 400:
        # Refused on the content, about a name the typed method sent: so it sent wire names.
        target = error.odata_error.target if error.odata_error is not None else None
        return made_up and target is not None and target in _wire_names(step)
    return False


def _wire_names(step: WalkStep) -> set[str]:
    """The wire names a call of the step can send: arguments, body fields, entity properties."""
    op = step.operation
    names = {param.wire for param in op.key_params + op.function_params}
    names |= {field.wire for field in op.body_fields}
    if op.entity_body is not None:
        model = getattr(models, op.entity_body.removeprefix("m."))
        names |= {info.alias or name for name, info in model.model_fields.items()}
    return names


@pytest.mark.parametrize("step", [pytest.param(step, id=step.id) for step in STEPS])
def test_operation_answers_through_its_typed_method(walk_pbx: ConnectedClient, step: WalkStep) -> None:
    async def scenario(pbx: AsyncClient) -> tuple[PreparedCall, Any, APIStatusError | None]:
        prepared = await prepare_step(pbx, step)
        try:
            return prepared, await prepared.invoke(), None
        except APIStatusError as error:
            return prepared, None, error

    prepared, value, error = walk_pbx.run(scenario)
    if error is None:
        _check_type(step, value)
    else:
        assert _reached_the_operation(step, error, prepared.made_up), f"{step.id}: {error}"


def test_the_walk_covers_every_operation_once() -> None:
    ids = [step.id for step in STEPS]
    assert len(ids) == len(set(ids)) == 601
    assert [step.operation.kind for step in STEPS[:3]] == ["create"] * 3
    assert STEPS[-1].operation.http_method == "DELETE"
