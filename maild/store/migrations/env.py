"""Alembic environment: maild always passes an open connection (see maild.store.db.upgrade)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from maild.store.models import Base

connection: Connection | None = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `maild db upgrade`, which supplies the connection")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
