"""`3cx exporter`: a Prometheus exporter for 3CX V20 with the multi-target pattern.

    3cx exporter --listen 127.0.0.1:9723
    curl 'http://127.0.0.1:9723/probe?target=office'

See docs/exporter.md for every metric and a Prometheus scrape configuration.
"""

from __future__ import annotations

from py3cx._extras import require

require("exporter", what="the py3cx exporter")

from py3cx.exporter.app import create_app, profile_source  # noqa: E402  (after the check above)

__all__ = ["create_app", "profile_source"]
