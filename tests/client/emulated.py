"""Helpers of the client tests that talk to the emulator: small configs, counters, URLs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

import httpx2

from py3cx.emulator import ApiClient, EmulatorConfig, RunningEmulator
from py3cx.emulator.server import serving as run_app

# a fixed anchor: the same seed then gives the same calls in every emulator of a test
ANCHOR = datetime(2025, 3, 15, 12, 0, tzinfo=timezone.utc)


def small_config(**overrides: Any) -> EmulatorConfig:
    """A small PBX (200 calls, about 260 call-history rows) that starts fast."""
    options: dict[str, Any] = {"seed": 7, "calls": 200, "now": ANCHOR}
    options.update(overrides)
    return EmulatorConfig(**options)


def owner_of(pbx: RunningEmulator | EmulatorConfig) -> ApiClient:
    """The System Owner API client of an emulator (or of its config)."""
    return next(c for c in pbx.clients if c.role == "SystemOwner")


def admin_of(pbx: RunningEmulator | EmulatorConfig) -> ApiClient:
    """The System Admin API client of an emulator (or of its config)."""
    return next(c for c in pbx.clients if c.role == "SystemAdmin")


def emulator_stats(url: str) -> dict[str, Any]:
    """The emulator's counters (`GET /_emulator/stats`), read with a bare HTTP client."""
    stats: dict[str, Any] = httpx2.get(f"{url}/_emulator/stats").json()
    return stats


def unique_pbx_url() -> str:
    """A URL of its own for an in-process (ASGI) emulator, so no token is shared with another test."""
    return f"http://pbx-{uuid.uuid4().hex[:10]}.test"


@contextmanager
def serving(app: Any, *, certfile: str | None = None) -> Iterator[str]:
    """Serve any ASGI app (an emulator app, or one wrapped to misbehave) with uvicorn on loopback.

    Yields the base URL (https when `certfile`, a PEM with key and chain, is given).
    """
    tls = {"ssl_certfile": certfile, "ssl_keyfile": certfile} if certfile else {}
    with run_app(app, lifespan="off", log_level="critical", **tls) as url:
        yield url
