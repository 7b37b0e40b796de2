"""The Call Control REST API, sync and async, against the emulator over HTTP (BEHAVIOUR.md §6)."""

from __future__ import annotations

import asyncio
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import py3cx
from py3cx._exceptions import NotFoundError, PermissionDeniedError
from py3cx.callcontrol import CallControlError, CallParticipant, FinalStatus
from py3cx.callcontrol.audio import BYTES_PER_SECOND, pcm_chunks
from py3cx.emulator import ApiClient

Emulator = Phones = Any  # the conftest's fixtures


@pytest.fixture
def client(pbx: Emulator, route_point: ApiClient) -> Iterator[py3cx.Client]:
    with py3cx.Client(pbx.url, route_point.client_id, route_point.secret) as c:
        yield c


def test_a_route_point_sees_itself_and_the_dns_it_monitors(client: py3cx.Client, phones: Phones) -> None:
    dns = {info.dn: info.type for info in client.callcontrol.dns()}
    assert dns["8000"] == "Wroutepoint"
    assert dns["100"] == "Wextension" and dns["0336"] == "Wqueue"
    phones.settings(monitored={"8000": ["100", "101"]})
    try:
        assert sorted(info.dn or "" for info in client.callcontrol.dns()) == ["100", "101", "8000"]
        with pytest.raises(PermissionDeniedError):
            client.callcontrol.participants("102")
    finally:
        phones.settings(monitored={"8000": sorted(d for d in dns if d != "8000")})


def test_an_api_client_that_is_not_a_route_point_is_refused(pbx: Emulator, owner_client: ApiClient) -> None:
    with (
        py3cx.Client(pbx.url, owner_client.client_id, owner_client.secret) as owner,
        pytest.raises(PermissionDeniedError) as refused,
    ):
        owner.callcontrol.dns()
    assert "route point" in str(refused.value)


def test_dn_devices_and_participants_are_typed(client: py3cx.Client, phones: Phones) -> None:
    call = phones.call("+4930123456", "101")
    info = client.callcontrol.dn("101")
    assert info.type == "Wextension"
    [ringing] = client.callcontrol.participants("101")
    assert isinstance(ringing, CallParticipant)
    assert (ringing.status, ringing.party_caller_id, ringing.callid) == (
        "Ringing",
        "+4930123456",
        call["callid"],
    )
    assert client.callcontrol.participant("101", ringing.id or 0) == ringing
    for device in client.callcontrol.devices("101"):
        assert client.callcontrol.device("101", device.device_id or "") == device
    phones.end(call["callid"])
    with pytest.raises(NotFoundError):
        client.callcontrol.participant("101", ringing.id or 0)


def test_a_route_point_holds_a_device_and_calls_from_it_as_the_campaign_example_does(
    client: py3cx.Client, pbx: Emulator, route_point: ApiClient, phones: Phones
) -> None:
    # 3CX's Campaign and IVR examples: devices[0] of the route point, then devices/{id}/makecall
    info = client.callcontrol.dn(route_point.client_id)
    assert info.type == "Wroutepoint" and info.devices, "a route point without a device: 'Devices not found'"
    device = info.devices[0]
    assert device.device_id is not None and device.device_id.startswith(f"sip:{route_point.client_id}@")
    assert client.callcontrol.devices(route_point.client_id) == info.devices
    result = client.callcontrol.make_call(route_point.client_id, "100", device_id=device.device_id)
    assert result.succeeded and result.result is not None
    assert (result.result.dn, result.result.device_id) == (route_point.client_id, device.device_id)
    assert result.result.direct_control is True
    ringing = client.callcontrol.participants("100")
    assert [p.party_dn for p in ringing] == [route_point.client_id]
    phones.end(result.result.callid)


def test_queues_have_no_devices(client: py3cx.Client) -> None:
    queues = [d for d in client.callcontrol.dns() if d.type == "Wqueue"]
    assert queues and all(q.devices == [] for q in queues)


def test_make_call_from_a_device_percent_encodes_its_sip_uri(client: py3cx.Client, phones: Phones) -> None:
    registered = [d for d in client.callcontrol.dns() if d.type == "Wextension" and d.devices]
    device = registered[0].devices[0]
    assert device.device_id is not None and ":" in device.device_id and "@" in device.device_id
    assert client.callcontrol.devices(registered[0].dn or "") == registered[0].devices
    result = client.callcontrol.make_call(registered[0].dn or "", "+4930999000", device_id=device.device_id)
    assert result.succeeded and result.finalstatus is FinalStatus.SUCCESS
    assert result.result is not None
    assert (result.result.status, result.result.device_id) == ("Dialing", device.device_id)
    assert result.result.party_caller_id == "+4930999000"


def test_answer_then_transfer_then_drop_move_the_call_like_a_pbx(
    client: py3cx.Client, phones: Phones
) -> None:
    cc = client.callcontrol
    made = cc.make_call("100", "101")
    assert made.result is not None and made.result.status == "Dialing"
    [ringing] = cc.participants("101")
    assert cc.answer("101", ringing.id or 0).succeeded
    assert cc.participant("100", made.result.id or 0).status == "Connected"
    cc.transfer_to("101", ringing.id or 0, "102")
    [transferred] = cc.participants("102")
    assert transferred.status == "Ringing" and transferred.referred_by_dn == "101"
    assert cc.participants("101") == []
    cc.drop("100", made.result.id or 0)
    assert cc.participants("100") == [] and cc.participants("102") == []


def test_divert_and_route_to_send_a_ringing_call_elsewhere(client: py3cx.Client, phones: Phones) -> None:
    cc = client.callcontrol
    phones.call("+4930123456", "103")
    [ringing] = cc.participants("103")
    cc.divert("103", ringing.id or 0, "104")
    assert [p.status for p in cc.participants("104")] == ["Ringing"]
    phones.call("+4930555111", "8000")
    [at_route_point] = cc.participants("8000")
    assert at_route_point.direct_control
    cc.route_to("8000", at_route_point.id or 0, "105", timeout=20)
    assert [p.on_behalf_of_dn for p in cc.participants("105")] == ["8000"]


def test_a_refused_action_raises_call_control_error_with_the_reasontext(client: py3cx.Client) -> None:
    made = client.callcontrol.make_call("106", "107")
    assert made.result is not None
    with pytest.raises(CallControlError) as refused:
        client.callcontrol.answer("106", made.result.id or 0)  # the caller's own leg is Dialing
    assert refused.value.reasontext == "cannot answer a participant that is Dialing"
    assert refused.value.finalstatus is FinalStatus.FAILED
    assert refused.value.status_code == 400
    assert "Dialing" in str(refused.value)
    with pytest.raises(CallControlError) as gone:
        client.callcontrol.drop("106", 987654)
    assert gone.value.status_code == 404 and gone.value.reasontext


def test_finalstatus_as_an_int_is_understood(client: py3cx.Client, phones: Phones) -> None:
    phones.settings(finalstatus_style="int")
    result = client.callcontrol.make_call("108", "+4930111222")
    assert result.finalstatus is FinalStatus.SUCCESS
    with pytest.raises(CallControlError) as refused:
        client.callcontrol.answer("108", result.result.id if result.result and result.result.id else 0)
    assert refused.value.finalstatus is FinalStatus.FAILED


def test_attached_data_is_accepted(client: py3cx.Client, phones: Phones) -> None:
    phones.call("+4930123456", "8000")
    [leg] = client.callcontrol.participants("8000")
    assert client.callcontrol.attach_participant_data("8000", leg.id or 0, {"crm_id": "42"}).succeeded


def test_record_wav_writes_the_participants_audio_until_the_leg_ends(
    client: py3cx.Client, phones: Phones, tmp_path: Path
) -> None:
    phones.settings(realtime_audio=False)
    call = phones.call("+4930123456", "8000")
    [leg] = client.callcontrol.participants("8000")
    seconds = client.callcontrol.record_wav("8000", leg.id or 0, tmp_path / "in.wav", max_seconds=0.5)
    assert seconds == pytest.approx(0.5)
    with wave.open(str(tmp_path / "in.wav")) as recorded:
        assert (recorded.getframerate(), recorded.getnchannels(), recorded.getsampwidth()) == (8000, 1, 2)
        assert recorded.getnframes() == 4000
        assert max(recorded.readframes(4000)) > 0  # a tone, not silence
    phones.end(call["callid"])
    phones.settings(realtime_audio=True)


def test_play_wav_streams_the_file_to_the_participant(
    client: py3cx.Client, phones: Phones, tmp_path: Path
) -> None:
    prompt = tmp_path / "prompt.wav"
    with wave.open(str(prompt), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x01\x00" * 8000)
    phones.call("+4930123456", "8000")
    [leg] = client.callcontrol.participants("8000")
    assert client.callcontrol.play_wav("8000", leg.id or 0, prompt, realtime=False) == 1.0
    assert phones.overview()["audio_received"][str(leg.id)] == BYTES_PER_SECOND


def test_a_wav_in_another_format_is_refused_with_a_hint(client: py3cx.Client, tmp_path: Path) -> None:
    stereo = tmp_path / "stereo.wav"
    with wave.open(str(stereo), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(44100)
        out.writeframes(b"\x00" * 400)
    with pytest.raises(py3cx.ConfigError) as refused:
        client.callcontrol.play_wav("8000", 1, stereo)
    assert "ffmpeg" in str(refused.value)


def test_the_async_face_does_the_same(pbx: Emulator, phones: Phones, route_point: ApiClient) -> None:
    async def scenario() -> None:
        async with py3cx.AsyncClient(pbx.url, route_point.client_id, route_point.secret) as client:
            cc = client.callcontrol
            assert "8000" in {d.dn for d in await cc.dns()}
            made = await cc.make_call("109", "110")
            assert made.result is not None
            [ringing] = await cc.participants("110")
            await cc.answer("110", ringing.id or 0)
            assert (await cc.participant("109", made.result.id or 0)).status == "Connected"
            with pytest.raises(CallControlError):
                await cc.divert("110", ringing.id or 0, "111")  # connected calls cannot be diverted
            phones.settings(realtime_audio=False)
            received = 0
            audio = cc.receive_audio("110", ringing.id or 0)
            async for chunk in audio:
                received += len(chunk)
                if received >= 3200:
                    break
            await audio.aclose()  # type: ignore[attr-defined]
            assert received >= 3200
            sent = await cc.send_audio("110", ringing.id or 0, pcm_chunks(b"\x00\x01" * 800))
            assert sent == 1600
            await cc.drop("110", ringing.id or 0)
            assert await cc.participants("109") == []
            phones.settings(realtime_audio=True)

    asyncio.run(scenario())
