"""Modules that extend the emulator (reports, Call Control, ...), imported by ``create_app``.

Each listed module has ``setup(state: EmulatorState) -> list[starlette.routing.BaseRoute]``;
it may also register XAPI functions/actions (``registry.xapi_function``) and append coroutine
factories to ``state.background`` (started with the server).
"""

from __future__ import annotations

EXTENSIONS: list[str] = ["py3cx.emulator.callcontrol", "py3cx.emulator.reports"]
