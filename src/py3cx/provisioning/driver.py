"""One path for sync and async: provisioning steps are generators that yield the requests they need
(:class:`Read`, :class:`Send`) and receive the answers; :func:`run` and :func:`run_async` send
them with a :class:`py3cx.Client` or :class:`py3cx.AsyncClient`.

So planning and applying are written once, and the I/O faces are a dozen lines each. An error
from the PBX is thrown into the generator at the ``yield`` that caused it, where the step can
catch it (a refused row) or let it end the run.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from py3cx._exceptions import Py3cxError

if TYPE_CHECKING:
    from py3cx._client import AsyncClient, Client
    from py3cx.odata import Expr

__all__ = ["Flow", "Read", "Send", "run", "run_async"]

T = TypeVar("T")


@dataclass(frozen=True)
class Read:
    """Every row of a collection, all pages. Answered with ``list[dict]``.

    Example: ``users = yield Read("Users", select=("Id", "Number"), expand="Groups")``.
    """

    path: str
    select: Sequence[str] | None = None
    expand: str | None = None
    filter: Expr | None = None
    # a stable order, so that $top/$skip pages neither repeat nor skip rows
    orderby: str | None = "Id"


@dataclass(frozen=True)
class Send:
    """One request; answered with the parsed JSON (None for 204).

    Example: ``created = yield Send("POST", "Users", {"Number": "150"})``.
    """

    method: Literal["GET", "POST", "PATCH", "DELETE"]
    path: str
    json: Any = None


Step = Read | Send
Flow = Generator[Step, Any, T]


def run(client: Client, flow: Flow[T]) -> T:
    """Drive ``flow`` with a sync client and return its result.

    Raises whatever the flow lets through (APIStatusError, APIConnectionError, ConfigError).
    Example: ``plan = run(client, user_plan_flow(rows, match="email"))``.
    """
    answer: Any = None
    error: Py3cxError | None = None
    while True:
        try:
            step = flow.throw(error) if error is not None else flow.send(answer)
        except StopIteration as stop:
            result: T = stop.value
            return result
        answer, error = None, None
        try:
            if isinstance(step, Read):
                answer = list(
                    client.paginate(
                        step.path,
                        select=step.select,
                        expand=step.expand,
                        filter=step.filter,
                        orderby=step.orderby,
                    )
                )
            else:
                answer = client.request(step.method, step.path, json=step.json)
        except Py3cxError as exc:
            error = exc


async def run_async(client: AsyncClient, flow: Flow[T]) -> T:
    """Drive ``flow`` with an async client and return its result (the twin of :func:`run`).

    Example: ``plan = await run_async(client, user_plan_flow(rows, match="email"))``.
    """
    answer: Any = None
    error: Py3cxError | None = None
    while True:
        try:
            step = flow.throw(error) if error is not None else flow.send(answer)
        except StopIteration as stop:
            result: T = stop.value
            return result
        answer, error = None, None
        try:
            if isinstance(step, Read):
                pages = client.paginate(
                    step.path,
                    select=step.select,
                    expand=step.expand,
                    filter=step.filter,
                    orderby=step.orderby,
                )
                answer = [row async for row in pages]
            else:
                answer = await client.request(step.method, step.path, json=step.json)
        except Py3cxError as exc:
            error = exc
