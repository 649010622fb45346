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
from maild.store.models import Draft, Message, Ticket
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
    decide_outgoing_thread,
    decide_thread,
    normalised_subject,
)

_MESSAGES = cast(Table, Message.__table__)
_DRAFTS = cast(Table, Draft.__table__)


@dataclass(frozen=True)
class TicketingSettings:
    policy: ThreadingPolicy
    timezone: ZoneInfo
    # The support mailboxes' own addresses: never a ticket's participant or customer.
    own_addresses: frozenset[str]


@dataclass(frozen=True)
class ThreadedMessage:
    """What the thread stage did with one message (the draft stage works from this)."""

    message_pk: int
    ticket_id: int
    created: bool  # the message opened the ticket
    outgoing: bool  # mail from one of our own addresses


def thread_messages(
    session: Session, message_pks: Sequence[int], settings: TicketingSettings, now: datetime
) -> list[ThreadedMessage]:
    """Thread every processed, not yet threaded message among `message_pks`, oldest first."""
    # Selected by primary key only, the rest checked here: a planner must never be tempted to
    # walk every ticket-less (e.g. quarantined) message of the mailbox.
    batch = session.scalars(
        select(Message)
        .where(Message.id.in_(list(message_pks)))
        .order_by(Message.internaldate, Message.id)
    ).all()
    return [
        thread_message(session, message, settings, now)
        for message in batch
        if message.status == "ok" and message.ticket_id is None
    ]


def thread_message(
    session: Session, message: Message, settings: TicketingSettings, now: datetime
) -> ThreadedMessage:
    """Put one message on a ticket.

    Mail from a support address (a Bcc or Sent-folder copy of what we or an agent sent) is
    stored as outgoing: it never becomes a ticket's customer, and a reply counts as an answer."""
    lookups = StoreLookups(session, exclude_message=message.id)
    outgoing = (message.from_address or "").lower() in settings.own_addresses
    decide = decide_outgoing_thread if outgoing else decide_thread
    decision = _same_message_elsewhere(message, lookups, outgoing) or decide(
        _facts(message), lookups, settings.policy, now
    )
    if decision.ticket is None:
        ticket_id, number = _create(session, message, decision, settings, outgoing)
    else:
        ticket = session.scalars(select(Ticket).where(Ticket.number == decision.ticket)).one()
        if outgoing:
            # A copy of what maild sent was counted when it was sent.
            counted = decision.method == "same-message"
            _attach_ours(session, ticket, message, decision, already_counted=counted)
        else:
            _attach(session, ticket, message, decision)
        ticket_id, number = ticket.id, ticket.number
    add_participants(session, ticket_id, _people(message, settings))
    session.execute(
        update(_MESSAGES)
        .where(_MESSAGES.c.id == message.id)
        .values(
            ticket_id=ticket_id,
            direction="out" if outgoing else "in",
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
    return ThreadedMessage(message.id, ticket_id, decision.ticket is None, outgoing)


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


def _same_message_elsewhere(
    message: Message, lookups: StoreLookups, outgoing: bool
) -> ThreadDecision | None:
    """The same mail delivered to two support mailboxes (sent to support@ and billing@) is
    one conversation: the copy that comes second joins the first copy's ticket. A copy has the
    same Message-ID and the same sender; content may differ (a gateway adds a footer)."""
    if message.message_id is None or message.message_id_synthesized:
        return None
    # Only mail from our own address can be a copy of what maild sent (saves a query a message).
    ours = lookups.sent_by_us(message.message_id) if outgoing else None
    if ours is not None:  # a Bcc or Sent-folder copy of a reply maild sent itself
        return ThreadDecision(
            ticket=ours.number,
            method="same-message",
            linked_to=None,
            reasons=(f"{message.message_id} is a message maild sent on {ours.number}",),
        )
    twin = lookups.same_message(message.message_id, message.from_address or "")
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
    session: Session,
    message: Message,
    decision: ThreadDecision,
    settings: TicketingSettings,
    outgoing: bool,
) -> tuple[int, str]:
    at = message.internaldate
    day = at.astimezone(settings.timezone).strftime("%Y%m%d")
    linked_id = (
        session.execute(select(Ticket.id).where(Ticket.number == decision.linked_to)).scalar()
        if decision.linked_to
        else None
    )
    prefix = settings.policy.number_prefix
    number = next_number(session, prefix, day)
    if outgoing:  # we wrote first: the customer is whom we wrote to, and it waits on them
        customer_name, customer = _first_recipient(message, settings)
        answered = None if message.is_auto_submitted else at
        people = {"status": "waiting", "first_response_at": answered}
        people |= {"last_agent_reply_at": answered, "last_customer_at": None}
    else:
        customer_name, customer = message.from_name, message.from_address
        people = {"status": "new", "last_customer_at": at}
    ticket_id = insert_ticket(
        session,
        {
            "number": number,
            "subject": message.subject or "",
            "subject_key": normalised_subject(message.subject or "", prefix)[:500],
            "category": message.category,
            "priority": message.priority,
            "rule_category": message.category,
            "rule_priority": message.priority,
            "owner": message.owner,
            "classification": message.classification,
            "customer_address": customer,
            "customer_name": customer_name,
            "linked_to_id": linked_id,
            "created_at": at,
            **people,
        },
    )
    record_event(
        session,
        ticket_id,
        at,
        "created",
        message=message.id,
        direction="out" if outgoing else "in",
        method=decision.method,
        linked_to=decision.linked_to,
        category=message.category,
        priority=message.priority,
        owner=message.owner,
    )
    return ticket_id, number


def _first_recipient(
    message: Message, settings: TicketingSettings
) -> tuple[str | None, str | None]:
    recipients = message.recipients or {}
    for name, address in [*recipients.get("to", []), *recipients.get("cc", [])]:
        if address and address.lower() not in settings.own_addresses:
            return name or None, address.lower()
    return None, None


def _attach(session: Session, ticket: Ticket, message: Message, decision: ThreadDecision) -> None:
    at = message.internaldate
    if message.is_auto_submitted or message.is_bounce:
        # An out-of-office or a bounce is not the customer speaking: it neither reopens the
        # ticket nor restarts its clock.
        record_event(
            session,
            ticket.id,
            at,
            "message_added",
            message=message.id,
            method=decision.method,
            automatic=True,
        )
        return
    if ticket.last_customer_at is None or at > ticket.last_customer_at:
        ticket.last_customer_at = at
    if ticket.status in ("waiting", "resolved", "closed"):
        record_event(session, ticket.id, at, "reopened", message=message.id, was=ticket.status)
        ticket.status = "open"
        ticket.close_reason = None
        ticket.closed_at = None
    # A customer's new message may raise the urgency, never silently lower it.
    if message.priority and _higher(message.priority, ticket.rule_priority):
        ticket.rule_priority = message.priority
    if message.priority and _higher(message.priority, ticket.priority):
        record_event(
            session,
            ticket.id,
            at,
            "priority_raised",
            message=message.id,
            was=ticket.priority,
            now=message.priority,
            reasons=message.classification or [],
        )
        ticket.priority = message.priority
    record_event(
        session, ticket.id, at, "message_added", message=message.id, method=decision.method
    )


def _attach_ours(
    session: Session,
    ticket: Ticket,
    message: Message,
    decision: ThreadDecision,
    *,
    already_counted: bool = False,
) -> None:
    """Our own reply (an agent's, seen as a Bcc or Sent copy): the ticket was answered.

    An automatic message of ours (an acknowledgement) is not an answer."""
    at = message.internaldate
    answered = not message.is_auto_submitted and not already_counted
    if answered:
        if ticket.first_response_at is None or at < ticket.first_response_at:
            ticket.first_response_at = at
        if ticket.last_agent_reply_at is None or at > ticket.last_agent_reply_at:
            ticket.last_agent_reply_at = at
        # Waiting on the customer, unless they wrote again after this reply.
        latest_customer = ticket.last_customer_at
        if latest_customer is None or at >= latest_customer:
            _supersede_drafts(session, ticket, message, at)
        if ticket.status in ("new", "open") and (latest_customer is None or at >= latest_customer):
            record_event(
                session,
                ticket.id,
                at,
                "status_changed",
                message=message.id,
                was=ticket.status,
                now="waiting",
            )
            ticket.status = "waiting"
    record_event(
        session,
        ticket.id,
        at,
        "message_added",
        message=message.id,
        method=decision.method,
        direction="out",
        answered=answered,
    )


def _supersede_drafts(session: Session, ticket: Ticket, message: Message, at: datetime) -> None:
    """An agent answered from a mail client: maild's pending draft would answer twice, and
    keep an answered ticket in the queue. It is set aside (rejected, with the reason)."""
    pending = session.execute(
        update(_DRAFTS)
        .where(_DRAFTS.c.ticket_id == ticket.id, _DRAFTS.c.status == "pending")
        .values(
            status="rejected",
            decided_by=message.from_address,
            decided_at=at,
            reason=f"answered outside maild ({message.message_id})",
        )
        .returning(_DRAFTS.c.id)
    ).all()
    for (draft_id,) in pending:
        record_event(session, ticket.id, at, "draft_superseded", draft=draft_id, message=message.id)


def _higher(priority: str, than: str | None) -> bool:
    return than is None or PRIORITIES.index(priority) > PRIORITIES.index(than)
