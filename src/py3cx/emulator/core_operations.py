"""Functions and actions the emulator core implements (issue 2); later modules add more.

Registered through :mod:`py3cx.emulator.registry`, like any extension would.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from . import errors
from .registry import FunctionContext, xapi_action, xapi_function
from .writes import delete_many


@xapi_function("Defs", "Pbx.GetSystemParameters")
def get_system_parameters(ctx: FunctionContext) -> dict[str, Any]:
    """``GET /Defs/Pbx.GetSystemParameters()``: the build is in ``Version``."""
    return dict(ctx.state.singleton("_SystemParameters") or {"Version": ctx.state.config.build})


@xapi_function("SystemStatus", "Pbx.GetVersionType")
def get_version_type(ctx: FunctionContext) -> dict[str, Any]:
    """``GET /SystemStatus/Pbx.GetVersionType()``."""
    return {"value": "Enterprise"}


def _by_number(ctx: FunctionContext, set_name: str) -> dict[str, Any]:
    entity = ctx.state.tables[set_name]
    number = ctx.args["number"]
    with ctx.state.engine.connect() as conn:
        row = conn.execute(sa.select(entity.table).where(entity.table.c.Number == number)).mappings().first()
    if row is None:
        raise errors.not_found("number")
    return entity.to_wire(row, [p.name for p in entity.scalar_props])


# 20.0.4 only: later builds replaced these functions by alternate keys (Users(Number='100'))
@xapi_function("Users", "Pbx.GetByNumber")
def user_by_number(ctx: FunctionContext) -> dict[str, Any]:
    """``GET /Users/Pbx.GetByNumber(number='100')`` (20.0.4)."""
    return _by_number(ctx, "Users")


@xapi_function("Queues", "Pbx.GetByNumber")
def queue_by_number(ctx: FunctionContext) -> dict[str, Any]:
    """``GET /Queues/Pbx.GetByNumber(number='0336')`` (20.0.4)."""
    return _by_number(ctx, "Queues")


@xapi_function("RingGroups", "Pbx.GetByNumber")
def ring_group_by_number(ctx: FunctionContext) -> dict[str, Any]:
    """``GET /RingGroups/Pbx.GetByNumber(number='800')`` (20.0.4)."""
    return _by_number(ctx, "RingGroups")


@xapi_action("Users", "Pbx.BatchDelete")
def batch_delete_users(ctx: FunctionContext) -> list[dict[str, Any]]:
    """``POST /Users/Pbx.BatchDelete {"ids": [...]}``: one ``UserDeleteError`` per id that failed."""
    ids = ctx.args.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise errors.bad_request("ids:\nThe ids field must be a list of integers.")
    missing = delete_many(ctx.state, ctx.state.tables["Users"], ids)
    return [{"Error": errors.NOT_FOUND, "ExtensionNumber": str(i)} for i in missing]


@xapi_action("ActiveCalls({Id})", "Pbx.DropCall")
def drop_call(ctx: FunctionContext) -> None:
    """``POST /ActiveCalls({Id})/Pbx.DropCall``: the call disappears from ActiveCalls."""
    missing = delete_many(ctx.state, ctx.state.tables["ActiveCalls"], [int(ctx.key)])
    if missing:
        raise errors.not_found("Id")
