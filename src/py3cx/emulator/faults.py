"""Deliberate failures of ``/xapi/v1`` requests: 500, 503, 429, 504 and dropped connections.

Draws come from a ``random.Random`` seeded from the emulator seed, so a run with the same
seed and the same request order fails the same requests.
"""

from __future__ import annotations

import random
import threading

from .config import FaultSpec


class DropConnection(Exception):
    """Raised by the app to make the server close the connection without any response."""


class FaultInjector:
    """Decides, request by request, whether to fail and how. Thread-safe.

    Example: ``FaultInjector(FaultSpec.parse("429=0.5"), seed=1).draw()`` → ``"429"`` or None.
    """

    def __init__(self, spec: FaultSpec, seed: int) -> None:
        self.spec = spec
        self._rng = random.Random(f"faults:{seed}")
        self._lock = threading.Lock()
        self.injected: dict[str, int] = {}

    def draw(self) -> str | None:
        """``"500"``, ``"503"``, ``"429"``, ``"504"``, ``"reset"`` or None (no fault) for the next request."""
        spec = self.spec
        if spec.total <= 0:
            return None
        with self._lock:
            roll = self._rng.random()
            edge = 0.0
            for kind, share in (
                ("500", spec.error_500),
                ("503", spec.error_503),
                ("429", spec.error_429),
                ("reset", spec.reset),
                ("504", spec.error_504),
            ):
                edge += share
                if roll < edge:
                    self.injected[kind] = self.injected.get(kind, 0) + 1
                    return kind
        return None

    def reset_counters(self) -> None:
        with self._lock:
            self.injected.clear()
