"""What the ticket, message and draft pages show, read in a few queries per page.

The ticket page builds on `ticket_views.show_ticket` (what `maild tickets show --json` prints)
and adds, per stored message, what a person reading the thread needs: the sender's name, the
classification and its reasons, the attachments, and whether there is an HTML part.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from maild.draft_views import list_drafts, show_draft
from maild.store.db import Database
from maild.store.models import Draft, Message, MessageBlob, Ticket
from maild.ticket_actions import TicketActionError, find_ticket
from maild.ticket_views import show_ticket


def ticket_page(database: Database, number: str) -> dict[str, Any] | None:
    """The ticket as `show_ticket` gives it, each message enriched, and its drafts."""
    shown = show_ticket(database, number)
    if shown is None:
        return None
    ids = [m["id"] for m in shown["messages"] if m["id"] is not None]
    with database.session() as session:
        extras = {
            row.id: row
            for row in session.execute(
                select(
                    Message.id,
                    Message.from_name,
                    Message.html.is_not(None).label("has_html"),
                    Message.attachments,
                    Message.classification,
                    Message.category,
                    Message.priority,
                    Message.language,
                    Message.status,
                    Message.reason,
                    Message.text,
                ).where(Message.id.in_(ids))
            )
        }
    for message in shown["messages"]:
        row = extras.get(message["id"])
        message["from_name"] = row.from_name if row else None
        message["has_html"] = bool(row.has_html) if row else False
        message["attachments"] = [
            {"index": i, "filename": name or f"attachment-{i + 1}", "type": kind, "size": size}
            for i, (name, kind, size) in enumerate((row.attachments if row else None) or [])
        ]
        message["classification"] = (row.classification if row else None) or []
        message["category"] = row.category if row else None
        message["priority"] = row.priority if row else None
        message["status"] = row.status if row else "ok"
        message["reason"] = row.reason if row else None
        # The new part is what the customer added; a message without one shows its text.
        if not message["new_part"] and row is not None:
            message["new_part"] = row.text
    shown["drafts"] = list_drafts(database, ticket=shown["number"])
    return shown


@dataclass(frozen=True)
class StoredMessage:
    id: int
    ticket: str
    subject: str | None
    from_name: str | None
    from_address: str | None
    recipients: dict[str, Any]
    received_at: datetime
    sent_at: datetime | None
    text: str | None
    html: str | None
    attachments: list[Any]


def stored_message(database: Database, number: str, message_id: int) -> StoredMessage | None:
    """One message of the ticket (None if it is not on this ticket: no guessing ids across)."""
    with database.session() as session:
        try:
            ticket = find_ticket(session, number)
        except TicketActionError:
            return None
        message = session.get(Message, message_id)
        if message is None or message.ticket_id != ticket.id:
            return None
        return StoredMessage(
            id=message.id,
            ticket=ticket.number,
            subject=message.subject,
            from_name=message.from_name,
            from_address=message.from_address,
            recipients=message.recipients or {},
            received_at=message.internaldate,
            sent_at=message.sent_at,
            text=message.text,
            html=message.html,
            attachments=list(message.attachments or []),
        )


def raw_message(database: Database, number: str, message_id: int) -> bytes | None:
    """The message's bytes exactly as fetched, if it is on this ticket."""
    with database.session() as session:
        try:
            ticket = find_ticket(session, number)
        except TicketActionError:
            return None
        row = session.execute(
            select(MessageBlob.raw)
            .join(Message, Message.content_hash == MessageBlob.sha256)
            .where(Message.id == message_id, Message.ticket_id == ticket.id)
        ).first()
        return bytes(row[0]) if row is not None else None


def draft_page(database: Database, draft_id: int) -> dict[str, Any] | None:
    """The draft (with revisions), its ticket's summary and the customer message it answers."""
    shown = show_draft(database, draft_id)
    if shown is None:
        return None
    with database.session() as session:
        row = session.execute(
            select(Draft.answers_message_id, Ticket)
            .join(Ticket, Ticket.id == Draft.ticket_id)
            .where(Draft.id == draft_id)
        ).one()
        answered = session.get(Message, row[0]) if row[0] is not None else None
        ticket: Ticket = row[1]
        shown["ticket_info"] = {
            "number": ticket.number,
            "subject": ticket.subject,
            "status": ticket.status,
            "customer": ticket.customer_address,
            "customer_name": ticket.customer_name,
            "priority": ticket.priority,
            "category": ticket.category,
            "owner": ticket.owner,
            "assignee": ticket.assignee,
        }
        shown["answers"] = (
            {
                "id": answered.id,
                "from": answered.from_address,
                "from_name": answered.from_name,
                "subject": answered.subject,
                "received_at": answered.internaldate,
                "text": answered.new_part or answered.text or "",
            }
            if answered is not None
            else None
        )
    return shown
