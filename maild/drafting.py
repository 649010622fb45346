"""The draft stage's decisions (pure): which template answers a ticket, in which language, with
which values, and the reply's subject.

Everything the templates may use comes in as one `ReplyFacts`; the result is one frozen
`DraftText` with its `missing` placeholders, so this runs and is tested without a database.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import parseaddr
from typing import Any

from maild.names import greeting, person_name
from maild.subjects import strip_prefixes
from maild.templating import Namespace, Rendered, TemplateSet

__all__ = [
    "DraftText",
    "ReplyFacts",
    "agent_name",
    "draft_reply",
    "format_duration",
    "reply_context",
    "reply_subject",
]

# Any ticket-number-like token with its brackets (compiled once: one pattern per number would
# fill re's cache and recompile for every ticket).
_ANY_NUMBER = re.compile(r"[\[(【]?\s*([A-Za-z]{0,10}[0-9]{8}-[0-9]{4,6})\s*[\])】]?")
# Placeholder names a rule's capture may not take: they are the context's own.
_RESERVED = frozenset(
    {"customer", "ticket", "agent", "mailbox", "greeting", "response_target", "captures"}
)


@dataclass(frozen=True)
class ReplyFacts:
    """What a reply to one ticket may say, gathered from the ticket, the message it answers,
    the mailbox and the configuration."""

    ticket_number: str
    ticket_subject: str
    category: str | None
    priority: str | None
    customer_name: str | None  # the From display name, as written
    customer_address: str | None
    customer_language: str | None  # of the new part of their message: zh | en | other
    mailbox_name: str
    mailbox_address: str
    mailbox_language: str
    agent_name: str | None
    signature: str | None
    response_target: timedelta | None
    # The SLA clock counts business hours: the target reads "4 business hours" / "4 个工作小时".
    business_hours: bool = False
    captures: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DraftText:
    template: str
    language: str
    subject: str
    text: str
    html: str | None
    missing: tuple[str, ...]


def reply_languages(facts: ReplyFacts) -> tuple[str, ...]:
    """The customer's language if we write it, then the mailbox's, then English."""
    customer = facts.customer_language if facts.customer_language in ("zh", "en") else None
    return tuple(dict.fromkeys(x for x in (customer, facts.mailbox_language, "en") if x))


def reply_context(facts: ReplyFacts, language: str) -> dict[str, Any]:
    """The values every reply and acknowledgement template receives (see templates/README.md)."""
    name = person_name(facts.customer_name, facts.customer_address)
    agent = facts.agent_name
    signature = facts.signature or "\n".join(x for x in (agent, facts.mailbox_address) if x)
    context: dict[str, Any] = {
        key: value for key, value in facts.captures.items() if key not in _RESERVED
    }
    context.update(
        greeting=greeting(name, language),
        customer=Namespace(
            "customer",
            {"name": name.full, "first_name": name.first, "email": facts.customer_address},
        ),
        ticket=Namespace(
            "ticket",
            {
                "number": facts.ticket_number,
                "subject": facts.ticket_subject,
                "category": facts.category,
                "priority": facts.priority,
            },
        ),
        agent=Namespace("agent", {"name": agent, "signature": signature}),
        mailbox=Namespace(
            "mailbox", {"name": facts.mailbox_name, "address": facts.mailbox_address}
        ),
        captures=Namespace("captures", dict(facts.captures)),
        language=language,
    )
    if facts.response_target is not None:
        target = format_duration(facts.response_target, language)
        if facts.business_hours:
            amount, _, unit = target.partition(" ")
            target = f"{amount} 个工作{unit}" if language == "zh" else f"{amount} business {unit}"
        context["response_target"] = target
    return context


def draft_reply(templates: TemplateSet, facts: ReplyFacts) -> DraftText:
    """Render the reply for a ticket: the template for its category in the customer's
    language, falling back to the default template and to the mailbox's language."""
    name, language = templates.reply_template(facts.category, reply_languages(facts))
    rendered: Rendered = templates.render(name, reply_context(facts, language))
    return DraftText(
        template=name,
        language=language,
        subject=reply_subject(facts.ticket_subject, facts.ticket_number),
        text=rendered.text,
        html=rendered.html,
        missing=rendered.missing,
    )


def reply_subject(original: str, number: str) -> str:
    """``Re: <original> [CS20261124-0001]``: one ``Re:``, whatever prefixes (``RE:``, ``回复:``,
    ``AW:``…) the customer's subject had, and the ticket number once."""
    folded = unicodedata.normalize("NFKC", original)
    wanted = number.casefold()
    without_number = _ANY_NUMBER.sub(lambda m: " " if m[1].casefold() == wanted else m[0], folded)
    core = " ".join(strip_prefixes(without_number).split())
    return f"Re: {core} [{number}]" if core else f"Re: [{number}]"


def format_duration(span: timedelta, language: str) -> str:
    """A response target as people say it: "4 hours", "1 day", "30 minutes"; "4 小时"."""
    minutes = int(span.total_seconds() // 60)
    if minutes and minutes % (24 * 60) == 0:
        amount, unit = minutes // (24 * 60), ("day", "天")
    elif minutes and minutes % 60 == 0:
        amount, unit = minutes // 60, ("hour", "小时")
    else:
        amount, unit = minutes, ("minute", "分钟")
    if language == "zh":
        return f"{amount} {unit[1]}"
    return f"{amount} {unit[0]}{'' if amount == 1 else 's'}"


def agent_name(assignee: str | None, owner: str | None) -> str | None:
    """Who signs: the assignee, else the ticket's named owner (``Li Na <li.na@…>`` → Li Na)."""
    for who in (assignee, owner):
        if not who:
            continue
        display, address = parseaddr(who)
        if display:
            return display
        return (address or who).split("@")[0]
    return None
