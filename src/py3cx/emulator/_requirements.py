"""Imported first by the emulator package: a missing `py3cx[emulator]` extra is a message, not a traceback."""

from __future__ import annotations

from py3cx._extras import require

require("emulator", what="the py3cx emulator")
