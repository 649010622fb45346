"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from maild.store.db import Database
from maild.store.models import Base


def test_migrated_schema_matches_the_models(database: Database) -> None:
    """`open_database` migrates to head; autogenerate then finds nothing left to change."""
    with database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
