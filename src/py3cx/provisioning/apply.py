"""Applying a plan: one request per change, each refusal recorded against its row, the rest carried on.

Order matters on a PBX: deletes first (they free numbers and names), then updates, then creates
with a number from the file, and last the creates that take the PBX's first free number, so a
number the PBX hands out cannot be one a later row of the file asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from py3cx._exceptions import APIStatusError
from py3cx.odata import function_path, key_path
from py3cx.provisioning.driver import Flow, Send
from py3cx.provisioning.plan import Action, ApplyResult, Change, Outcome, Plan

__all__ = ["FIRST_FREE_NUMBER", "apply_flow", "first_free_number"]

# where each entity set asks the PBX for its first free number
FIRST_FREE_NUMBER = {
    "Users": function_path("Users", "Pbx.GetFirstAvailableExtensionNumber"),
    "Queues": function_path("Queues", "Pbx.GetFirstAvailableQueueNumber"),
}


def first_free_number(answer: Any) -> str:
    """The number in a ``GetFirstAvailable…Number()`` answer.

    The spec types it as ``Pbx.FirstAvailableNumber`` (``{"Number": "105"}``); a bare
    ``{"value": "105"}`` is accepted too. Raises ValueError when the answer holds no number.
    Example: ``first_free_number({"Number": "105"}) == "105"``.
    """
    if isinstance(answer, Mapping):
        for key in ("Number", "value"):
            value = answer.get(key)
            if isinstance(value, str) and value:
                return value
    raise ValueError("the PBX did not name a free number")


def _apply_order(change: Change) -> int:
    if change.action is Action.DELETE:
        return 0
    if change.action is Action.UPDATE:
        return 1
    return 3 if change.allocate_number else 2


def apply_flow(plan: Plan) -> Flow[ApplyResult]:
    """Send every pending change of ``plan``; a change the PBX refuses is recorded and skipped.

    Raises only what ends the whole run (APIConnectionError, TokenError): a refused change is an
    :class:`Outcome` with its error.
    """
    outcomes: list[Outcome] = []
    for change in sorted(plan.pending, key=_apply_order):
        try:
            outcome = yield from _apply_one(change)
        except APIStatusError as exc:
            outcome = Outcome(change, error=str(exc))
        outcomes.append(outcome)
    return ApplyResult(plan, tuple(outcomes))


def _apply_one(change: Change) -> Flow[Outcome]:
    entity_set = change.entity_set
    if change.action is Action.DELETE:
        yield Send("DELETE", key_path(entity_set, change.id))
        return Outcome(change)
    if change.action is Action.UPDATE:
        yield Send("PATCH", key_path(entity_set, change.id), dict(change.body))
        return Outcome(change)
    body = dict(change.body)
    number = None
    if change.allocate_number:
        answer = yield Send("GET", FIRST_FREE_NUMBER[entity_set])
        try:
            number = first_free_number(answer)
        except ValueError as exc:
            return Outcome(change, error=str(exc))
        body = {"Number": number, **body}
    created = yield Send("POST", entity_set, body)
    new_id = created.get("Id") if isinstance(created, Mapping) else None
    return Outcome(change, id=new_id if isinstance(new_id, int) else None, number=number)
