"""Handlers of XAPI functions (GET, arguments in the path) and actions (POST, JSON body).

Modules register handlers by the spec's binding and name, so later parts add operations
without touching the core::

    @xapi_function("Defs", "Pbx.GetSystemParameters")
    def system_parameters(ctx: FunctionContext) -> dict[str, Any]: ...

    @xapi_action("ActiveCalls({Id})", "Pbx.DropCall")
    def drop_call(ctx: FunctionContext) -> None: ...   # ctx.key holds the Id

The core has already checked and typed every argument when a handler runs (a missing one is
a 404, a malformed one a 500). A handler returns a ``list`` of dicts (a collection: the core
applies ``$filter/$orderby/$top/$skip/$count/$select``), a ``dict`` (one object), ``bytes``
(a file, sent as ``application/octet-stream``), a Starlette ``Response`` (custom media types or
statuses) or ``None`` (204 No Content). It may be ``async``. An operation without a handler
answers what its spec response describes (``default_operations.py``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response

if TYPE_CHECKING:
    from .auth import Identity
    from .state import EmulatorState

# a list holds entities (dicts) or, for Collection(Edm.String) results, plain values
HandlerResult = list[Any] | dict[str, Any] | Response | bytes | None
Handler = Callable[["FunctionContext"], HandlerResult | Awaitable[HandlerResult]]
H = TypeVar("H", bound=Handler)


@dataclass
class FunctionContext:
    """What a handler gets: the emulator state, typed arguments, the request and the caller.

    ``args`` holds typed path arguments for functions (datetime, int, bool, str, UUID...) and the
    parsed JSON body for actions. ``key`` is the bound entity's key (``ActiveCalls(7)`` → 7) or None.
    """

    state: EmulatorState
    args: dict[str, Any]
    request: Request
    identity: Identity
    key: Any = None
    binding: str = ""
    name: str = ""
    extra: dict[str, str] = field(default_factory=dict)  # non-$ query parameters


@dataclass(frozen=True)
class Registration:
    kind: str  # "function" or "action"
    handler: Handler


_HANDLERS: dict[str, Registration] = {}


def _key(binding: str, name: str) -> str:
    return f"{binding}/{name}" if binding else name


def _register(kind: str, binding: str, name: str) -> Callable[[H], H]:
    def decorate(handler: H) -> H:
        _HANDLERS[_key(binding, name)] = Registration(kind, handler)
        return handler

    return decorate


def xapi_function(binding: str, name: str) -> Callable[[H], H]:
    """Register the handler of a function, e.g. ``@xapi_function("Defs", "Pbx.GetSystemParameters")``.

    ``binding`` is written as in the spec's path: ``"Users"`` (collection), ``"Users({Id})"``
    (one entity) or ``""`` (a function import at the root). Registering again replaces the handler.
    """
    return _register("function", binding, name)


def xapi_action(binding: str, name: str) -> Callable[[H], H]:
    """Register the handler of an action, e.g. ``@xapi_action("Users", "Pbx.BatchDelete")``.

    Same binding rules as :func:`xapi_function`.
    """
    return _register("action", binding, name)


def lookup(binding: str, name: str) -> Registration | None:
    """The registered handler for an operation, or None.

    Example: ``lookup("Defs", "Pbx.GetSystemParameters")``.
    """
    return _HANDLERS.get(_key(binding, name))


def unregister(binding: str, name: str) -> Registration | None:
    """Remove a handler (the operation answers from its spec schema again); returns what was registered.

    Example: ``unregister("Users", "Pbx.BatchDelete")``.
    """
    return _HANDLERS.pop(_key(binding, name), None)


def restore(binding: str, name: str, registration: Registration | None) -> None:
    """Put back a registration returned by :func:`lookup` or :func:`unregister` (None removes it)."""
    if registration is None:
        _HANDLERS.pop(_key(binding, name), None)
    else:
        _HANDLERS[_key(binding, name)] = registration


def registered() -> list[str]:
    """Keys of all registered operations (``"Users/Pbx.BatchDelete"``...), sorted."""
    return sorted(_HANDLERS)
