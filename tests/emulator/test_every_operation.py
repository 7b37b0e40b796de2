"""Every path and method of both official specs answers, over HTTP, as the spec says it does.

An operation answers when it returns its documented success status, or one of the refusals a
real PBX gives for the request it got: 403 for ``My*`` resources (API clients), 404 with a
``WARNINGS.XAPI`` key for a key of an empty set, 400 with an OData error for a body that is not
enough (an empty create). An action typed ``Pbx.IActionResult`` (any ASP.NET result) may answer
204 with no body, as some actions of a real PBX do (BEHAVIOUR.md §2; ``ActiveCalls({Id})/Pbx.DropCall``).
Never: a route miss, 405, 501, or any 5xx.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from .emulator_harness import make_pbx
from .spec_requests import SpecOperation, build_url, key_lookup, spec_operations


@pytest.fixture(scope="module", params=["20.0.10", "20.0.4"])
def walk(request: pytest.FixtureRequest) -> Iterator[tuple[str, dict[str, tuple[int, str]]]]:
    """Calls every operation of one spec once (deletes last) and records (status, body start)."""
    version: str = request.param
    pbx = make_pbx(spec_version=version, calls=200)
    operations = sorted(spec_operations(version), key=lambda op: op.method == "DELETE")
    keys: dict[str, dict[str, Any]] = {}

    def key_of(entity_set: str, name: str) -> str | None:
        if entity_set not in keys:
            response = pbx.get(f"{entity_set}?$top=1")
            rows = response.json().get("value", []) if response.status_code == 200 else []
            keys[entity_set] = rows[0] if rows else {}
        value = keys[entity_set].get(name)
        if value is None:
            return None
        return str(value) if isinstance(value, int) else "'" + str(value).replace("'", "''") + "'"

    answers: dict[str, tuple[int, str]] = {}
    try:
        for op in operations:
            url = build_url(op, key_of)
            body = {} if op.method in ("POST", "PATCH") else None
            response = pbx.xapi(op.method, url, json=body)
            answers[op.id] = (response.status_code, response.text[:300])
        yield version, answers
    finally:
        pbx.close()


def _also_answers(op: SpecOperation, status: int, text: str) -> bool:
    if status == 204:
        return op.method == "POST" and op.action_result and text == ""
    if status == 403:
        return op.entity_set.startswith("My") and "not available to API clients" in text
    if status == 404:
        return "WARNINGS.XAPI." in text
    if status == 400:
        return text.startswith('{"error":{') and "No HTTP resource" not in text
    return False


def test_every_operation_answers_as_its_spec_says(walk: tuple[str, dict[str, tuple[int, str]]]) -> None:
    version, answers = walk
    failures = []
    for op in spec_operations(version):
        status, text = answers[op.id]
        if status != op.success and not _also_answers(op, status, text):
            failures.append(f"{op.id} {op.path}: {status} {text[:120]}")
    assert failures == []


def test_most_operations_succeed_with_plain_input(walk: tuple[str, dict[str, tuple[int, str]]]) -> None:
    version, answers = walk
    operations = spec_operations(version)
    succeeded = Counter(answers[op.id][0] == op.success for op in operations)
    assert len(answers) == len(operations) == (601 if version == "20.0.10" else len(operations))
    # the rest are keys of sets the seed leaves empty, My* paths and creates with an empty body
    assert succeeded[True] >= 0.8 * len(operations), succeeded


_FILLER = re.compile(r"^(item|[A-Z][A-Za-z]+) \d+$")  # "item 1", "AuthID 1", "Name 1"


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_no_get_of_the_spec_answers_filler_text() -> None:
    """Every GET of the spec, walked over the emulator: no "<Property> <n>" or "item <n>" strings."""
    pbx = make_pbx(calls=50)
    try:
        key_of = key_lookup(pbx)

        filler: dict[str, list[str]] = {}
        walked = 0
        for op in spec_operations("20.0.10"):
            if op.method != "GET":
                continue
            response = pbx.xapi("GET", build_url(op, key_of))
            if response.status_code != 200 or "json" not in response.headers.get("content-type", ""):
                continue
            walked += 1
            found = sorted({s for s in _strings(response.json()) if _FILLER.match(s)})
            if found:
                filler[op.path] = found[:3]
        assert walked > 200, "the walk reached the GETs of the spec"
        assert filler == {}
    finally:
        pbx.close()
