"""Alembic environment of py3cx connect: run on the connection ``Database.migrate`` passes."""

from __future__ import annotations

from alembic import context

from py3cx.connect.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
