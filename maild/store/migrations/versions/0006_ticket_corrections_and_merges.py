"""tickets: the rules' category and priority beside agents' corrections; merges

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 05:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rule_category", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("rule_priority", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_tickets_merged_into_id"), ["merged_into_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_tickets_merged_into_id_tickets"), "tickets", ["merged_into_id"], ["id"]
        )
    # Until now no agent could correct a ticket: what it shows is what the rules decided.
    op.execute("UPDATE tickets SET rule_category = category, rule_priority = priority")


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_tickets_merged_into_id_tickets"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_tickets_merged_into_id"))
        batch_op.drop_column("merged_into_id")
        batch_op.drop_column("rule_priority")
        batch_op.drop_column("rule_category")
