"""The thread stage: put each processed message on a ticket (new or existing) and keep the
ticket's facts and audit trail up to date. Runs in the main process, in arrival order, because
every decision depends on what the messages before it did."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from maild.log import get_logger
from maild.rules import PRIORITIES
from maild.store.models import Message, Ticket
from maild.store.tickets import (
    StoreLookups,
    add_participants,
    add_references,
    insert_ticket,
    next_number,
    record_event,
)
from maild.threader import (
    ThreadDecision,
    ThreadingFacts,
    ThreadingPolicy,
    decide_thread,
    normalised_subject,
)

_MESSAGES = cast(Table, Message.__table__)


@dataclass(frozen=True)
class TicketingSettings:
    policy: ThreadingPolicy
    timezone: ZoneInfo
    # The support mailboxes' own addresses: never a ticket's participant or customer.
    own_addresses: frozenset[str]


def thread_messages(
    session: Session, message_pks: Sequence[int], settings: TicketingSettings, now: datetime
) -> None:
    """Thread every processed, not yet threaded message among `message_pks`, oldest first."""
    # Selected by primary key only, the rest checked here: a planner must never be tempted to
    # walk every ticket-less (e.g. quarantined) message of the mailbox.
    batch = session.scalars(
        select(Message)
        .where(Message.id.in_(list(message_pks)))
        .order_by(Message.internaldate, Message.id)
    ).all()
    for message in batch:
        if message.status == "ok" and message.ticket_id is None and message.direction == "in":
            thread_message(session, message, settings, now)


def thread_message(
    session: Session, message: Message, settings: TicketingSettings, now: datetime
) -> str:
    """Put one message on a ticket; returns the ticket's number."""
    lookups = StoreLookups(session, exclude_message=message.id)
    decision = _same_message_elsewhere(message, lookups) or decide_thread(
        _facts(message), lookups, settings.policy, now
    )
    if decision.ticket is None:
        ticket_id, number = _create(session, message, decision, settings)
    else:
        ticket = session.scalars(select(Ticket).where(Ticket.number == decision.ticket)).one()
        _attach(session, ticket, message, decision)
        ticket_id, number = ticket.id, ticket.number
    add_participants(session, ticket_id, _people(message, settings))
    session.execute(
        update(_MESSAGES)
        .where(_MESSAGES.c.id == message.id)
        .values(
            ticket_id=ticket_id,
            thread_method=decision.method,
            thread_reasons=list(decision.reasons),
        )
    )
    add_references(
        session, message.id, [r for r in (message.in_reply_to, *(message.references or ())) if r]
    )
    get_logger(ticket=number, message_pk=message.id, message_id=message.message_id).info(
        "message_threaded", method=decision.method
    )
    return number


def _facts(message: Message) -> ThreadingFacts:
    text = message.text or ""
    new_part = message.new_part or ""
    return ThreadingFacts(
        message_id=message.message_id or "",
        in_reply_to=message.in_reply_to,
        references=tuple(message.references or ()),
        subject=message.subject or "",
        quoted_text=text.replace(new_part, "", 1) if new_part else text,
        sender=message.from_address,
        received_at=message.internaldate,
    )


def _same_message_elsewhere(message: Message, lookups: StoreLookups) -> ThreadDecision | None:
    """The same mail delivered to two support mailboxes (sent to support@ and billing@) is
    one conversation: the copy that comes second joins the first copy's ticket."""
    if message.message_id is None or message.message_id_synthesized:
        return None
    twin = lookups.by_message_ids([message.message_id])
    if twin is None:
        return None
    return ThreadDecision(
        ticket=twin.number,
        method="same-message",
        linked_to=None,
        reasons=(f"{message.message_id} was already delivered to ticket {twin.number}",),
    )


def _people(message: Message, settings: TicketingSettings) -> list[str]:
    recipients = message.recipients or {}
    addresses = [message.from_address or ""]
    for field in ("to", "cc"):
        addresses.extend(address for _name, address in recipients.get(field, []))
    return [a.lower() for a in addresses if a and a.lower() not in settings.own_addresses]


def _create(
    session: Session, message: Message, decision: ThreadDecision, settings: TicketingSettings
) -> tuple[int, str]:
    day = message.internaldate.astimezone(settings.timezone).strftime("%Y%m%d")
    linked_id = (
        session.execute(select(Ticket.id).where(Ticket.number == decision.linked_to)).scalar()
        if decision.linked_to
        else None
    )
    prefix = settings.policy.number_prefix
    number = next_number(session, prefix, day)
    ticket_id = insert_ticket(
        session,
        {
            "number": number,
            "status": "new",
            "subject": message.subject or "",
            "subject_key": normalised_subject(message.subject or "", prefix)[:500],
            "category": message.category,
            "priority": message.priority,
            "owner": message.owner,
            "classification": message.classification,
            "customer_address": message.from_address,
            "customer_name": message.from_name,
            "linked_to_id": linked_id,
            "created_at": message.internaldate,
            "last_customer_at": message.internaldate,
        },
    )
    record_event(
        session,
        ticket_id,
        message.internaldate,
        "created",
        message=message.id,
        method=decision.method,
        linked_to=decision.linked_to,
        category=message.category,
        priority=message.priority,
        owner=message.owner,
    )
    return ticket_id, number


def _attach(session: Session, ticket: Ticket, message: Message, decision: ThreadDecision) -> None:
    at = message.internaldate
    if ticket.last_customer_at is None or at > ticket.last_customer_at:
        ticket.last_customer_at = at
    if ticket.status in ("waiting", "resolved", "closed"):
        record_event(session, ticket.id, at, "reopened", message=message.id, was=ticket.status)
        ticket.status = "open"
        ticket.close_reason = None
        ticket.closed_at = None
    # A customer's new message may raise the urgency, never silently lower it.
    if message.priority and (
        ticket.priority is None
        or PRIORITIES.index(message.priority) > PRIORITIES.index(ticket.priority)
    ):
        record_event(
            session,
            ticket.id,
            at,
            "priority_raised",
            message=message.id,
            was=ticket.priority,
            now=message.priority,
        )
        ticket.priority = message.priority
    record_event(
        session, ticket.id, at, "message_added", message=message.id, method=decision.method
    )
