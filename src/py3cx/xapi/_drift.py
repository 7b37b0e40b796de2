"""Version drift: calling the operations whose form changed between 3CX builds the right way.

The typed methods follow the newest spec (20.0.10). Older PBXs differ in a few places that the
generator finds by comparing the two specs (``_generated/drift.py``):

- **changed forms**: users by number are ``Users(Number='100')`` on 20.0.10 and
  ``Users/Pbx.GetByNumber(number='100')`` on 20.0.4; ``GetCallQualityReport`` took
  ``call_id:int`` and now takes ``cdrId:string``. The generated method sends the old form to
  an old PBX.
- **added operations** (``AISettings``, ``Holidays``...): calling one on a PBX that lacks it
  raises :class:`UnsupportedByPbxError` with the build, instead of a bare 404.
- **changed action bodies** (``Users/Pbx.MakeCall`` gained ``testCall``): a field the old
  build does not know is refused before anything is sent, rather than silently dropped.

The PBX's build is learnt once per client, on the first call that needs it, from
``Defs/Pbx.GetSystemParameters()`` (its ``Version``, e.g. ``20.0.4.376``). For a build between
the two known specs, or when the version cannot be read, the spec the PBX serves at
``/xapi/v1/swagger.yaml`` decides which paths exist. When neither can be read the newest form is
used. ``client.xapi.assume_build("20.0.4")`` skips the detection.
"""

from __future__ import annotations

import asyncio
import io
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from py3cx._exceptions import APIError, ConfigError
from py3cx.odata import literal
from py3cx.xapi._generated import drift as _tables

if TYPE_CHECKING:
    from py3cx.xapi._resource import AsyncXapiClient, XapiClient

__all__ = [
    "AsyncVersionGuard",
    "PbxProfile",
    "UnsupportedByPbxError",
    "VersionGuard",
    "as_legacy_argument",
    "choose_form",
    "parse_build",
    "served_paths",
]

Form = Literal["current", "legacy", "unsupported"]
Build = tuple[int, ...]

_BUILD_RE = re.compile(r"(\d+)\.(\d+)\.(\d+)(?:\.(\d+))?")
# A path key of the OpenAPI file: two spaces, the path (maybe quoted), a colon.
_PATH_KEY_RE = re.compile(r"""^ {2}(['"]?)(/[^\n]*?)\1:\s*$""", re.MULTILINE)
_SYSTEM_PARAMETERS = "Defs/Pbx.GetSystemParameters()"
_SERVED_SPEC = "swagger.yaml"


class UnsupportedByPbxError(ConfigError):
    """The operation (or an argument of it) does not exist on the PBX's build.

    Example: ``client.xapi.holidays.list()`` on a 20.0.4 PBX raises this with a hint.
    """


def parse_build(text: object) -> Build | None:
    """The numbers of a 3CX version text: ``"20.0.4.376"`` -> ``(20, 0, 4, 376)``; else ``None``.

    Example: ``parse_build("Version 20.0.10.817") == (20, 0, 10, 817)``.
    """
    if not isinstance(text, str):
        return None
    match = _BUILD_RE.search(text)
    if match is None:
        return None
    return tuple(int(part) for part in match.groups() if part is not None)


def served_paths(spec_text: str) -> frozenset[str]:
    """The path templates an OpenAPI YAML file declares, read without parsing the whole YAML.

    Example: ``"/Users(Number={Number})" in served_paths(text)``.
    """
    return frozenset(match.group(2) for match in _PATH_KEY_RE.finditer(spec_text))


@dataclass(frozen=True)
class PbxProfile:
    """What is known about one PBX's build: its version and, when read, the paths it serves."""

    build: Build | None
    version_text: str | None
    paths: frozenset[str] | None
    source: str  # "system parameters", "served spec", "assumed", "unknown"

    def describe(self) -> str:
        """``20.0.4.376`` or ``an unknown build``, for messages."""
        if self.version_text:
            return self.version_text
        if self.build:
            return ".".join(str(part) for part in self.build)
        return "an unknown build"


def _era(build: Build | None) -> Literal["current", "legacy", "between", "unknown"]:
    if build is None:
        return "unknown"
    if build[:3] >= _tables.CURRENT_BUILD:
        return "current"
    if build[:3] <= _tables.LEGACY_BUILD:
        return "legacy"
    return "between"


def needs_served_paths(build: Build | None) -> bool:
    """True when the build alone cannot say which forms the PBX has (between the known specs, or
    unknown). Example: ``needs_served_paths((20, 0, 7)) is True``.
    """
    return _era(build) in ("between", "unknown")


def choose_form(operation_id: str, profile: PbxProfile) -> Form:
    """Which form of ``operation_id`` to send to a PBX with ``profile``.

    ``current`` for the newest form, ``legacy`` for the 20.0.4 form, ``unsupported`` when the
    PBX does not have the operation. Operations without drift are always ``current``.
    Example: ``choose_form("GetUserByNumber", PbxProfile((20, 0, 4), None, None, "assumed"))``.
    """
    current_path = _tables.CURRENT_PATHS.get(operation_id)
    if current_path is None:
        return "current"
    legacy_path = _tables.LEGACY_PATHS.get(operation_id)
    era = _era(profile.build)
    if profile.paths is not None and era != "current":
        if current_path in profile.paths:
            # Same path; a changed body is judged by the build (the served paths cannot tell).
            if operation_id in _tables.LEGACY_BODY_FIELDS and era == "legacy":
                return "legacy"
            return "current"
        if legacy_path is not None and legacy_path in profile.paths:
            return "legacy"
        return "unsupported"
    if era == "legacy":
        if operation_id in _tables.ADDED_SINCE_LEGACY:
            return "unsupported"
        return "legacy"
    return "current"


def unsupported(operation_id: str, profile: PbxProfile) -> UnsupportedByPbxError:
    """The error for an operation this PBX does not have."""
    return UnsupportedByPbxError(
        f"{operation_id} ({_tables.CURRENT_PATHS.get(operation_id, '?')}) is not available on this PBX "
        f"(3CX {profile.describe()}, learnt from {profile.source})",
        hint=f"it needs a newer 3CX build (it is in the {'.'.join(map(str, _tables.CURRENT_BUILD))} spec); "
        "update the PBX, or use client.get() with a path this build has",
    )


def check_body(operation_id: str, body: Mapping[str, Any], form: Form, profile: PbxProfile) -> None:
    """Refuse body fields an old build does not know (they would be ignored, or worse).

    Raises UnsupportedByPbxError naming the fields.
    Example: ``check_body("MakeCall", {"destination": "100"}, "legacy", profile)``.
    """
    known = _tables.LEGACY_BODY_FIELDS.get(operation_id)
    if form != "legacy" or known is None:
        return
    extra = sorted(set(body) - known)
    if extra:
        raise UnsupportedByPbxError(
            f"{operation_id}: {', '.join(extra)} not available on this PBX (3CX {profile.describe()})",
            hint=f"this build takes only {', '.join(sorted(known)) or 'no fields'}; leave the others out",
        )


def as_legacy_argument(value: object, edm_type: str, name: str, legacy_name: str) -> object:
    """Check that ``value``, given as the newer argument ``name``, fits the older build's
    argument ``legacy_name`` of type ``edm_type``; return it unchanged.

    Raises UnsupportedByPbxError when it does not fit (a text cdrId for an int call_id).
    Example: ``as_legacy_argument("42", "Edm.Int32", "cdrId", "call_id") == "42"``.
    """
    try:
        literal(value, edm_type)
    except (TypeError, ValueError):
        raise UnsupportedByPbxError(
            f"this PBX takes {legacy_name} ({edm_type}) where newer builds take {name}: {value!r} does not fit",
            hint=f"give the {legacy_name} this build uses (for example from its own call log)",
        ) from None
    return value


def _profile_from(parameters: Any, paths: frozenset[str] | None) -> PbxProfile:
    version = parameters.get("Version") if isinstance(parameters, Mapping) else None
    version_text = version if isinstance(version, str) and version else None
    build = parse_build(version_text)
    if build is not None:
        return PbxProfile(build, version_text, paths, "Defs/Pbx.GetSystemParameters()")
    if paths is not None:
        return PbxProfile(None, None, paths, "the spec it serves (/xapi/v1/swagger.yaml)")
    return PbxProfile(None, None, None, "nothing (assumed the newest build)")


def assumed_profile(build: str) -> PbxProfile:
    """A profile for a build given by the caller (``"20.0.4"``). Raises ValueError if unreadable.

    Example: ``assumed_profile("20.0.4.376").build == (20, 0, 4, 376)``.
    """
    parsed = parse_build(build)
    if parsed is None:
        raise ValueError(f"not a 3CX version such as '20.0.4.376': {build!r}")
    return PbxProfile(parsed, build, None, "the caller (assume_build)")


class VersionGuard:
    """Per-client cache of the PBX's build, and the drift decisions for the sync resources."""

    def __init__(self, client: XapiClient) -> None:
        self._client = client
        self._profile: PbxProfile | None = None
        self._lock = threading.Lock()

    def assume(self, build: str) -> None:
        """Use ``build`` instead of asking the PBX. Raises ValueError. Example: ``guard.assume("20.0.4")``"""
        self._profile = assumed_profile(build)

    def profile(self) -> PbxProfile:
        """The PBX's profile, learnt on first use (one or two requests), then cached."""
        with self._lock:
            if self._profile is None:
                self._profile = self._detect()
            return self._profile

    def _detect(self) -> PbxProfile:
        try:
            parameters = self._client.get(_SYSTEM_PARAMETERS)
        except APIError:
            parameters = None
        version = parameters.get("Version") if isinstance(parameters, Mapping) else None
        paths = None
        if needs_served_paths(parse_build(version)):
            buffer = io.BytesIO()
            try:
                self._client.download(_SERVED_SPEC, buffer)
                paths = served_paths(buffer.getvalue().decode("utf-8", "replace")) or None
            except APIError:
                paths = None
        return _profile_from(parameters, paths)

    def form(self, operation_id: str) -> Form:
        """``current`` or ``legacy`` for ``operation_id``. Raises UnsupportedByPbxError."""
        profile = self.profile()
        chosen = choose_form(operation_id, profile)
        if chosen == "unsupported":
            raise unsupported(operation_id, profile)
        return chosen

    def legacy(self, operation_id: str) -> bool:
        """True when the PBX needs the 20.0.4 form. Raises UnsupportedByPbxError."""
        return self.form(operation_id) == "legacy"

    def require(self, operation_id: str) -> None:
        """Raise UnsupportedByPbxError when the PBX lacks the operation."""
        self.form(operation_id)

    def check_body(self, operation_id: str, body: Mapping[str, Any]) -> None:
        """Raise UnsupportedByPbxError for body fields the PBX's build does not know."""
        check_body(operation_id, body, self.form(operation_id), self.profile())


class AsyncVersionGuard:
    """The async twin of :class:`VersionGuard`."""

    def __init__(self, client: AsyncXapiClient) -> None:
        self._client = client
        self._profile: PbxProfile | None = None
        self._lock: asyncio.Lock | None = None

    def assume(self, build: str) -> None:
        """Use ``build`` instead of asking the PBX. Raises ValueError. Example: ``guard.assume("20.0.4")``"""
        self._profile = assumed_profile(build)

    async def profile(self) -> PbxProfile:
        """The PBX's profile, learnt on first use, then cached."""
        if self._profile is not None:
            return self._profile
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._profile is None:
                self._profile = await self._detect()
            return self._profile

    async def _detect(self) -> PbxProfile:
        try:
            parameters = await self._client.get(_SYSTEM_PARAMETERS)
        except APIError:
            parameters = None
        version = parameters.get("Version") if isinstance(parameters, Mapping) else None
        paths = None
        if needs_served_paths(parse_build(version)):
            buffer = io.BytesIO()
            try:
                await self._client.download(_SERVED_SPEC, buffer)
                paths = served_paths(buffer.getvalue().decode("utf-8", "replace")) or None
            except APIError:
                paths = None
        return _profile_from(parameters, paths)

    async def form(self, operation_id: str) -> Form:
        """``current`` or ``legacy`` for ``operation_id``. Raises UnsupportedByPbxError."""
        profile = await self.profile()
        chosen = choose_form(operation_id, profile)
        if chosen == "unsupported":
            raise unsupported(operation_id, profile)
        return chosen

    async def legacy(self, operation_id: str) -> bool:
        """True when the PBX needs the 20.0.4 form. Raises UnsupportedByPbxError."""
        return await self.form(operation_id) == "legacy"

    async def require(self, operation_id: str) -> None:
        """Raise UnsupportedByPbxError when the PBX lacks the operation."""
        await self.form(operation_id)

    async def check_body(self, operation_id: str, body: Mapping[str, Any]) -> None:
        """Raise UnsupportedByPbxError for body fields the PBX's build does not know."""
        check_body(operation_id, body, await self.form(operation_id), await self.profile())
