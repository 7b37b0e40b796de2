"""`client.callcontrol`: the Call Control REST API, its audio streams and its event stream.

`CallControl` (sync) and `AsyncCallControl` are thin I/O faces: paths and bodies come from
`paths.py`, result checks from `errors.py`, so the two read side by side. Both use only the
client's public methods (plus `_stream`/`_send_raw` for audio), so the token is the one XAPI uses.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from dataclasses import replace
from os import PathLike
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

from py3cx._exceptions import APIStatusError
from py3cx._http import ssl_verify, translate_errors
from py3cx.callcontrol.audio import (
    BYTES_PER_SECOND,
    CHUNK_BYTES,
    WavWriter,
    apaced,
    paced,
    pcm_chunks,
    read_wav,
)
from py3cx.callcontrol.errors import raise_for_result, refusal_from_status_error
from py3cx.callcontrol.models import CallControlResult, CallParticipant, DNDevice, DNInfo, ParticipantAction
from py3cx.callcontrol.paths import (
    ROOT,
    WS_PATH,
    ActionRequest,
    action_request,
    device_path,
    dn_path,
    make_call_request,
    participant_path,
    stream_path,
)
from py3cx.callcontrol.state import CallState
from py3cx.callcontrol.stream import EventStream, StreamOptions
from py3cx.callcontrol.sync_stream import SyncEventStream, ThreadedBackend

__all__ = ["AsyncCallControl", "CallControl", "websocket_ssl", "websocket_url"]

_OCTETS = {"Content-Type": "application/octet-stream"}


def websocket_url(base_url: str) -> str:
    """The event WebSocket's URL for a PBX URL. Example: `websocket_url("https://pbx:5001")`
    == `"wss://pbx:5001/callcontrol/ws"`"""
    parts = urlsplit(base_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + WS_PATH, "", ""))


def websocket_ssl(url: str, verify: bool, ca_bundle: str | None) -> ssl.SSLContext | None:
    """The TLS context for the WebSocket, with the same trust rules as the HTTP client.

    Raises ConfigError for an unreadable CA bundle. Example: `websocket_ssl("wss://pbx/x", True, None)`
    """
    if not url.startswith("wss:"):
        return None
    chosen = ssl_verify(verify, ca_bundle)
    if isinstance(chosen, ssl.SSLContext):
        return chosen
    context = ssl.create_default_context()
    if not chosen:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _options(
    base: StreamOptions | None, dns: Iterable[str] | None, overrides: dict[str, Any]
) -> StreamOptions:
    options = replace(base) if base is not None else StreamOptions()
    if dns is not None:
        options.dns = frozenset(dns)
    return replace(options, **overrides) if overrides else options


def _dn_list(data: Any) -> list[DNInfo]:
    return [DNInfo.model_validate(item) for item in (data if isinstance(data, list) else [])]


class _Backend:
    """The async client as a `StreamBackend`."""

    def __init__(self, client: Any, ws_url: str, ssl_context: ssl.SSLContext | None) -> None:
        self._client = client
        self.ws_url = ws_url
        self.ssl_context = ssl_context

    async def token(self) -> str:
        return str(await self._client.token())

    async def refresh_token(self) -> None:
        # A REST call that gets a 401 makes the client replace its token (and share it).
        await self._client.get(ROOT)

    async def get(self, path: str) -> Any:
        return await self._client.get(path)


class CallControl:
    """The Call Control API over a sync `py3cx.Client`; `client.callcontrol` creates it.

    `state` is the call-state cache that `events()` keeps current.
    Example: `client.callcontrol.make_call("100", "+4930123456")`
    """

    def __init__(self, client: Any) -> None:
        self._client = client
        self.state = CallState()

    # -- reading -------------------------------------------------------------------------------

    def dns(self) -> list[DNInfo]:
        """Every DN this API client can see, with devices and participants (`GET /callcontrol`).

        Raises APIStatusError (403 when the client is not a Call Control client).
        Example: `[d.dn for d in client.callcontrol.dns()]`
        """
        return _dn_list(self._client.get(ROOT))

    def dn(self, dn: str) -> DNInfo:
        """One DN (`GET /callcontrol/{dn}`). Raises NotFoundError. Example: `callcontrol.dn("100")`"""
        return DNInfo.model_validate(self._client.get(dn_path(dn)))

    def devices(self, dn: str) -> list[DNDevice]:
        """The devices of a DN. Raises APIStatusError. Example: `callcontrol.devices("100")`"""
        return [DNDevice.model_validate(d) for d in self._client.get(device_path(dn)) or []]

    def device(self, dn: str, device_id: str) -> DNDevice:
        """One device by its SIP URI. Raises NotFoundError. Example: `cc.device("100", "sip:1@pbx")`"""
        return DNDevice.model_validate(self._client.get(device_path(dn, device_id)))

    def participants(self, dn: str) -> list[CallParticipant]:
        """The current participants of a DN. Example: `callcontrol.participants("800")`"""
        return [CallParticipant.model_validate(p) for p in self._client.get(participant_path(dn)) or []]

    def participant(self, dn: str, participant_id: int) -> CallParticipant:
        """One participant. Raises NotFoundError once gone. Example: `callcontrol.participant("800", 7)`"""
        return CallParticipant.model_validate(self._client.get(participant_path(dn, participant_id)))

    # -- acting --------------------------------------------------------------------------------

    def _post(self, request: ActionRequest) -> CallControlResult:
        try:
            data = self._client.post(request.path, request.body)
        except APIStatusError as exc:
            refusal = refusal_from_status_error(exc)
            if refusal is not None:
                raise refusal from exc
            raise
        return raise_for_result(data, method="POST", path=request.path)

    def make_call(
        self,
        dn: str,
        destination: str,
        *,
        device_id: str | None = None,
        timeout: int | None = None,
        attached_data: Any = None,
    ) -> CallControlResult:
        """Call `destination` from a DN, or from one of its devices (a SIP URI).

        Raises CallControlError (carrying `reasontext`) when the PBX refuses, APIStatusError.
        Example: `callcontrol.make_call("100", "+4930123456", device_id="sip:100@10.0.0.5")`
        """
        request = make_call_request(
            dn, destination, device_id=device_id, timeout=timeout, attached_data=attached_data
        )
        return self._post(request)

    def control(
        self,
        dn: str,
        participant_id: int,
        action: ParticipantAction | str,
        *,
        destination: str | None = None,
        reason: str | None = None,
        timeout: int | None = None,
        attached_data: Any = None,
    ) -> CallControlResult:
        """Any participant action: drop, answer, divert, routeto, transferto, attach_participant_data.

        Raises ValueError for an unknown action, CallControlError when refused.
        Example: `callcontrol.control("800", 7, "routeto", destination="101")`
        """
        request = action_request(
            dn,
            participant_id,
            action,
            destination=destination,
            reason=reason,
            timeout=timeout,
            attached_data=attached_data,
        )
        return self._post(request)

    def drop(self, dn: str, participant_id: int) -> CallControlResult:
        """Hang up a participant. Raises CallControlError. Example: `callcontrol.drop("100", 7)`"""
        return self.control(dn, participant_id, ParticipantAction.DROP)

    def answer(self, dn: str, participant_id: int) -> CallControlResult:
        """Answer a ringing participant. Raises CallControlError. Example: `callcontrol.answer("100", 7)`"""
        return self.control(dn, participant_id, ParticipantAction.ANSWER)

    def divert(
        self, dn: str, participant_id: int, destination: str, *, reason: str | None = None
    ) -> CallControlResult:
        """Send a ringing call elsewhere. Raises CallControlError. Example: `cc.divert("100", 7, "101")`"""
        return self.control(
            dn, participant_id, ParticipantAction.DIVERT, destination=destination, reason=reason
        )

    def route_to(
        self,
        dn: str,
        participant_id: int,
        destination: str,
        *,
        timeout: int | None = None,
        attached_data: Any = None,
    ) -> CallControlResult:
        """Ring a destination for a route point's call (the route point keeps it until answered).

        Raises CallControlError. Example: `callcontrol.route_to("800", 7, "101", timeout=20)`
        """
        return self.control(
            dn,
            participant_id,
            ParticipantAction.ROUTE_TO,
            destination=destination,
            timeout=timeout,
            attached_data=attached_data,
        )

    def transfer_to(self, dn: str, participant_id: int, destination: str) -> CallControlResult:
        """Blind-transfer a connected call. Raises CallControlError. Example: `cc.transfer_to("1", 7, "2")`"""
        return self.control(dn, participant_id, ParticipantAction.TRANSFER_TO, destination=destination)

    def attach_participant_data(
        self, dn: str, participant_id: int, data: dict[str, Any]
    ) -> CallControlResult:
        """Attach key/value data to a participant. Raises CallControlError.

        Example: `callcontrol.attach_participant_data("800", 7, {"crm": "42"})`
        """
        return self.control(dn, participant_id, ParticipantAction.ATTACH_DATA, attached_data=data)

    # -- audio ---------------------------------------------------------------------------------

    def receive_audio(
        self, dn: str, participant_id: int, *, chunk_size: int = CHUNK_BYTES
    ) -> Iterator[bytes]:
        """The participant's audio (8 kHz 16-bit mono PCM) as it arrives, until the leg ends.

        Raises APIStatusError (NotFoundError when the participant is gone).
        Example: `for chunk in callcontrol.receive_audio("800", 7): ...`
        """
        path = stream_path(dn, participant_id)
        with self._client._stream("GET", path) as response, translate_errors("GET", path):
            yield from response.iter_bytes(chunk_size)

    def send_audio(self, dn: str, participant_id: int, audio: Iterable[bytes]) -> int:
        """Play PCM to a participant (a chunked upload); returns the bytes sent. Pace it with `paced()`.

        Raises APIStatusError, APIConnectionError. Example: `callcontrol.send_audio("800", 7, paced(chunks))`
        """
        sent = 0

        def counted() -> Iterator[bytes]:
            nonlocal sent
            for chunk in audio:
                sent += len(chunk)
                yield chunk

        response = self._client._send_raw(
            "POST", stream_path(dn, participant_id), content=counted(), headers=_OCTETS
        )
        response.close()
        return sent

    def play_wav(
        self, dn: str, participant_id: int, path: str | PathLike[str], *, realtime: bool = True
    ) -> float:
        """Play a WAV file (8 kHz 16-bit mono) to a participant; returns its length in seconds.

        Raises ConfigError for another format (with the ffmpeg line to convert it), APIStatusError.
        Example: `callcontrol.play_wav("800", 7, "welcome.wav")`
        """
        chunks = pcm_chunks(read_wav(path))
        return self.send_audio(dn, participant_id, paced(chunks) if realtime else chunks) / BYTES_PER_SECOND

    def record_wav(
        self, dn: str, participant_id: int, path: str | PathLike[str], *, max_seconds: float | None = None
    ) -> float:
        """Record a participant's audio to a WAV file until the leg ends (or `max_seconds`).

        Returns the seconds recorded. Raises APIStatusError.
        Example: `callcontrol.record_wav("800", 7, "call.wav")`
        """
        limit = None if max_seconds is None else int(max_seconds * BYTES_PER_SECOND)
        with WavWriter(path) as out:
            stream = self.receive_audio(dn, participant_id)
            try:
                for chunk in stream:
                    out.write(chunk if limit is None else chunk[: max(0, limit - out.bytes)])
                    if limit is not None and out.bytes >= limit:
                        break
            finally:
                cast(Any, stream).close()
            return out.seconds

    # -- events --------------------------------------------------------------------------------

    def events(
        self,
        *,
        dns: Iterable[str] | None = None,
        options: StreamOptions | None = None,
        state: CallState | None = None,
        **overrides: Any,
    ) -> SyncEventStream:
        """A blocking iterator of typed events that keeps `state` (default `self.state`) current.

        `dns` limits it to some DNs; `overrides` set `StreamOptions` fields (`ping_interval=...`).
        Raises (while iterating) the stream's fatal errors. Example:
            with client.callcontrol.events() as events:
                for event in events: print(event.kind)
        """
        url = websocket_url(self._client.url)
        backend = ThreadedBackend(
            self._client,
            url,
            websocket_ssl(
                url, getattr(self._client, "verify", True), getattr(self._client, "ca_bundle", None)
            ),
        )
        return SyncEventStream(backend, state or self.state, _options(options, dns, overrides))


class AsyncCallControl:
    """The Call Control API over a `py3cx.AsyncClient`; `client.callcontrol` creates it.

    Example: `await client.callcontrol.make_call("100", "+4930123456")`
    """

    def __init__(self, client: Any) -> None:
        self._client = client
        self.state = CallState()

    async def dns(self) -> list[DNInfo]:
        """Async `CallControl.dns`. Example: `await callcontrol.dns()`"""
        return _dn_list(await self._client.get(ROOT))

    async def dn(self, dn: str) -> DNInfo:
        """Async `CallControl.dn`. Example: `await callcontrol.dn("100")`"""
        return DNInfo.model_validate(await self._client.get(dn_path(dn)))

    async def devices(self, dn: str) -> list[DNDevice]:
        """Async `CallControl.devices`. Example: `await callcontrol.devices("100")`"""
        return [DNDevice.model_validate(d) for d in await self._client.get(device_path(dn)) or []]

    async def device(self, dn: str, device_id: str) -> DNDevice:
        """Async `CallControl.device`. Example: `await callcontrol.device("100", "sip:100@pbx")`"""
        return DNDevice.model_validate(await self._client.get(device_path(dn, device_id)))

    async def participants(self, dn: str) -> list[CallParticipant]:
        """Async `CallControl.participants`. Example: `await callcontrol.participants("800")`"""
        return [CallParticipant.model_validate(p) for p in await self._client.get(participant_path(dn)) or []]

    async def participant(self, dn: str, participant_id: int) -> CallParticipant:
        """Async `CallControl.participant`. Example: `await callcontrol.participant("800", 7)`"""
        return CallParticipant.model_validate(await self._client.get(participant_path(dn, participant_id)))

    async def _post(self, request: ActionRequest) -> CallControlResult:
        try:
            data = await self._client.post(request.path, request.body)
        except APIStatusError as exc:
            refusal = refusal_from_status_error(exc)
            if refusal is not None:
                raise refusal from exc
            raise
        return raise_for_result(data, method="POST", path=request.path)

    async def make_call(
        self,
        dn: str,
        destination: str,
        *,
        device_id: str | None = None,
        timeout: int | None = None,
        attached_data: Any = None,
    ) -> CallControlResult:
        """Async `CallControl.make_call`. Example: `await callcontrol.make_call("100", "101")`"""
        request = make_call_request(
            dn, destination, device_id=device_id, timeout=timeout, attached_data=attached_data
        )
        return await self._post(request)

    async def control(
        self,
        dn: str,
        participant_id: int,
        action: ParticipantAction | str,
        *,
        destination: str | None = None,
        reason: str | None = None,
        timeout: int | None = None,
        attached_data: Any = None,
    ) -> CallControlResult:
        """Async `CallControl.control`. Example: `await callcontrol.control("800", 7, "drop")`"""
        request = action_request(
            dn,
            participant_id,
            action,
            destination=destination,
            reason=reason,
            timeout=timeout,
            attached_data=attached_data,
        )
        return await self._post(request)

    async def drop(self, dn: str, participant_id: int) -> CallControlResult:
        """Async `CallControl.drop`. Example: `await callcontrol.drop("100", 7)`"""
        return await self.control(dn, participant_id, ParticipantAction.DROP)

    async def answer(self, dn: str, participant_id: int) -> CallControlResult:
        """Async `CallControl.answer`. Example: `await callcontrol.answer("100", 7)`"""
        return await self.control(dn, participant_id, ParticipantAction.ANSWER)

    async def divert(
        self, dn: str, participant_id: int, destination: str, *, reason: str | None = None
    ) -> CallControlResult:
        """Async `CallControl.divert`. Example: `await callcontrol.divert("100", 7, "101")`"""
        return await self.control(
            dn, participant_id, ParticipantAction.DIVERT, destination=destination, reason=reason
        )

    async def route_to(
        self,
        dn: str,
        participant_id: int,
        destination: str,
        *,
        timeout: int | None = None,
        attached_data: Any = None,
    ) -> CallControlResult:
        """Async `CallControl.route_to`. Example: `await callcontrol.route_to("800", 7, "101")`"""
        return await self.control(
            dn,
            participant_id,
            ParticipantAction.ROUTE_TO,
            destination=destination,
            timeout=timeout,
            attached_data=attached_data,
        )

    async def transfer_to(self, dn: str, participant_id: int, destination: str) -> CallControlResult:
        """Async `CallControl.transfer_to`. Example: `await callcontrol.transfer_to("100", 7, "102")`"""
        return await self.control(dn, participant_id, ParticipantAction.TRANSFER_TO, destination=destination)

    async def attach_participant_data(
        self, dn: str, participant_id: int, data: dict[str, Any]
    ) -> CallControlResult:
        """Async `CallControl.attach_participant_data`. Example: `await cc.attach_participant_data(...)`"""
        return await self.control(dn, participant_id, ParticipantAction.ATTACH_DATA, attached_data=data)

    async def receive_audio(
        self, dn: str, participant_id: int, *, chunk_size: int = CHUNK_BYTES
    ) -> AsyncIterator[bytes]:
        """Async `CallControl.receive_audio`. Example: `async for chunk in cc.receive_audio("800", 7): ...`"""
        path = stream_path(dn, participant_id)
        async with self._client._stream("GET", path) as response:
            with translate_errors("GET", path):
                async for chunk in response.aiter_bytes(chunk_size):
                    yield chunk

    async def send_audio(
        self, dn: str, participant_id: int, audio: Iterable[bytes] | AsyncIterable[bytes]
    ) -> int:
        """Async `CallControl.send_audio`. Example: `await cc.send_audio("800", 7, apaced(chunks))`"""
        sent = 0

        async def counted() -> AsyncIterator[bytes]:
            nonlocal sent
            if isinstance(audio, AsyncIterable):
                async for chunk in audio:
                    sent += len(chunk)
                    yield chunk
            else:
                for chunk in audio:
                    sent += len(chunk)
                    yield chunk

        # httpx2's async client streams an async iterator as a chunked body
        body = cast(Any, counted())
        response = await self._client._send_raw(
            "POST", stream_path(dn, participant_id), content=body, headers=_OCTETS
        )
        await response.aclose()
        return sent

    async def play_wav(
        self, dn: str, participant_id: int, path: str | PathLike[str], *, realtime: bool = True
    ) -> float:
        """Async `CallControl.play_wav`. Example: `await callcontrol.play_wav("800", 7, "welcome.wav")`"""
        chunks = pcm_chunks(read_wav(path))
        sent = await self.send_audio(dn, participant_id, apaced(chunks) if realtime else chunks)
        return sent / BYTES_PER_SECOND

    async def record_wav(
        self, dn: str, participant_id: int, path: str | PathLike[str], *, max_seconds: float | None = None
    ) -> float:
        """Async `CallControl.record_wav`. Example: `await callcontrol.record_wav("800", 7, "call.wav")`"""
        limit = None if max_seconds is None else int(max_seconds * BYTES_PER_SECOND)
        with WavWriter(path) as out:
            stream = self.receive_audio(dn, participant_id)
            try:
                async for chunk in stream:
                    out.write(chunk if limit is None else chunk[: max(0, limit - out.bytes)])
                    if limit is not None and out.bytes >= limit:
                        break
            finally:
                await cast(Any, stream).aclose()
            return out.seconds

    def events(
        self,
        *,
        dns: Iterable[str] | None = None,
        options: StreamOptions | None = None,
        state: CallState | None = None,
        **overrides: Any,
    ) -> EventStream:
        """An async iterator of typed events that keeps `state` (default `self.state`) current.

        Raises (while iterating) the stream's fatal errors. Example:
            async for event in client.callcontrol.events(dns=["800"]): ...
        """
        url = websocket_url(self._client.url)
        backend = _Backend(
            self._client,
            url,
            websocket_ssl(
                url, getattr(self._client, "verify", True), getattr(self._client, "ca_bundle", None)
            ),
        )
        return EventStream(backend, state or self.state, _options(options, dns, overrides))
