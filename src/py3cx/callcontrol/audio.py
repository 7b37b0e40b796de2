"""Audio for Call Control streams: raw signed 16-bit little-endian PCM, 8000 Hz, mono, no header.

That is 16 bytes per millisecond. These helpers read a WAV file into that format (refusing
anything else with a clear hint, rather than resampling badly), cut it into chunks, pace the
chunks in real time (a PBX plays what it receives; sending minutes of audio in one burst is what
the official examples avoid by staying at most half a second ahead), and write a WAV file from
received PCM.
"""

from __future__ import annotations

import asyncio
import time
import wave
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from os import PathLike
from pathlib import Path
from types import TracebackType

from py3cx._exceptions import ConfigError

__all__ = [
    "BYTES_PER_SECOND",
    "CHANNELS",
    "SAMPLE_RATE",
    "SAMPLE_WIDTH",
    "WavWriter",
    "apaced",
    "paced",
    "pcm_chunks",
    "read_wav",
]

SAMPLE_RATE = 8000
SAMPLE_WIDTH = 2
CHANNELS = 1
BYTES_PER_SECOND = SAMPLE_RATE * SAMPLE_WIDTH * CHANNELS
CHUNK_BYTES = BYTES_PER_SECOND // 50  # 20 ms, a usual RTP packet time
LEAD_SECONDS = 0.5

_CONVERT_HINT = "convert it first, e.g. `ffmpeg -i in.wav -ar 8000 -ac 1 -c:a pcm_s16le out.wav`"


def read_wav(path: str | PathLike[str]) -> bytes:
    """The PCM frames of a WAV file that is already 8 kHz, mono, 16-bit.

    Raises ConfigError when the file is missing, not a WAV file, or in another format.
    Example: `pcm = read_wav("greeting.wav")`
    """
    try:
        with wave.open(str(path), "rb") as wav:
            rate, width, channels = wav.getframerate(), wav.getsampwidth(), wav.getnchannels()
            if (rate, width, channels) != (SAMPLE_RATE, SAMPLE_WIDTH, CHANNELS):
                raise ConfigError(
                    f"{path} is {rate} Hz, {8 * width}-bit, {channels} channel(s); "
                    "Call Control plays 8000 Hz 16-bit mono",
                    hint=_CONVERT_HINT,
                )
            return wav.readframes(wav.getnframes())
    except FileNotFoundError:
        raise ConfigError(f"no such WAV file: {path}") from None
    except (wave.Error, EOFError) as exc:
        raise ConfigError(f"{path} is not a PCM WAV file: {exc}", hint=_CONVERT_HINT) from None


def pcm_chunks(pcm: bytes, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    """Cut PCM into chunks of whole samples. Example: `list(pcm_chunks(b"\\0" * 640, 320))`"""
    size = max(SAMPLE_WIDTH, chunk_bytes - chunk_bytes % SAMPLE_WIDTH)
    for start in range(0, len(pcm), size):
        yield pcm[start : start + size]


def paced(chunks: Iterable[bytes], *, lead: float = LEAD_SECONDS) -> Iterator[bytes]:
    """Yield chunks no faster than real time, staying at most `lead` seconds ahead.

    Example: `client.callcontrol.send_audio("800", 7, paced(pcm_chunks(pcm)))`
    """
    started = time.monotonic()
    sent = 0.0
    for chunk in chunks:
        ahead = sent - (time.monotonic() - started)
        if ahead > lead:
            time.sleep(ahead - lead)
        yield chunk
        sent += len(chunk) / BYTES_PER_SECOND


async def apaced(
    chunks: Iterable[bytes] | AsyncIterable[bytes], *, lead: float = LEAD_SECONDS
) -> AsyncIterator[bytes]:
    """Async `paced`, for sync or async chunk sources. Example: `apaced(pcm_chunks(pcm))`"""
    started = time.monotonic()
    sent = 0.0

    async def source() -> AsyncIterator[bytes]:
        if isinstance(chunks, AsyncIterable):
            async for chunk in chunks:
                yield chunk
        else:
            for chunk in chunks:
                yield chunk

    async for chunk in source():
        ahead = sent - (time.monotonic() - started)
        if ahead > lead:
            await asyncio.sleep(ahead - lead)
        yield chunk
        sent += len(chunk) / BYTES_PER_SECOND


class WavWriter:
    """Writes received PCM to an 8 kHz mono 16-bit WAV file; `.seconds` says how much.

    Example:
        with WavWriter("call.wav") as out:
            for chunk in client.callcontrol.receive_audio("800", 7):
                out.write(chunk)
    """

    def __init__(self, path: str | PathLike[str]) -> None:
        self.path = Path(path)
        self.bytes = 0
        self._odd = b""
        self._wav = wave.open(str(self.path), "wb")  # noqa: SIM115 - closed in close()
        self._wav.setnchannels(CHANNELS)
        self._wav.setsampwidth(SAMPLE_WIDTH)
        self._wav.setframerate(SAMPLE_RATE)

    @property
    def seconds(self) -> float:
        return self.bytes / BYTES_PER_SECOND

    def write(self, chunk: bytes) -> None:
        """Append PCM; a trailing odd byte waits for the next chunk (samples are two bytes)."""
        data = self._odd + chunk
        cut = len(data) - len(data) % SAMPLE_WIDTH
        self._odd = data[cut:]
        if cut:
            self._wav.writeframes(data[:cut])
            self.bytes += cut

    def close(self) -> None:
        self._wav.close()

    def __enter__(self) -> WavWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
