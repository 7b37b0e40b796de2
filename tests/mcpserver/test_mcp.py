"""`3cx mcp serve` run as a real subprocess against the emulator, driven by the official MCP client SDK
over stdio and over streamable HTTP: every read tool answers from the PBX's data, writes refuse
until allowed, dry runs change nothing, every call is audited without secrets, HTTP needs the bearer."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

import py3cx
from clirun import command_3cx
from py3cx._durations import parse_duration
from py3cx.emulator import ApiClient, EmulatorConfig, RunningEmulator, running_emulator

OWNER = ApiClient("mcp-owner", "mcp-owner-s3cret-value", "SystemOwner")
READS = {
    "find_user",
    "user_presence",
    "queues",
    "active_calls",
    "call_history",
    "queue_stats",
    "agent_stats",
    "call_recordings",
    "system_status",
}
WRITES = {
    "make_call",
    "transfer_call",
    "drop_call",
    "set_presence",
    "create_user",
    "update_user",
    "add_queue_agent",
    "remove_queue_agent",
}


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with running_emulator(EmulatorConfig(seed=71, calls=200, clients=[OWNER])) as emu:
        yield emu


@pytest.fixture
def env(tmp_path: Path, emulator: RunningEmulator) -> dict[str, str]:
    values = {k: v for k, v in os.environ.items() if not k.startswith("PY3CX_")}
    values.update(
        PY3CX_URL=emulator.url,
        PY3CX_CLIENT_ID=OWNER.client_id,
        PY3CX_CLIENT_SECRET=OWNER.secret,
        PY3CX_CACHE_DIR=str(tmp_path / "cache"),
        PY3CX_CONFIG=str(tmp_path / "config" / "config.toml"),
    )
    return values


def _payload(result: Any) -> dict[str, Any]:
    assert not result.isError, result.content
    if result.structuredContent is not None:
        return dict(result.structuredContent)
    return json.loads(result.content[0].text)


async def _stdio(
    env: dict[str, str], args: list[str], calls: list[tuple[str, dict[str, Any]]]
) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """The tools listed (name: description) and the answers to ``calls``."""
    command = command_3cx()
    params = StdioServerParameters(command=command[0], args=[*command[1:], "mcp", "serve", *args], env=env)
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        names = {tool.name: tool.description or "" for tool in (await session.list_tools()).tools}
        answers = [_payload(await session.call_tool(name, arguments)) for name, arguments in calls]
    return names, answers


def _audit(tmp_path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]


def test_every_read_tool_answers_from_the_pbx_over_stdio(
    env: dict[str, str], emulator: RunningEmulator, tmp_path: Path
) -> None:
    with py3cx.Client(emulator.url, OWNER.client_id, OWNER.secret) as pbx:
        user = pbx.get("Users", select=["Number", "LastName", "CurrentProfileName"], top=1)["value"][0]
        queue = pbx.get("Queues", select=["Number", "Name"], top=1)["value"][0]
        version = pbx.get("SystemStatus")["Version"]
        active = len(pbx.get("ActiveCalls")["value"])
    today = datetime.now(timezone.utc).date()
    week = (today - timedelta(days=30)).isoformat()
    with py3cx.Client(emulator.url, OWNER.client_id, OWNER.secret) as pbx:
        recorded = next(
            row
            for row in pbx.reports.rows("call-log", start=week, end=today, tz="UTC")
            if row.get("Recordings")
        )
    calls = [
        ("find_user", {"query": user["LastName"].upper()}),  # case ignored
        ("user_presence", {"extension": user["Number"]}),
        ("queues", {}),
        ("active_calls", {"limit": 500}),
        ("call_history", {"start": week, "end": today.isoformat(), "limit": 5}),
        ("queue_stats", {"start": week, "end": today.isoformat(), "queue": queue["Number"]}),
        ("agent_stats", {"start": week, "end": today.isoformat()}),
        ("call_recordings", {"call_id": str(recorded["CallId"]), "day": recorded["StartTime"][:10]}),
        ("system_status", {}),
    ]
    names, answers = asyncio.run(_stdio(env, ["--audit-log", str(tmp_path / "audit.jsonl")], calls))
    assert set(names) == READS | WRITES  # writes are listed (the model learns they exist) but refuse
    assert all("DISABLED on this server" in names[w] and f"--allow {w}" in names[w] for w in WRITES)
    found, presence, queues, live, history, qstats, astats, recordings, status = answers
    assert user["Number"] in {row["Number"] for row in found["rows"]}
    assert presence["extension"] == user["Number"] and presence["current_profile"] == user.get(
        "CurrentProfileName"
    )
    assert queue["Number"] in {q["queue"] for q in queues["queues"]}
    assert live["count"] == min(active, 200)
    assert history["count"] == 5 and "more" in history and history["period"]["time_zone"] == "UTC"
    assert qstats["count"] >= 1 and astats["count"] >= 1
    with py3cx.Client(emulator.url, OWNER.client_id, OWNER.secret) as pbx:
        arguments = {"queueDns": queue["Number"]}
        span = {"start": week, "end": today, "tz": "UTC"}
        queue_rows = list(pbx.reports.rows("queue-performance-overview", arguments=arguments, **span))
        agent_rows = list(pbx.reports.rows("extension-statistics", **span))
    assert [r.get("TalkTime") for r in qstats["rows"]] == [  # seconds, not ISO 8601 text
        round(parse_duration(r["TalkTime"]).total_seconds(), 3) if r.get("TalkTime") else None
        for r in queue_rows
    ]
    talked = [r for r in agent_rows if r.get("InboundAnsweredTalkingDur")]
    assert talked and {
        r["Dn"]: r["InboundAnsweredTalkingDur"]
        for r in astats["rows"]
        if r["Dn"] in {t["Dn"] for t in talked}
    } == {t["Dn"]: round(parse_duration(t["InboundAnsweredTalkingDur"]).total_seconds(), 3) for t in talked}
    assert {r["Id"] for r in recordings["rows"]} == {r["Id"] for r in recorded["Recordings"]}
    assert status["status"]["Version"] == version and status["licence"]["edition"] == "Enterprise"
    audit = _audit(tmp_path)
    assert [line["tool"] for line in audit] == [name for name, _ in calls]
    assert all(line["status"] == "ok" for line in audit)
    assert OWNER.secret not in (tmp_path / "audit.jsonl").read_text()
    assert oct((tmp_path / "audit.jsonl").stat().st_mode & 0o777) == "0o600"


def test_writes_refuse_until_allowed_dry_runs_change_nothing_and_everything_is_audited(
    env: dict[str, str], emulator: RunningEmulator, tmp_path: Path
) -> None:
    with py3cx.Client(emulator.url, OWNER.client_id, OWNER.secret) as pbx:
        extension = pbx.get("Users", select=["Number"], top=1)["value"][0]["Number"]
    call = {"from_extension": extension, "to_number": "+442079460111"}
    audit = ["--audit-log", str(tmp_path / "audit.jsonl")]
    leak = {"extension": extension, "changes": {"first_name": "X", "SipPassword": "pl41n-leak"}}
    _, (refused, refused_update) = asyncio.run(
        _stdio(env, audit, [("make_call", call), ("update_user", leak)])
    )
    assert "refused" in refused and "--allow make_call" in refused["hint"]
    assert "--allow update_user" in refused_update["hint"]
    assert "pl41n-leak" not in (tmp_path / "audit.jsonl").read_text()  # removed at any depth
    listed, (dry, other) = asyncio.run(
        _stdio(
            env,
            [*audit, "--allow", "make_call"],
            [
                ("make_call", {**call, "dry_run": True}),
                ("create_user", {"extension": "999", "first_name": "A", "last_name": "B", "email": "a@b.c"}),
            ],
        )
    )
    assert dry["dry_run"] is True and "would" in dry
    assert "allowed on this server" in listed["make_call"] and "DISABLED" in listed["create_user"]
    assert "refused" in other  # only make_call was allowed
    real = {**call, "to_number": "+442079460222"}
    _, (done,) = asyncio.run(_stdio(env, [*audit, "--allow", "make_call"], [("make_call", real)]))
    assert "done" in done, done
    assert _calls_with(emulator, "+442079460222", wait=True)  # the PBX shows the call
    # ActiveCalls shows calls in batches: the real call made later is shown, so a dry run's call would be
    assert not _calls_with(emulator, "+442079460111")
    lines = _audit(tmp_path)
    assert [(line["tool"], line["status"], line["dry_run"]) for line in lines] == [
        ("make_call", "refused", False),
        ("update_user", "refused", False),
        ("make_call", "ok", True),
        ("create_user", "refused", False),
        ("make_call", "ok", False),
    ]


def _calls_with(emu: RunningEmulator, number: str, *, wait: bool = False) -> list[dict[str, Any]]:
    """The active calls with ``number`` at either end; with ``wait``, until one shows (ActiveCalls is
    written in batches), for at most 30 s."""
    deadline = time.monotonic() + 30
    with py3cx.Client(emu.url, OWNER.client_id, OWNER.secret) as pbx:
        while True:
            found = [
                c for c in pbx.get("ActiveCalls")["value"] if number in f"{c.get('Caller')} {c.get('Callee')}"
            ]
            if found or not wait or time.monotonic() > deadline:
                return found
            time.sleep(0.2)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve_http(env: dict[str, str], tmp_path: Path) -> tuple[subprocess.Popen[str], str, httpx2.Response]:
    """`3cx mcp serve --http` started, and its answer to a first request without a token."""
    port = _free_port()
    proc = subprocess.Popen(
        [
            *command_3cx(),
            "mcp",
            "serve",
            "--http",
            f"127.0.0.1:{port}",
            "--audit-log",
            str(tmp_path / "audit.jsonl"),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/mcp"
    deadline = time.monotonic() + 30
    while True:
        try:
            return proc, url, httpx2.post(url, json={}, timeout=5)
        except httpx2.TransportError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise
            time.sleep(0.2)


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    return err


def test_http_needs_the_bearer_token_made_on_first_start(env: dict[str, str], tmp_path: Path) -> None:
    proc, url, denied = _serve_http(env, tmp_path)
    try:
        assert denied.status_code == 401
        assert httpx2.post(url, json={}, headers={"Authorization": "Bearer wrong"}).status_code == 401
        token_file = Path(env["PY3CX_CONFIG"]).parent / "mcp-token"
        assert oct(token_file.stat().st_mode & 0o777) == "0o600"
        token = token_file.read_text().strip()

        async def session() -> dict[str, Any]:
            import httpx  # the MCP SDK's own HTTP client library

            http = httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"})
            async with (
                http,
                streamable_http_client(url, http_client=http) as (read, write, _),
                ClientSession(read, write) as s,
            ):
                await s.initialize()
                return _payload(await s.call_tool("system_status", {}))

        assert asyncio.run(session())["licence"]["edition"] == "Enterprise"
        assert [(line["tool"], line["status"]) for line in _audit(tmp_path)] == [("system_status", "ok")]
    finally:
        err = _stop(proc)
    assert token in err  # shown once, on the first start
    assert "Traceback" not in err, err
    # the next start reuses the kept token and does not show it again
    proc, url, denied = _serve_http(env, tmp_path)
    try:
        assert denied.status_code == 401
        welcome = httpx2.post(url, json={}, headers={"Authorization": f"Bearer {token}"})
        assert welcome.status_code != 401
        assert httpx2.post(url, json={}, headers={"Authorization": f"bearer {token}"}).status_code != 401
        assert httpx2.post(url, json={}, headers={"Authorization": f"Basic {token}"}).status_code == 401
        assert httpx2.post(url, json={}, headers={"Authorization": token}).status_code == 401
    finally:
        err = _stop(proc)
    assert token_file.read_text().strip() == token
    assert token not in err and "Traceback" not in err, err


def test_bad_options_are_messages(env: dict[str, str]) -> None:
    bad = subprocess.run(
        [*command_3cx(), "mcp", "serve", "--allow", "find_user"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "reads are always on" in bad.stderr and "Traceback" not in bad.stderr


def test_with_a_connect_database_every_tool_takes_the_pbx(
    env: dict[str, str], emulator: RunningEmulator, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'connect.db'}"
    many = {**env, "PY3CX_DB": db, "PY3CX_CONNECT_KEY_FILE": str(tmp_path / "connect.key")}
    for name in ("hq", "branch"):
        added = subprocess.run(
            [
                *command_3cx(),
                "connect",
                "pbx",
                "add",
                name,
                "--url",
                emulator.url,
                "--client-id",
                OWNER.client_id,
            ],
            env=many,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert added.returncode == 0, added.stderr
    names, (listed, status, unnamed) = asyncio.run(
        _stdio(
            many,
            ["--audit-log", str(tmp_path / "audit.jsonl")],
            [
                ("pbx_list", {}),
                ("system_status", {"pbx": "branch"}),
                ("system_status", {}),
            ],
        )
    )
    assert "pbx_list" in names
    assert listed["pbxs"] == ["branch", "hq"]
    assert status["licence"]["edition"] == "Enterprise"
    assert "error" in unnamed and "pbx_list" in str(unnamed["hint"])
    assert [(line["tool"], line["arguments"].get("pbx"), line["status"]) for line in _audit(tmp_path)] == [
        ("pbx_list", None, "ok"),
        ("system_status", "branch", "ok"),
        ("system_status", None, "error"),
    ]


def test_call_history_pages_on_with_offset_in_the_callers_time_zone_and_bad_input_is_audited(
    env: dict[str, str], emulator: RunningEmulator, tmp_path: Path
) -> None:
    today = datetime.now(timezone.utc).date()
    first = (today - timedelta(days=30)).isoformat()
    with py3cx.Client(emulator.url, OWNER.client_id, OWNER.secret) as pbx:
        expected = list(pbx.reports.rows("call-log", start=first, end=today, tz="Asia/Tokyo"))[:10]
    period = {"start": first, "end": today.isoformat(), "tz": "Asia/Tokyo", "limit": 5}
    _, (page1, page2, unknown_zone) = asyncio.run(
        _stdio(
            env,
            ["--audit-log", str(tmp_path / "audit.jsonl")],
            [
                ("call_history", period),
                ("call_history", {**period, "offset": 5}),
                ("call_history", {**period, "tz": "Mars/Olympus"}),
            ],
        )
    )
    assert "offset=5" in page1["more"] and "offset=10" in page2["more"]
    assert page1["source"].startswith("call log")  # V20 Update 6 on: history lives in the call log
    assert [r["CallId"] for r in page1["rows"] + page2["rows"]] == [r["CallId"] for r in expected]
    shown = datetime.fromisoformat(page1["rows"][0]["StartTime"])
    assert shown.utcoffset() == timedelta(hours=9)  # the caller's clock, not the PBX's UTC
    assert shown == datetime.fromisoformat(str(expected[0]["StartTime"]).replace("Z", "+00:00"))
    for shown_row, row in zip(page1["rows"], expected, strict=False):  # durations in seconds
        for key in ("RingingDuration", "TalkingDuration"):
            assert shown_row[key] == round(parse_duration(str(row[key])).total_seconds(), 3)
    assert "Mars/Olympus" in unknown_zone["error"] and "IANA" in unknown_zone["hint"]
    audit = _audit(tmp_path)
    assert [(line["tool"], line["status"]) for line in audit] == [
        ("call_history", "ok"),
        ("call_history", "ok"),
        ("call_history", "error"),
    ]
    assert audit[1]["arguments"]["offset"] == 5


def test_every_write_tool_dry_runs_without_a_change_then_acts_on_the_pbx(
    env: dict[str, str], emulator: RunningEmulator, tmp_path: Path
) -> None:
    with py3cx.Client(emulator.url, OWNER.client_id, OWNER.secret) as pbx:
        user = pbx.get("Users", select=["Id", "Number", "FirstName"], orderby="Id desc", top=1)["value"][0]
        queue = pbx.get("Queues", select=["Number"], expand="Agents($select=Number)", top=1)["value"][0]
        call = pbx.get("ActiveCalls", select=["Id"], top=1)["value"][0]
    extension, agents = user["Number"], [a["Number"] for a in queue["Agents"]]
    newcomer = next(str(n) for n in range(100, 1000) if str(n) not in agents and str(n) != extension)

    def state() -> tuple[Any, ...]:
        with py3cx.Client(emulator.url, OWNER.client_id, OWNER.secret) as pbx:
            me = pbx.get(f"Users({user['Id']})")
            members = pbx.get(f"Queues?$filter=Number eq '{queue['Number']}'&$expand=Agents")["value"][0]
            return (
                me.get("CurrentProfileName"),
                me["FirstName"],
                sorted(a["Number"] for a in members["Agents"]),
                call["Id"] in {c["Id"] for c in pbx.get("ActiveCalls", select=["Id"])["value"]},
                len(pbx.get("Users", filter=py3cx.F("Number") == "998")["value"]),
            )

    writes: list[tuple[str, dict[str, Any]]] = [
        ("set_presence", {"extension": extension, "profile": "Away"}),
        ("update_user", {"extension": extension, "changes": {"first_name": "Renamed"}}),
        ("add_queue_agent", {"queue": queue["Number"], "extension": newcomer}),
        ("remove_queue_agent", {"queue": queue["Number"], "extension": agents[0]}),
        ("drop_call", {"call_id": call["Id"]}),
        (
            "create_user",
            {"extension": "998", "first_name": "New", "last_name": "Agent", "email": "n@a.example"},
        ),
        ("transfer_call", {"extension": extension, "participant_id": 1, "destination": "100"}),
    ]
    before = state()
    audit = ["--audit-log", str(tmp_path / "audit.jsonl"), "--allow-writes"]
    _, dry = asyncio.run(_stdio(env, audit, [(n, {**a, "dry_run": True}) for n, a in writes]))
    assert all(answer["dry_run"] is True and answer["would"] for answer in dry), dry
    assert state() == before
    _, done = asyncio.run(_stdio(env, audit, [(n, a) for n, a in writes[:-1]]))
    assert all("done" in answer for answer in done), done
    assert state() == (
        "Away",
        "Renamed",
        sorted({*agents, newcomer} - {agents[0]}),
        False,
        1,
    )
    _, (presence,) = asyncio.run(_stdio(env, audit, [("user_presence", {"extension": extension})]))
    assert presence["current_profile"] == "Away"
    lines = _audit(tmp_path)
    assert [(line["tool"], line["dry_run"], line["status"]) for line in lines[: len(writes)]] == [
        (name, True, "ok") for name, _ in writes
    ]


def test_a_failure_py3cx_did_not_expect_is_audited_and_answered_by_its_type_only(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    from py3cx.mcpserver import Audit, ClientProvider, build_server

    async def call() -> Any:
        closed = py3cx.AsyncClient(emulator.url, OWNER.client_id, OWNER.secret)
        await closed.close()  # its requests raise httpx's RuntimeError, not a py3cx error
        server = build_server(
            ClientProvider(single=lambda: closed), allowed=set(), audit=Audit(tmp_path / "audit.jsonl")
        )
        return await server.call_tool("system_status", {})

    _, answer = asyncio.run(call())
    assert answer["error"] == "the tool failed (RuntimeError)"
    assert [(line["tool"], line["status"], line["detail"]) for line in _audit(tmp_path)] == [
        ("system_status", "error", "RuntimeError")
    ]


def test_call_history_before_update_6_reads_call_history_view_like_3cx_history(tmp_path: Path) -> None:
    today = datetime.now(timezone.utc).date()
    first = (today - timedelta(days=30)).isoformat()
    config = EmulatorConfig(seed=72, calls=60, clients=[OWNER], spec_version="20.0.4")
    with running_emulator(config) as old:
        with py3cx.Client(old.url, OWNER.client_id, OWNER.secret) as pbx:
            segments = list(pbx.reports.rows("call-history", start=first, end=today, tz="UTC"))
        caller = str(segments[0]["SrcCallerNumber"])
        period = {"start": first, "end": today.isoformat(), "limit": 200}
        old_env = {k: v for k, v in os.environ.items() if not k.startswith("PY3CX_")}
        old_env.update(
            PY3CX_URL=old.url,
            PY3CX_CLIENT_ID=OWNER.client_id,
            PY3CX_CLIENT_SECRET=OWNER.secret,
            PY3CX_CACHE_DIR=str(tmp_path / "cache"),
            PY3CX_CONFIG=str(tmp_path / "config" / "config.toml"),
        )
        _, (every, one) = asyncio.run(
            _stdio(
                old_env,
                ["--audit-log", str(tmp_path / "audit.jsonl")],
                [("call_history", period), ("call_history", {**period, "number": caller})],
            )
        )
    assert every["source"].startswith("CallHistoryView")
    assert every["rows"][0]["CallTime"] == round(
        parse_duration(str(segments[0]["CallTime"])).total_seconds(), 3
    )
    assert [r["SegmentId"] for r in every["rows"]] == [r["SegmentId"] for r in segments]
    assert one["rows"] and all(
        caller.lstrip("+") in f"{r['SrcCallerNumber']} {r['DstCallerNumber']}".replace("+", "")
        for r in one["rows"]
    )
    assert len(one["rows"]) < len(every["rows"])


def test_without_the_mcp_sdk_the_command_names_the_extra(env: dict[str, str]) -> None:
    hide = "import sys; sys.modules['mcp'] = None; from py3cx.cli.main import main; main()"
    taken = subprocess.run(
        [sys.executable, "-c", hide, "mcp", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert taken.returncode == 2, taken.stderr
    assert "pip install 'py3cx[mcp]'" in taken.stderr and "Traceback" not in taken.stderr


def test_queues_shows_a_call_waiting_in_a_queue_and_its_agents_logged_in(
    env: dict[str, str], emulator: RunningEmulator, tmp_path: Path
) -> None:
    with py3cx.Client(emulator.url, OWNER.client_id, OWNER.secret) as pbx:
        queue = pbx.get("Queues", select=["Number"], expand="Agents($select=Number)", orderby="Number desc")
        queue = queue["value"][0]
        # one of the PBX's own extensions (not one a write test made), unlike the callers of other tests
        caller = pbx.get("Users", select=["Number"], orderby="Number", top=3)["value"][2]["Number"]
        pbx.post("Users/Pbx.MakeCall", {"dn": caller, "destination": queue["Number"]})
        statuses = {
            u["Number"]: u.get("QueueStatus") for u in pbx.paginate("Users", select=["Number", "QueueStatus"])
        }
    in_queue = _calls_with(emulator, f"{queue['Number']} ", wait=True)
    assert in_queue
    _, (answer,) = asyncio.run(_stdio(env, ["--audit-log", str(tmp_path / "audit.jsonl")], [("queues", {})]))
    shown = next(q for q in answer["queues"] if q["queue"] == queue["Number"])
    assert shown["waiting"] + shown["talking"] >= 1
    assert shown["agents"] == len(queue["Agents"])
    assert shown["agents_logged_in"] == sum(
        1 for a in queue["Agents"] if statuses.get(a["Number"]) == "LoggedIn"
    )
