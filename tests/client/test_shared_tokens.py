"""One token per (PBX, client id): shared by threads, tasks and processes; replayed once after a 401.

Against the emulator, which, like a PBX, keeps one active token per client id.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest

import py3cx
from py3cx.emulator import RunningEmulator, create_app, running_emulator

from .emulated import emulator_stats, owner_of, small_config, unique_pbx_url

ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def test_twenty_threads_and_twenty_tasks_first_calls_make_exactly_one_token_request(
    emulator: RunningEmulator,
) -> None:
    owner = owner_of(emulator)
    start = threading.Barrier(21)
    answers: list[Any] = []
    errors: list[BaseException] = []

    def one_thread() -> None:
        try:
            with py3cx.Client(emulator.url, owner.client_id, owner.secret) as client:
                start.wait()
                answers.append(client.get("Users", top=1))
        except BaseException as exc:
            errors.append(exc)

    async def twenty_tasks() -> list[Any]:
        async with py3cx.AsyncClient(emulator.url, owner.client_id, owner.secret) as client:
            start.wait()
            return await asyncio.gather(*(client.get("Users", top=1) for _ in range(20)))

    threads = [threading.Thread(target=one_thread) for _ in range(20)]
    for thread in threads:
        thread.start()
    task_answers = asyncio.run(twenty_tasks())
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(answers) == 20 and len(task_answers) == 20
    assert all(len(answer["value"]) == 1 for answer in answers + task_answers)
    stats = emulator_stats(emulator.url)
    assert stats["token_requests"] == {owner.client_id: 1}
    assert stats["statuses"].get("401", 0) == 0


def slow_token_endpoint(app: ASGIApp, delay: float) -> ASGIApp:
    """The emulator app, with the token endpoint answering `delay` seconds late."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/connect/token":
            await asyncio.sleep(delay)
        await app(scope, receive, send)

    return wrapped


def test_async_callers_wait_for_another_callers_fetch_without_blocking_the_loop() -> None:
    cfg = small_config()
    owner = owner_of(cfg)
    app = create_app(cfg)
    slow = slow_token_endpoint(app, 0.6)
    url = unique_pbx_url()
    sync_client = py3cx.Client(url, owner.client_id, owner.secret, transport=httpx2.ASGITransport(slow))
    fetcher = threading.Thread(target=sync_client.token)

    async def scenario() -> tuple[int, str]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        async with py3cx.AsyncClient(
            url, owner.client_id, owner.secret, transport=httpx2.ASGITransport(slow)
        ) as client:
            fetcher.start()
            await asyncio.sleep(0.1)  # the thread's token request is now under way
            tick_task = asyncio.create_task(ticker())
            token = await client.token()
            tick_task.cancel()
            return ticks, token

    ticks, token = asyncio.run(scenario())
    fetcher.join()
    try:
        assert token == sync_client.token()
        # the loop kept running while the task waited for the thread's token (~0.5 s)
        assert ticks >= 20
        assert app.state.emulator.tokens.token_requests == {owner.client_id: 1}
    finally:
        sync_client.close()


def test_second_token_request_invalidates_the_first_and_the_client_recovers_with_one_replay(
    emulator: RunningEmulator,
) -> None:
    owner = owner_of(emulator)
    with py3cx.Client(emulator.url, owner.client_id, owner.secret) as client:
        first = client.token()
        assert client.get("Users", top=1)["value"]
        # another program, sharing no cache with us, takes a token for the same client id
        rival = httpx2.post(
            f"{emulator.url}/connect/token",
            data={
                "client_id": owner.client_id,
                "client_secret": owner.secret,
                "grant_type": "client_credentials",
            },
        )
        assert rival.status_code == 200
        assert client.get("Users", top=1)["value"]
        assert client.token() not in (first, rival.json()["access_token"])

    stats = emulator_stats(emulator.url)
    assert stats["token_requests"] == {owner.client_id: 3}
    assert stats["statuses"]["401"] == 1  # exactly one replay


def rival_on_every_request(app: Any, client_id: str, secret: str) -> ASGIApp:
    """The emulator app, with another program taking a new token before every XAPI request."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/xapi/"):
            assert app.state.emulator.tokens.issue_for_client(client_id, secret) is not None
        await app(scope, receive, send)

    return wrapped


def test_second_401_raises_authentication_error_with_a_hint() -> None:
    cfg = small_config()
    owner = owner_of(cfg)
    app = create_app(cfg)
    hostile = rival_on_every_request(app, owner.client_id, owner.secret)
    transport = httpx2.ASGITransport(hostile)
    client = py3cx.Client(unique_pbx_url(), owner.client_id, owner.secret, transport=transport)
    with client, pytest.raises(py3cx.AuthenticationError) as caught:
        client.get("Users")
    error = caught.value
    assert error.status_code == 401
    assert error.hint is not None and "same client id" in error.hint and "revoked" in error.hint
    # one token, one replay with a second token, then give up
    assert app.state.emulator.tokens.token_requests == {owner.client_id: 2}


def test_wrong_secret_raises_token_error_carrying_the_oauth_error(emulator: RunningEmulator) -> None:
    owner = owner_of(emulator)
    client = py3cx.Client(emulator.url, owner.client_id, "not-the-secret")
    with client, pytest.raises(py3cx.TokenError) as caught:
        client.get("Users")
    assert caught.value.error == "invalid_client"
    assert caught.value.status_code == 401
    assert caught.value.hint is not None and "8SC+" in caught.value.hint
    assert emulator_stats(emulator.url)["token_requests"] == {owner.client_id: 1}  # not retried


def test_username_and_password_login(emulator: RunningEmulator) -> None:
    user = emulator.config.users[0]
    with py3cx.Client(emulator.url, username=user.username, password=user.password) as client:
        assert client.get("Users", top=2)["value"]
        assert repr(client) == f"Client(url={emulator.url!r}, client_id={user.username!r})"
    assert emulator_stats(emulator.url)["token_requests"] == {user.username: 1}


def test_a_token_near_expiry_is_refreshed_before_it_is_used(tmp_path: Path) -> None:
    from py3cx.emulator import running_emulator

    with running_emulator(small_config(token_ttl=1.0)) as emu:
        owner = owner_of(emu)
        with py3cx.Client(emu.url, owner.client_id, owner.secret) as client:
            first = client.token()
            time.sleep(0.95)  # inside the refresh margin (10% of 1 s), not yet expired
            assert client.get("Users", top=1)["value"]
            assert client.token() != first
        stats = emulator_stats(emu.url)
    assert stats["token_requests"] == {owner.client_id: 2}
    assert stats["statuses"].get("401", 0) == 0  # refreshed ahead, never refused


def test_token_cache_file_is_0600_and_named_without_secrets(
    emulator: RunningEmulator, private_dirs: Path
) -> None:
    owner = owner_of(emulator)
    with py3cx.Client(emulator.url, owner.client_id, owner.secret) as client:
        token = client.token()
    files = [p for p in private_dirs.iterdir() if p.suffix == ".json"]
    assert len(files) == 1
    assert files[0].stat().st_mode & 0o777 == 0o600
    assert owner.client_id not in files[0].name and owner.secret not in files[0].name
    assert json.loads(files[0].read_text())["access_token"] == token


PAGING_SCRIPT = textwrap.dedent(
    """
    import asyncio, json, sys
    import py3cx

    url, client_id, secret, face = sys.argv[1:5]

    def sync_ids():
        with py3cx.Client(url, client_id, secret) as client:
            print("ready", flush=True)
            sys.stdin.readline()  # start together
            return [row["SegmentId"] for row in client.paginate("CallHistoryView", page_size=20)]

    async def async_ids():
        async with py3cx.AsyncClient(url, client_id, secret) as client:
            print("ready", flush=True)
            await asyncio.to_thread(sys.stdin.readline)
            return [row["SegmentId"] async for row in client.paginate("CallHistoryView", page_size=20)]

    ids = sync_ids() if face == "sync" else asyncio.run(async_ids())
    print(json.dumps(ids), flush=True)
    """
)


@pytest.mark.parametrize("face", ["sync", "async"])
def test_two_processes_paging_call_history_at_once_both_get_every_row_with_one_token(
    emulator: RunningEmulator, tmp_path: Path, face: str
) -> None:
    owner = owner_of(emulator)
    script = tmp_path / "page.py"
    script.write_text(PAGING_SCRIPT)
    args = [sys.executable, str(script), emulator.url, owner.client_id, owner.secret, face]
    processes = [
        subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    for process in processes:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    outputs = [process.communicate(timeout=60) for process in processes]
    for process, (_, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err

    with py3cx.Client(emulator.url, owner.client_id, owner.secret) as client:
        expected = sorted(row["SegmentId"] for row in client.paginate("CallHistoryView", page_size=100))
    assert len(expected) > 100
    for out, _ in outputs:
        assert sorted(json.loads(out)) == expected

    stats = emulator_stats(emulator.url)
    # the processes (and this one) shared one token through the cache file
    assert stats["token_requests"] == {owner.client_id: 1}
    assert stats["statuses"].get("401", 0) == 0


def test_a_task_cancelled_while_waiting_for_the_cache_file_lock_does_not_leave_it_locked(
    private_dirs: Path,
) -> None:
    import filelock

    from py3cx._auth import TokenFile, normalize_url

    cfg = small_config(calls=5)
    owner = owner_of(cfg)
    url = unique_pbx_url()
    other_process = TokenFile(private_dirs, normalize_url(url), owner.client_id).lock
    private_dirs.mkdir(parents=True, exist_ok=True)

    async def scenario() -> None:
        transport = httpx2.ASGITransport(create_app(cfg))
        async with py3cx.AsyncClient(url, owner.client_id, owner.secret, transport=transport) as client:
            other_process.acquire()
            task = asyncio.create_task(client.token())
            await asyncio.sleep(0.2)  # the task now waits for the file lock
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            other_process.release()  # the cancelled task's thread gets it now, and must let it go
            await asyncio.sleep(0.3)
            assert await client.token()  # a later call still gets a token

    asyncio.run(scenario())
    probe = filelock.FileLock(other_process.lock_file, timeout=1)
    with probe:  # nobody holds it any more
        pass


@pytest.mark.parametrize("cache", ["set", "unset", "unwritable"])
def test_one_token_request_for_twenty_threads_and_twenty_tasks_whatever_the_cache_folder(
    cache: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the file lock of a shared cache folder must not be what makes it one request: with no
    # usable folder the in-process single-flight alone has to hold (issue 9.2)
    if cache == "set":
        monkeypatch.setenv("PY3CX_CACHE_DIR", str(tmp_path / "cache"))
    elif cache == "unset":
        monkeypatch.delenv("PY3CX_CACHE_DIR", raising=False)
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))  # the default folder, kept private
    else:
        blocker = tmp_path / "a-file"
        blocker.write_text("not a folder")
        monkeypatch.setenv("PY3CX_CACHE_DIR", str(blocker / "cache"))  # cannot be made, even by root
    with running_emulator(small_config(calls=10)) as emu:
        owner = owner_of(emu)
        start = threading.Barrier(21)
        errors: list[BaseException] = []

        def one_thread() -> None:
            try:
                with py3cx.Client(emu.url, owner.client_id, owner.secret) as client:
                    start.wait()
                    client.get("Users", top=1)
            except BaseException as exc:
                errors.append(exc)

        async def twenty_tasks() -> None:
            async with py3cx.AsyncClient(emu.url, owner.client_id, owner.secret) as client:
                start.wait()
                await asyncio.gather(*(client.get("Users", top=1) for _ in range(20)))

        threads = [threading.Thread(target=one_thread) for _ in range(20)]
        for thread in threads:
            thread.start()
        asyncio.run(twenty_tasks())
        for thread in threads:
            thread.join()
        assert errors == []
        assert emulator_stats(emu.url)["token_requests"] == {owner.client_id: 1}


@pytest.mark.parametrize("face", ["sync", "async"])
def test_a_cached_token_older_than_a_refused_one_is_not_used_again(
    face: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another program (with its own cache folder) took a token: ours is refused with 401, and the
    cache file of this folder holds an even older one. The client must fetch, not replay that one."""
    from py3cx._auth import forget_tokens

    with running_emulator(small_config()) as emu:
        client = owner_of(emu)
        forget_tokens()

        def use(folder: str) -> None:
            monkeypatch.setenv("PY3CX_CACHE_DIR", str(tmp_path / folder))
            if face == "sync":
                with py3cx.Client(emu.url, client.client_id, client.secret) as pbx:
                    pbx.get("Users", top=1)
            else:

                async def go() -> None:
                    async with py3cx.AsyncClient(emu.url, client.client_id, client.secret) as pbx:
                        await pbx.get("Users", top=1)

                asyncio.run(go())

        use("first")  # T1, kept in first/ and in this process
        forget_tokens()
        use("second")  # T2 (T1 dead), kept in second/ and in this process
        # another program takes T3: T2 dies too
        other = httpx2.post(
            f"{emu.url}/connect/token",
            data={"client_id": client.client_id, "client_secret": client.secret, "grant_type": "client_credentials"},
        )
        assert other.status_code == 200
        use("first")  # T2 refused; first/ offers T1, older than T2: fetch T4 instead
        assert emulator_stats(emu.url)["tokens_issued"][client.client_id] == 4
