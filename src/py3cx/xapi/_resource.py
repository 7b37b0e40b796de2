"""What the generated resource classes stand on: the client they talk to and how answers are read.

A resource (``client.xapi.users``) holds the client and the per-client version-drift guard. The
generated methods build a path with :mod:`py3cx.odata`, call one of the client's public methods
(``get/post/patch/delete/download``, or ``paginate`` through a :class:`~py3cx.xapi.Pager`) and read
the answer with the functions here. Nothing else: no HTTP, no retries, no tokens.
"""

from __future__ import annotations

import functools
import os
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from datetime import timedelta
from typing import IO, TYPE_CHECKING, Any, Protocol, TypeVar, cast

from pydantic import BaseModel, TypeAdapter

from py3cx.odata import Expr, TimeSpan

if TYPE_CHECKING:
    from py3cx.xapi._drift import AsyncVersionGuard, VersionGuard

__all__ = [
    "AsyncResource",
    "AsyncXapiClient",
    "FieldsArg",
    "FileArg",
    "FilterArg",
    "SyncResource",
    "XapiClient",
    "parse_list",
    "parse_model",
    "parse_optional_model",
    "parse_optional_value",
    "parse_value",
    "time_span",
]

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

#: ``$filter``: an expression built with ``py3cx.F`` (values encoded safely) or OData text.
FilterArg = Expr | str | None
#: ``$select``, ``$expand``, ``$orderby``: a list of names or comma-joined text.
FieldsArg = str | Sequence[str] | None
#: Where a download goes: a path (written through a ``.part`` file) or a binary file object.
FileArg = str | os.PathLike[str] | IO[bytes]


class XapiClient(Protocol):
    """The public methods of :class:`py3cx.Client` the generated resources use."""

    def get(
        self,
        path: str,
        *,
        filter: Any = None,
        select: Any = None,
        expand: Any = None,
        orderby: Any = None,
        top: int | None = None,
        skip: int | None = None,
        count: bool | None = None,
        search: str | None = None,
    ) -> Any: ...

    def post(self, path: str, json: Any = None) -> Any: ...

    def patch(self, path: str, json: Any) -> Any: ...

    def delete(self, path: str, *, etag: str | None = None) -> None: ...

    def download(self, path: str, file: FileArg) -> int: ...

    def paginate(self, path: str, *, page_size: int = 500, **query: Any) -> Iterator[dict[str, Any]]: ...


class AsyncXapiClient(Protocol):
    """The public methods of :class:`py3cx.AsyncClient` the generated resources use."""

    async def get(
        self,
        path: str,
        *,
        filter: Any = None,
        select: Any = None,
        expand: Any = None,
        orderby: Any = None,
        top: int | None = None,
        skip: int | None = None,
        count: bool | None = None,
        search: str | None = None,
    ) -> Any: ...

    async def post(self, path: str, json: Any = None) -> Any: ...

    async def patch(self, path: str, json: Any) -> Any: ...

    async def delete(self, path: str, *, etag: str | None = None) -> None: ...

    async def download(self, path: str, file: FileArg) -> int: ...

    def paginate(self, path: str, *, page_size: int = 500, **query: Any) -> AsyncIterator[dict[str, Any]]: ...


class SyncResource:
    """Base of the generated sync resources: the client and its version-drift guard."""

    def __init__(self, client: XapiClient, guard: VersionGuard) -> None:
        self._client = client
        self._guard = guard

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


class AsyncResource:
    """Base of the generated async resources: the client and its version-drift guard."""

    def __init__(self, client: AsyncXapiClient, guard: AsyncVersionGuard) -> None:
        self._client = client
        self._guard = guard

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


@functools.cache
def _adapter(annotation: Any) -> TypeAdapter[Any]:
    return TypeAdapter(annotation)


def time_span(value: str | timedelta | None) -> str | TimeSpan | None:
    """A time-span argument as the literal encoder wants it: a ``timedelta`` becomes
    ``TimeSpan`` (written ``'0:00:20'``), text and ``None`` pass unchanged.

    Example: ``time_span(timedelta(seconds=20)) == TimeSpan(timedelta(seconds=20))``.
    """
    if isinstance(value, timedelta):
        return TimeSpan(value)
    return value


def parse_model(model: type[M], data: Any) -> M:
    """Read an entity or complex value from an answer into ``model``.

    Raises pydantic.ValidationError when the answer cannot be that model (not a JSON object).
    Example: ``parse_model(User, {"Id": 1, "FirstName": "Ann"}).FirstName == "Ann"``.
    """
    if isinstance(data, Mapping):
        # An OData answer carries its own annotations (@odata.context); they are not properties.
        data = {key: value for key, value in data.items() if not key.startswith("@odata.context")}
    return model.model_validate(data)


def parse_optional_model(model: type[M], data: Any) -> M | None:
    """Like :func:`parse_model`, but an empty answer (204, ``null``) is ``None``.

    Example: ``parse_optional_model(User, None) is None``.
    """
    if data is None or data == "":
        return None
    return parse_model(model, data)


def parse_value(annotation: type[T], data: Any) -> T:
    """Read a function's single value: ``{"value": true}`` (or a bare value) as ``annotation``.

    Raises pydantic.ValidationError when the value does not fit the type.
    Example: ``parse_value(bool, {"@odata.context": "...", "value": True}) is True``.
    """
    if isinstance(data, Mapping) and "value" in data:
        data = data["value"]
    return cast(T, _adapter(cast(Any, annotation)).validate_python(data))


def parse_optional_value(annotation: type[T], data: Any) -> T | None:
    """Like :func:`parse_value`, but an empty answer or a ``null`` value is ``None``; so is an
    answer with only annotations (the PBX leaves a null ``value`` out).

    Example: ``parse_optional_value(str, {"@odata.context": "..."}) is None``.
    """
    if isinstance(data, Mapping):
        if "value" not in data and all(str(key).startswith("@") for key in data):
            return None
        data = data.get("value", data)
    if data is None or data == "":
        return None
    return parse_value(annotation, data)


def parse_list(item: type[T], data: Any) -> list[T]:
    """Read a collection answer (``{"value": [...]}`` or a bare list) as a list of ``item``.

    Raises pydantic.ValidationError when an item does not fit. An empty answer is an empty list.
    Example: ``parse_list(str, {"value": ["a", "b"]}) == ["a", "b"]``.
    """
    if data is None or data == "":
        return []
    rows = data.get("value", []) if isinstance(data, Mapping) else data
    return [parse_item(item, row) for row in rows]


def parse_item(item: type[T], row: Any) -> T:
    """One row of a collection as ``item`` (a model, or a plain type such as ``str``).

    Example: ``parse_item(int, 3) == 3``.
    """
    if isinstance(item, type) and issubclass(item, BaseModel):
        return cast(T, item.model_validate(row))
    return cast(T, _adapter(cast(Any, item)).validate_python(row))
