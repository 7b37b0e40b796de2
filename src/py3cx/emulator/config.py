"""Configuration of the PBX emulator: API clients, web users, faults and the data anchor.

Everything here is plain data; nothing starts a server or touches the disk.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import ClassVar, Literal

Role = Literal["SystemOwner", "SystemAdmin"]
SpecVersion = Literal["20.0.10", "20.0.4"]

_ROLES: tuple[Role, ...] = ("SystemOwner", "SystemAdmin")
_DEFAULT_BUILDS: dict[str, str] = {"20.0.10": "20.0.10.817", "20.0.4": "20.0.4.376"}


def derived_secret(seed: int, name: str) -> str:
    """Return a stable secret for a default credential, derived from the seed.

    The same seed always gives the same secret, so a demo can print it once and tests can
    rebuild it. Example: ``derived_secret(1, "owner")``.
    """
    digest = hashlib.sha256(f"py3cx-emulator:{seed}:{name}".encode()).hexdigest()
    return digest[:24]


@dataclass
class ApiClient:
    """An XAPI client as created in Admin > Integrations > API: its id, secret and role.

    The secret never appears in ``repr``. Example: ``ApiClient("owner", "s3cret", "SystemOwner")``.
    """

    client_id: str
    secret: str = field(repr=False)
    role: Role = "SystemOwner"

    @classmethod
    def parse(cls, text: str) -> ApiClient:
        """Parse ``ID:SECRET:ROLE`` (the CLI's ``--client`` option); ROLE defaults to SystemOwner.

        Raises ValueError with a message that never contains the secret.
        Example: ``ApiClient.parse("crm:abc123:SystemAdmin")``.
        """
        parts = text.split(":")
        if len(parts) == 2:
            parts.append("SystemOwner")
        if len(parts) != 3 or not parts[0] or not parts[1]:
            raise ValueError("expected ID:SECRET:ROLE, e.g. crm:secret:SystemOwner (secret not shown)")
        client_id, secret, role = parts
        if role not in _ROLES:
            raise ValueError(
                f"unknown role {role!r} for client {client_id!r}: use SystemOwner or SystemAdmin"
            )
        return cls(client_id, secret, role)


@dataclass
class WebUser:
    """A user who logs in through ``/webclient/api/Login/GetAccessToken`` with a password.

    Example: ``WebUser("admin@example.com", "pa55word", "SystemOwner")``.
    """

    username: str
    password: str = field(repr=False)
    role: str = "SystemOwner"


def default_clients(seed: int = 1) -> list[ApiClient]:
    """The API clients an emulator accepts when none are configured: ``owner``, ``admin``, and
    ``8000``, a Call Control route point (a client whose id is a DN number).

    Example: ``default_clients(7)[0].client_id == "owner"``.
    """
    return [
        ApiClient("owner", derived_secret(seed, "owner"), "SystemOwner"),
        ApiClient("admin", derived_secret(seed, "admin"), "SystemAdmin"),
        ApiClient("8000", derived_secret(seed, "callcontrol"), "SystemOwner"),
    ]


def default_users(seed: int = 1) -> list[WebUser]:
    """The web user an emulator accepts when none is configured.

    Example: ``default_users()[0].username == "admin@pbx.example.com"``.
    """
    return [WebUser("admin@pbx.example.com", derived_secret(seed, "webuser"), "SystemOwner")]


@dataclass(frozen=True)
class FaultSpec:
    """Shares of ``/xapi/v1`` requests that fail on purpose (each between 0 and 1, summing to <= 1).

    ``reset`` drops the connection without any response.
    Example: ``FaultSpec.parse("500=0.05,429=0.1")``.
    """

    error_500: float = 0.0
    error_503: float = 0.0
    error_429: float = 0.0
    reset: float = 0.0
    error_504: float = 0.0  # a gateway time-out, as a PBX answers a query it gave up on
    ws_drop: float = 0.0  # seconds: drop every Call Control WebSocket this often (0: never)
    event_delay: float = 0.0  # seconds between a Call Control event and its delivery

    _KEYS = ("500", "503", "429", "reset", "504")
    _SECONDS: ClassVar[dict[str, str]] = {"ws-drop": "ws_drop", "event-delay": "event_delay"}

    @classmethod
    def parse(cls, text: str) -> FaultSpec:
        """Parse ``"500=0.05,503=0.05,429=0.05,reset=0.02"`` (empty text means no faults).

        Raises ValueError naming the bad part. Example: ``FaultSpec.parse("reset=0.5").reset == 0.5``.
        """
        shares: dict[str, float] = {}
        seconds: dict[str, float] = {}
        for raw in text.split(","):
            part = raw.strip()
            if not part:
                continue
            name, sep, value = part.partition("=")
            name = name.strip()
            if sep and name in cls._SECONDS:
                try:
                    seconds[cls._SECONDS[name]] = float(value)
                except ValueError:
                    raise ValueError(
                        f"bad fault {part!r}: {value.strip()!r} is not a number of seconds"
                    ) from None
                if seconds[cls._SECONDS[name]] < 0:
                    raise ValueError(f"bad fault {part!r}: seconds cannot be negative")
                continue
            if not sep or name not in cls._KEYS:
                raise ValueError(
                    f"bad fault {part!r}: expected KIND=SHARE with KIND one of 500, 503, 429, 504, reset, "
                    "or ws-drop=SECONDS, event-delay=SECONDS"
                )
            try:
                share = float(value)
            except ValueError:
                raise ValueError(f"bad fault {part!r}: {value.strip()!r} is not a number") from None
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"bad fault {part!r}: the share must be between 0 and 1")
            if name in shares:
                raise ValueError(f"fault {name!r} given twice")
            shares[name] = share
        spec = cls(
            error_500=shares.get("500", 0.0),
            error_503=shares.get("503", 0.0),
            error_429=shares.get("429", 0.0),
            reset=shares.get("reset", 0.0),
            error_504=shares.get("504", 0.0),
            **seconds,
        )
        if spec.total > 1.0 + 1e-9:
            raise ValueError(f"fault shares add up to {spec.total:.3f}, more than 1")
        return spec

    @property
    def total(self) -> float:
        """The share of requests that fail in some way."""
        return self.error_500 + self.error_503 + self.error_429 + self.reset + self.error_504

    def __str__(self) -> str:
        parts = [
            f"{name}={share:g}"
            for name, share in zip(
                self._KEYS,
                (self.error_500, self.error_503, self.error_429, self.reset, self.error_504),
                strict=True,
            )
            if share
        ]
        parts += [
            f"{name}={getattr(self, attr):g}" for name, attr in self._SECONDS.items() if getattr(self, attr)
        ]
        return ",".join(parts) or "none"


def _start_of_current_hour() -> datetime:
    return datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)


@dataclass
class EmulatorConfig:
    """Everything that shapes one emulated PBX. Same ``seed`` and ``now`` give the same data.

    ``token_ttl`` is in seconds; ``expires_in_unit`` says how ``expires_in`` is reported
    (``"minutes"`` mimics builds before 20.0.9). ``db_path=None`` keeps the SQLite file in a
    temporary place removed on close; a given ``db_path`` is replaced at start (a fresh PBX,
    same seed, same data) and kept afterwards. ``max_range_days`` is for reports (504 above it).
    ``max_page_size`` caps the rows of one answer whatever ``$top`` asks (a PBX that caps its page
    size: a guess, no PBX is known to do it); ``ignore_orderby`` names the entity sets (or the sets
    of report functions) whose ``$orderby`` is ignored, rows coming in key order (one field report
    says a PBX does this on ``CallHistoryView``).
    Example: ``EmulatorConfig(seed=3, calls=500, token_ttl=60)``.
    """

    seed: int = 1
    calls: int = 2000
    clients: list[ApiClient] = field(default_factory=list)
    users: list[WebUser] = field(default_factory=list)
    token_ttl: float = 3600.0
    expires_in_unit: Literal["seconds", "minutes"] = "seconds"
    faults: FaultSpec = field(default_factory=FaultSpec)
    db_path: str | None = None
    spec_version: SpecVersion = "20.0.10"
    build: str = ""
    max_range_days: int | None = None
    max_page_size: int | None = None
    ignore_orderby: tuple[str, ...] = ()
    now: datetime | None = None
    call_rate: float = 0.0  # new simulated calls per minute (Call Control and ActiveCalls)
    # the edition, and how a PBX without API rights refuses API clients (a guess: see licence.py)
    licence: Literal["ENT", "PRO", "expired"] = "ENT"
    licence_refusal: Literal["forbidden", "token"] = "forbidden"

    def __post_init__(self) -> None:
        if not self.clients:
            self.clients = default_clients(self.seed)
        if not self.users:
            self.users = default_users(self.seed)
        if not self.build:
            self.build = _DEFAULT_BUILDS[self.spec_version]
        if self.now is None:
            self.now = _start_of_current_hour()
        elif self.now.tzinfo is None:
            self.now = self.now.replace(tzinfo=timezone.utc)
        else:
            self.now = self.now.astimezone(timezone.utc)
        if self.calls < 0:
            raise ValueError("calls must be >= 0")
        if self.token_ttl <= 0:
            raise ValueError("token_ttl must be > 0 seconds")
        if self.max_page_size is not None and self.max_page_size < 1:
            raise ValueError("max_page_size must be >= 1")
        self.ignore_orderby = tuple(self.ignore_orderby)
        if self.licence not in ("ENT", "PRO", "expired"):
            raise ValueError(f"licence must be ENT, PRO or expired, not {self.licence!r}")
        if self.licence_refusal not in ("forbidden", "token"):
            raise ValueError(f"licence_refusal must be forbidden or token, not {self.licence_refusal!r}")

    @property
    def anchor(self) -> datetime:
        """The resolved ``now`` (UTC, aware): the synthetic data ends here."""
        assert self.now is not None  # set in __post_init__
        return self.now
