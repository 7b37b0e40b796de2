"""An emulator extension used by the tests of the extension hook."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from py3cx.emulator import EmulatorState, FunctionContext, xapi_function

TICKS: list[int] = []


def remote_access(ctx: FunctionContext) -> dict[str, Any]:
    return {"value": f"granted to {ctx.identity.principal}"}


def setup(state: EmulatorState) -> list[BaseRoute]:
    # registered when an emulator loads the extension, not when a test module imports it
    xapi_function("SystemStatus", "Pbx.GetRemoteAccessStatus")(remote_access)

    async def hello(request: Request) -> Response:
        return JSONResponse({"seed": state.config.seed})

    async def tick() -> None:
        while True:
            TICKS.append(len(TICKS))
            await asyncio.sleep(0.01)

    state.background.append(tick)
    return [Route("/_emulator/sample", hello)]
