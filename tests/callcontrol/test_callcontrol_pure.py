"""Pure pieces of Call Control: request paths and bodies, result checks, reconnect delays, audio
helpers, active-call rows and the emulator's settings parser. No server."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from py3cx._exceptions import BadRequestError, ConfigError
from py3cx.callcontrol import CallControlError, CallParticipant, CallState, DNInfo
from py3cx.callcontrol.active import active_calls
from py3cx.callcontrol.api import websocket_ssl, websocket_url
from py3cx.callcontrol.audio import BYTES_PER_SECOND, WavWriter, paced, pcm_chunks, read_wav
from py3cx.callcontrol.errors import raise_for_result, refusal_from_status_error
from py3cx.callcontrol.paths import action_request, device_path, make_call_request, participant_path
from py3cx.callcontrol.stream import reconnect_delay
from py3cx.emulator.callcontrol.settings import CallControlSettings, parse_ws_faults


def test_device_ids_are_percent_encoded_in_paths() -> None:
    assert (
        device_path("100", "sip:100@10.0.0.5:5060") == "/callcontrol/100/devices/sip%3A100%4010.0.0.5%3A5060"
    )
    request = make_call_request("100", "+4930123", device_id="sip:100@pbx", timeout=20)
    assert request.path == "/callcontrol/100/devices/sip%3A100%40pbx/makecall"
    assert request.body == {"destination": "+4930123", "timeout": 20}
    assert make_call_request("800", "101").path == "/callcontrol/800/makecall"
    assert participant_path("800", 7) == "/callcontrol/800/participants/7"


def test_action_bodies_carry_only_what_was_given() -> None:
    assert action_request("800", 7, "drop").body == {}
    routed = action_request("800", 7, "routeto", destination="101", timeout=15, attached_data={"a": 1})
    assert routed.path == "/callcontrol/800/participants/7/routeto"
    assert routed.body == {"destination": "101", "timeout": 15, "attacheddata": {"a": 1}}


@pytest.mark.parametrize(
    ("action", "kwargs", "message"),
    [
        ("hangup", {}, "unknown participant action"),
        ("divert", {}, "needs a destination"),
        ("transferto", {"destination": ""}, "needs a destination"),
        ("attach_participant_data", {}, "needs attached_data"),
    ],
)
def test_bad_actions_are_refused_before_any_request(
    action: str, kwargs: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        action_request("800", 7, action, **kwargs)


def test_a_failed_result_raises_with_its_reasontext_and_a_success_passes() -> None:
    assert raise_for_result(
        {"finalstatus": "Success"}, method="POST", path="/callcontrol/1/makecall"
    ).succeeded
    assert raise_for_result({"result": {"id": 3}}, method="POST", path="/x/makecall").result is not None
    with pytest.raises(CallControlError) as failed:
        raise_for_result(
            {"finalstatus": 0, "reasontext": "Busy"}, method="POST", path="/callcontrol/1/makecall"
        )
    assert failed.value.reasontext == "Busy" and failed.value.status_code == 200
    assert failed.value.hint is not None and "destination" in failed.value.hint


def test_an_error_status_with_a_result_body_becomes_a_call_control_error() -> None:
    status = BadRequestError(
        "x", status_code=400, method="POST", path="/callcontrol/1/participants/2/answer",
        body='{"finalstatus": -1, "reasontext": "not ringing"}',
    )  # fmt: skip
    refusal = refusal_from_status_error(status)
    assert refusal is not None and refusal.reasontext == "not ringing" and refusal.status_code == 400
    assert refusal_from_status_error(BadRequestError("x", status_code=400, body='{"error": {}}')) is None


def test_reconnect_delays_grow_with_jitter_and_stay_capped() -> None:
    first = [reconnect_delay(0) for _ in range(50)]
    assert all(0.05 <= d <= 0.1 for d in first) and len(set(first)) > 1
    assert all(0.4 <= reconnect_delay(3) <= 0.8 for _ in range(20))
    assert all(reconnect_delay(40, maximum=30) <= 30 for _ in range(20))


def test_websocket_url_follows_the_pbx_url() -> None:
    assert websocket_url("https://pbx.example.com:5001") == "wss://pbx.example.com:5001/callcontrol/ws"
    assert websocket_url("http://127.0.0.1:8080") == "ws://127.0.0.1:8080/callcontrol/ws"
    assert websocket_ssl("ws://127.0.0.1/callcontrol/ws", True, None) is None
    unverified = websocket_ssl("wss://pbx/callcontrol/ws", False, None)
    assert unverified is not None and not unverified.check_hostname


def test_wav_files_round_trip_and_other_formats_are_refused(tmp_path: Path) -> None:
    pcm = bytes(range(256)) * 25
    with WavWriter(tmp_path / "a.wav") as out:
        out.write(pcm[:101])  # an odd byte waits for its other half
        out.write(pcm[101:])
    assert out.seconds == len(pcm) / BYTES_PER_SECOND
    assert read_wav(tmp_path / "a.wav") == pcm
    assert [len(c) for c in pcm_chunks(pcm, 2000)] == [2000, 2000, 2000, 400]
    with wave.open(str(tmp_path / "b.wav"), "wb") as other:
        other.setnchannels(1)
        other.setsampwidth(2)
        other.setframerate(16000)
        other.writeframes(b"\x00\x00")
    with pytest.raises(ConfigError, match="16000 Hz"):
        read_wav(tmp_path / "b.wav")
    with pytest.raises(ConfigError, match="no such"):
        read_wav(tmp_path / "missing.wav")


def test_paced_audio_keeps_to_real_time_after_the_lead() -> None:
    import time

    started = time.monotonic()
    assert len(list(paced(pcm_chunks(b"\x00" * BYTES_PER_SECOND), lead=0.5))) == 50
    assert 0.4 <= time.monotonic() - started < 0.9  # one second of audio, half a second ahead


def test_active_call_rows_name_both_ends() -> None:
    state = CallState()
    state.load([DNInfo(dn="0336", type="Wqueue"), DNInfo(dn="100", type="Wextension")])
    state.upsert_participant(
        "0336", CallParticipant(id=1, dn="0336", status="Ringing", callid=9, party_caller_id="+441")
    )
    state.upsert_participant(
        "100",
        CallParticipant(
            id=2, dn="100", status="Dialing", callid=10, party_caller_id="+492", originated_by_dn="100"
        ),
    )
    rows = {r["Id"]: r for r in active_calls(state, {9: 0.0, 10: 1.0})}
    assert (rows[9]["Caller"], rows[9]["Callee"], rows[9]["Status"]) == ("+441", "0336", "Ringing")
    assert (rows[10]["Caller"], rows[10]["Callee"]) == ("100", "+492")
    assert rows[9]["EstablishedAt"] == "1970-01-01T00:00:00.000Z"


def test_emulator_settings_parse_the_fault_switches() -> None:
    assert parse_ws_faults("500=0.1,ws-drop=5,event-delay=0.2") == {"ws_drop_every": 5.0, "event_delay": 0.2}
    with pytest.raises(ValueError, match="not a number"):
        parse_ws_faults("ws-drop=soon")
    settings = CallControlSettings()
    settings.update({"ring_seconds": [0.1, 0.2], "ws_drop_every": 0, "call_rate": 60})
    assert (settings.ring_seconds, settings.ws_drop_every, settings.call_rate) == ((0.1, 0.2), None, 60.0)
    with pytest.raises(ValueError, match="unknown Call Control setting"):
        settings.update({"calls_per_hour": 1})
    with pytest.raises(ValueError, match="min <= max"):
        settings.update({"talk_seconds": [3, 1]})


def test_emulator_settings_come_from_the_config_when_it_has_them() -> None:
    from types import SimpleNamespace

    config = SimpleNamespace(
        call_rate=120,
        faults=SimpleNamespace(ws_drop=5.0, event_delay=0.25),
        callcontrol={"talk_seconds": [1, 2], "monitored": {"8000": ["100"]}},
    )
    settings = CallControlSettings.from_config(config)
    assert (settings.call_rate, settings.ws_drop_every, settings.event_delay) == (120.0, 5.0, 0.25)
    assert settings.talk_seconds == (1.0, 2.0) and settings.monitored == {"8000": ["100"]}
    assert CallControlSettings.from_config(SimpleNamespace()) == CallControlSettings()
