"""The tables of py3cx connect: a stable interface (people point SQL and Grafana at them).

Every time is UTC (SQLite keeps them as text without an offset; read them as UTC). Durations are
seconds. Changing a table means a new Alembic revision in ``migrations/versions`` and a line in
``docs/connect.md``. The same ``metadata`` is what the first revision creates, and a test checks
that the migrated database and ``metadata`` agree.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

__all__ = [
    "call_records",
    "calls",
    "contact_phones",
    "contacts",
    "deliveries",
    "departments",
    "events",
    "live_calls",
    "metadata",
    "pbx",
    "pbx_access_keys",
    "pbx_tokens",
    "queue_agents",
    "queues",
    "sync_state",
    "users",
    "webhook_endpoints",
]

# names of constraints are fixed so that migrations can refer to them on both databases
metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

_UTC = sa.DateTime(timezone=True)


def _pbx_fk() -> sa.Column[int]:
    return sa.Column("pbx_id", sa.Integer, sa.ForeignKey("pbx.id", ondelete="CASCADE"), primary_key=True)


pbx = sa.Table(
    "pbx",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("url", sa.String(500), nullable=False),
    sa.Column("client_id", sa.String(200), nullable=False),
    # Fernet tokens (see vault.py): never the secret itself
    sa.Column("client_secret_enc", sa.Text, nullable=False),
    sa.Column("route_point_id", sa.String(200)),
    sa.Column("route_point_secret_enc", sa.Text),
    sa.Column("time_zone", sa.String(64)),
    sa.Column("country", sa.String(2)),
    sa.Column("rate_limit", sa.Float, nullable=False, server_default="10"),
    sa.Column("history_source", sa.String(10), nullable=False, server_default="auto"),
    sa.Column("calls_interval", sa.Integer, nullable=False, server_default="60"),
    sa.Column("directory_interval", sa.Integer, nullable=False, server_default="3600"),
    sa.Column("overlap_seconds", sa.Integer, nullable=False, server_default="7200"),
    sa.Column("backfill_days", sa.Integer, nullable=False, server_default="30"),
    # seconds between polls of ActiveCalls for live events (0: off); migration 0002
    sa.Column("live_interval", sa.Integer, nullable=False, server_default="10"),
    sa.Column("verify_tls", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("ca_bundle", sa.String(500)),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", _UTC, nullable=False),
    sa.Column("updated_at", _UTC, nullable=False),
)

# The one token of each (PBX URL, client id), shared by every process and machine (DESIGN.md 14).
pbx_tokens = sa.Table(
    "pbx_tokens",
    metadata,
    sa.Column("url", sa.String(500), primary_key=True),
    sa.Column("identity", sa.String(200), primary_key=True),
    sa.Column("access_token_enc", sa.Text, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Column("obtained_at", sa.Float, nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
)

call_records = sa.Table(
    "call_records",
    metadata,
    _pbx_fk(),
    # the PBX's own id of the record (SegmentId), as text
    sa.Column("record_id", sa.String(64), primary_key=True),
    sa.Column("call_id", sa.String(64), nullable=False),
    sa.Column("source", sa.String(10), nullable=False),  # calllog or view
    sa.Column("start_time", _UTC, nullable=False),
    sa.Column("end_time", _UTC),
    sa.Column("ringing_seconds", sa.Float),
    sa.Column("talking_seconds", sa.Float),
    sa.Column("src_number", sa.String(100)),
    sa.Column("src_e164", sa.String(32)),
    sa.Column("src_dn", sa.String(64)),
    sa.Column("src_name", sa.String(200)),
    sa.Column("src_type", sa.Integer),
    sa.Column("dst_number", sa.String(100)),
    sa.Column("dst_e164", sa.String(32)),
    sa.Column("dst_dn", sa.String(64)),
    sa.Column("dst_name", sa.String(200)),
    sa.Column("dst_type", sa.Integer),
    sa.Column("direction", sa.String(20)),
    sa.Column("status", sa.String(40)),
    sa.Column("answered", sa.Boolean),
    sa.Column("queue", sa.String(64)),
    sa.Column("recording_ids", sa.String(500)),  # space-separated ids of the PBX's Recordings
    sa.Column("raw", sa.JSON, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("first_synced_at", _UTC, nullable=False),
    sa.Column("changed_at", _UTC, nullable=False),
    sa.Index(None, "pbx_id", "start_time"),
    sa.Index(None, "pbx_id", "call_id"),
)

calls = sa.Table(
    "calls",
    metadata,
    _pbx_fk(),
    sa.Column("call_id", sa.String(64), primary_key=True),
    sa.Column("start_time", _UTC, nullable=False),
    sa.Column("end_time", _UTC),
    sa.Column("direction", sa.String(20)),
    sa.Column("status", sa.String(20), nullable=False),  # answered, missed, abandoned
    sa.Column("answered", sa.Boolean, nullable=False),
    sa.Column("from_number", sa.String(100)),
    sa.Column("from_e164", sa.String(32)),
    sa.Column("from_name", sa.String(200)),
    sa.Column("to_number", sa.String(100)),
    sa.Column("to_e164", sa.String(32)),
    sa.Column("answered_by_dn", sa.String(64)),
    sa.Column("answered_by_name", sa.String(200)),
    sa.Column("queue", sa.String(64)),
    sa.Column("ringing_seconds", sa.Float, nullable=False),
    sa.Column("talking_seconds", sa.Float, nullable=False),
    sa.Column("records", sa.Integer, nullable=False),
    sa.Column("recording_ids", sa.String(500)),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("changed_at", _UTC, nullable=False),
    sa.Index(None, "pbx_id", "start_time"),
)


def _snapshot(name: str, key: str, key_type: sa.types.TypeEngine[Any], *columns: sa.Column[Any]) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        _pbx_fk(),
        sa.Column(key, key_type, primary_key=True),
        *columns,
        sa.Column("raw", sa.JSON, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("first_seen", _UTC, nullable=False),
        sa.Column("last_seen", _UTC, nullable=False),
        sa.Column("changed_at", _UTC, nullable=False),
        sa.Column("deleted_at", _UTC),
    )


users = _snapshot(
    "users",
    "user_id",
    sa.Integer(),
    sa.Column("number", sa.String(64)),
    sa.Column("first_name", sa.String(200)),
    sa.Column("last_name", sa.String(200)),
    sa.Column("email", sa.String(320)),
    sa.Column("mobile", sa.String(100)),
    sa.Column("department", sa.String(200)),
)
departments = _snapshot("departments", "department_id", sa.Integer(), sa.Column("name", sa.String(200)))
queues = _snapshot(
    "queues",
    "queue_id",
    sa.Integer(),
    sa.Column("number", sa.String(64)),
    sa.Column("name", sa.String(200)),
)
queue_agents = _snapshot(
    "queue_agents",
    "queue_number",
    sa.String(64),
    sa.Column("agent_number", sa.String(64), primary_key=True),
    sa.Column("skill_group", sa.String(64)),
)

sync_state = sa.Table(
    "sync_state",
    metadata,
    _pbx_fk(),
    sa.Column("stream", sa.String(20), primary_key=True),  # calls, directory or live
    # calls: every record that started before the watermark has been fetched at least once
    sa.Column("watermark", _UTC),
    sa.Column("last_attempt_at", _UTC),
    sa.Column("last_success_at", _UTC),
    sa.Column("last_error", sa.Text),
    sa.Column("last_error_at", _UTC),
    sa.Column("records_total", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("last_pass_records", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_pass_changed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_pass_seconds", sa.Float),
    sa.Column("passes", sa.Integer, nullable=False, server_default="0"),
    sa.Column("errors", sa.Integer, nullable=False, server_default="0"),
)


# The calls in progress the last ActiveCalls poll saw (live events: call.ringing, call.answered).
live_calls = sa.Table(
    "live_calls",
    metadata,
    _pbx_fk(),
    sa.Column("live_id", sa.String(64), primary_key=True),  # ActiveCalls Id: not the call log's CallId
    sa.Column("caller", sa.String(200)),
    sa.Column("callee", sa.String(200)),
    sa.Column("status", sa.String(40)),
    sa.Column("established_at", _UTC),
    sa.Column("answered_at", _UTC),  # when a poll first saw it talking
    sa.Column("first_seen", _UTC, nullable=False),
    sa.Column("last_seen", _UTC, nullable=False),
)


# Contacts loaded from CSV/XLSX (`3cx connect contacts import`), matched to calls by E.164 number.
contacts = sa.Table(
    "contacts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("crm_id", sa.String(200), unique=True),  # the CRM's id; a re-import updates by it
    sa.Column("name", sa.String(300)),
    sa.Column("company", sa.String(300)),
    sa.Column("email", sa.String(320)),
    sa.Column("phones", sa.String(1000)),  # as given, comma-separated
    sa.Column("updated_at", _UTC, nullable=False),
    # NULL: imported from a file; "phonebook:<pbx name>": that PBX's phonebook (source_key: its id there)
    sa.Column("source", sa.String(120)),
    sa.Column("source_key", sa.String(200)),
    sa.Index(None, "source", "source_key"),
)
contact_phones = sa.Table(
    "contact_phones",
    metadata,
    sa.Column("e164", sa.String(32), primary_key=True),
    sa.Column("contact_id", sa.Integer, sa.ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
)


# -- webhooks: endpoints, the event log and the outbox (issue 11; docs/webhooks.md) ---------------

_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite autoincrements INTEGER keys only

webhook_endpoints = sa.Table(
    "webhook_endpoints",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("url", sa.String(1000), nullable=False),
    sa.Column("pbx_names", sa.JSON),  # a list of PBX names; NULL: every PBX
    sa.Column("event_types", sa.JSON),  # a list of event types; NULL: every type
    # Fernet tokens of whsec_ secrets (vault.py); the previous one signs too until previous_until
    sa.Column("secret_enc", sa.Text, nullable=False),
    sa.Column("previous_secret_enc", sa.Text),
    sa.Column("previous_until", _UTC),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("disabled_reason", sa.String(500)),
    sa.Column("failing_since", _UTC),  # first failure since the last success
    sa.Column("max_in_flight", sa.Integer, nullable=False, server_default="4"),
    sa.Column("rate_limit", sa.Float, nullable=False, server_default="50"),  # requests per second
    sa.Column("created_at", _UTC, nullable=False),
    sa.Column("updated_at", _UTC, nullable=False),
)

# Every event connect derived, kept for replay. ``event_id`` is the webhook-id (the same on every
# attempt and every replay); ``seq`` orders events (and so deliveries) of one call.
events = sa.Table(
    "events",
    metadata,
    sa.Column("seq", _ROW_ID, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(40), nullable=False, unique=True),
    sa.Column("pbx_id", sa.Integer, sa.ForeignKey("pbx.id", ondelete="CASCADE"), nullable=False),
    sa.Column("call_id", sa.String(64)),
    sa.Column("type", sa.String(40), nullable=False),
    sa.Column("subject", sa.String(64)),  # within the call: the extension or queue of a call.missed
    # "pbx:call:type:subject" for the events a call has at most once (NULL for call.updated...):
    # whichever source or process writes one first, the database drops the others
    sa.Column("once_key", sa.String(240)),
    sa.Column("payload", sa.JSON, nullable=False),  # the whole body: {"type", "timestamp", "data"}
    sa.Column("occurred_at", _UTC, nullable=False),  # the call's end for call.ended
    sa.Column("created_at", _UTC, nullable=False),
    sa.Index(None, "pbx_id", "call_id"),
    sa.Index(None, "created_at"),
    sa.Index(None, "once_key", unique=True),
)

# The outbox: one row per (event, endpoint) written in the transaction that wrote the event;
# status pending -> delivered, or dead once the retry schedule is spent (or the endpoint said 410).
deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", _ROW_ID, primary_key=True, autoincrement=True),
    sa.Column("event_seq", _ROW_ID, sa.ForeignKey("events.seq", ondelete="CASCADE"), nullable=False),
    sa.Column(
        "endpoint_id", sa.Integer, sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("status", sa.String(12), nullable=False),  # pending, delivered, dead
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", _UTC, nullable=False),
    sa.Column("claimed_until", _UTC),  # a sender holds it until then (a crashed one lets go)
    sa.Column("last_status", sa.Integer),  # the receiver's HTTP status
    sa.Column("last_error", sa.String(1000)),
    sa.Column("delivered_at", _UTC),
    sa.Column("created_at", _UTC, nullable=False),
    sa.Index(None, "status", "next_attempt_at"),
    sa.Index(None, "endpoint_id", "status"),
    sa.Index(None, "event_seq"),
)


# Click-to-call access keys (``/webapi/{key}/makecall``, ``POST /api/pbx/{name}/calls``): one PBX
# each, stored as SHA-256 of the key (the key itself is shown once), rotated by adding a new one
# and revoking the old.
pbx_access_keys = sa.Table(
    "pbx_access_keys",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("pbx_id", sa.Integer, sa.ForeignKey("pbx.id", ondelete="CASCADE"), nullable=False),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("prefix", sa.String(16), nullable=False),  # the key's first characters, to tell keys apart
    sa.Column("label", sa.String(200)),
    sa.Column("created_at", _UTC, nullable=False),
    sa.Column("expires_at", _UTC),
    sa.Column("last_used_at", _UTC),
    sa.Column("revoked_at", _UTC),
)
