"""What the ticket commands show: tickets as plain dicts (for --json) and as terminal tables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rich.table import Table
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from maild.store.db import Database
from maild.store.models import (
    Mailbox,
    Message,
    OutgoingMessage,
    Ticket,
    TicketEvent,
    TicketParticipant,
)
from maild.store.sla_store import current_tiers, ticket_clocks
from maild.ticket_actions import TicketActionError, find_ticket


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _ticket_dict(
    ticket: Ticket, message_count: int, linked_to: str | None, merged_into: str | None = None
) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "number": ticket.number,
        "status": ticket.status,
        "close_reason": ticket.close_reason,
        "subject": ticket.subject,
        "category": ticket.category,
        "priority": ticket.priority,
        "rule_category": ticket.rule_category,
        "rule_priority": ticket.rule_priority,
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
        "merged_into": merged_into,
        "message_count": message_count,
        "escalation_tier": None,
        "classification": ticket.classification or [],
    }


def list_tickets(
    database: Database,
    *,
    status: str | None = None,
    owner: str | None = None,
    customer: str | None = None,
    participant: str | None = None,
    only: set[int] | None = None,
) -> list[dict[str, Any]]:
    """Tickets oldest first, filtered by status, owner (substring), customer address, an
    address that took part without being the customer, or ticket ids (`only`)."""
    linked = aliased(Ticket)
    merged = aliased(Ticket)
    counts = (
        select(Message.ticket_id, func.count(Message.id).label("n"))
        .group_by(Message.ticket_id)
        .subquery()
    )
    query = (
        select(Ticket, func.coalesce(counts.c.n, 0), linked.number, merged.number)
        .outerjoin(counts, counts.c.ticket_id == Ticket.id)
        .outerjoin(linked, linked.id == Ticket.linked_to_id)
        .outerjoin(merged, merged.id == Ticket.merged_into_id)
        .order_by(Ticket.id)
    )
    if customer is not None:
        query = query.where(Ticket.customer_address == customer.strip().lower())
    if participant is not None:
        query = query.where(
            Ticket.id.in_(
                select(TicketParticipant.ticket_id).where(
                    TicketParticipant.address == participant.strip().lower()
                )
            ),
            or_(
                Ticket.customer_address.is_(None),
                Ticket.customer_address != participant.strip().lower(),
            ),
        )
    if status is not None:
        query = query.where(Ticket.status == status)
    if owner is not None:
        query = query.where(func.lower(Ticket.owner).contains(owner.lower()))
    if only is not None:
        query = query.where(Ticket.id.in_(sorted(only)))
    with database.session() as session:
        rows = [_ticket_dict(t, n, link, into) for t, n, link, into in session.execute(query)]
        ids = [row.pop("id") for row in rows]
        tiers = current_tiers(session, ticket_clocks(session, ids))
    for ticket_id, row in zip(ids, rows, strict=True):
        row["escalation_tier"] = tiers.get(ticket_id)
    return rows


def show_ticket(database: Database, number: str) -> dict[str, Any] | None:
    """One ticket with its participants, messages (oldest first) and audit trail."""
    with database.session() as session:
        try:
            ticket = find_ticket(session, number)
        except TicketActionError:
            return None
        linked = session.get(Ticket, ticket.linked_to_id) if ticket.linked_to_id else None
        merged = session.get(Ticket, ticket.merged_into_id) if ticket.merged_into_id else None
        messages = session.execute(
            select(Message, Mailbox.name)
            .join(Mailbox, Mailbox.id == Message.mailbox_id)
            .where(Message.ticket_id == ticket.id)
            .order_by(Message.internaldate, Message.id)
        ).all()
        result = _ticket_dict(
            ticket,
            len(messages),
            linked.number if linked else None,
            merged.number if merged else None,
        )
        result.pop("id")
        clocks = ticket_clocks(session, [ticket.id])
        result["escalation_tier"] = current_tiers(session, clocks).get(ticket.id)
        result["unanswered_since"] = _iso(clocks[0].unanswered_since) if clocks else None
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
                "message_id": m.message_id,
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
        result["messages"].extend(_sent_by_us(session, ticket.id, result["messages"]))
        result["messages"].sort(key=lambda m: m["received_at"] or "")
        result["history"] = [
            {"at": _iso(e.at), "actor": e.actor, "action": e.action, "detail": e.detail or {}}
            for e in session.scalars(
                select(TicketEvent)
                .where(TicketEvent.ticket_id == ticket.id)
                .order_by(TicketEvent.id)
            )
        ]
        return result


def _sent_by_us(
    session: Session, ticket_id: int, stored: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """What maild sent on the ticket, unless a copy of it came back and is listed already."""
    seen = {m["message_id"] for m in stored}
    rows = session.execute(
        select(OutgoingMessage, Mailbox)
        .join(Mailbox, Mailbox.id == OutgoingMessage.mailbox_id)
        .where(OutgoingMessage.ticket_id == ticket_id, OutgoingMessage.state == "sent")
    ).all()
    return [
        {
            "id": None,
            "message_id": row.message_id,
            "mailbox": mailbox.name,
            "from": mailbox.address,
            "subject": row.subject,
            "received_at": _iso(row.sent_at),
            "direction": "out",
            "thread_method": f"sent-{row.kind}",
            "thread_reasons": [],
            "new_part": None,
        }
        for row, mailbox in rows
        if row.message_id not in seen
    ]


def customer_tickets(database: Database, address: str) -> dict[str, Any]:
    """A customer's tickets, and the tickets they took part in as someone else's Cc."""
    address = address.strip().lower()
    own = list_tickets(database, customer=address)
    with database.session() as session:
        name = session.scalars(
            select(Ticket.customer_name)
            .where(Ticket.customer_address == address, Ticket.customer_name.is_not(None))
            .order_by(Ticket.id.desc())
            .limit(1)
        ).first()
    return {
        "address": address,
        "name": name,
        "tickets": own,
        "participant_in": list_tickets(database, participant=address),
    }


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
