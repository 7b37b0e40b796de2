"""An emulated 3CX V20 PBX: XAPI over SQLite, tokens, roles and faults, as strict as a real one.

>>> from py3cx.emulator import EmulatorConfig, running_emulator
>>> with running_emulator(EmulatorConfig(calls=100)) as emu:  # doctest: +SKIP
...     print(emu.url)

See ``docs/architecture.md`` for the contract and ``spec/BEHAVIOUR.md`` for the behaviour.
"""

from __future__ import annotations

from . import _requirements  # noqa: F401  (first: names the missing extra)
from .app import create_app
from .auth import Identity
from .config import ApiClient, EmulatorConfig, FaultSpec, WebUser, default_clients, default_users
from .registry import FunctionContext, xapi_action, xapi_function
from .server import RunningEmulator, describe, running_emulator, running_emulators, serve, serve_many
from .state import EmulatorState

__all__ = [
    "ApiClient",
    "EmulatorConfig",
    "EmulatorState",
    "FaultSpec",
    "FunctionContext",
    "Identity",
    "RunningEmulator",
    "WebUser",
    "create_app",
    "default_clients",
    "default_users",
    "describe",
    "running_emulator",
    "running_emulators",
    "serve",
    "serve_many",
    "xapi_action",
    "xapi_function",
]
