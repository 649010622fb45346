"""What the SLA clock needs from the database, in a few set-based queries, and recording each
notification exactly once (a unique key, not an in-memory set)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Table, and_, false, func, insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from maild.sla import TicketClock
from maild.store.models import Message, Notification, Ticket

_CHUNK = 500


def unanswered_query() -> Select[int | None, datetime]:
    """(ticket_id, since) per new/open ticket: the arrival of its oldest customer message after
    the last agent reply that was sent (automatic mail, bounces and lists are not the customer
    waiting). The one definition of "unanswered" in SQL; callers may join and narrow it."""
    return (
        select(Message.ticket_id.label("ticket_id"), func.min(Message.internaldate).label("since"))
        .join(Ticket, Ticket.id == Message.ticket_id)
        .where(
            Ticket.status.in_(("new", "open")),
            Message.status == "ok",
            Message.direction == "in",
            Message.is_auto_submitted == false(),
            Message.is_bounce == false(),
            Message.is_mailing_list == false(),
            or_(
                Ticket.last_agent_reply_at.is_(None),
                Message.internaldate > Ticket.last_agent_reply_at,
            ),
        )
        .group_by(Message.ticket_id)
    )


def unanswered_since(
    session: Session, ticket_ids: Sequence[int] | None = None
) -> dict[int, datetime]:
    """`unanswered_query` as a dict, for every ticket or those of `ticket_ids`."""
    query = unanswered_query()
    found: dict[int, datetime] = {}
    for chunk in _chunks(ticket_ids):
        narrowed = query if chunk is None else query.where(Message.ticket_id.in_(chunk))
        found.update({int(t): since for t, since in session.execute(narrowed) if t is not None})
    return found


def ticket_clocks(session: Session, ticket_ids: Sequence[int] | None = None) -> list[TicketClock]:
    """The clocks of every ticket that can be unanswered or due a follow-up (or of
    `ticket_ids`), with the keys of the notifications already decided for them."""
    since = unanswered_since(session, ticket_ids)
    query = select(
        Ticket.id, Ticket.number, Ticket.status, Ticket.priority, Ticket.resolved_at
    ).where(
        or_(
            Ticket.status.in_(("new", "open")),
            and_(Ticket.status == "resolved", Ticket.resolved_at.is_not(None)),
        )
    )
    rows: list[Any] = []
    for chunk in _chunks(ticket_ids):
        rows.extend(session.execute(query if chunk is None else query.where(Ticket.id.in_(chunk))))
    fired = fired_keys(session, [row.id for row in rows])
    return [
        TicketClock(
            ticket_id=row.id,
            number=row.number,
            status=row.status,
            priority=row.priority,
            unanswered_since=since.get(row.id),
            resolved_at=row.resolved_at,
            fired=frozenset(fired.get(row.id, ())),
        )
        for row in rows
    ]


def fired_keys(session: Session, ticket_ids: Sequence[int]) -> dict[int, set[str]]:
    """Per ticket, the action keys (`SlaAction.key`) already decided (whatever recipient)."""
    fired: dict[int, set[str]] = {}
    for chunk in _chunks(ticket_ids):
        if not chunk:
            continue
        for ticket_id, key in session.execute(
            select(Notification.ticket_id, Notification.key).where(
                Notification.ticket_id.in_(chunk)
            )
        ):
            if ticket_id is not None:
                fired.setdefault(ticket_id, set()).add(action_key_of(key))
    return fired


def current_tiers(session: Session, clocks: Iterable[TicketClock]) -> dict[int, int]:
    """Per ticket, the highest escalation tier fired in its current unanswered episode."""
    tiers: dict[int, int] = {}
    for clock in clocks:
        if clock.unanswered_since is None:
            continue
        episode = clock.unanswered_since.isoformat(timespec="seconds")
        for key in clock.fired:
            kind, _number, rest = key.split(":", 2)
            stamp, tier, _seq = rest.rsplit(":", 2)
            if kind == "escalation" and stamp == episode:
                tiers[clock.ticket_id] = max(tiers.get(clock.ticket_id, 0), int(tier))
    return tiers


def notification_key(action_key: str, recipient: str) -> str:
    return f"{action_key}:{recipient}"


def action_key_of(key: str) -> str:
    """The action part of a stored key (the recipient, which has no colon, comes last)."""
    return key.rsplit(":", 1)[0]


def record_once(session: Session, values: dict[str, Any]) -> int | None:
    """Insert the notification unless its key exists; its id, or None when someone (a second
    sweep, another process) decided it already."""
    table = cast(Table, Notification.__table__)
    dialect = session.get_bind().dialect.name
    statement: Any
    if dialect == "postgresql":
        statement = postgresql.insert(table).on_conflict_do_nothing(index_elements=["key"])
    elif dialect == "sqlite":
        statement = sqlite.insert(table).on_conflict_do_nothing(index_elements=["key"])
    else:  # pragma: no cover - the two supported databases are above
        statement = insert(table)
    return session.execute(statement.returning(table.c.id), values).scalar_one_or_none()


def _chunks(ids: Sequence[int] | None) -> Iterable[list[int] | None]:
    if ids is None:
        yield None
        return
    for start in range(0, len(ids), _CHUNK):
        yield list(ids[start : start + _CHUNK])
