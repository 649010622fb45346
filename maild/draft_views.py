"""What the draft commands show: drafts as plain dicts (for --json) and as terminal tables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rich.table import Table
from sqlalchemy import select

from maild.store.db import Database
from maild.store.drafts import revisions
from maild.store.models import Draft, OutgoingMessage, Ticket

STATUSES = ("pending", "approved", "sending", "sent", "rejected", "failed", "uncertain")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _draft_dict(draft: Draft, ticket: Ticket, sent: OutgoingMessage | None) -> dict[str, Any]:
    return {
        "id": draft.id,
        "ticket": ticket.number,
        "status": draft.status,
        "template": draft.template,
        "language": draft.language,
        "missing": list(draft.missing or []),
        "subject": draft.subject,
        "body": draft.body_text,
        "html": draft.body_html is not None,
        "edited": draft.edited,
        "customer": ticket.customer_address,
        "priority": ticket.priority,
        "category": ticket.category,
        "created_at": _iso(draft.created_at),
        "updated_at": _iso(draft.updated_at),
        "decided_by": draft.decided_by,
        "decided_at": _iso(draft.decided_at),
        "reason": draft.reason,
        "message_id": sent.message_id if sent else None,
        "attempts": sent.attempts if sent else 0,
        "sent_at": _iso(sent.sent_at) if sent else None,
        "smtp_reply": sent.smtp_reply if sent else None,
    }


def list_drafts(
    database: Database, *, status: str | None = None, ticket: str | None = None
) -> list[dict[str, Any]]:
    """Drafts oldest first, optionally of one status or one ticket."""
    query = (
        select(Draft, Ticket, OutgoingMessage)
        .join(Ticket, Ticket.id == Draft.ticket_id)
        .outerjoin(OutgoingMessage, OutgoingMessage.draft_id == Draft.id)
        .order_by(Draft.id)
    )
    if status is not None:
        query = query.where(Draft.status == status)
    if ticket is not None:
        query = query.where(Ticket.number == ticket)
    with database.session() as session:
        return [_draft_dict(d, t, o) for d, t, o in session.execute(query)]


def show_draft(database: Database, draft_id: int) -> dict[str, Any] | None:
    """One draft with its revisions (every text it has had, who wrote it and when)."""
    with database.session() as session:
        row = session.execute(
            select(Draft, Ticket, OutgoingMessage)
            .join(Ticket, Ticket.id == Draft.ticket_id)
            .outerjoin(OutgoingMessage, OutgoingMessage.draft_id == Draft.id)
            .where(Draft.id == draft_id)
        ).first()
        if row is None:
            return None
        result = _draft_dict(*row)
        result["html_body"] = row[0].body_html
        result["revisions"] = [
            {
                "at": _iso(r.at),
                "author": r.author,
                "kind": r.kind,
                "subject": r.subject,
                "body": r.body_text,
            }
            for r in revisions(session, draft_id)
        ]
        return result


def drafts_table(rows: Sequence[dict[str, Any]]) -> Table:
    table = Table(title="Drafts", title_justify="left")
    for column in ("id", "ticket", "status", "language", "missing", "customer", "subject"):
        table.add_column(column, no_wrap=column != "subject", overflow="ellipsis")
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["ticket"],
            row["status"],
            row["language"],
            ", ".join(row["missing"]),
            row["customer"] or "",
            row["subject"],
        )
    return table
