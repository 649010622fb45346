"""The supervisors' overdue digest: once a day at `[digest] at` (local time), one email per
supervisor listing every ticket overdue for its priority or unanswered for more than 24 hours,
grouped by owner, oldest first, with totals per owner and per category.

Sent at most once per supervisor and day (a unique key), even across restarts and two daemons;
nothing is sent on a day with nothing overdue unless `send_empty = true`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from maild import notify_mail
from maild.config import Config
from maild.drafting import format_duration
from maild.escalation import sla_policy
from maild.log import get_logger
from maild.sla import SlaPolicy, TicketClock, age, is_overdue, needs_attention
from maild.store import outbox
from maild.store.db import Database
from maild.store.models import Mailbox, Ticket
from maild.store.sla_store import current_tiers, record_once, ticket_clocks
from maild.templating import Namespace, Rendered, TemplateSet

NO_OWNER = "(no owner)"


@dataclass(frozen=True)
class DigestMail:
    to: str
    subject: str
    text: str
    html: str | None
    total: int
    queued: bool


def digest_day(config: Config, now: datetime) -> date | None:
    """The local day whose digest is due at `now` (None before `[digest] at`)."""
    local = now.astimezone(config.timezone)
    return local.date() if local.time() >= config.digest.at else None


def digest_context(session: Session, config: Config, now: datetime) -> dict[str, Any]:
    """The digest's content (see templates/README.md), for any recipient."""
    policy = sla_policy(config)
    language = config.notifications.language
    clocks = [c for c in ticket_clocks(session) if needs_attention(c, now, policy)]
    tiers = current_tiers(session, clocks)
    tickets = {t.id: t for t in _tickets(session, [c.ticket_id for c in clocks])}
    rows: list[tuple[str, datetime, dict[str, Any]]] = []
    for clock in clocks:
        ticket = tickets[clock.ticket_id]
        assert clock.unanswered_since is not None  # needs_attention guarantees it
        rows.append(
            (
                ticket.owner or NO_OWNER,
                clock.unanswered_since,
                _row(
                    ticket,
                    clock,
                    tiers.get(clock.ticket_id),
                    now=now,
                    policy=policy,
                    language=language,
                    config=config,
                ),
            )
        )
    rows.sort(key=lambda r: (r[0] == NO_OWNER, r[0].casefold(), r[1]))
    groups: dict[str, list[dict[str, Any]]] = {}
    for owner, _since, row in rows:
        groups.setdefault(owner, []).append(row)
    categories = Counter(row["category"] for _o, _s, row in rows)
    local_now = now.astimezone(config.timezone)
    return {
        "day": local_now.date().isoformat(),
        "generated_at": notify_mail.local(now, config.timezone),
        "timezone": config.timezone.key,
        "clock": policy.clock,
        "total": len(rows),
        "empty": not rows,
        "groups": [
            {"owner": owner, "count": len(items), "tickets": items}
            for owner, items in groups.items()
        ],
        "totals_by_owner": [{"owner": o, "count": len(items)} for o, items in groups.items()],
        "totals_by_category": [
            {"category": c, "count": n}
            for c, n in sorted(categories.items(), key=lambda x: (-x[1], x[0]))
        ],
        "command": "maild tickets list --overdue",
    }


def render_digest(
    templates: TemplateSet,
    config: Config,
    context: dict[str, Any],
    recipient: tuple[str | None, str],
) -> tuple[str, Rendered]:
    """(subject, rendered text and HTML) of the digest for one supervisor."""
    language = config.notifications.language
    personal = {
        **context,
        "recipient": Namespace("recipient", {"name": recipient[0], "email": recipient[1]}),
    }
    rendered = templates.render(f"notifications/digest.{language}.txt.j2", personal)
    subject = notify_mail.subject_for(
        "digest", language, day=context["day"], total=context["total"]
    )
    return subject, rendered


def send_digest(
    database: Database,
    config: Config,
    templates: TemplateSet,
    now: datetime,
    *,
    force: bool = False,
) -> list[DigestMail]:
    """Queue today's digest for every supervisor who has not had it (at or after `at`, or at
    once with `force`); returns what was queued."""
    day = now.astimezone(config.timezone).date() if force else digest_day(config, now)
    if day is None or not config.supervisors:
        return []
    log = get_logger(day=day.isoformat())
    sent: list[DigestMail] = []
    with database.transaction() as session:
        context = digest_context(session, config, now)
        if context["empty"] and not config.digest.send_empty:
            log.info("digest_skipped", reason="nothing overdue")
            return []
        mailbox = session.scalars(select(Mailbox).order_by(Mailbox.id).limit(1)).first()
        if mailbox is None:
            log.warning("digest_skipped", reason="no mailbox has been polled yet")
            return []
        for supervisor in config.supervisors:
            name, address = notify_mail.person(supervisor)
            if address is None:
                continue
            key = f"digest:{day.isoformat()}:{address}"
            if (
                record_once(
                    session,
                    {
                        "key": key,
                        "kind": "digest",
                        "ticket_id": None,
                        "episode": None,
                        "tier": 0,
                        "recipient": address,
                        "detail": {"total": context["total"]},
                        "created_at": now,
                    },
                )
                is None
            ):
                continue  # already sent today
            subject, rendered = render_digest(templates, config, context, (name, address))
            mail = notify_mail.notification_mail(
                rendered=rendered,
                subject=subject,
                sender=(config.display_name_of(mailbox.name), mailbox.address),
                recipient=(name, address),
                about=None,
                now=now,
            )
            queued = outbox.queue(
                session,
                mail=mail,
                ticket_id=None,
                mailbox_id=mailbox.id,
                kind="digest",
                dedupe_key=key,
                envelope_from=mailbox.address,
                now=now,
            )
            sent.append(
                DigestMail(
                    address,
                    subject,
                    rendered.text,
                    rendered.html,
                    context["total"],
                    queued is not None,
                )
            )
            log.info("digest_queued", to=address, total=context["total"])
    return sent


def _row(
    ticket: Ticket,
    clock: TicketClock,
    tier: int | None,
    *,
    now: datetime,
    policy: SlaPolicy,
    language: str,
    config: Config,
) -> dict[str, Any]:
    assert clock.unanswered_since is not None
    waited = age(clock.unanswered_since, now, policy.calendar)
    target = policy.targets.get(ticket.priority or "normal", timedelta(hours=24))
    overdue = is_overdue(clock, now, policy)
    row: dict[str, Any] = {
        "number": ticket.number,
        "subject": ticket.subject,
        "customer": ticket.customer_name or ticket.customer_address,
        "priority": ticket.priority,
        "category": ticket.category or "other",
        "age": notify_mail.span(waited, language),
        "age_hours": round(waited / timedelta(hours=1), 1),
        "target": format_duration(target, language),
        "overdue": overdue,
        "status": ticket.status,
        "unanswered_since": notify_mail.local(clock.unanswered_since, config.timezone),
    }
    if overdue:
        row["overdue_by"] = notify_mail.span(waited - target, language)
    if tier:
        row["tier"] = tier
    # Absent rather than None: a template guards with {% if %}, and None never prints.
    return {key: value for key, value in row.items() if value is not None}


def _tickets(session: Session, ids: list[int]) -> list[Ticket]:
    found: list[Ticket] = []
    for start in range(0, len(ids), 500):
        found.extend(session.scalars(select(Ticket).where(Ticket.id.in_(ids[start : start + 500]))))
    return found
