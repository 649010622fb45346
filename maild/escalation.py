"""One escalation sweep: the SLA clock's due actions turned into notifications, each decided
exactly once (a unique key per ticket, episode, tier and recipient) and queued in the outbox.

A second sweep, a restart or a concurrent sweeper finds the key taken and sends nothing; a
dry run decides the same but writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from maild import notify_mail
from maild.config import Config
from maild.log import get_logger
from maild.sla import SlaAction, SlaPolicy, actions_due, needs_attention
from maild.store import outbox
from maild.store.db import Database
from maild.store.models import Mailbox, Message, Ticket
from maild.store.sla_store import notification_key, record_once, ticket_clocks
from maild.store.tickets import record_event
from maild.templating import Namespace, TemplateRenderError, TemplateSet


@dataclass(frozen=True)
class Notice:
    """One notification decided by a sweep (or that a dry run would decide)."""

    kind: str
    ticket: str
    tier: int
    seq: int
    after_hours: float
    to: str
    age_hours: float
    reason: str

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def sla_policy(config: Config) -> SlaPolicy:
    return SlaPolicy(
        targets=config.sla.targets,
        tiers=config.escalation,
        remind_every=config.sla.remind_every,
        followup_after=config.sla.followup_after,
        calendar=config.sla.calendar if config.sla.clock == "business" else None,
    )


def sweep(
    database: Database,
    config: Config,
    templates: TemplateSet,
    now: datetime,
    *,
    dry_run: bool = False,
) -> list[Notice]:
    """Decide and queue every notification due at `now`; returns them (a dry run: what it
    would decide)."""
    policy = sla_policy(config)
    log = get_logger()
    notices: list[Notice] = []
    with database.transaction() as session:
        due, held = actions_due(ticket_clocks(session), now, policy)
        if held:
            log.info("notifications_held", count=len(held), until="business hours")
        sender = _Sender(session, config, templates, policy, now)
        for action in due:
            ticket = session.get_one(Ticket, action.ticket_id)
            for recipient in _recipients(action, ticket, config):
                if dry_run or sender.send(action, ticket, recipient):
                    notices.append(_notice(action, recipient[1] or ""))
        if dry_run:
            session.rollback()
    return notices


def overdue_ticket_ids(database: Database, config: Config, now: datetime) -> set[int]:
    """Tickets overdue for their priority or unanswered for more than 24 hours at `now`."""
    policy = sla_policy(config)
    with database.session() as session:
        return {c.ticket_id for c in ticket_clocks(session) if needs_attention(c, now, policy)}


def _notice(action: SlaAction, to: str) -> Notice:
    return Notice(
        kind=action.kind,
        ticket=action.number,
        tier=action.tier,
        seq=action.seq,
        after_hours=round(action.after / timedelta(hours=1), 2),
        to=to,
        age_hours=round(action.age / timedelta(hours=1), 2),
        reason=action.reason,
    )


def _recipients(
    action: SlaAction, ticket: Ticket, config: Config
) -> list[tuple[str | None, str | None]]:
    """Whom a tier notifies: the ticket's named owner, or the supervisors; a ticket without an
    owner's address escalates to the supervisors rather than to nobody."""
    supervisors = [notify_mail.person(s) for s in config.supervisors]
    if action.notify == "owner":
        owner = notify_mail.person(ticket.owner)
        if owner[1] is not None:
            return [owner]
    people = [p for p in supervisors if p[1] is not None]
    return people or [(None, None)]


class _Sender:
    """Records notifications and queues their mail, within one sweep's transaction."""

    def __init__(
        self,
        session: Session,
        config: Config,
        templates: TemplateSet,
        policy: SlaPolicy,
        now: datetime,
    ) -> None:
        self.session, self.config, self.templates = session, config, templates
        self.policy, self.now = policy, now

    def send(
        self, action: SlaAction, ticket: Ticket, recipient: tuple[str | None, str | None]
    ) -> bool:
        """Record the decision once and queue its mail; False when it was decided before."""
        session, config, now = self.session, self.config, self.now
        name, address = recipient
        log = get_logger(ticket=ticket.number, kind=action.kind, tier=action.tier)
        key = notification_key(action.key, address or "(nobody)")
        notification_id = record_once(
            session,
            {
                "key": key,
                "kind": action.kind,
                "ticket_id": ticket.id,
                "episode": action.episode,
                "tier": action.tier,
                "recipient": address or "(nobody)",
                "detail": {
                    "age_hours": round(action.age / timedelta(hours=1), 2),
                    "reason": action.reason,
                },
                "created_at": now,
            },
        )
        if notification_id is None:
            return False
        record_event(
            session,
            ticket.id,
            now,
            {"escalation": "escalated", "reminder": "reminded"}.get(action.kind, "followup_due"),
            tier=action.tier,
            seq=action.seq,
            to=address,
            reason=action.reason,
        )
        if address is None:
            log.error(
                "notification_without_recipient", reason="no owner address and no supervisors"
            )
            return True
        language = config.notifications.language
        last_message = _last_customer_message(session, ticket.id)
        context = _context(
            config, action, ticket, (name, address), last_message=last_message, policy=self.policy
        )
        try:
            rendered = self.templates.render(
                f"notifications/{action.kind}.{language}.txt.j2", context
            )
        except TemplateRenderError as exc:
            log.error("notification_failed", error=str(exc))
            return True
        mailbox = session.get_one(Mailbox, _mailbox_id(session, ticket.id))
        mail = notify_mail.notification_mail(
            rendered=rendered,
            subject=notify_mail.action_subject(action, ticket, language),
            sender=(config.display_name_of(mailbox.name), mailbox.address),
            recipient=(name, address),
            about=last_message,
            now=now,
        )
        queued = outbox.queue(
            session,
            mail=mail,
            ticket_id=ticket.id,
            mailbox_id=mailbox.id,
            kind="notification",
            dedupe_key=key,
            envelope_from=mailbox.address,
            now=now,
        )
        log.info(
            "notification_queued", to=address, age_hours=round(action.age / timedelta(hours=1), 1)
        )
        return queued is not None


def _context(
    config: Config,
    action: SlaAction,
    ticket: Ticket,
    recipient: tuple[str | None, str],
    *,
    last_message: Message | None,
    policy: SlaPolicy,
) -> dict[str, Any]:
    language = config.notifications.language
    zone = config.timezone
    target = config.sla.targets.get(ticket.priority or "normal", timedelta(hours=24))
    context: dict[str, Any] = {
        "kind": action.kind,
        "clock": policy.clock,
        "recipient": Namespace("recipient", {"name": recipient[0], "email": recipient[1]}),
        "ticket": notify_mail.ticket_context(
            ticket,
            action_age=action.age,
            target=target,
            unanswered_since=action.episode if action.kind != "followup" else None,
            language=language,
            zone=zone,
        ),
        "last_message": notify_mail.last_message_context(last_message, zone),
        "command": f"maild tickets show {ticket.number}",
    }
    if config.notifications.base_url:
        context["link"] = f"{config.notifications.base_url.rstrip('/')}/tickets/{ticket.number}"
    if action.kind == "escalation":
        context["tier"] = Namespace(
            "tier",
            {
                "number": action.tier,
                "after": notify_mail.span(action.after, language),
                "notify": action.notify,
            },
        )
    elif action.kind == "reminder":
        context["reminder_number"] = action.seq
    else:
        context["resolved_at"] = notify_mail.local(action.episode, zone)
    return context


def _last_customer_message(session: Session, ticket_id: int) -> Message | None:
    return session.scalars(
        select(Message)
        .where(Message.ticket_id == ticket_id, Message.direction == "in", Message.status == "ok")
        .order_by(Message.internaldate.desc(), Message.id.desc())
        .limit(1)
    ).first()


def _mailbox_id(session: Session, ticket_id: int) -> int:
    """The mailbox the ticket's conversation came in through (its first message's)."""
    found = session.scalars(
        select(Message.mailbox_id)
        .where(Message.ticket_id == ticket_id)
        .order_by(Message.internaldate, Message.id)
        .limit(1)
    ).first()
    if found is None:  # a ticket always has a message; the first configured mailbox else
        found = session.scalars(select(Mailbox.id).order_by(Mailbox.id).limit(1)).one()
    return found
