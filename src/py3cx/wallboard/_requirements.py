"""Imported first by the wallboard package: a missing web server is a message naming the extra."""

from __future__ import annotations

from py3cx._extras import require

require("cli", "starlette", "uvicorn", what="the wallboard")
