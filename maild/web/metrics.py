"""The supervisors' figures: overdue tickets by owner and age, escalations of the last 7 days,
today's new tickets per category, and per day over the last 30 days the tickets received by
category, the median and 90th-percentile first-response time, and SLA compliance.

One function returns them as plain JSON-ready data: the dashboard draws it, `/api/metrics`
returns it as it is. Days are calendar days in the configured timezone; ages and response times
are on the SLA clock (business time with `[sla] clock = "business"`).

A ticket counts on the day it was created (its first customer message arrived). It complied if
its first reply went out within its priority's target; one still unanswered counts as missed
once it is past the target and is left out until then. Tickets we wrote first (no customer
message) and tickets merged into another are not counted.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from maild.config import Config
from maild.sla import SlaPolicy, age, needs_attention
from maild.store.db import Database
from maild.store.models import Notification, Ticket
from maild.store.sla_store import current_tiers, ticket_clocks

DAYS = 30
MAX_LISTED = 50  # tickets listed per owner (the oldest); `count` is all of them
AGE_BUCKETS = (
    (timedelta(days=1), "< 1 d"),
    (timedelta(days=2), "1-2 d"),
    (timedelta(days=7), "2-7 d"),
)
_HOUR = timedelta(hours=1)


def percentile(values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile (share 0.5: the median); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def _hours(span: timedelta) -> float:
    return round(span / _HOUR, 2)


def bucket(span: timedelta) -> str:
    for limit, name in AGE_BUCKETS:
        if span < limit:
            return name
    return "> 7 d"


def metrics(database: Database, config: Config, policy: SlaPolicy, now: datetime) -> dict[str, Any]:
    zone = config.timezone
    today = now.astimezone(zone).date()
    days = [today - timedelta(days=DAYS - 1 - i) for i in range(DAYS)]
    with database.session() as session:
        daily = _daily(session, policy, days, zone, now)
        overdue = _overdue(session, policy, now)
        escalations = _escalations(session, now)
    received_today = daily[-1]["received"]
    return {
        "generated_at": now.isoformat(),
        "timezone": str(zone),
        "clock": policy.clock,
        "targets_hours": {name: _hours(span) for name, span in policy.targets.items()},
        "overdue": overdue,
        "escalations_7d": escalations,
        "today": {"date": today.isoformat(), "by_category": received_today},
        "daily": daily,
    }


def _daily(
    session: Session, policy: SlaPolicy, days: list[date], zone: Any, now: datetime
) -> list[dict[str, Any]]:
    start = datetime.combine(days[0], time(0), zone)
    rows = session.execute(
        select(Ticket.created_at, Ticket.category, Ticket.priority, Ticket.first_response_at).where(
            Ticket.created_at >= start,
            Ticket.merged_into_id.is_(None),
            Ticket.last_customer_at.is_not(None),
        )
    ).all()
    received: dict[date, Counter[str]] = defaultdict(Counter)
    responses: dict[date, list[float]] = defaultdict(list)
    within: Counter[date] = Counter()
    missed: Counter[date] = Counter()
    for created, category, priority, first_response in rows:
        day = created.astimezone(zone).date()
        received[day][category or "other"] += 1
        target = policy.targets.get(priority or "normal", policy.targets["normal"])
        if first_response is not None:
            took = age(created, first_response, policy.calendar)
            responses[day].append(took / _HOUR)
            (within if took <= target else missed)[day] += 1
        elif age(created, now, policy.calendar) > target:
            missed[day] += 1
    result = []
    for day in days:
        measured = within[day] + missed[day]
        median = percentile(responses[day], 0.5)
        p90 = percentile(responses[day], 0.9)
        result.append(
            {
                "date": day.isoformat(),
                "received": dict(sorted(received[day].items())),
                "received_total": sum(received[day].values()),
                "answered": len(responses[day]),
                "first_response_median_hours": round(median, 2) if median is not None else None,
                "first_response_p90_hours": round(p90, 2) if p90 is not None else None,
                "within_target": within[day],
                "missed_target": missed[day],
                "compliance_percent": round(100 * within[day] / measured, 1) if measured else None,
            }
        )
    return result


def _overdue(session: Session, policy: SlaPolicy, now: datetime) -> list[dict[str, Any]]:
    """Per owner (the most overdue first): the tickets that need attention and their ages."""
    clocks = [c for c in ticket_clocks(session) if needs_attention(c, now, policy)]
    if not clocks:
        return []
    tiers = current_tiers(session, clocks)
    details = {
        row.id: row
        for row in session.execute(
            select(Ticket.id, Ticket.subject, Ticket.owner, Ticket.assignee).where(
                Ticket.id.in_([c.ticket_id for c in clocks])
            )
        )
    }
    owners: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for clock in clocks:
        assert clock.unanswered_since is not None
        waited = age(clock.unanswered_since, now, policy.calendar)
        target = policy.targets.get(clock.priority or "normal", policy.targets["normal"])
        row = details[clock.ticket_id]
        owners[row.owner or ""].append(
            {
                "number": clock.number,
                "subject": row.subject,
                "priority": clock.priority or "normal",
                "assignee": row.assignee,
                "unanswered_since": clock.unanswered_since.isoformat(),
                "age_hours": _hours(waited),
                "target_hours": _hours(target),
                "age_bucket": bucket(waited),
                "escalation_tier": tiers.get(clock.ticket_id),
            }
        )
    result = []
    for owner, tickets in owners.items():
        tickets.sort(key=lambda t: -t["age_hours"])
        buckets = Counter(t["age_bucket"] for t in tickets)
        result.append(
            {
                "owner": owner or None,
                "count": len(tickets),
                "oldest_hours": tickets[0]["age_hours"],
                "by_age": {name: buckets[name] for _, name in AGE_BUCKETS}
                | {"> 7 d": buckets["> 7 d"]},
                "tickets": tickets[:MAX_LISTED],
            }
        )
    result.sort(key=lambda o: -o["oldest_hours"])
    return result


def _escalations(session: Session, now: datetime) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Notification.created_at, Notification.tier, Notification.recipient, Ticket.number)
        .join(Ticket, Ticket.id == Notification.ticket_id)
        .where(
            Notification.kind == "escalation", Notification.created_at >= now - timedelta(days=7)
        )
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(500)
    ).all()
    return [
        {"at": at.isoformat(), "ticket": number, "tier": tier, "recipient": recipient}
        for at, tier, recipient, number in rows
    ]
