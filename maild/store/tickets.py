"""Tickets in the database: indexed lookups for the threader, numbering, create and attach.

Every lookup is one indexed query (Message-ID, reference, number, subject key + customer), so
threading a message costs the same with 100 or 100,000 stored messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from maild.store.models import (
    Message,
    MessageReference,
    OutgoingMessage,
    Ticket,
    TicketEvent,
    TicketParticipant,
    TicketSequence,
)
from maild.store.repository import insert_ignoring_duplicates
from maild.threader import TicketRef

ACTOR = "maild"
_OPEN_STATUSES = ("new", "open", "waiting", "resolved")
_MAX_MERGE_HOPS = 10


# Built once: constructing a statement costs more than SQLite takes to run it.
_PARTICIPANTS = select(TicketParticipant.address).where(
    TicketParticipant.ticket_id == bindparam("ticket_id")
)


def _newest_ticket_of(messages: Select[Any]) -> Select[Any]:
    return select(Ticket).where(Ticket.id.in_(messages)).order_by(Ticket.id.desc()).limit(1)


_THREADED_OTHER = (Message.ticket_id.is_not(None), Message.id != bindparam("exclude"))
_BY_MESSAGE_ID = _newest_ticket_of(
    select(Message.ticket_id).where(Message.message_id == bindparam("message_id"), *_THREADED_OTHER)
)
_SAME_MESSAGE_FROM = _newest_ticket_of(
    select(Message.ticket_id).where(
        Message.message_id == bindparam("message_id"),
        Message.from_address == bindparam("sender"),
        *_THREADED_OTHER,
    )
)
_REFERENCED_BY = _newest_ticket_of(
    select(Message.ticket_id)
    .join(MessageReference, MessageReference.stored_message_id == Message.id)
    .where(MessageReference.ref == bindparam("ref"), Message.ticket_id.is_not(None))
)
# A message we sent (the outbox holds its Message-ID from before it went out).
_SENT_BY_US = (
    select(Ticket)
    .join(OutgoingMessage, OutgoingMessage.ticket_id == Ticket.id)
    .where(OutgoingMessage.message_id == bindparam("message_id"))
    .limit(1)
)
_BY_NUMBER = select(Ticket).where(Ticket.number == bindparam("number"))
_BY_SUBJECT = (
    select(Ticket)
    .where(
        Ticket.subject_key == bindparam("key"),
        Ticket.customer_address == bindparam("customer"),
        Ticket.status.in_(_OPEN_STATUSES),
        Ticket.last_customer_at >= bindparam("since"),
    )
    .order_by(Ticket.last_customer_at.desc())
    .limit(1)
)
_SEQUENCES = cast(Table, TicketSequence.__table__)
_NEXT_IN_SEQUENCE = (
    update(_SEQUENCES)
    .where(_SEQUENCES.c.day == bindparam("key"))
    .values(last=_SEQUENCES.c.last + 1)
    .returning(_SEQUENCES.c.last)
)


_TICKETS = cast(Table, Ticket.__table__)
_INSERT_TICKET = insert(_TICKETS).returning(_TICKETS.c.id)
_INSERT_EVENT = insert(cast(Table, TicketEvent.__table__))


class StoreLookups:
    """The threader's `TicketLookups`, answered from the database in the caller's session."""

    def __init__(self, session: Session, exclude_message: int | None = None) -> None:
        self._session = session
        self._exclude = exclude_message if exclude_message is not None else -1

    def _ref(self, ticket: Ticket | None) -> TicketRef | None:
        if ticket is None:
            return None
        asked_for = ticket.number
        # A merged ticket stands for the one it was merged into (bounded: merges never cycle,
        # but a hand-edited database must not hang the poller).
        for _ in range(_MAX_MERGE_HOPS):
            if ticket.merged_into_id is None:
                break
            target = self._session.get(Ticket, ticket.merged_into_id)
            if target is None:
                break
            ticket = target
        participants = self._session.scalars(_PARTICIPANTS, {"ticket_id": ticket.id})
        return TicketRef(
            number=ticket.number,
            status=ticket.status,
            closed_at=ticket.closed_at,
            participants=frozenset(participants),
            customer=ticket.customer_address or "",
            merged_from=asked_for if asked_for != ticket.number else None,
        )

    def _first(self, statement: Any, params: dict[str, Any]) -> TicketRef | None:
        return self._ref(self._session.scalars(statement, params).first())

    def by_message_ids(self, message_ids: Sequence[str]) -> TicketRef | None:
        """The ticket of a stored message, incoming or one we sent, with one of these ids."""
        for message_id in message_ids:
            found = self._first(
                _BY_MESSAGE_ID, {"message_id": message_id, "exclude": self._exclude}
            ) or self.sent_by_us(message_id)
            if found is not None:
                return found
        return None

    def sent_by_us(self, message_id: str) -> TicketRef | None:
        return self._first(_SENT_BY_US, {"message_id": message_id})

    def same_message(self, message_id: str, sender: str) -> TicketRef | None:
        """The ticket of an earlier copy of this mail: same Message-ID and same sender (a
        different mail reusing a Message-ID, as some web forms do, is not a copy)."""
        return self._first(
            _SAME_MESSAGE_FROM,
            {"message_id": message_id, "sender": sender, "exclude": self._exclude},
        )

    def referenced_by(self, message_id: str) -> TicketRef | None:
        return self._first(_REFERENCED_BY, {"ref": message_id})

    def by_number(self, number: str) -> TicketRef | None:
        return self._first(_BY_NUMBER, {"number": number})

    def by_subject(
        self, normalised_subject: str, customer: str, since: datetime
    ) -> TicketRef | None:
        return self._first(
            _BY_SUBJECT, {"key": normalised_subject, "customer": customer, "since": since}
        )


def next_number(session: Session, prefix: str, day: str) -> str:
    """`<prefix><YYYYMMDD>-<NNNN>`: per-day sequence in one row, updated under the row's lock
    (PostgreSQL) or the database's write lock (SQLite), so concurrent pollers never collide."""
    key = f"{prefix}{day}"
    last = session.execute(_NEXT_IN_SEQUENCE, {"key": key}).scalar_one_or_none()
    if last is None:  # the day's first ticket: create its row (a racing poller may win that)
        insert_ignoring_duplicates(session, TicketSequence, [{"day": key, "last": 0}])
        last = session.execute(_NEXT_IN_SEQUENCE, {"key": key}).scalar_one()
    return f"{key}-{last:04d}"


def insert_ticket(session: Session, values: dict[str, Any]) -> int:
    """A new ticket row; plain Core, as the ingest path creates thousands in a first sync."""
    return int(session.execute(_INSERT_TICKET, values).scalar_one())


def record_event(
    session: Session,
    ticket_id: int,
    at: datetime,
    action: str,
    *,
    actor: str = ACTOR,
    **detail: Any,
) -> None:
    """One line of a ticket's audit trail: who (`actor`), when, what, and the details."""
    session.execute(
        _INSERT_EVENT,
        {"ticket_id": ticket_id, "at": at, "actor": actor, "action": action, "detail": detail},
    )


def add_participants(session: Session, ticket_id: int, addresses: Sequence[str]) -> None:
    insert_ignoring_duplicates(
        session,
        TicketParticipant,
        [{"ticket_id": ticket_id, "address": a.lower()} for a in dict.fromkeys(addresses) if a],
    )


def add_references(session: Session, message_pk: int, refs: Sequence[str]) -> None:
    insert_ignoring_duplicates(
        session,
        MessageReference,
        [{"stored_message_id": message_pk, "ref": ref[:998]} for ref in dict.fromkeys(refs) if ref],
    )
