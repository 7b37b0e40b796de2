"""The call wallboard: a web page of live queues, calls and extensions fed by Call Control events.

    3cx wallboard --port 8080

or, in code, `py3cx.wallboard.create_app(lambda: py3cx.AsyncClient(url, "8000", secret))` served by
any ASGI server. See `docs/callcontrol.md`.
"""

from __future__ import annotations

from py3cx.wallboard import _requirements  # noqa: F401  (first: names the missing extra)
from py3cx.wallboard.app import create_app
from py3cx.wallboard.board import Board

__all__ = ["Board", "create_app"]
