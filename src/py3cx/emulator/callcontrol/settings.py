"""Settings of the emulated Call Control: traffic, timings, faults, and what route points see.

They start from the `EmulatorConfig` (read when present: `call_rate`, `ws_drop_every`,
`event_delay`, `faults.ws_drop`, `faults.event_delay`, and `callcontrol`, a dict of any field
below) and can be changed while the emulator runs through the loopback-only
`POST /_emulator/callcontrol/settings`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

__all__ = ["CallControlSettings", "parse_ws_faults"]

_TUPLE_FIELDS = ("ring_seconds", "talk_seconds", "queue_wait_seconds")


@dataclass
class CallControlSettings:
    """How the call simulator and the WebSocket behave.

    - `call_rate`: new simulated calls per minute (0: only calls the tests start);
    - `ring_seconds`, `talk_seconds`, `queue_wait_seconds`: (min, max) of the simulated timings;
    - `abandon_share`: share of queue callers who hang up before an agent answers;
    - `transfer_share`: share of answered calls that get transferred once;
    - `ws_drop_every`: close every WebSocket after this many seconds (None: never);
    - `event_delay`: seconds between an event and its delivery on the WebSocket;
    - `monitored`: route point DN → DNs it monitors (default: every extension and queue);
    - `finalstatus_style`: `"string"` (`"Success"`, as in captures) or `"int"` (`1`, official types);
    - `realtime_audio`: pace `GET .../stream` at 16 bytes per ms (tests may turn it off);
    - `stamp_events`: add `emitted_at` (monotonic seconds) to each envelope, for the benchmark;
    - `lose_every`: a fault: every Nth event is never sent (its `sequence` number is skipped);
    - `frozen`: hold every simulated call where it is (tests compare a still picture).
    """

    call_rate: float = 0.0
    ring_seconds: tuple[float, float] = (3.0, 12.0)
    talk_seconds: tuple[float, float] = (20.0, 120.0)
    queue_wait_seconds: tuple[float, float] = (2.0, 30.0)
    abandon_share: float = 0.1
    transfer_share: float = 0.05
    ws_drop_every: float | None = None
    event_delay: float = 0.0
    monitored: dict[str, list[str]] = field(default_factory=dict)
    finalstatus_style: str = "string"
    realtime_audio: bool = True
    stamp_events: bool = False
    lose_every: int = 0
    frozen: bool = False

    @classmethod
    def from_config(cls, config: Any) -> CallControlSettings:
        """Settings from an `EmulatorConfig` (unknown or missing fields keep their defaults).

        Raises ValueError for a bad value. Example: `CallControlSettings.from_config(cfg)`
        """
        settings = cls()
        values: dict[str, Any] = {}
        for name in ("call_rate", "ws_drop_every", "event_delay"):
            value = getattr(config, name, None)
            if value is not None:
                values[name] = value
        faults = getattr(config, "faults", None)
        for name, setting in (
            ("ws_drop", "ws_drop_every"),
            ("ws_drop_every", "ws_drop_every"),
            ("event_delay", "event_delay"),
        ):
            value = getattr(faults, name, None)
            if value:
                values[setting] = value
        extra = getattr(config, "callcontrol", None)
        if isinstance(extra, dict):
            values.update(extra)
        settings.update(values)
        return settings

    def update(self, values: dict[str, Any]) -> None:
        """Change settings from a JSON-like dict. Raises ValueError naming the bad key."""
        known = {f.name for f in fields(self)}
        for name, value in values.items():
            if name not in known:
                raise ValueError(f"unknown Call Control setting {name!r}; known: {', '.join(sorted(known))}")
            setattr(self, name, self._checked(name, value))

    def _checked(self, name: str, value: Any) -> Any:
        if name in _TUPLE_FIELDS:
            low, high = (float(value), float(value)) if isinstance(value, int | float) else map(float, value)
            if low < 0 or high < low:
                raise ValueError(f"{name} must be [min, max] with 0 <= min <= max")
            return (low, high)
        if name in ("call_rate", "event_delay", "abandon_share", "transfer_share"):
            number = float(value)
            if number < 0 or (name.endswith("share") and number > 1):
                raise ValueError(f"{name} is out of range: {value!r}")
            return number
        if name == "ws_drop_every":
            if value is None or value == 0:
                return None
            if float(value) <= 0:
                raise ValueError("ws_drop_every must be a positive number of seconds")
            return float(value)
        if name == "monitored":
            if not isinstance(value, dict):
                raise ValueError("monitored maps a route point DN to a list of DNs")
            return {str(k): [str(d) for d in v] for k, v in value.items()}
        if name == "lose_every":
            if int(value) < 0:
                raise ValueError("lose_every must be 0 (off) or a positive count")
            return int(value)
        if name == "finalstatus_style":
            if value not in ("string", "int"):
                raise ValueError("finalstatus_style is 'string' or 'int'")
            return value
        return bool(value)

    def to_dict(self) -> dict[str, Any]:
        """The settings as JSON-ready data."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def parse_ws_faults(text: str) -> dict[str, float]:
    """Parse the Call Control parts of a `--faults` text: `ws-drop=5` and `event-delay=0.2`.

    Other parts (the XAPI faults) are ignored here. Raises ValueError for a bad number.
    Example: `parse_ws_faults("500=0.1,ws-drop=5")` == `{"ws_drop_every": 5.0}`
    """
    found: dict[str, float] = {}
    names = {"ws-drop": "ws_drop_every", "event-delay": "event_delay"}
    for raw in text.split(","):
        name, sep, value = raw.strip().partition("=")
        if name.strip() in names:
            try:
                number = float(value)
            except ValueError:
                raise ValueError(f"bad fault {raw.strip()!r}: {value!r} is not a number") from None
            if not sep or number < 0:
                raise ValueError(f"bad fault {raw.strip()!r}: expected {name.strip()}=SECONDS")
            found[names[name.strip()]] = number
    return found
