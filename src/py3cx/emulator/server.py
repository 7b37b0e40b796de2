"""Running the emulator as a real HTTP server on loopback (uvicorn).

``running_emulator`` starts uvicorn in a background thread and waits until it listens (through
``serving``, which runs any ASGI app that way: the wallboard, test servers);
``serve`` blocks (the ``3cx emulator serve`` command). Both use an h11 protocol that turns
the fault layer's :class:`DropConnection` into a closed socket with no response at all
(plain uvicorn would answer 500).
"""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.applications import Starlette
from uvicorn.protocols.http.h11_impl import H11Protocol

from .app import create_app
from .config import ApiClient, EmulatorConfig
from .faults import DropConnection
from .state import EmulatorState


class _DroppingH11Protocol(H11Protocol):
    """h11 protocol that aborts the connection when the app raises DropConnection."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        inner = self.app

        async def guarded(scope: Any, receive: Any, send: Any) -> None:
            try:
                await inner(scope, receive, send)
            except DropConnection:
                self.transport.abort()
                if self.cycle is not None:
                    self.cycle.disconnected = True  # so uvicorn does not send its own 500

        self.app = guarded


@dataclass
class RunningEmulator:
    """A started emulator: its base URL, configuration and app (``app.state.emulator`` is the state)."""

    url: str
    config: EmulatorConfig
    app: Starlette

    @property
    def state(self) -> EmulatorState:
        """The emulator's :class:`EmulatorState`."""
        state: EmulatorState = self.app.state.emulator
        return state

    @property
    def clients(self) -> list[ApiClient]:
        """The API clients this emulator accepts."""
        return self.config.clients


def _emulator_options(log_level: str) -> dict[str, Any]:
    """uvicorn settings of the emulator: its dropping h11 protocol and WebSockets on."""
    return {
        "http": _DroppingH11Protocol,
        "ws": "websockets-sansio",
        "lifespan": "on",
        "log_level": log_level,
        "access_log": False,
    }


@contextmanager
def serving(app: Any, host: str = "127.0.0.1", port: int = 0, **options: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn in a background thread; yield its base URL once it listens.

    ``port=0`` picks a free port; ``options`` go to ``uvicorn.Config`` (``ssl_certfile`` gives an
    ``https`` URL). On exit the server is shut down. Raises RuntimeError when it does not start
    within 30 s. Example: ``with serving(app) as url: httpx2.get(url)``.
    """
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=bound_port, **options))
    errors: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(server.serve(sockets=[sock]))
        except BaseException as exc:  # reported to the caller below
            errors.append(exc)

    thread = threading.Thread(target=run, name=f"py3cx-uvicorn-{bound_port}", daemon=True)
    thread.start()
    try:
        for _ in range(3000):
            if server.started or errors or not thread.is_alive():
                break
            threading.Event().wait(0.01)
        if not server.started:
            raise RuntimeError(f"the server did not start: {errors[0] if errors else 'timed out'}")
        url_host = f"[{host}]" if ":" in host else host
        scheme = "https" if options.get("ssl_certfile") else "http"
        yield f"{scheme}://{url_host}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def running_emulator(
    cfg: EmulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0
) -> Iterator[RunningEmulator]:
    """Run the emulator on ``host:port`` (``port=0``: a free port) in a background thread.

    Yields once the server listens; on exit shuts it down and removes its temporary database.
    Raises RuntimeError when the server does not start within 30 s.
    Example: ``with running_emulator(EmulatorConfig(calls=100)) as emu: print(emu.url)``.
    """
    config = cfg or EmulatorConfig()
    app = create_app(config)
    try:
        with serving(app, host, port, **_emulator_options("warning")) as url:
            yield RunningEmulator(url, config, app)
    finally:
        app.state.emulator.close()


def describe(cfg: EmulatorConfig, url: str) -> str:
    """The banner of ``3cx emulator serve``: where it listens and which credentials it accepts.

    Example: ``print(describe(cfg, "http://127.0.0.1:5000"))``.
    """
    lines = [
        f"3CX V20 emulator (build {cfg.build}, spec {cfg.spec_version}) listening on {url}",
        f"  seed {cfg.seed}, {cfg.calls} calls over the 90 days before {cfg.anchor.isoformat()}",
        "  API clients (POST /connect/token):",
    ]
    # A client whose id is a DN number is a Call Control route point (BEHAVIOUR.md §6).
    lines += [
        f"    {c.client_id:<12} secret {c.secret:<28} {c.role}"
        + ("  (Call Control route point)" if c.client_id.isdigit() else "")
        for c in cfg.clients
    ]
    lines.append("  Web users (POST /webclient/api/Login/GetAccessToken):")
    lines += [f"    {u.username:<28} password {u.password:<24} {u.role}" for u in cfg.users]
    if cfg.faults.total or cfg.faults.ws_drop or cfg.faults.event_delay:
        lines.append(f"  Faults: {cfg.faults}")
    if cfg.call_rate:
        lines.append(f"  Simulated traffic: {cfg.call_rate:g} new calls per minute")
    return "\n".join(lines)


def serve(
    cfg: EmulatorConfig | None = None,
    host: str = "127.0.0.1",
    port: int = 5000,
    *,
    ssl_certfile: str | None = None,
    ssl_keyfile: str | None = None,
) -> None:
    """Run the emulator in the foreground until interrupted (Ctrl-C, SIGTERM).

    With ``ssl_certfile`` (and ``ssl_keyfile`` unless the key is in the same PEM) it serves HTTPS
    and WSS only, as a PBX does. Example: ``serve(EmulatorConfig(seed=1), port=5000)``.
    """
    config = cfg or EmulatorConfig()
    options = _emulator_options("info")
    if ssl_certfile:
        options.update(ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile)
    app = create_app(config)
    # uvicorn re-raises the SIGTERM it caught once it has shut down; with the default handler that
    # kills the process before the temporary database is removed, so turn it into SystemExit
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        uvicorn.Server(uvicorn.Config(app, host=host, port=port, **options)).run()
    finally:
        signal.signal(signal.SIGTERM, previous)
        app.state.emulator.close()


@contextmanager
def running_emulators(
    configs: Sequence[EmulatorConfig], host: str = "127.0.0.1", base_port: int = 0
) -> Iterator[list[RunningEmulator]]:
    """Run several independent emulators (``base_port`` 0: each on a free port, else PBX i on
    ``base_port + i``); yield them once all listen; on exit stop them and remove their databases.

    Example: ``with running_emulators([EmulatorConfig(seed=s) for s in (1, 2)]) as pbxs: ...``.
    """
    with ExitStack() as stack:
        yield [
            stack.enter_context(running_emulator(cfg, host, base_port + i if base_port else 0))
            for i, cfg in enumerate(configs)
        ]


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signals to its caller (several share one process)."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def serve_many(
    configs: Sequence[EmulatorConfig],
    host: str,
    ports: Sequence[int],
    *,
    ready: Callable[[list[str]], None] | None = None,
    ssl_certfile: str | None = None,
    ssl_keyfile: str | None = None,
) -> None:
    """Serve one emulator per config on ``ports`` from one process and one event loop, until
    SIGTERM or Ctrl-C; ``ready(urls)`` is called once every one listens. Every temporary
    database is removed on the way out. Example: ``serve_many(configs, "127.0.0.1", [5100, 5101])``.
    """
    options = _emulator_options("warning")
    if ssl_certfile:
        options.update(ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile)
    # a SIGTERM while the PBXs are being made must still remove their databases
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    apps: list[Starlette] = []
    try:
        for cfg in configs:
            apps.append(create_app(cfg))
        _serve_apps(apps, host, ports, options, ready, "https" if ssl_certfile else "http")
    finally:
        signal.signal(signal.SIGTERM, previous)
        for app in apps:
            app.state.emulator.close()


def _serve_apps(
    apps: Sequence[Starlette],
    host: str,
    ports: Sequence[int],
    options: dict[str, Any],
    ready: Callable[[list[str]], None] | None,
    scheme: str,
) -> None:
    servers = [
        _QuietServer(uvicorn.Config(app, host=host, port=port, **options))
        for app, port in zip(apps, ports, strict=True)
    ]
    url_host = f"[{host}]" if ":" in host else host

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, _stop_all, servers)
        tasks = [asyncio.ensure_future(server.serve()) for server in servers]
        while not all(server.started for server in servers):
            if any(task.done() for task in tasks):
                _stop_all(servers)
                break
            await asyncio.sleep(0.05)
        else:
            if ready is not None:
                ready([f"{scheme}://{url_host}:{port}" for port in ports])
        await asyncio.gather(*tasks)

    asyncio.run(main())


def _stop_all(servers: Sequence[uvicorn.Server]) -> None:
    for server in servers:
        server.should_exit = True


def _exit_on_sigterm(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)
