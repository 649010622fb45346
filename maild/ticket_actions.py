"""What agents do to a ticket: assign, resolve, close, reopen, correct, merge.

Every change is checked first (a clear `TicketActionError` and nothing changed when it is not
allowed), then written with one audit event naming who did it. The functions take a session
and the time, so the CLI and (later) the web pages share them and tests freeze the clock.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from maild.rules import PRIORITIES
from maild.store.models import Message, Ticket, TicketParticipant
from maild.store.tickets import add_participants, record_event

STATUSES = ("new", "open", "waiting", "resolved", "closed")
CLOSE_REASONS = ("resolved", "duplicate", "spam", "cannot_resolve")


class TicketActionError(ValueError):
    """An action that is not allowed, or names something that does not exist."""


def find_ticket(session: Session, number: str) -> Ticket:
    """The ticket numbered `number` (brackets and case forgiven), or TicketActionError."""
    # Numbers are stored upper-case (the prefix is capitals): an indexed equality, no scan.
    wanted = number.strip().strip("[]【】").upper()
    ticket = session.scalars(select(Ticket).where(Ticket.number == wanted)).first()
    if ticket is None:
        raise TicketActionError(f"no ticket {number}")
    return ticket


def assign(session: Session, ticket: Ticket, agent: str, actor: str, now: datetime) -> None:
    """Give the ticket to `agent`; a new ticket is then open (someone is on it)."""
    _not_merged(ticket)
    agent = agent.strip()
    if not agent:
        raise TicketActionError("the agent to assign must not be empty")
    record_event(session, ticket.id, now, "assigned", actor=actor, was=ticket.assignee, now=agent)
    ticket.assignee = agent
    if ticket.status == "new":
        _set_status(session, ticket, "open", actor, now)


def resolve(session: Session, ticket: Ticket, actor: str, now: datetime) -> None:
    """The agent considers it solved; the customer's next reply reopens it."""
    _not_merged(ticket)
    if ticket.status in ("resolved", "closed"):
        raise TicketActionError(f"{ticket.number} is already {ticket.status}")
    _set_status(session, ticket, "resolved", actor, now)
    ticket.resolved_at = now


def close(session: Session, ticket: Ticket, reason: str, actor: str, now: datetime) -> None:
    """Close with one of `CLOSE_REASONS`. A reply within `reopen_days` reopens it; a later
    one opens a new ticket linked to it."""
    _not_merged(ticket)
    if reason not in CLOSE_REASONS:
        raise TicketActionError(
            f"unknown close reason {reason!r}: use one of {', '.join(CLOSE_REASONS)}"
        )
    if ticket.status == "closed":
        raise TicketActionError(f"{ticket.number} is already closed ({ticket.close_reason})")
    _set_status(session, ticket, "closed", actor, now, reason=reason)
    ticket.close_reason = reason
    ticket.closed_at = now


def reopen(session: Session, ticket: Ticket, actor: str, now: datetime) -> None:
    _not_merged(ticket)
    if ticket.status not in ("waiting", "resolved", "closed"):
        raise TicketActionError(f"{ticket.number} is {ticket.status}, not waiting or finished")
    _set_status(session, ticket, "open", actor, now)
    ticket.close_reason = None
    ticket.closed_at = None


def correct(
    session: Session,
    ticket: Ticket,
    *,
    category: str | None,
    priority: str | None,
    known_categories: Collection[str],
    actor: str,
    now: datetime,
) -> None:
    """An agent's correction of category and/or priority; the rules' decision stays beside it
    (`rule_category`, `rule_priority`), and the event keeps both."""
    _not_merged(ticket)
    if category is None and priority is None:
        raise TicketActionError("nothing to set: give --category and/or --priority")
    if category is not None and category not in known_categories:
        raise TicketActionError(
            f"unknown category {category!r}: the rules know {', '.join(sorted(known_categories))}"
        )
    if priority is not None and priority not in PRIORITIES:
        raise TicketActionError(
            f"unknown priority {priority!r}: use one of {', '.join(reversed(PRIORITIES))}"
        )
    if category is not None and category != ticket.category:
        record_event(
            session,
            ticket.id,
            now,
            "category_set",
            actor=actor,
            was=ticket.category,
            now=category,
            rules_said=ticket.rule_category,
        )
        ticket.category = category
    if priority is not None and priority != ticket.priority:
        record_event(
            session,
            ticket.id,
            now,
            "priority_set",
            actor=actor,
            was=ticket.priority,
            now=priority,
            rules_said=ticket.rule_priority,
        )
        ticket.priority = priority


def merge(session: Session, source: Ticket, target: Ticket, actor: str, now: datetime) -> int:
    """Move every message of `source` onto `target` and close `source` as its duplicate.

    Replies to `source`'s messages or number then thread onto `target`. Returns how many
    messages moved."""
    if source.id == target.id:
        raise TicketActionError(f"cannot merge {source.number} into itself")
    _not_merged(source)
    _not_merged(target)
    moved = len(
        session.scalars(
            update(Message)
            .where(Message.ticket_id == source.id)
            .values(ticket_id=target.id)
            .returning(Message.id)
        ).all()
    )
    participants = session.scalars(
        select(TicketParticipant.address).where(TicketParticipant.ticket_id == source.id)
    ).all()
    add_participants(session, target.id, [*participants, source.customer_address or ""])
    _merge_facts(source, target)
    if source.status in ("new", "open") and target.status in ("waiting", "resolved", "closed"):
        reopen(session, target, actor, now)  # the duplicate still awaited an answer
    record_event(
        session, target.id, now, "merged_in", actor=actor, source=source.number, messages=moved
    )
    record_event(session, source.id, now, "merged_into", actor=actor, target=target.number)
    if source.status != "closed":
        _set_status(session, source, "closed", actor, now, reason="duplicate")
    source.close_reason = "duplicate"
    source.closed_at = source.closed_at or now
    source.merged_into_id = target.id
    return moved


def _merge_facts(source: Ticket, target: Ticket) -> None:
    """The merged ticket knows the earliest and latest of both; its priority is the higher."""
    target.created_at = min(target.created_at, source.created_at)
    target.first_response_at = _earliest(target.first_response_at, source.first_response_at)
    target.last_customer_at = _latest(target.last_customer_at, source.last_customer_at)
    target.last_agent_reply_at = _latest(target.last_agent_reply_at, source.last_agent_reply_at)
    if source.priority and (
        target.priority is None
        or PRIORITIES.index(source.priority) > PRIORITIES.index(target.priority)
    ):
        target.priority = source.priority


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return min(a, b) if a and b else a or b


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return max(a, b) if a and b else a or b


def _set_status(
    session: Session, ticket: Ticket, status: str, actor: str, now: datetime, **detail: str
) -> None:
    record_event(
        session,
        ticket.id,
        now,
        "status_changed",
        actor=actor,
        was=ticket.status,
        now=status,
        **detail,
    )
    ticket.status = status


def _not_merged(ticket: Ticket) -> None:
    if ticket.merged_into_id is not None:
        raise TicketActionError(
            f"{ticket.number} was merged into another ticket: act on that one instead"
        )
