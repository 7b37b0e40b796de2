"""Small, valid audio files for the emulated PBX's recordings, greetings and prompts (pure, no I/O).

A 3CX recording is a WAV file; the emulator's are 8 kHz, 16-bit, mono PCM (the format Call
Control streams, BEHAVIOUR.md §6) holding a quiet tone, so that any audio library opens them.
"""

from __future__ import annotations

import io
import math
import struct
import wave

__all__ = ["SAMPLE_RATE", "wav_tone"]

SAMPLE_RATE = 8000


def wav_tone(seconds: float = 1.0, frequency: float = 440.0, amplitude: float = 0.2) -> bytes:
    """A WAV file (8 kHz, 16-bit signed little-endian, mono) of a sine tone.

    Raises ValueError for a negative length or an amplitude outside 0..1.
    Example: ``wav_tone(0.5, 425.0)[:4] == b"RIFF"``.
    """
    if seconds < 0 or not 0.0 <= amplitude <= 1.0:
        raise ValueError("seconds must be >= 0 and amplitude between 0 and 1")
    frames = int(seconds * SAMPLE_RATE)
    peak = amplitude * 32767
    samples = (int(peak * math.sin(2 * math.pi * frequency * n / SAMPLE_RATE)) for n in range(frames))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(struct.pack(f"<{frames}h", *samples))
    return buffer.getvalue()
