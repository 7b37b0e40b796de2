"""A webhook receiver on loopback for the connect tests: a real HTTP server (threads) whose answer
to each request a test picks: a status, "drop" (the connection closed without an answer), or
("slow", seconds) (a 200 after that long: past the sender's timeout, it is a timeout to the sender,
and it is recorded as "timeout", not accepted)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Receiver:
    """A webhook receiver on loopback; ``answer(path, event_id, attempt)`` picks each status (or "drop")."""

    answer: Callable[[str, str, int], int | str | tuple[str, float]] = lambda _path, _id, _n: 200
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    attempts: dict[str, int] = field(default_factory=dict)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def accepted(self) -> list[tuple[dict[str, str], bytes]]:
        return [(h, b) for h, b in self.received if h.get("x-answer") == "200"]


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    """A receiver serving on a free loopback port until the block ends."""
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            with state.lock:
                event_id = headers.get("webhook-id", "")
                key = f"{self.path} {event_id}"
                attempt = state.attempts.get(key, 0)
                state.attempts[key] = attempt + 1
                answer = state.answer(self.path, event_id, attempt)
                label = "timeout" if isinstance(answer, tuple) else str(answer)
                state.received.append(({**headers, "x-answer": label}, body))
            if isinstance(answer, tuple):
                time.sleep(answer[1])
                answer = 200
            if answer == "drop":
                self.connection.shutdown(2)  # no answer at all: a reset connection
                return
            assert isinstance(answer, int)
            self.send_response(answer)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
