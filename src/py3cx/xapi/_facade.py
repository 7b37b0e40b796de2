"""``client.xapi``: every XAPI resource of one client, loaded as it is first used.

``Client.xapi`` is an :class:`XAPI`, ``AsyncClient.xapi`` an :class:`AsyncXAPI`. Each resource
(``client.xapi.users``, ``client.xapi.report_call_log_data``...) is a property that imports its
module on first access; the models load with the first resource. One version-drift guard per
client remembers the PBX's build once it has been learnt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from py3cx.xapi._drift import AsyncVersionGuard, PbxProfile, VersionGuard
from py3cx.xapi._generated.facade import AsyncXapiResources, XapiResources

if TYPE_CHECKING:
    from py3cx.xapi._resource import AsyncXapiClient, XapiClient

__all__ = ["XAPI", "AsyncXAPI"]


class XAPI(XapiResources):
    """The typed XAPI of a sync :class:`py3cx.Client`, as ``client.xapi``.

    Example:
        for user in client.xapi.users.list(filter=F("Number").startswith("1")):
            print(user.Number, user.FirstName)
    """

    def __init__(self, client: XapiClient) -> None:
        self._client = client
        self._guard = VersionGuard(client)

    def __repr__(self) -> str:
        return f"<XAPI of {self._client!r}>"

    def assume_build(self, build: str) -> None:
        """Treat the PBX as 3CX ``build`` (``"20.0.4"``) instead of asking it.

        Raises ValueError for text that is not a version. Example: ``client.xapi.assume_build("20.0.4")``
        """
        self._guard.assume(build)

    def pbx_profile(self) -> PbxProfile:
        """The PBX's build as the drift guard sees it (asks the PBX once, then remembers).

        Example: ``client.xapi.pbx_profile().describe() == "20.0.10.817"``
        """
        return self._guard.profile()


class AsyncXAPI(AsyncXapiResources):
    """The typed XAPI of an :class:`py3cx.AsyncClient`, as ``client.xapi``.

    Example:
        async for user in client.xapi.users.list(top=10):
            print(user.Number)
    """

    def __init__(self, client: AsyncXapiClient) -> None:
        self._client = client
        self._guard = AsyncVersionGuard(client)

    def __repr__(self) -> str:
        return f"<AsyncXAPI of {self._client!r}>"

    def assume_build(self, build: str) -> None:
        """Treat the PBX as 3CX ``build`` instead of asking it. Raises ValueError.

        Example: ``client.xapi.assume_build("20.0.4")``
        """
        self._guard.assume(build)

    async def pbx_profile(self) -> PbxProfile:
        """The PBX's build as the drift guard sees it. Example: ``(await client.xapi.pbx_profile()).build``"""
        return await self._guard.profile()
