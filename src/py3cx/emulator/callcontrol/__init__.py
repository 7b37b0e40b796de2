"""The emulated Call Control API: REST, the event WebSocket, the call simulator and its controls.

`setup(state)` is the emulator's extension hook (listed in `py3cx.emulator.extensions`). It reads
the DNs from the seeded tables, starts the simulator with the server, keeps ActiveCalls and the
call history in step with the simulated calls, moves the seeded live calls along
(`seeded_calls.py`), and returns the routes:

- `/callcontrol...` (REST, see `rest.py`) and `/callcontrol/ws` (events, see `websocket.py`);
- `/_emulator/callcontrol/...` (loopback-only controls, see `control.py`).
"""

from __future__ import annotations

import random
from typing import Any

from starlette.routing import BaseRoute

from py3cx.emulator.callcontrol.context import CallControlContext, context_for, register_context
from py3cx.emulator.callcontrol.control import control_routes
from py3cx.emulator.callcontrol.directory import load_directory
from py3cx.emulator.callcontrol.records import CallRecorder
from py3cx.emulator.callcontrol.rest import rest_routes
from py3cx.emulator.callcontrol.seeded_calls import SeededCallMover
from py3cx.emulator.callcontrol.settings import CallControlSettings, parse_ws_faults
from py3cx.emulator.callcontrol.simulator import CallSimulator
from py3cx.emulator.callcontrol.switchboard import Switchboard
from py3cx.emulator.callcontrol.websocket import websocket_routes
from py3cx.emulator.callcontrol.xapi_calls import install as install_xapi_calls

__all__ = ["CallControlContext", "CallControlSettings", "context_for", "parse_ws_faults", "setup"]


def setup(state: Any) -> list[BaseRoute]:
    """Build the emulated Call Control for one emulator and return its routes.

    Raises ValueError for bad Call Control settings in the config. Example: `routes = setup(state)`
    """
    settings = CallControlSettings.from_config(state.config)
    switchboard = Switchboard(load_directory(state, settings.monitored))
    recorder = CallRecorder(state, switchboard.dns)
    switchboard.number_calls_from(recorder.first_call_id)
    switchboard.observers.append(recorder)
    simulator = CallSimulator(switchboard, settings, random.Random(f"callcontrol:{state.config.seed}"))
    context = CallControlContext(state, settings, switchboard, simulator, recorder)
    register_context(context)
    state.background.append(simulator.run)
    mover = SeededCallMover(state, settings, random.Random(f"seeded-calls:{state.config.seed}"))
    state.background.append(mover.run)
    install_xapi_calls()
    return [*websocket_routes(context), *rest_routes(context), *control_routes(context)]
