"""call events from Call Control, per-party call.missed, user events; PBX phonebooks as contacts;
click-to-call access keys

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # events: what an event is about within its call (the extension or queue of a call.missed)
    op.add_column("events", sa.Column("subject", sa.String(length=64), nullable=True))
    # events a call has at most once carry "pbx:call:type:subject": two sources (Call Control and
    # the record sync) or two processes racing write the first and the database drops the second
    op.add_column("events", sa.Column("once_key", sa.String(length=240), nullable=True))
    op.create_index(op.f("ix_events_once_key"), "events", ["once_key"], unique=True)
    # contacts: where a contact came from (NULL: imported from a file; "phonebook:<pbx>": a PBX's
    # phonebook) and its id there
    op.add_column("contacts", sa.Column("source", sa.String(length=120), nullable=True))
    op.add_column("contacts", sa.Column("source_key", sa.String(length=200), nullable=True))
    op.create_index(op.f("ix_contacts_source_source_key"), "contacts", ["source", "source_key"], unique=False)
    op.create_table(
        "pbx_access_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("pbx_id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["pbx_id"], ["pbx.id"], name=op.f("fk_pbx_access_keys_pbx_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pbx_access_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_pbx_access_keys_key_hash")),
    )


def downgrade() -> None:
    op.drop_table("pbx_access_keys")
    op.drop_index(op.f("ix_contacts_source_source_key"), table_name="contacts")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("source_key")
        batch.drop_column("source")
    op.drop_index(op.f("ix_events_once_key"), table_name="events")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("once_key")
        batch.drop_column("subject")
