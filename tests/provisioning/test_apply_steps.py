"""The apply steps as a pure flow: which requests are sent, in which order, and what a refusal does.

The flow is driven by hand here, answering each request the way the PBX answers it; the tests
against the emulator check the same steps over HTTP.
"""

from __future__ import annotations

from typing import Any

import pytest

from py3cx import BadRequestError, ODataError
from py3cx.provisioning import Action, ApplyResult, Change, Plan, first_free_number
from py3cx.provisioning.apply import apply_flow
from py3cx.provisioning.driver import Read, Send


def drive(plan: Plan, answer: Any) -> tuple[list[Send | Read], ApplyResult]:
    """Run apply_flow, answering each step with answer(step) (an exception is thrown in)."""
    sent: list[Send | Read] = []
    flow = apply_flow(plan)
    reply: Any = None
    error: Exception | None = None
    while True:
        try:
            step = flow.throw(error) if error else flow.send(reply)
        except StopIteration as stop:
            return sent, stop.value
        sent.append(step)
        reply, error = None, None
        try:
            reply = answer(step)
        except Exception as exc:
            error = exc


def refused(path: str) -> BadRequestError:
    odata = ODataError(code="", message="Number:\nWARNINGS.XAPI.ALREADY_IN_USE", details=())
    return BadRequestError(
        "Number: WARNINGS.XAPI.ALREADY_IN_USE",
        status_code=400,
        reason="Bad Request",
        method="POST",
        path=path,
        odata_error=odata,
    )


PLAN = Plan(
    "Users",
    (
        Change(
            Action.CREATE,
            "Users",
            "auto@example.com",
            line=2,
            body={"EmailAddress": "auto@example.com"},
            allocate_number=True,
        ),
        Change(Action.CREATE, "Users", "fixed@example.com", line=3, body={"Number": "150"}),
        Change(Action.UNCHANGED, "Users", "same@example.com", line=4, id=9),
        Change(Action.INVALID, "Users", "bad", line=5, reason="bad e-mail"),
        Change(Action.UPDATE, "Users", "upd@example.com", line=6, id=7, body={"FirstName": "Ann"}),
        Change(Action.DELETE, "Users", "gone@example.com", id=8),
    ),
)


def test_deletes_go_first_then_updates_then_numbered_creates_then_first_free_number_creates() -> None:
    def answer(step: Send | Read) -> Any:
        if isinstance(step, Send) and step.method == "GET":
            return {"Number": "151"}
        if isinstance(step, Send) and step.method == "POST":
            return {"Id": 40 if step.json.get("Number") == "150" else 41, **step.json}
        return None

    sent, result = drive(PLAN, answer)
    assert [(s.method, s.path) for s in sent if isinstance(s, Send)] == [
        ("DELETE", "Users(8)"),
        ("PATCH", "Users(7)"),
        ("POST", "Users"),
        ("GET", "Users/Pbx.GetFirstAvailableExtensionNumber()"),
        ("POST", "Users"),
    ]
    last = sent[-1]
    assert isinstance(last, Send) and last.json == {"Number": "151", "EmailAddress": "auto@example.com"}
    assert [(o.change.line, o.id, o.number) for o in result.outcomes][-2:] == [(3, 40, None), (2, 41, "151")]
    # the invalid row was never sent, and still counts as failed
    assert [c.line for c in result.failed] == [5]
    assert result.counts() == {"create": 2, "update": 1, "delete": 1, "unchanged": 1, "failed": 1}


def test_a_refused_change_is_recorded_with_the_pbx_message_and_the_rest_go_on() -> None:
    def answer(step: Send | Read) -> Any:
        if isinstance(step, Send) and step.method == "POST" and step.json.get("Number") == "150":
            raise refused("/xapi/v1/Users")
        if isinstance(step, Send) and step.method == "GET":
            return {"value": "152"}  # the emulator's form of the answer is accepted too
        return {"Id": 50} if isinstance(step, Send) and step.method == "POST" else None

    _, result = drive(PLAN, answer)
    assert [o.change.line for o in result.refused] == [3]
    assert "ALREADY_IN_USE" in (result.refused[0].error or "")
    assert [c.line for c in result.failed] == [3, 5]
    assert [(c.line, "ALREADY_IN_USE" in why or why) for c, why in result.problems] == [
        (3, True),
        (5, "bad e-mail"),
    ]
    assert not result.ok
    assert result.outcomes[-1].number == "152"


def test_first_free_number_reads_the_spec_form_and_refuses_an_empty_answer() -> None:
    assert first_free_number({"@odata.context": "x", "Number": "105"}) == "105"
    with pytest.raises(ValueError, match="did not name a free number"):
        first_free_number({"Number": None})
