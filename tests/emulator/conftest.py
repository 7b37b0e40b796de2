"""Fixtures for the emulator tests (the harness lives in ``emulator_harness.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .emulator_harness import Pbx, make_pbx


@pytest.fixture(scope="module")
def shared_pbx() -> Iterator[Pbx]:
    """One emulator for read-only tests of a module."""
    pbx = make_pbx()
    yield pbx
    pbx.close()


@pytest.fixture
def pbx() -> Iterator[Pbx]:
    """A fresh emulator for tests that change state."""
    pbx = make_pbx()
    yield pbx
    pbx.close()
