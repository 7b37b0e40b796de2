"""Modules that extend the emulator (reports, Call Control, ...), imported by ``create_app``.

Each listed module has ``setup(state: EmulatorState) -> list[starlette.routing.BaseRoute]``;
it may also register XAPI functions/actions (``registry.xapi_function``) and append coroutine
factories to ``state.background`` (started with the server). Their routes are matched before
the generic ``/xapi/v1`` handler, so an extension may also take over a path.
"""

from __future__ import annotations

EXTENSIONS: list[str] = [
    "py3cx.emulator.reports",  # issue 4: the Report* functions, 504 on long CallHistoryView ranges
    "py3cx.emulator.callcontrol",  # issue 5: /callcontrol REST and WebSocket, the call simulator
]
