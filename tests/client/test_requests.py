"""Requests through Client and AsyncClient against the emulator: paging, retries, errors, escaping."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import py3cx
from py3cx import F
from py3cx._base_client import RetryPolicy
from py3cx.emulator import FaultSpec, RunningEmulator, create_app, running_emulator

from .emulated import admin_of, emulator_stats, owner_of, serving, small_config, unique_pbx_url


def segment_ids(client: py3cx.Client, page_size: int) -> list[int]:
    return [row["SegmentId"] for row in client.paginate("CallHistoryView", page_size=page_size)]


def test_paging_through_faults_and_expiring_tokens_returns_every_row_exactly_once() -> None:
    with running_emulator(small_config()) as clean:
        owner = owner_of(clean)
        with py3cx.Client(clean.url, owner.client_id, owner.secret) as client:
            expected = segment_ids(client, 500)

    # the faults a client rides through (a 500 is final: it means a malformed request)
    faults = FaultSpec.parse("503=0.1,429=0.1,504=0.05,reset=0.05")
    with running_emulator(small_config(token_ttl=1, faults=faults)) as faulty:
        owner = owner_of(faulty)
        # a budget of 6 makes seven faults in a row on one page (0.3**7) practically impossible
        with py3cx.Client(faulty.url, owner.client_id, owner.secret, max_retries=6) as client:
            got = []
            for page in client.iter_pages("CallHistoryView", page_size=15):
                got += [row["SegmentId"] for row in page.rows]
                time.sleep(0.15)  # a slow reader: the 1 s token expires while it pages
        stats = emulator_stats(faulty.url)

    assert len(expected) > 200
    assert len(got) == len(set(got))
    assert sorted(got) == sorted(expected)
    assert sum(stats["faults"].values()) >= 2  # the faults really happened
    assert stats["tokens_issued"][owner.client_id] >= 2  # and the 2 s token was renewed


def test_admin_client_reading_call_history_gets_permission_denied_naming_system_owner(
    emulator: RunningEmulator,
) -> None:
    admin = admin_of(emulator)
    client = py3cx.Client(emulator.url, admin.client_id, admin.secret)
    with client, pytest.raises(py3cx.PermissionDeniedError) as caught:
        client.get("CallHistoryView", top=5)
    error = caught.value
    assert error.status_code == 403
    assert error.path == "/xapi/v1/CallHistoryView"
    assert error.hint is not None and "System Owner" in error.hint
    assert str(error).startswith("403 Forbidden on /xapi/v1/CallHistoryView: ")


def test_a_filter_value_cannot_inject_filter_syntax(emulator: RunningEmulator) -> None:
    owner = owner_of(emulator)
    with py3cx.Client(emulator.url, owner.client_id, owner.secret) as client:
        assert len(client.get("Users")["value"]) > 1
        hostile = "x' or 1 eq 1 or LastName eq 'y"
        assert client.get("Users", filter=F("LastName") == hostile)["value"] == []


# -- escaping, property-based, in process through ASGITransport --------------------------------

# anything JSON can carry: every code point except lone surrogates
ANY_TEXT = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40)


@pytest.fixture(scope="module")
def asgi_owner_client() -> Iterator[py3cx.Client]:
    cfg = small_config(calls=20)
    owner = owner_of(cfg)
    transport = httpx2.ASGITransport(create_app(cfg))
    with py3cx.Client(unique_pbx_url(), owner.client_id, owner.secret, transport=transport) as client:
        yield client


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(last_name=ANY_TEXT)
def test_filtering_on_any_text_finds_exactly_the_users_with_that_text(
    asgi_owner_client: py3cx.Client, last_name: str
) -> None:
    client = asgi_owner_client
    number = str(80000 + len(client.get("Users", select="Id")["value"]))
    created = client.post("Users", {"Number": number, "FirstName": "Prop", "LastName": last_name})
    assert created["LastName"] == last_name

    found = client.get("Users", filter=F("LastName") == last_name, select=["Id", "LastName"])["value"]
    everyone = client.get("Users", select=["Id", "LastName"])["value"]
    assert created["Id"] in {user["Id"] for user in found}
    assert sorted(u["Id"] for u in found) == sorted(
        u["Id"] for u in everyone if u.get("LastName") == last_name
    )


# -- retries per method ---------------------------------------------------------------------------


def xapi_requests(emu: RunningEmulator) -> int:
    return int(emulator_stats(emu.url)["xapi_requests"])


def test_a_500_is_never_retried_get_or_post() -> None:
    # on a PBX a 500 means a malformed request: the same request gets the same 500 (DESIGN.md 6)
    with running_emulator(small_config(calls=10, faults=FaultSpec.parse("500=1"))) as emu:
        owner = owner_of(emu)
        with py3cx.Client(
            emu.url,
            owner.client_id,
            owner.secret,
            retry_policy=RetryPolicy(max_retries=2, initial_delay=0.01),
        ) as client:
            with pytest.raises(py3cx.InternalServerError):
                client.get("Users")
            assert xapi_requests(emu) == 1
            with pytest.raises(py3cx.InternalServerError):
                client.post("Users", {"Number": "9999", "FirstName": "Once"})
            assert xapi_requests(emu) == 2


def test_a_post_whose_connection_dropped_is_not_sent_again() -> None:
    with running_emulator(small_config(calls=10, faults=FaultSpec.parse("reset=1"))) as emu:
        owner = owner_of(emu)
        with py3cx.Client(
            emu.url,
            owner.client_id,
            owner.secret,
            retry_policy=RetryPolicy(max_retries=2, initial_delay=0.01),
        ) as client:
            with pytest.raises(py3cx.APIConnectionError) as caught:
                client.post("Users", {"Number": "9999", "FirstName": "Once"})
            assert caught.value.request_sent is True
            dropped_posts = emulator_stats(emu.url)["faults"]["reset"]
            assert dropped_posts == 1
            with pytest.raises(py3cx.APIConnectionError):
                client.get("Users")
            assert emulator_stats(emu.url)["faults"]["reset"] == 1 + 3


def test_a_post_refused_with_503_and_retry_after_is_sent_again() -> None:
    with running_emulator(small_config(calls=10, faults=FaultSpec.parse("503=1"))) as emu:
        owner = owner_of(emu)
        with py3cx.Client(emu.url, owner.client_id, owner.secret, max_retries=1) as client:
            with pytest.raises(py3cx.ServiceUnavailableError) as caught:
                client.post("Users", {"Number": "9999", "FirstName": "Twice"})
            assert caught.value.hint is not None
        assert xapi_requests(emu) == 2  # the server said Retry-After: the POST never ran


def test_a_pbx_that_is_not_listening_raises_connection_error_with_a_hint() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = py3cx.Client(f"http://127.0.0.1:{port}", "id", "secret", max_retries=0)
    with client, pytest.raises(py3cx.APIConnectionError) as caught:
        client.get("Users")
    assert caught.value.request_sent is False
    assert caught.value.hint is not None and f"nothing listens on 127.0.0.1:{port}" in caught.value.hint


# -- the other methods ----------------------------------------------------------------------------


def test_create_update_delete_a_user(emulator: RunningEmulator) -> None:
    owner = owner_of(emulator)
    with py3cx.Client(emulator.url, owner.client_id, owner.secret) as client:
        created = client.post("Users", {"Number": "7311", "FirstName": "Ann", "LastName": "Lee"})
        path = py3cx.key_path("Users", created["Id"])
        assert client.patch(path, {"FirstName": "Anna"}) is None
        assert client.get(path)["FirstName"] == "Anna"
        assert client.delete(path) is None
        with pytest.raises(py3cx.NotFoundError) as caught:
            client.get(path)
    assert caught.value.path == f"/xapi/v1/{path}"


def test_a_taken_number_is_refused_with_the_odata_error_and_a_hint(emulator: RunningEmulator) -> None:
    owner = owner_of(emulator)
    with py3cx.Client(emulator.url, owner.client_id, owner.secret) as client:
        taken = client.get("Users", top=1, select="Number")["value"][0]["Number"]
        with pytest.raises(py3cx.APIStatusError) as caught:
            client.post("Users", {"Number": taken, "FirstName": "Dup"})
    error = caught.value
    assert error.odata_error is not None
    assert "WARNINGS.XAPI.ALREADY_IN_USE" in error.odata_error.keys
    assert error.hint == "that number is taken"


def test_iter_pages_gives_pages_with_skip_and_count(emulator: RunningEmulator) -> None:
    owner = owner_of(emulator)
    with py3cx.Client(emulator.url, owner.client_id, owner.secret) as client:
        pages = list(client.iter_pages("CallHistoryView", page_size=100, count=True))
        total = client.get("CallHistoryView", count=True, top=1)["@odata.count"]
    assert [page.skip for page in pages] == list(range(0, total, 100))
    assert all(page.count == total for page in pages)
    assert sum(len(page.rows) for page in pages) == total


def test_paginate_knows_the_total_and_honours_top_and_skip(emulator: RunningEmulator) -> None:
    owner = owner_of(emulator)
    with py3cx.Client(emulator.url, owner.client_id, owner.secret) as client:
        everything = segment_ids(client, 1000)
        rows = client.paginate("CallHistoryView", page_size=7, count=True, skip=10, top=30)
        assert rows.count is None  # nothing fetched yet: paging is lazy
        ids = [row["SegmentId"] for row in rows]
        assert rows.count == len(everything)
    assert ids == everything[10:40]


def test_async_client_pages_with_async_for() -> None:
    cfg = small_config()
    owner = owner_of(cfg)
    transport = httpx2.ASGITransport(create_app(cfg))

    async def read() -> tuple[list[int], int | None, int]:
        async with py3cx.AsyncClient(
            unique_pbx_url(), owner.client_id, owner.secret, transport=transport
        ) as c:
            rows = c.paginate("CallHistoryView", page_size=50, count=True)
            ids = [row["SegmentId"] async for row in rows]
            total = (await c.get("CallHistoryView", top=1, count=True))["@odata.count"]
            return ids, rows.count, total

    ids, count, total = asyncio.run(read())
    assert len(ids) == len(set(ids)) == total == count


def test_download_streams_to_a_path_and_to_a_file_object(emulator: RunningEmulator, tmp_path: Path) -> None:
    owner = owner_of(emulator)
    with py3cx.Client(emulator.url, owner.client_id, owner.secret) as client:
        target = tmp_path / "users.json"
        written = client.download("Users", target, select=["Id", "Number"])
        buffer = io.BytesIO()
        assert client.download("Users", buffer, select=["Id", "Number"]) == written
    assert target.stat().st_size == written == len(buffer.getvalue())
    assert json.loads(target.read_bytes())["value"]
    assert not (tmp_path / "users.json.part").exists()


def test_a_failed_download_leaves_no_file(emulator: RunningEmulator, tmp_path: Path) -> None:
    admin = admin_of(emulator)
    target = tmp_path / "calls.json"
    client = py3cx.Client(emulator.url, admin.client_id, admin.secret)
    with client, pytest.raises(py3cx.PermissionDeniedError):
        client.download("CallHistoryView", target)
    assert list(tmp_path.iterdir()) == [tmp_path / "cache"]


def test_callcontrol_paths_are_taken_from_the_pbx_root(emulator: RunningEmulator) -> None:
    owner = owner_of(emulator)
    client = py3cx.Client(emulator.url, owner.client_id, owner.secret)
    with client, pytest.raises(py3cx.APIStatusError) as caught:
        client.get("/no/such/root/path")
    assert caught.value.path == "/no/such/root/path"


# -- secrets ----------------------------------------------------------------------------------------


def test_secrets_and_tokens_never_show_in_repr_errors_or_logs(
    emulator: RunningEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    owner, admin = owner_of(emulator), admin_of(emulator)
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    with py3cx.Client(emulator.url, owner.client_id, owner.secret) as client:
        seen.append(repr(client))
        tokens = [client.token()]
        httpx2.post(
            f"{emulator.url}/connect/token",
            data={
                "client_id": owner.client_id,
                "client_secret": owner.secret,
                "grant_type": "client_credentials",
            },
        )
        client.get("Users", top=1)  # 401, new token, replay
        tokens.append(client.token())
    with py3cx.Client(emulator.url, admin.client_id, admin.secret) as client:
        tokens.append(client.token())
        with pytest.raises(py3cx.APIError) as forbidden:
            client.get("CallHistoryView")
        seen += [str(forbidden.value), repr(forbidden.value), str(forbidden.value.hint)]
    with py3cx.Client(emulator.url, owner.client_id, "wrong-" + owner.secret) as client:
        with pytest.raises(py3cx.TokenError) as refused:
            client.get("Users")
        seen += [str(refused.value), repr(refused.value), repr(client)]

    assert "GET /xapi/v1/Users -> 401" in caplog.text  # the log does record requests
    haystack = "\n".join([caplog.text, *seen])
    for secret in (owner.secret, admin.secret, *tokens):
        assert secret not in haystack


# -- timeouts -------------------------------------------------------------------------------------


class SlowXapi:
    """The emulator app, answering XAPI requests `delay` seconds late; counts what reached it."""

    def __init__(self, app: Any, delay: float) -> None:
        self.app, self.delay, self.arrived = app, delay, 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/xapi/"):
            self.arrived += 1
            await asyncio.sleep(self.delay)
        await self.app(scope, receive, send)


def test_a_get_that_times_out_is_retried_then_raises_timeout_error() -> None:
    cfg = small_config(calls=10)
    owner = owner_of(cfg)
    slow = SlowXapi(create_app(cfg), delay=0.5)
    with serving(slow) as url:
        client = py3cx.Client(
            url,
            owner.client_id,
            owner.secret,
            timeout=0.15,
            retry_policy=RetryPolicy(max_retries=1, initial_delay=0.01),
        )
        with client:
            with pytest.raises(py3cx.APITimeoutError) as caught:
                client.get("Users")
            assert slow.arrived == 2
            assert caught.value.request_sent is True and caught.value.hint is not None

            with pytest.raises(py3cx.APITimeoutError):
                client.post("Users", {"Number": "9998", "FirstName": "Slow"})
            assert slow.arrived == 3  # the POST may have run: it is not sent again


def test_extension_attributes_are_imported_on_first_use_and_kept() -> None:
    code = (
        "import sys, py3cx\n"
        "c = py3cx.Client('https://pbx.example.com', 'id', 'secret')\n"
        "assert 'py3cx.xapi' not in sys.modules\n"
        "x = c.xapi\n"
        "assert 'py3cx.xapi' in sys.modules and c.xapi is x\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
