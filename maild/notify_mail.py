"""The mail of escalations, reminders, follow-ups and digests: template contexts (as documented
in templates/README.md), subjects, and the messages themselves, in the configured language."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any
from zoneinfo import ZoneInfo

from maild.drafting import format_duration
from maild.outgoing import OutgoingMail, build_message, references_for
from maild.sla import SlaAction
from maild.templating import Namespace, Rendered

_EXCERPT = 600
_SUBJECTS = {
    ("escalation", "en"): "[{number}] Escalation: unanswered for {age} — {subject}",
    ("escalation", "zh"): "【升级】工单 {number} 已 {age}未回复：{subject}",
    ("reminder", "en"): "[{number}] Reminder {seq}: still unanswered after {age} — {subject}",
    ("reminder", "zh"): "【提醒 {seq}】工单 {number} 已 {age}未回复：{subject}",
    ("followup", "en"): "[{number}] Follow up: resolved {age} ago — {subject}",
    ("followup", "zh"): "【回访】工单 {number} 已解决 {age}：{subject}",
    ("digest", "en"): "Overdue tickets {day}: {total}",
    ("digest", "zh"): "逾期工单日报 {day}：{total} 个",
}


def person(value: str | None) -> tuple[str | None, str | None]:
    """(display name, address) of "Li Na <li.na@example.com>" or a bare address."""
    if not value:
        return None, None
    name, address = parseaddr(value)
    return (name or None), (address.lower() if "@" in address else None)


def local(moment: datetime | None, zone: ZoneInfo) -> str | None:
    if moment is None:
        return None
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M} ({zone.key})"


def span(amount: timedelta, language: str) -> str:
    """An age as people read it, in whole hours (minutes under one): "26 hours" / "26 小时"."""
    # Ages stay in hours ("48 hours", not format_duration's "2 days"); "business hours" is the
    # templates' to say (see templates/README.md).
    minutes = max(0, int(amount.total_seconds() // 60))
    if minutes < 60:
        return format_duration(timedelta(minutes=minutes), language)
    hours = minutes // 60
    if language == "zh":
        return f"{hours} 小时"
    return f"{hours} hour{'' if hours == 1 else 's'}"


def ticket_context(
    ticket: Any,
    *,
    action_age: timedelta,
    target: timedelta,
    unanswered_since: datetime | None,
    language: str,
    zone: ZoneInfo,
) -> Namespace:
    overdue = action_age > target
    return Namespace(
        "ticket",
        {
            "number": ticket.number,
            "subject": ticket.subject,
            "status": ticket.status,
            "priority": ticket.priority,
            "category": ticket.category,
            "owner": ticket.owner,
            "assignee": ticket.assignee,
            "customer_name": ticket.customer_name,
            "customer_email": ticket.customer_address,
            "age": span(action_age, language),
            "unanswered_since": local(unanswered_since, zone),
            "target": format_duration(target, language),
            "overdue": overdue,
            "overdue_by": span(action_age - target, language) if overdue else None,
        },
    )


def last_message_context(message: Any | None, zone: ZoneInfo) -> Namespace:
    if message is None:
        return Namespace("last_message", {})
    text = (message.new_part or message.text or "").strip()
    excerpt = text[:_EXCERPT] + ("…" if len(text) > _EXCERPT else "")
    return Namespace(
        "last_message",
        {
            "from": message.from_address,
            "received_at": local(message.internaldate, zone),
            "excerpt": excerpt,
        },
    )


def subject_for(kind: str, language: str, **values: Any) -> str:
    return _SUBJECTS[(kind, language if language == "zh" else "en")].format(**values)


def notification_mail(
    *,
    rendered: Rendered,
    subject: str,
    sender: tuple[str | None, str],
    recipient: tuple[str | None, str],
    about: Any | None,
    now: datetime,
) -> OutgoingMail:
    """A notification: automatic (RFC 3834 `auto-generated`), threaded under the customer's
    last message so the owner's mail client groups it with the conversation if they have it."""
    parent = None
    references: Sequence[str] = ()
    if about is not None and not about.message_id_synthesized:
        parent = about.message_id
        references = references_for(parent, about.references or [])
    return build_message(
        from_address=sender[1],
        from_name=sender[0],
        to_address=recipient[1],
        to_name=recipient[0],
        subject=subject,
        text=rendered.text,
        html=rendered.html,
        in_reply_to=parent,
        references=references,
        date=now,
        auto_submitted="auto-generated",
    )


def action_subject(action: SlaAction, ticket: Any, language: str) -> str:
    return subject_for(
        action.kind,
        language,
        number=ticket.number,
        age=span(action.age, language),
        subject=ticket.subject,
        seq=action.seq,
    )
