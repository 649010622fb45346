"""Tickets in the database: indexed lookups for the threader, numbering, create and attach.

Every lookup is one indexed query (Message-ID, reference, number, subject key + customer), so
threading a message costs the same with 100 or 100,000 stored messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from maild.store.models import (
    Message,
    MessageReference,
    Ticket,
    TicketEvent,
    TicketParticipant,
    TicketSequence,
)
from maild.store.repository import insert_ignoring_duplicates
from maild.threader import TicketRef

ACTOR = "maild"
_OPEN_STATUSES = ("new", "open", "waiting", "resolved")


class StoreLookups:
    """The threader's `TicketLookups`, answered from the database in the caller's session."""

    def __init__(self, session: Session, exclude_message: int | None = None) -> None:
        self._session = session
        self._exclude = exclude_message

    def _ref(self, ticket: Ticket | None) -> TicketRef | None:
        if ticket is None:
            return None
        participants = self._session.scalars(
            select(TicketParticipant.address).where(TicketParticipant.ticket_id == ticket.id)
        )
        return TicketRef(
            number=ticket.number,
            status=ticket.status,
            closed_at=ticket.closed_at,
            participants=frozenset(participants),
            customer=ticket.customer_address or "",
        )

    def _ticket_of_messages(self, query: Any) -> Ticket | None:
        return self._session.scalars(
            select(Ticket).where(Ticket.id.in_(query)).order_by(Ticket.id.desc()).limit(1)
        ).first()

    def by_message_ids(self, message_ids: Sequence[str]) -> TicketRef | None:
        for message_id in message_ids:
            query = select(Message.ticket_id).where(
                Message.message_id == message_id, Message.ticket_id.is_not(None)
            )
            if self._exclude is not None:
                query = query.where(Message.id != self._exclude)
            ticket = self._ticket_of_messages(query)
            if ticket is not None:
                return self._ref(ticket)
        return None

    def referenced_by(self, message_id: str) -> TicketRef | None:
        query = (
            select(Message.ticket_id)
            .join(MessageReference, MessageReference.stored_message_id == Message.id)
            .where(MessageReference.ref == message_id, Message.ticket_id.is_not(None))
        )
        return self._ref(self._ticket_of_messages(query))

    def by_number(self, number: str) -> TicketRef | None:
        return self._ref(
            self._session.scalars(select(Ticket).where(Ticket.number == number)).first()
        )

    def by_subject(
        self, normalised_subject: str, customer: str, since: datetime
    ) -> TicketRef | None:
        ticket = self._session.scalars(
            select(Ticket)
            .where(
                Ticket.subject_key == normalised_subject,
                Ticket.customer_address == customer,
                Ticket.status.in_(_OPEN_STATUSES),
                Ticket.last_customer_at >= since,
            )
            .order_by(Ticket.last_customer_at.desc())
            .limit(1)
        ).first()
        return self._ref(ticket)


def next_number(session: Session, prefix: str, day: str) -> str:
    """`<prefix><YYYYMMDD>-<NNNN>`: per-day sequence in one row, updated under the row's lock
    (PostgreSQL) or the database's write lock (SQLite), so concurrent pollers never collide."""
    key = f"{prefix}{day}"
    insert_ignoring_duplicates(session, TicketSequence, [{"day": key, "last": 0}])
    last = session.execute(
        update(TicketSequence)
        .where(TicketSequence.day == key)
        .values(last=TicketSequence.last + 1)
        .returning(TicketSequence.last)
    ).scalar_one()
    return f"{key}-{last:04d}"


def record_event(
    session: Session, ticket: Ticket, at: datetime, action: str, **detail: Any
) -> None:
    session.add(TicketEvent(ticket_id=ticket.id, at=at, actor=ACTOR, action=action, detail=detail))


def add_participants(session: Session, ticket: Ticket, addresses: Sequence[str]) -> None:
    insert_ignoring_duplicates(
        session,
        TicketParticipant,
        [{"ticket_id": ticket.id, "address": a.lower()} for a in dict.fromkeys(addresses) if a],
    )


def add_references(session: Session, message_pk: int, refs: Sequence[str]) -> None:
    insert_ignoring_duplicates(
        session,
        MessageReference,
        [{"stored_message_id": message_pk, "ref": ref[:998]} for ref in dict.fromkeys(refs) if ref],
    )
