"""What the ticket commands show: tickets as plain dicts (for --json) and as terminal tables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from maild.store.db import Database
from maild.store.models import Mailbox, Message, Ticket, TicketEvent, TicketParticipant


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _ticket_dict(ticket: Ticket, message_count: int, linked_to: str | None) -> dict[str, Any]:
    return {
        "number": ticket.number,
        "status": ticket.status,
        "close_reason": ticket.close_reason,
        "subject": ticket.subject,
        "category": ticket.category,
        "priority": ticket.priority,
        "owner": ticket.owner,
        "assignee": ticket.assignee,
        "customer": ticket.customer_address,
        "customer_name": ticket.customer_name,
        "created_at": _iso(ticket.created_at),
        "first_response_at": _iso(ticket.first_response_at),
        "last_customer_at": _iso(ticket.last_customer_at),
        "last_agent_reply_at": _iso(ticket.last_agent_reply_at),
        "closed_at": _iso(ticket.closed_at),
        "linked_to": linked_to,
        "message_count": message_count,
        "escalation_tier": None,
        "classification": ticket.classification or [],
    }


def list_tickets(
    database: Database, *, status: str | None = None, owner: str | None = None
) -> list[dict[str, Any]]:
    linked = aliased(Ticket)
    counts = (
        select(Message.ticket_id, func.count(Message.id).label("n"))
        .group_by(Message.ticket_id)
        .subquery()
    )
    query = (
        select(Ticket, func.coalesce(counts.c.n, 0), linked.number)
        .outerjoin(counts, counts.c.ticket_id == Ticket.id)
        .outerjoin(linked, linked.id == Ticket.linked_to_id)
        .order_by(Ticket.id)
    )
    if status is not None:
        query = query.where(Ticket.status == status)
    if owner is not None:
        query = query.where(func.lower(Ticket.owner).contains(owner.lower()))
    with database.session() as session:
        return [_ticket_dict(t, n, link) for t, n, link in session.execute(query)]


def show_ticket(database: Database, number: str) -> dict[str, Any] | None:
    """One ticket with its participants, messages (oldest first) and audit trail."""
    with database.session() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == number)).first()
        if ticket is None:
            return None
        linked = session.get(Ticket, ticket.linked_to_id) if ticket.linked_to_id else None
        messages = session.execute(
            select(Message, Mailbox.name)
            .join(Mailbox, Mailbox.id == Message.mailbox_id)
            .where(Message.ticket_id == ticket.id)
            .order_by(Message.internaldate, Message.id)
        ).all()
        result = _ticket_dict(ticket, len(messages), linked.number if linked else None)
        result["participants"] = list(
            session.scalars(
                select(TicketParticipant.address)
                .where(TicketParticipant.ticket_id == ticket.id)
                .order_by(TicketParticipant.id)
            )
        )
        result["mailboxes"] = sorted({mailbox for _, mailbox in messages})
        result["messages"] = [
            {
                "id": m.id,
                "mailbox": mailbox,
                "from": m.from_address,
                "subject": m.subject,
                "received_at": _iso(m.internaldate),
                "direction": m.direction,
                "thread_method": m.thread_method,
                "thread_reasons": m.thread_reasons or [],
                "new_part": m.new_part,
            }
            for m, mailbox in messages
        ]
        result["events"] = [
            {"at": _iso(e.at), "actor": e.actor, "action": e.action, "detail": e.detail or {}}
            for e in session.scalars(
                select(TicketEvent)
                .where(TicketEvent.ticket_id == ticket.id)
                .order_by(TicketEvent.id)
            )
        ]
        return result


def tickets_table(rows: Sequence[dict[str, Any]]) -> Table:
    table = Table(title="Tickets", title_justify="left")
    for column in ("number", "status", "priority", "category", "customer", "subject", "msgs"):
        table.add_column(column, no_wrap=column != "subject", overflow="ellipsis")
    for row in rows:
        table.add_row(
            row["number"],
            row["status"],
            row["priority"] or "",
            row["category"] or "",
            row["customer"] or "",
            row["subject"] or "",
            str(row["message_count"]),
        )
    return table
