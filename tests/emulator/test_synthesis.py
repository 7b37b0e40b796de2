"""Values made from schemas (pure functions): valid for the schema, plausible, repeatable."""

from __future__ import annotations

import io
import re
import wave
from datetime import datetime, timezone

import pytest

from py3cx.emulator.audio import wav_tone
from py3cx.emulator.spec import load_spec_index
from py3cx.emulator.synthesis import Synthesizer

ANCHOR = datetime(2025, 3, 20, 12, 0, tzinfo=timezone.utc)

SCHEMAS = {
    "Pbx.Base": {"type": "object", "properties": {"Id": {"type": "integer", "minimum": 5, "maximum": 9}}},
    "Pbx.Colour": {"title": "Colour", "enum": ["Red", "Green"], "type": "string"},
    "Pbx.Thing": {
        "allOf": [
            {"$ref": "#/components/schemas/Pbx.Base"},
            {
                "type": "object",
                "properties": {
                    "Number": {"type": "string", "nullable": True},
                    "Label": {"type": "string", "maxLength": 3},
                    "When": {"type": "string", "format": "date-time"},
                    "Wait": {"type": "string", "format": "duration"},
                    "Colour": {"allOf": [{"$ref": "#/components/schemas/Pbx.Colour"}], "nullable": True},
                    "Share": {"oneOf": [{"type": "number"}, {"type": "string"}]},
                    "Owner": {"$ref": "#/components/schemas/Pbx.Base", "x-ms-navigationProperty": True},
                    "Parts": {"type": "array", "items": {"$ref": "#/components/schemas/Pbx.Thing"}},
                },
            },
        ]
    },
}


def test_an_entity_follows_inheritance_formats_enums_and_limits() -> None:
    thing = Synthesizer(SCHEMAS, ANCHOR).entity("Pbx.Thing")
    assert thing["Id"] == 5  # minimum respected
    assert thing["Number"] == "100"
    assert thing["Label"] == "Def"  # "Default" cut to maxLength
    assert thing["When"] == "2025-03-20T12:00:00Z"
    assert thing["Wait"] == "PT1M"
    assert thing["Colour"] == "Red"
    assert thing["Share"] == 0.5  # the number variant: a string could match two variants of a oneOf
    assert "Owner" not in thing  # navigation properties only come with $expand


def test_nesting_stops_so_recursive_types_end() -> None:
    parts = Synthesizer(SCHEMAS, ANCHOR).entity("Pbx.Thing")["Parts"]
    assert len(parts) == 1
    assert "Parts" not in parts[0] and parts[0]["Id"] == 5


def test_the_same_input_gives_the_same_value_and_the_index_varies_it() -> None:
    synth = Synthesizer(SCHEMAS, ANCHOR)
    assert synth.entity("Pbx.Thing") == Synthesizer(SCHEMAS, ANCHOR).entity("Pbx.Thing")
    second = synth.entity("Pbx.Thing", index=1)
    assert (second["Number"], second["Colour"], second["When"]) == ("101", "Green", "2025-03-19T12:00:00Z")


_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


@pytest.mark.parametrize("version", ["20.0.10", "20.0.4"])
def test_every_type_of_the_official_specs_can_be_made(version: str) -> None:
    index = load_spec_index(version)
    synth = Synthesizer(index.schemas, ANCHOR)
    for name, schema in index.schemas.items():
        if synth.is_object(schema) and "enum" not in schema:
            value = synth.entity(name)
            assert isinstance(value, dict)
            assert all(v is not None for v in value.values())
    licence = synth.entity("Pbx.LicenseStatus")
    assert _DATE_TIME.match(licence["ExpirationDate"])


def test_a_tone_is_a_wav_of_the_call_control_audio_format() -> None:
    with wave.open(io.BytesIO(wav_tone(0.25, 425.0)), "rb") as audio:
        assert (audio.getframerate(), audio.getnchannels(), audio.getsampwidth()) == (8000, 1, 2)
        assert audio.getnframes() == 2000
        frames = audio.readframes(2000)
    assert any(frames)  # a tone, not silence


def test_a_tone_refuses_a_negative_length() -> None:
    with pytest.raises(ValueError, match="seconds"):
        wav_tone(-1.0)
