"""Recordings as audio files, and what the operations no handler models answer: their spec's shape."""

from __future__ import annotations

import io
import wave

from .emulator_harness import Pbx


def _wav(content: bytes) -> wave.Wave_read:
    return wave.open(io.BytesIO(content), "rb")


# -- recordings -----------------------------------------------------------------------------------
def test_a_recording_named_by_the_call_history_downloads_as_a_wav(shared_pbx: Pbx) -> None:
    segment = shared_pbx.value("CallHistoryView?$filter=DstRecId ne null&$top=1")[0]
    rec_id = segment["DstRecId"]
    recording = shared_pbx.value(f"Recordings?$filter=Id eq {rec_id}")[0]
    assert (recording["ToDn"], recording["StartTime"]) == (segment["DstDn"], segment["SegmentStartTime"])
    response = shared_pbx.get(f"Recordings/Pbx.DownloadRecording(recId={rec_id})")
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/wav"
    audio = _wav(response.content)
    assert (audio.getframerate(), audio.getnchannels(), audio.getsampwidth()) == (8000, 1, 2)
    assert 0 < audio.getnframes() <= 3 * 8000


def test_recordings_link_to_their_own_download(shared_pbx: Pbx) -> None:
    recording = shared_pbx.value("Recordings?$top=1")[0]
    url = recording["RecordingUrl"]
    assert url == f"/xapi/v1/Recordings/Pbx.DownloadRecording(recId={recording['Id']})"
    assert shared_pbx.get(url.removeprefix("/xapi/v1/")).status_code == 200


def test_an_unknown_recording_is_a_file_not_found(shared_pbx: Pbx) -> None:
    response = shared_pbx.get("Recordings/Pbx.DownloadRecording(recId=999999)")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "recId:\nWARNINGS.XAPI.FILE_NOT_FOUND"


def test_bulk_delete_and_archive_change_the_recordings(pbx: Pbx) -> None:
    first, second = (r["Id"] for r in pbx.value("Recordings?$top=2"))
    assert pbx.xapi("POST", "Recordings/Pbx.BulkRecordingsArchive", json={"ids": [first]}).status_code == 204
    assert pbx.value(f"Recordings?$filter=Id eq {first}")[0]["IsArchived"] is True
    assert pbx.xapi("POST", "Recordings/Pbx.BulkRecordingsDelete", json={"ids": [second]}).status_code == 204
    assert pbx.value(f"Recordings?$filter=Id eq {second}") == []
    assert pbx.get(f"Recordings/Pbx.DownloadRecording(recId={second})").status_code == 404


def test_a_users_greeting_downloads_as_audio_and_a_strangers_does_not(shared_pbx: Pbx) -> None:
    user = shared_pbx.value("Users?$top=1")[0]
    found = shared_pbx.get(f"Users/Pbx.DownloadGreeting(userId={user['Id']},fileName='away.wav')")
    assert _wav(found.content).getnframes() > 0
    missing = shared_pbx.get("Users/Pbx.DownloadGreeting(userId=99999,fileName='away.wav')")
    assert missing.status_code == 404


def test_duplicated_emails_are_found_among_the_users(pbx: Pbx) -> None:
    first, second = pbx.value("Users?$top=2&$select=Id,EmailAddress")
    assert pbx.get(f"Users({first['Id']})/Pbx.HasDuplicatedEmail()").json()["value"] is False
    pbx.xapi("PATCH", f"Users({second['Id']})", json={"EmailAddress": first["EmailAddress"].upper()})
    assert pbx.get(f"Users({first['Id']})/Pbx.HasDuplicatedEmail()").json()["value"] is True
    found = pbx.xapi(
        "POST",
        "Users/Pbx.GetDuplicatedEmails",
        json={"emails": [first["EmailAddress"], "nobody@example.com"]},
    )
    assert found.json()["value"] == [first["EmailAddress"]]


# -- answers made from the spec ---------------------------------------------------------------------
def test_a_function_returning_a_stored_entity_type_answers_the_stored_rows(shared_pbx: Pbx) -> None:
    exported = shared_pbx.get("Users/Pbx.ExportExtensions()?$select=Number&$orderby=Number").json()["value"]
    assert exported == [{"Number": u["Number"]} for u in shared_pbx.value("Users?$orderby=Number")]


def test_a_collection_of_plain_values_pages_with_top_and_skip(shared_pbx: Pbx) -> None:
    body = shared_pbx.get("ConferenceSettings/Pbx.GetWebMeetingZones()?$count=true&$skip=1").json()
    assert body["@odata.count"] == 2
    assert len(body["value"]) == 1 and isinstance(body["value"][0], str)
    assert shared_pbx.get("ConferenceSettings/Pbx.GetWebMeetingZones()?$filter=x eq 1").status_code == 400


def test_a_primitive_result_comes_wrapped_in_value(shared_pbx: Pbx) -> None:
    assert shared_pbx.get("Backups/Pbx.GetCanCreateBackup()").json()["value"] is False
    size = shared_pbx.get("Backups/Pbx.GetLocalBackupSize()").json()["value"]
    assert isinstance(size, int) and not isinstance(size, bool)


def test_an_action_without_a_response_body_answers_204(shared_pbx: Pbx) -> None:
    response = shared_pbx.xapi("POST", "ActivityLog/Pbx.PurgeLogs", json={})
    assert response.status_code == 204 and response.content == b""


def test_a_function_typed_as_an_action_result_answers_a_file(shared_pbx: Pbx) -> None:
    trunk = shared_pbx.value("Trunks?$top=1")[0]
    response = shared_pbx.get(f"Trunks({trunk['Id']})/Pbx.ExportTrunk()")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")


def test_an_object_result_is_made_from_its_schema_without_nulls_or_navigation(shared_pbx: Pbx) -> None:
    body = shared_pbx.get("Recordings/Pbx.GetRecordingRepositorySettings()").json()
    assert body["@odata.context"].endswith("#Pbx.RecordingRepositorySettings")
    assert None not in body.values()
    assert len(body) > 1


def test_a_singleton_never_seeded_is_made_once_and_keeps_what_is_patched(pbx: Pbx) -> None:
    first = pbx.get("MailSettings").json()
    assert pbx.get("MailSettings").json() == first
    assert pbx.xapi("PATCH", "MailSettings", json={"MailServer": "smtp.example.com"}).status_code == 204
    assert pbx.get("MailSettings").json() == {**first, "MailServer": "smtp.example.com"}


def test_licence_and_system_status_describe_the_emulated_build(shared_pbx: Pbx) -> None:
    licence = shared_pbx.get("LicenseStatus").json()
    status = shared_pbx.get("SystemStatus").json()
    assert licence["LicenseActive"] is True and licence["ProductCode"] == "3CXPSENT"
    assert licence["Version"] == status["Version"] == "20.0.10.817"
    assert status["TrunksTotal"] == len(shared_pbx.value("Trunks"))
