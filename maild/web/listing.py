"""The queue of drafts and the ticket lists, filtered, paginated and in one query each.

The queue is the pending drafts, most urgent first and then oldest (by how long the customer
has waited, as the SLA clock counts it): one SELECT joining drafts, tickets, the message
answered, its mailbox and the waiting time, with LIMIT/OFFSET, plus one COUNT — never a query
per row.

Who sees what (enforced here, not by hiding links): supervisors and admins see every owner's
drafts and may filter by any owner; agents see the drafts of tickets owned by or assigned to
them (matched by their address) and those nobody has claimed (no owner, no assignee), and may
narrow that to "mine" or "unclaimed". Every ticket and draft page stays open to every agent by
its address (a colleague's link, a notification mail).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from maild.sla import SlaPolicy, age
from maild.store.models import Draft, Mailbox, Message, Ticket
from maild.store.sla_store import unanswered_query
from maild.web.auth import WebUser

AnySelect = Select[*tuple[Any, ...]]
PER_PAGE = 50
MAX_PER_PAGE = 200
_RANK = case({"urgent": 0, "high": 1, "normal": 2, "low": 3}, value=Ticket.priority, else_=2)


@dataclass(frozen=True)
class Filters:
    """What a list is narrowed to; `owner` is "", "mine", "unclaimed" or (supervisors) text
    found in the owner or assignee."""

    category: str | None = None
    priority: str | None = None
    owner: str = ""
    mailbox: str | None = None
    status: str | None = None
    customer: str | None = None
    page: int = 1
    per_page: int = PER_PAGE

    @classmethod
    def from_query(cls, params: Mapping[str, str], *, status: str | None = None) -> Filters:
        def text(key: str) -> str | None:
            value = (params.get(key) or "").strip()
            return value or None

        return cls(
            category=text("category"),
            priority=text("priority"),
            owner=(params.get("owner") or "").strip(),
            mailbox=text("mailbox"),
            status=text("status") or status,
            customer=text("customer"),
            page=_positive(params.get("page"), 1, 1_000_000),
            per_page=_positive(params.get("per_page"), PER_PAGE, MAX_PER_PAGE),
        )

    def query_string(self, **changes: Any) -> str:
        """This filter as a query string (for pagination links), with `changes` applied."""
        values = {
            "category": self.category,
            "priority": self.priority,
            "owner": self.owner,
            "mailbox": self.mailbox,
            "page": self.page,
            "per_page": self.per_page if self.per_page != PER_PAGE else None,
        } | changes
        return urlencode({k: v for k, v in values.items() if v not in (None, "")})


def _positive(value: str | None, default: int, highest: int) -> int:
    try:
        number = int(value or default)
    except ValueError:
        return default
    return min(max(number, 1), highest)


def visible_to(user: WebUser, owner: str) -> ColumnElement[bool] | None:
    """The condition limiting tickets to what `user` may list with this owner filter."""
    mine = or_(
        func.lower(Ticket.owner).contains(user.email.lower(), autoescape=True),
        func.lower(Ticket.assignee).contains(user.email.lower(), autoescape=True),
    )
    unclaimed = and_(Ticket.owner.is_(None), Ticket.assignee.is_(None))
    if owner == "mine":
        return mine
    if owner == "unclaimed":
        return unclaimed
    if not user.has("supervisor"):
        return or_(mine, unclaimed)
    if owner in ("", "all"):
        return None
    return or_(
        func.lower(Ticket.owner).contains(owner.lower(), autoescape=True),
        func.lower(Ticket.assignee).contains(owner.lower(), autoescape=True),
    )


@dataclass(frozen=True)
class QueueRow:
    draft_id: int
    number: str
    customer: str
    subject: str
    priority: str
    category: str | None
    owner: str | None
    assignee: str | None
    mailbox: str | None
    status: str
    missing: list[str]
    waiting: timedelta
    target: timedelta
    created_at: datetime

    @property
    def overdue(self) -> bool:
        return self.status == "pending" and self.waiting > self.target


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def _narrow(query: AnySelect, filters: Filters, user: WebUser) -> AnySelect:
    condition = visible_to(user, filters.owner)
    if condition is not None:
        query = query.where(condition)
    if filters.category:
        query = query.where(Ticket.category == filters.category)
    if filters.priority:
        query = query.where(Ticket.priority == filters.priority)
    if filters.customer:
        query = query.where(Ticket.customer_address == filters.customer.lower())
    return query


def _page(session: Session, query: AnySelect, filters: Filters) -> tuple[list[Any], int]:
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = session.execute(
        query.limit(filters.per_page).offset((filters.page - 1) * filters.per_page)
    ).all()
    return list(rows), int(total or 0)


def _waiting_since(status: str) -> Any:
    """Per ticket with a draft of `status`: since when its customer waits (the SLA clock's
    `unanswered_query`, as a subquery to sort by)."""
    return (
        unanswered_query()
        .join(Draft, and_(Draft.ticket_id == Message.ticket_id, Draft.status == status))
        .subquery()
    )


def drafts_page(
    session: Session, filters: Filters, user: WebUser, policy: SlaPolicy, now: datetime
) -> Page:
    """Drafts of one status (pending: the queue, most urgent first, then the customer who has
    waited longest), one page."""
    status = filters.status or "pending"
    waiting = _waiting_since(status)
    since = func.coalesce(waiting.c.since, Message.internaldate, Draft.created_at)
    query: AnySelect = (
        select(Draft, Ticket, Mailbox.name, since)
        .join(Ticket, Ticket.id == Draft.ticket_id)
        .outerjoin(Message, Message.id == Draft.answers_message_id)
        .outerjoin(Mailbox, Mailbox.id == Message.mailbox_id)
        .outerjoin(waiting, waiting.c.ticket_id == Draft.ticket_id)
        .where(Draft.status == status)
    )
    query = _narrow(query, filters, user)
    if filters.mailbox:
        query = query.where(Mailbox.name == filters.mailbox)
    if status == "pending":
        query = query.order_by(_RANK, since, Draft.id)
    else:
        query = query.order_by(Draft.id.desc())
    found, total = _page(session, query, filters)
    rows = []
    for draft, ticket, mailbox, start in found:
        priority = ticket.priority or "normal"
        rows.append(
            QueueRow(
                draft_id=draft.id,
                number=ticket.number,
                customer=ticket.customer_name or ticket.customer_address or "",
                subject=ticket.subject or draft.subject,
                priority=priority,
                category=ticket.category,
                owner=ticket.owner,
                assignee=ticket.assignee,
                mailbox=mailbox,
                status=draft.status,
                missing=list(draft.missing or []),
                waiting=age(start, now, policy.calendar),
                target=policy.targets.get(priority, policy.targets["normal"]),
                created_at=draft.created_at,
            )
        )
    return Page(rows, total, filters.page, filters.per_page)


def queue_owners(session: Session) -> list[str]:
    """The owners of tickets with a pending draft (the supervisors' owner filter)."""
    return sorted(
        owner
        for owner in session.scalars(
            select(Ticket.owner)
            .join(Draft, Draft.ticket_id == Ticket.id)
            .where(Draft.status == "pending", Ticket.owner.is_not(None))
            .distinct()
        )
        if owner
    )


def tickets_page(session: Session, filters: Filters, user: WebUser) -> Page:
    """Tickets newest first, one page (the JSON API's list)."""
    query = select(Ticket).order_by(Ticket.id.desc())
    if filters.status:
        query = query.where(Ticket.status == filters.status)
    if filters.mailbox:
        query = query.where(
            Ticket.id.in_(
                select(Message.ticket_id)
                .join(Mailbox, Mailbox.id == Message.mailbox_id)
                .where(Mailbox.name == filters.mailbox)
            )
        )
    found, total = _page(session, _narrow(query, filters, user), filters)
    return Page(
        [ticket_summary(ticket) for (ticket,) in found], total, filters.page, filters.per_page
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def ticket_summary(ticket: Ticket) -> dict[str, Any]:
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
        "closed_at": _iso(ticket.closed_at),
    }


def queue_row_json(row: QueueRow) -> dict[str, Any]:
    return {
        "id": row.draft_id,
        "ticket": row.number,
        "status": row.status,
        "customer": row.customer,
        "subject": row.subject,
        "priority": row.priority,
        "category": row.category,
        "owner": row.owner,
        "assignee": row.assignee,
        "mailbox": row.mailbox,
        "missing": row.missing,
        "waiting_hours": round(row.waiting / timedelta(hours=1), 2),
        "target_hours": round(row.target / timedelta(hours=1), 2),
        "overdue": row.overdue,
        "created_at": _iso(row.created_at),
    }
