"""Retry decisions and backoff (DESIGN.md decision 6): pure functions, no server."""

from __future__ import annotations

import email.utils

import pytest

from py3cx._base_client import PreparedRequest, RetryPolicy, next_step, parse_retry_after, should_retry
from py3cx._exceptions import APIConnectionError, APITimeoutError

CONNECT_FAILED = APIConnectionError("refused", request_sent=False)
RESET_AFTER_SENDING = APIConnectionError("reset", request_sent=True)
READ_TIMEOUT = APITimeoutError("slow", request_sent=True)
CONNECT_TIMEOUT = APITimeoutError("slow connect", request_sent=False)


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_get_is_retried_on_transient_statuses(status: int) -> None:
    assert should_retry("GET", "/xapi/v1/Users", status=status)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 501])
def test_get_is_not_retried_on_statuses_a_retry_cannot_fix(status: int) -> None:
    assert not should_retry("GET", "/xapi/v1/Users", status=status)


def test_500_is_never_retried_on_a_collection_or_a_function() -> None:
    # on a PBX a 500 means a malformed argument: repeating it gives the same 500 (DESIGN.md decision 6)
    assert not should_retry("GET", "/xapi/v1/CallHistoryView", status=500)
    assert not should_retry("DELETE", "/xapi/v1/Users(1)", status=500)
    path = "/xapi/v1/ReportCallLogData/Pbx.GetCallLogData(periodFrom=2025-01-01T00:00:00Z)"
    assert not should_retry("GET", path, status=500)


@pytest.mark.parametrize("error", [CONNECT_FAILED, RESET_AFTER_SENDING, READ_TIMEOUT, CONNECT_TIMEOUT])
def test_get_and_delete_are_retried_on_any_connection_failure(error: APIConnectionError) -> None:
    assert should_retry("GET", "/xapi/v1/Users", error=error)
    assert should_retry("DELETE", "/xapi/v1/Users(1)", error=error)


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_post_and_patch_are_retried_only_when_the_request_never_left(method: str) -> None:
    assert should_retry(method, "/xapi/v1/Users", error=CONNECT_FAILED)
    assert should_retry(method, "/xapi/v1/Users", error=CONNECT_TIMEOUT)
    assert not should_retry(method, "/xapi/v1/Users", error=RESET_AFTER_SENDING)
    assert not should_retry(method, "/xapi/v1/Users", error=READ_TIMEOUT)


@pytest.mark.parametrize("status", [429, 503])
def test_post_is_retried_on_429_and_503_only_with_retry_after(status: int) -> None:
    assert should_retry("POST", "/xapi/v1/Users/Pbx.BatchDelete", status=status, retry_after="1")
    assert not should_retry("POST", "/xapi/v1/Users/Pbx.BatchDelete", status=status)
    assert not should_retry("POST", "/xapi/v1/Users/Pbx.BatchDelete", status=status, retry_after="soon")


@pytest.mark.parametrize("status", [500, 502, 504])
def test_post_is_never_retried_on_other_server_errors(status: int) -> None:
    assert not should_retry("POST", "/xapi/v1/Users", status=status, retry_after="1")
    assert not should_retry("PATCH", "/xapi/v1/Users(1)", status=status, retry_after="1")


def test_retry_after_in_seconds() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-4") == 0.0


def test_retry_after_as_an_http_date() -> None:
    now = 1_700_000_000.0
    header = email.utils.formatdate(now + 7, usegmt=True)
    assert parse_retry_after(header, now=now) == pytest.approx(7.0)
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0


@pytest.mark.parametrize("header", [None, "", "soon", "nan", "inf", "Mon, 99 Foo 2024"])
def test_unreadable_retry_after_is_ignored(header: str | None) -> None:
    assert parse_retry_after(header) is None


def test_backoff_doubles_and_is_capped() -> None:
    top_draw = RetryPolicy(initial_delay=0.5, max_delay=8.0, random=lambda: 1.0)
    assert [top_draw.delay(n) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert top_draw.delay(10_000) == 8.0


def test_full_jitter_draws_between_zero_and_the_cap() -> None:
    half = RetryPolicy(initial_delay=0.5, max_delay=8.0, random=lambda: 0.5)
    assert half.delay(0) == pytest.approx(0.25)
    assert half.delay(3) == pytest.approx(2.0)
    real = RetryPolicy()
    delays = {real.delay(1) for _ in range(50)}
    assert all(0.0 <= d <= 1.0 for d in delays)
    assert len(delays) > 1  # clients that failed together do not retry together


def test_the_policy_holds_the_budget_and_refuses_a_negative_one() -> None:
    assert RetryPolicy().max_retries == 2 and RetryPolicy(max_retries=0).allows(0) is False
    with pytest.raises(ValueError, match="0 or more"):
        RetryPolicy(max_retries=-1)


def test_retry_after_wins_over_backoff_and_is_capped() -> None:
    policy = RetryPolicy(initial_delay=0.5, max_delay=8.0, max_retry_after=60.0, random=lambda: 1.0)
    assert policy.delay(0, "12") == 12.0
    assert policy.delay(3, "0") == 0.0
    assert policy.delay(0, "86400") == 60.0
    assert policy.delay(2, "garbage") == 2.0


# -- what a send loop does after a failed attempt ------------------------------------------------

POLICY = RetryPolicy(max_retries=2, initial_delay=0.5, random=lambda: 1.0)


def prepared(method: str = "GET", content: object = None) -> PreparedRequest:
    return PreparedRequest(method, "/xapi/v1/Users", "/xapi/v1/Users?$top=1", content=content)  # type: ignore[arg-type]


def test_a_first_401_is_replayed_once_and_a_second_fails() -> None:
    assert next_step(prepared(), attempt=0, replayed=False, policy=POLICY, status=401).action == ("replay")
    assert next_step(prepared(), attempt=0, replayed=True, policy=POLICY, status=401).action == ("fail")


def test_a_401_on_a_post_is_replayed_too() -> None:
    # the PBX refused the token, so the POST never ran
    step = next_step(prepared("POST"), attempt=0, replayed=False, policy=POLICY, status=401)
    assert step.action == "replay"


def test_retries_stop_when_the_budget_is_spent() -> None:
    steps = [next_step(prepared(), attempt=n, replayed=False, policy=POLICY, status=503) for n in range(3)]
    assert [(s.action, s.delay) for s in steps] == [("retry", 0.5), ("retry", 1.0), ("fail", 0.0)]


def test_retry_after_sets_the_delay() -> None:
    step = next_step(prepared(), attempt=0, replayed=False, policy=POLICY, status=429, retry_after="3")
    assert (step.action, step.delay) == ("retry", 3.0)


def test_a_streamed_upload_is_never_sent_twice() -> None:
    upload = prepared("POST", content=iter([b"pcm"]))
    assert not upload.replayable
    for status in (401, 503):
        step = next_step(upload, attempt=0, replayed=False, policy=POLICY, status=status, retry_after="1")
        assert step.action == "fail"
    assert next_step(upload, attempt=0, replayed=False, policy=POLICY, error=CONNECT_FAILED).action == (
        "fail"
    )


def test_connection_errors_follow_the_method_rules() -> None:
    get = next_step(prepared(), attempt=0, replayed=False, policy=POLICY, error=READ_TIMEOUT)
    post = next_step(prepared("POST"), attempt=0, replayed=False, policy=POLICY, error=READ_TIMEOUT)
    assert (get.action, post.action) == ("retry", "fail")
