"""Lazy pagers over XAPI collections: ``client.xapi.users.list()`` and report functions.

The PBX sends no ``@odata.nextLink``; paging is ``$top``/``$skip`` done by
``client.paginate``. A pager sends nothing until it is iterated, and then fetches one page at a
time, so a million call records never sit in memory at once::

    for user in client.xapi.users.list(filter=F("Number").startswith("1")):
        print(user.Number, user.FirstName)
    rows = client.xapi.users.list(select=["Id", "Number"]).raw()   # plain dicts
    total = client.xapi.users.list().count()                      # @odata.count

``top`` caps the rows over all pages, ``skip`` is where to start, ``page_size`` is the
``$top`` of each request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from py3cx.xapi._resource import parse_item

if TYPE_CHECKING:
    from py3cx.xapi._resource import AsyncXapiClient, XapiClient

__all__ = ["AsyncPager", "Pager"]

T = TypeVar("T")

#: A pager's path, or a function giving it when the pager is first used (after a build check).
PathSource = str | Callable[[], str]
AsyncPathSource = str | Callable[[], Awaitable[str]]


def _options(options: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in options.items() if value is not None}


def _total(answer: Any) -> int:
    count = answer.get("@odata.count") if isinstance(answer, Mapping) else None
    if count is None:
        raise ValueError("the PBX sent no @odata.count for this collection")
    return int(count)


class Pager(Generic[T]):
    """Rows of a collection as models (or dicts with :meth:`raw`), fetched page by page.

    Example: ``for user in client.xapi.users.list(top=100): ...``
    """

    def __init__(
        self,
        client: XapiClient,
        path: PathSource,
        item: type[T],
        *,
        page_size: int = 500,
        **options: Any,
    ) -> None:
        if page_size < 1:
            raise ValueError(f"page_size must be 1 or more, got {page_size}")
        self._client = client
        self._item = item
        self._page_size = page_size
        self._options = _options(options)
        self._path = path

    def __repr__(self) -> str:
        return f"Pager({self._path if isinstance(self._path, str) else '...'!r}, {self._options!r})"

    def path(self) -> str:
        """The collection's path (relative to ``/xapi/v1``). Raises UnsupportedByPbxError."""
        if not isinstance(self._path, str):
            self._path = self._path()
        return self._path

    def __iter__(self) -> Iterator[T]:
        for row in self.raw():
            yield parse_item(self._item, row)

    def raw(self) -> Iterator[dict[str, Any]]:
        """The rows as the PBX sent them (dicts with wire names; null properties absent).

        Raises APIStatusError, APIConnectionError while iterating.
        Example: ``next(client.xapi.users.list().raw())["Number"]``
        """
        return iter(self._client.paginate(self.path(), page_size=self._page_size, **self._options))

    def to_list(self) -> list[T]:
        """Every row, read into a list (mind the memory on large collections).

        Example: ``users = client.xapi.users.list(top=50).to_list()``
        """
        return list(self)

    def first(self) -> T | None:
        """The first row, or ``None`` when the collection is empty (asks for one row only).

        Example: ``client.xapi.users.list(filter=F("Number") == "100").first()``
        """
        options = dict(self._options)
        options["top"] = 1
        rows = self._client.paginate(self.path(), page_size=1, **options)
        for row in rows:
            return parse_item(self._item, row)
        return None

    def count(self) -> int:
        """How many rows match (``$count=true``; one small request, whatever ``top`` says).

        Raises ValueError when the PBX sends no ``@odata.count``.
        Example: ``client.xapi.users.list(filter=F("Enabled") == True).count()``
        """
        options = {k: v for k, v in self._options.items() if k in ("filter", "search")}
        return _total(self._client.get(self.path(), count=True, top=1, **options))


class AsyncPager(Generic[T]):
    """The async twin of :class:`Pager`: ``async for user in client.xapi.users.list(): ...``

    Example: ``users = await client.xapi.users.list(top=50).to_list()``
    """

    def __init__(
        self,
        client: AsyncXapiClient,
        path: AsyncPathSource,
        item: type[T],
        *,
        page_size: int = 500,
        **options: Any,
    ) -> None:
        if page_size < 1:
            raise ValueError(f"page_size must be 1 or more, got {page_size}")
        self._client = client
        self._item = item
        self._page_size = page_size
        self._options = _options(options)
        self._path = path

    def __repr__(self) -> str:
        return f"AsyncPager({self._path if isinstance(self._path, str) else '...'!r}, {self._options!r})"

    async def path(self) -> str:
        """The collection's path (relative to ``/xapi/v1``). Raises UnsupportedByPbxError."""
        if not isinstance(self._path, str):
            self._path = await self._path()
        return self._path

    async def __aiter__(self) -> AsyncIterator[T]:
        async for row in self.raw():
            yield parse_item(self._item, row)

    async def raw(self) -> AsyncIterator[dict[str, Any]]:
        """The rows as the PBX sent them: ``async for row in pager.raw(): ...``

        Raises APIStatusError, APIConnectionError while iterating.
        Example: ``[row async for row in client.xapi.users.list().raw()]``
        """
        path = await self.path()
        async for row in self._client.paginate(path, page_size=self._page_size, **self._options):
            yield row

    async def to_list(self) -> list[T]:
        """Every row, read into a list. Example: ``await client.xapi.users.list().to_list()``"""
        return [item async for item in self]

    async def first(self) -> T | None:
        """The first row or ``None``. Example: ``await client.xapi.users.list().first()``"""
        options = dict(self._options)
        options["top"] = 1
        async for row in self._client.paginate(await self.path(), page_size=1, **options):
            return parse_item(self._item, row)
        return None

    async def count(self) -> int:
        """How many rows match (``$count=true``). Raises ValueError without ``@odata.count``.

        Example: ``await client.xapi.users.list().count()``
        """
        options = {k: v for k, v in self._options.items() if k in ("filter", "search")}
        return _total(await self._client.get(await self.path(), count=True, top=1, **options))
