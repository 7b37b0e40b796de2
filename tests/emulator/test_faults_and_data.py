"""Injected faults, configuration parsing and deterministic synthetic data."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from py3cx.emulator import ApiClient, FaultSpec
from py3cx.emulator.faults import DropConnection

from .emulator_harness import OWNER, Pbx, instant, make_pbx


def test_fault_spec_parses_shares() -> None:
    spec = FaultSpec.parse("500=0.05, 503=0.1,429=0.05,reset=0.02")
    assert (spec.error_500, spec.error_503, spec.error_429, spec.reset) == (0.05, 0.1, 0.05, 0.02)
    assert FaultSpec.parse("") == FaultSpec()
    assert FaultSpec.parse("504=0.2").error_504 == 0.2
    assert str(FaultSpec.parse("504=0.2,reset=0.1")) == "reset=0.1,504=0.2"


def test_a_504_fault_answers_gateway_timeout_without_retry_after() -> None:
    pbx = make_pbx(faults=FaultSpec(error_504=1.0))
    try:
        response = pbx.get("Users?$top=1", token=pbx.token(OWNER))
        assert response.status_code == 504
        assert "retry-after" not in response.headers
        assert "message" in response.json()["error"]
    finally:
        pbx.close()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("404=0.1", "KIND"),
        ("500=lots", "not a number"),
        ("500=1.5", "between 0 and 1"),
        ("500=0.6,503=0.6", "more than 1"),
        ("500=0.1,500=0.2", "twice"),
        ("reset", "KIND=SHARE"),
    ],
)
def test_fault_spec_rejects_bad_text_with_a_clear_message(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        FaultSpec.parse(text)


def test_api_client_parse_reads_id_secret_role_and_never_echoes_the_secret() -> None:
    assert ApiClient.parse("crm:s3cret:SystemAdmin") == ApiClient("crm", "s3cret", "SystemAdmin")
    assert ApiClient.parse("crm:s3cret").role == "SystemOwner"
    with pytest.raises(ValueError) as info:
        ApiClient.parse("crm:s3cret:Janitor")
    assert "s3cret" not in str(info.value)
    with pytest.raises(ValueError):
        ApiClient.parse("just-an-id")


def test_fault_shares_are_roughly_right_and_carry_retry_after() -> None:
    pbx = make_pbx(faults=FaultSpec(error_500=0.2, error_503=0.15, error_429=0.1))
    try:
        token = pbx.token(OWNER)
        statuses: Counter[int] = Counter()
        for _ in range(400):
            response = pbx.get("Users?$top=1", token=token)
            statuses[response.status_code] += 1
            if response.status_code in (429, 503):
                assert response.headers["retry-after"] == "1"
                assert "message" in response.json()["error"]
            elif response.status_code == 500:
                assert "retry-after" not in response.headers
        assert 0.13 < statuses[500] / 400 < 0.27
        assert 0.09 < statuses[503] / 400 < 0.21
        assert 0.05 < statuses[429] / 400 < 0.15
        assert statuses[200] + statuses[500] + statuses[503] + statuses[429] == 400
        stats = pbx.request("GET", "/_emulator/stats").json()
        assert stats["faults"] == {"500": statuses[500], "503": statuses[503], "429": statuses[429]}
    finally:
        pbx.close()


def test_token_endpoint_and_control_routes_are_never_faulted() -> None:
    pbx = make_pbx(faults=FaultSpec(error_500=1.0))
    try:
        for _ in range(20):
            assert pbx.token_response(OWNER).status_code == 200
        assert pbx.request("GET", "/_emulator/stats").status_code == 200
        assert pbx.get("Users").status_code == 500
    finally:
        pbx.close()


def test_reset_fault_raises_before_any_response_through_asgi() -> None:
    pbx = make_pbx(faults=FaultSpec(reset=1.0))
    try:
        token = pbx.token(OWNER)
        with pytest.raises(DropConnection):
            pbx.get("Users", token=token)
    finally:
        pbx.close()


def test_faults_follow_the_seed() -> None:
    def sequence(seed: int) -> list[int]:
        pbx = make_pbx(seed=seed, faults=FaultSpec(error_500=0.3, error_429=0.3))
        try:
            token = pbx.token(OWNER)
            return [pbx.get("Users?$top=1", token=token).status_code for _ in range(40)]
        finally:
            pbx.close()

    assert sequence(5) == sequence(5)
    assert sequence(5) != sequence(6)


def _snapshot(pbx: Pbx) -> dict[str, Any]:
    return {
        "users": pbx.value("Users?$expand=Groups"),
        "queues": pbx.value("Queues?$expand=Agents"),
        "history": pbx.value("CallHistoryView"),
        "active": [{k: v for k, v in c.items() if k != "ServerNow"} for c in pbx.value("ActiveCalls")],
        "events": pbx.value("EventLogs"),
    }


def test_same_seed_and_anchor_give_identical_data() -> None:
    first, second, other = make_pbx(seed=11), make_pbx(seed=11), make_pbx(seed=12)
    try:
        a, b, c = _snapshot(first), _snapshot(second), _snapshot(other)
        assert a == b
        assert a["history"] != c["history"]
    finally:
        for pbx in (first, second, other):
            pbx.close()


def test_call_history_is_derived_from_the_internal_calls_table(shared_pbx: Pbx) -> None:
    import sqlalchemy as sa

    state = shared_pbx.state
    with state.engine.connect() as conn:
        calls = conn.execute(sa.select(state.calls)).mappings().all()
    segments = {s["SegmentId"]: s for s in shared_pbx.value("CallHistoryView")}
    assert len(calls) == state.config.calls
    assert sum(c["segment_count"] for c in calls) == len(segments)
    for call in calls:
        own = [
            segments[i] for i in range(call["segment_first"], call["segment_first"] + call["segment_count"])
        ]
        assert instant(own[0]["SegmentStartTime"]) == instant(call["start_time"])
        assert instant(own[-1]["SegmentEndTime"]) == instant(call["end_time"])
        if call["queue_dn"]:
            assert own[0]["DstDn"] == call["queue_dn"]
        if call["abandoned"]:
            assert not call["answered"] and len(own) == 1 and not own[0]["CallAnswered"]
        if call["answered_by"]:
            assert own[-1]["DstDn"] == call["answered_by"] and own[-1]["CallAnswered"]
        assert call["answered"] == any(s["CallAnswered"] for s in own)
    directions = Counter(c["direction"] for c in calls)
    assert set(directions) == {"inbound", "outbound", "internal"}
    assert any(c["abandoned"] for c in calls) and any(c["queue_dn"] == "0336" for c in calls)
