"""the tables of py3cx connect

Revision ID: 0001
Revises: (none)
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pbx",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("client_secret_enc", sa.Text(), nullable=False),
        sa.Column("route_point_id", sa.String(length=200), nullable=True),
        sa.Column("route_point_secret_enc", sa.Text(), nullable=True),
        sa.Column("time_zone", sa.String(length=64), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("rate_limit", sa.Float(), server_default="10", nullable=False),
        sa.Column("history_source", sa.String(length=10), server_default="auto", nullable=False),
        sa.Column("calls_interval", sa.Integer(), server_default="60", nullable=False),
        sa.Column("directory_interval", sa.Integer(), server_default="3600", nullable=False),
        sa.Column("overlap_seconds", sa.Integer(), server_default="7200", nullable=False),
        sa.Column("backfill_days", sa.Integer(), server_default="30", nullable=False),
        sa.Column("verify_tls", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("ca_bundle", sa.String(length=500), nullable=True),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pbx")),
        sa.UniqueConstraint("name", name=op.f("uq_pbx_name")),
    )
    op.create_table(
        "pbx_tokens",
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("identity", sa.String(length=200), nullable=False),
        sa.Column("access_token_enc", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("obtained_at", sa.Float(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("url", "identity", name=op.f("pk_pbx_tokens")),
    )
    op.create_table(
        "call_records",
        sa.Column("pbx_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ringing_seconds", sa.Float(), nullable=True),
        sa.Column("talking_seconds", sa.Float(), nullable=True),
        sa.Column("src_number", sa.String(length=100), nullable=True),
        sa.Column("src_e164", sa.String(length=32), nullable=True),
        sa.Column("src_dn", sa.String(length=64), nullable=True),
        sa.Column("src_name", sa.String(length=200), nullable=True),
        sa.Column("src_type", sa.Integer(), nullable=True),
        sa.Column("dst_number", sa.String(length=100), nullable=True),
        sa.Column("dst_e164", sa.String(length=32), nullable=True),
        sa.Column("dst_dn", sa.String(length=64), nullable=True),
        sa.Column("dst_name", sa.String(length=200), nullable=True),
        sa.Column("dst_type", sa.Integer(), nullable=True),
        sa.Column("direction", sa.String(length=20), nullable=True),
        sa.Column("status", sa.String(length=40), nullable=True),
        sa.Column("answered", sa.Boolean(), nullable=True),
        sa.Column("queue", sa.String(length=64), nullable=True),
        sa.Column("recording_ids", sa.String(length=500), nullable=True),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("first_synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["pbx_id"], ["pbx.id"], name=op.f("fk_call_records_pbx_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("pbx_id", "record_id", name=op.f("pk_call_records")),
    )
    with op.batch_alter_table("call_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_call_records_pbx_id_call_id"), ["pbx_id", "call_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_call_records_pbx_id_start_time"), ["pbx_id", "start_time"], unique=False
        )

    op.create_table(
        "calls",
        sa.Column("pbx_id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("direction", sa.String(length=20), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column("from_number", sa.String(length=100), nullable=True),
        sa.Column("from_e164", sa.String(length=32), nullable=True),
        sa.Column("from_name", sa.String(length=200), nullable=True),
        sa.Column("to_number", sa.String(length=100), nullable=True),
        sa.Column("to_e164", sa.String(length=32), nullable=True),
        sa.Column("answered_by_dn", sa.String(length=64), nullable=True),
        sa.Column("answered_by_name", sa.String(length=200), nullable=True),
        sa.Column("queue", sa.String(length=64), nullable=True),
        sa.Column("ringing_seconds", sa.Float(), nullable=False),
        sa.Column("talking_seconds", sa.Float(), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("recording_ids", sa.String(length=500), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["pbx_id"], ["pbx.id"], name=op.f("fk_calls_pbx_id"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pbx_id", "call_id", name=op.f("pk_calls")),
    )
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_calls_pbx_id_start_time"), ["pbx_id", "start_time"], unique=False
        )

    op.create_table(
        "departments",
        sa.Column("pbx_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["pbx_id"], ["pbx.id"], name=op.f("fk_departments_pbx_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("pbx_id", "department_id", name=op.f("pk_departments")),
    )
    op.create_table(
        "queue_agents",
        sa.Column("pbx_id", sa.Integer(), nullable=False),
        sa.Column("queue_number", sa.String(length=64), nullable=False),
        sa.Column("agent_number", sa.String(length=64), nullable=False),
        sa.Column("skill_group", sa.String(length=64), nullable=True),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["pbx_id"], ["pbx.id"], name=op.f("fk_queue_agents_pbx_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("pbx_id", "queue_number", "agent_number", name=op.f("pk_queue_agents")),
    )
    op.create_table(
        "queues",
        sa.Column("pbx_id", sa.Integer(), nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["pbx_id"], ["pbx.id"], name=op.f("fk_queues_pbx_id"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pbx_id", "queue_id", name=op.f("pk_queues")),
    )
    op.create_table(
        "sync_state",
        sa.Column("pbx_id", sa.Integer(), nullable=False),
        sa.Column("stream", sa.String(length=20), nullable=False),
        sa.Column("watermark", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("records_total", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("last_pass_records", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_pass_changed", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_pass_seconds", sa.Float(), nullable=True),
        sa.Column("passes", sa.Integer(), server_default="0", nullable=False),
        sa.Column("errors", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["pbx_id"], ["pbx.id"], name=op.f("fk_sync_state_pbx_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("pbx_id", "stream", name=op.f("pk_sync_state")),
    )
    op.create_table(
        "users",
        sa.Column("pbx_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=True),
        sa.Column("first_name", sa.String(length=200), nullable=True),
        sa.Column("last_name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("mobile", sa.String(length=100), nullable=True),
        sa.Column("department", sa.String(length=200), nullable=True),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["pbx_id"], ["pbx.id"], name=op.f("fk_users_pbx_id"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pbx_id", "user_id", name=op.f("pk_users")),
    )


def downgrade() -> None:
    op.drop_table("users")
    op.drop_table("sync_state")
    op.drop_table("queues")
    op.drop_table("queue_agents")
    op.drop_table("departments")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calls_pbx_id_start_time"))

    op.drop_table("calls")
    with op.batch_alter_table("call_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_records_pbx_id_start_time"))
        batch_op.drop_index(batch_op.f("ix_call_records_pbx_id_call_id"))

    op.drop_table("call_records")
    op.drop_table("pbx_tokens")
    op.drop_table("pbx")
