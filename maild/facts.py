"""What classification rules may look at, derived from a parsed message (pure)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from maild.calendar_time import local_send_time
from maild.classify import MessageFacts
from maild.newpart import new_part
from maild.parsing import ParsedMessage
from maild.subjects import is_reply_subject


def message_facts(parsed: ParsedMessage, mailbox_address: str, timezone: ZoneInfo) -> MessageFacts:
    sent_at, source = local_send_time(parsed.date, parsed.internaldate, timezone)
    return MessageFacts(
        subject=parsed.subject,
        body=new_part(parsed.text),
        from_address=parsed.sender.address if parsed.sender else None,
        recipients=tuple(a.address for a in (*parsed.to, *parsed.cc)),
        mailbox_address=mailbox_address,
        language=parsed.language,
        has_attachment=bool(parsed.attachments),
        is_reply=bool(parsed.in_reply_to or parsed.references) or is_reply_subject(parsed.subject),
        auto_submitted=parsed.is_auto_submitted or parsed.is_bounce,
        sent_at=sent_at,
        sent_at_source=source,
    )
