"""`3cx emulator serve` as a user runs it: a real process on loopback, playing the build it is told."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx2
import pytest

from py3cx._durations import parse_datetime
from py3cx.emulator.config import derived_secret

_SERVE = "from py3cx.cli.main import main; main()"


def _start(*options: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _SERVE, "emulator", "serve", "--port", "0", "--calls", "20", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@contextmanager
def _serving(*options: str) -> Iterator[str]:
    """The URL of a `3cx emulator serve` process started with `options`, stopped afterwards."""
    process = _start(*options)
    try:
        assert process.stdout is not None
        banner = ""
        while "http://" not in banner and process.poll() is None:  # the banner may wrap
            banner += process.stdout.readline()
        match = re.search(r"listening on\s+(http://\S+)", banner)
        assert match, banner
        yield match.group(1)
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def old_pbx() -> Iterator[str]:
    with _serving("--spec", "20.0.4") as url:
        yield url


def _owner_headers(url: str) -> dict[str, str]:
    data = {
        "client_id": "owner",
        "client_secret": derived_secret(1, "owner"),
        "grant_type": "client_credentials",
    }
    token = httpx2.post(url + "/connect/token", data=data).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def _wait_for(url: str) -> None:
    for _ in range(200):
        try:
            httpx2.post(url + "/connect/token", data={}, timeout=1.0)
            return
        except httpx2.TransportError:
            time.sleep(0.05)
    raise AssertionError(f"the emulator at {url} never answered")


def test_spec_option_makes_the_emulator_play_a_20_0_4_pbx(old_pbx: str) -> None:
    _wait_for(old_pbx)
    headers = _owner_headers(old_pbx)
    parameters = httpx2.get(old_pbx + "/xapi/v1/Defs/Pbx.GetSystemParameters()", headers=headers)
    assert parameters.json()["Version"].startswith("20.0.4.")
    # the old build's forms: a GetByNumber function, no alternate key
    by_function = httpx2.get(old_pbx + "/xapi/v1/Users/Pbx.GetByNumber(number='100')", headers=headers)
    assert by_function.status_code == 200 and by_function.json()["Number"] == "100"
    assert httpx2.get(old_pbx + "/xapi/v1/Users(Number='100')", headers=headers).status_code == 404


def test_an_unknown_spec_is_refused_before_anything_starts() -> None:
    process = _start("--spec", "20.0.9")
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "--spec must be '20.0.10' or '20.0.4'" in output
    assert "listening" not in output


def test_ignore_orderby_makes_call_history_come_in_the_order_it_was_written() -> None:
    with _serving("--ignore-orderby", "CallHistoryView") as url:
        _wait_for(url)
        headers = _owner_headers(url)
        query = {"$orderby": "SegmentStartTime desc", "$select": "SegmentStartTime,SegmentEndTime"}
        rows = httpx2.get(url + "/xapi/v1/CallHistoryView", params=query, headers=headers).json()["value"]
        users = httpx2.get(url + "/xapi/v1/Users", params={"$orderby": "Number desc"}, headers=headers)
    ends = [parse_datetime(row["SegmentEndTime"]) for row in rows]
    assert len(rows) > 2 and ends == sorted(ends)  # not newest first: $orderby was ignored
    numbers = [user["Number"] for user in users.json()["value"]]
    assert numbers == sorted(numbers, reverse=True)  # other sets still honour it
