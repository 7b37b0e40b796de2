"""Recordings and greetings: downloadable audio and the bulk actions on recordings.

- ``Recordings/Pbx.DownloadRecording(recId=N)`` answers the recording as a WAV file (8 kHz mono,
  as long as the recorded segment, at most a few seconds so tests stay fast); an unknown id is a
  404 ``WARNINGS.XAPI.FILE_NOT_FOUND``. The call log's ``RecordingUrl`` and CallHistoryView's
  ``SrcRecId``/``DstRecId`` name the same ids;
- ``Recordings/Pbx.BulkRecordingsDelete`` / ``BulkRecordingsArchive`` ``{"ids": [...]}`` delete or
  archive those rows (``IsArchived``, ``ArchivedUrl``);
- ``Users/Pbx.DownloadGreeting(userId=N,fileName='x.wav')``: a WAV for an existing user.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from starlette.responses import Response

from . import errors
from .audio import wav_tone
from .errors import XapiError
from .registry import FunctionContext, xapi_action, xapi_function
from .writes import delete_many

__all__ = ["MAX_RECORDING_SECONDS"]

#: downloads are cut to this length: a long call should not make a test download megabytes
MAX_RECORDING_SECONDS = 3.0


def _file_not_found(target: str) -> XapiError:
    return XapiError(404, key=errors.FILE_NOT_FOUND, target=target)


def _seconds(start: str | None, end: str | None) -> float:
    if not start or not end:
        return 1.0
    fmt = "%Y-%m-%d %H:%M:%S.%f"
    span = (datetime.strptime(end, fmt) - datetime.strptime(start, fmt)).total_seconds()
    return min(max(span, 0.5), MAX_RECORDING_SECONDS)


@xapi_function("Recordings", "Pbx.DownloadRecording")
def download_recording(ctx: FunctionContext) -> Response:
    """``GET /Recordings/Pbx.DownloadRecording(recId=7)``: the recording as ``audio/wav``."""
    recordings = ctx.state.tables["Recordings"].table
    with ctx.state.engine.connect() as conn:
        row = (
            conn.execute(
                sa.select(recordings.c.StartTime, recordings.c.EndTime).where(
                    recordings.c.Id == ctx.args["recId"]
                )
            )
            .mappings()
            .first()
        )
    if row is None:
        raise _file_not_found("recId")
    # each recording its own pitch, so two downloads are told apart
    tone = 300.0 + (int(ctx.args["recId"]) % 7) * 50.0
    body = wav_tone(_seconds(row["StartTime"], row["EndTime"]), tone)
    filename = f"recording-{ctx.args['recId']}.wav"
    return Response(
        body, media_type="audio/wav", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


def _ids(ctx: FunctionContext) -> list[int]:
    ids = ctx.args.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise errors.bad_request("ids:\nThe ids field must be a list of integers.")
    return ids


@xapi_action("Recordings", "Pbx.BulkRecordingsDelete")
def delete_recordings(ctx: FunctionContext) -> None:
    """``POST /Recordings/Pbx.BulkRecordingsDelete {"ids": [1, 2]}``: ids that do not exist are ignored."""
    delete_many(ctx.state, ctx.state.tables["Recordings"], _ids(ctx))


@xapi_action("Recordings", "Pbx.BulkRecordingsArchive")
def archive_recordings(ctx: FunctionContext) -> None:
    """``POST /Recordings/Pbx.BulkRecordingsArchive {"ids": [1, 2]}``: the rows become archived."""
    ids = _ids(ctx)
    table = ctx.state.tables["Recordings"].table
    with ctx.state.lock, ctx.state.engine.begin() as conn:
        for rec_id in ids:
            conn.execute(
                table.update()
                .where(table.c.Id == rec_id)
                .values(IsArchived=True, ArchivedUrl=f"archive://recordings/{rec_id}.wav")
            )


@xapi_function("Users", "Pbx.DownloadGreeting")
def download_greeting(ctx: FunctionContext) -> Any:
    """``GET /Users/Pbx.DownloadGreeting(userId=5,fileName='away.wav')``: a WAV for an existing user."""
    users = ctx.state.tables["Users"].table
    with ctx.state.engine.connect() as conn:
        found = conn.execute(sa.select(users.c.Id).where(users.c.Id == ctx.args["userId"])).first()
    if found is None:
        raise _file_not_found("userId")
    return Response(wav_tone(1.0, 523.25), media_type="audio/wav")
