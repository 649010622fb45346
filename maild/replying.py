"""The draft stage: after a customer message is threaded, draft the ticket's reply, and on a
new ticket of a mailbox with `auto_ack`, queue the acknowledgement.

Runs in the thread stage's transaction: a template that fails costs that message its draft
(logged, and noted on the ticket), never its place on a ticket.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from email.parser import BytesHeaderParser
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from maild.config import Config, MailboxConfig
from maild.drafting import ReplyFacts, agent_name, draft_reply, reply_context, reply_subject
from maild.log import get_logger
from maild.outgoing import build_message, references_for
from maild.store import outbox
from maild.store.drafts import save_draft
from maild.store.models import Mailbox, Message, MessageBlob, OutgoingMessage, Ticket
from maild.store.tickets import record_event
from maild.templating import TemplateRenderError, TemplateSet
from maild.ticketing import ThreadedMessage

# Local parts that never want an answer (RFC 3834 §2: do not respond to such senders).
_NO_REPLY = re.compile(
    r"^(no[-_.]?reply|do[-_.]?not[-_.]?reply|mailer[-_.]daemon|postmaster|bounces?|"
    r"notifications?|noreply[-_.].*|.*[-_.]noreply)$",
    re.IGNORECASE,
)
# A backlog imported on a first sync is not acknowledged: the customer wrote long ago.
ACK_MAX_AGE = timedelta(hours=24)


def needs_answer(message: Message) -> bool:
    """A customer's own words: not automatic, not a bounce, not a list, not ours."""
    return not (
        message.direction == "out"
        or message.is_auto_submitted
        or message.is_bounce
        or message.is_mailing_list
        or message.category == "auto"
    )


def ack_refusal(message: Message, own_addresses: frozenset[str], raw: bytes) -> str | None:
    """Why this message must not get an automatic acknowledgement (RFC 3834), or None."""
    sender = (message.from_address or "").lower()
    headers = BytesHeaderParser().parsebytes(raw)
    return_path = str(headers.get("Return-Path", "")).replace(" ", "")
    checks = (
        (not sender, "no sender address"),
        (sender in own_addresses, "sent from one of our own addresses"),
        (message.is_auto_submitted, "automatic mail (Auto-Submitted, autoresponder)"),
        (message.is_bounce, "a bounce"),
        (return_path == "<>", "null return path"),
        (message.is_mailing_list, "mailing-list or bulk mail (List-Id / Precedence)"),
        (bool(_NO_REPLY.match(sender.split("@")[0])), "a no-reply sender"),
    )
    return next((why for failed, why in checks if failed), None)


class ReplyStage:
    """Drafts and acknowledgements for freshly threaded messages."""

    def __init__(self, config: Config, templates: TemplateSet) -> None:
        self._config = config
        self._templates = templates
        self._own = frozenset(m.address.lower() for m in config.mailboxes)

    def after_threading(
        self, session: Session, threaded: Sequence[ThreadedMessage], now: datetime
    ) -> None:
        customer = [item for item in threaded if not item.outgoing]
        messages = {m.id: m for m in _load(session, Message, [i.message_pk for i in customer])}
        answering = [item for item in customer if needs_answer(messages[item.message_pk])]
        tickets = {t.id: t for t in _load(session, Ticket, [i.ticket_id for i in answering])}
        mailboxes = self._mailboxes(session)
        # One draft per ticket and batch: the latest message's (a refresh per earlier one
        # would be overwritten at once).
        last = {item.ticket_id: item for item in answering}
        created = {item.ticket_id for item in answering if item.created}
        for item in answering:
            message, ticket = messages[item.message_pk], tickets[item.ticket_id]
            if _answered_since(ticket, message):
                continue  # an agent's reply (a Sent copy in the same batch) already answered it
            mailbox = mailboxes.get(message.mailbox_id)
            facts = self._facts(ticket, message, mailbox)
            if last[item.ticket_id] is item:
                new = item.ticket_id in created
                self._draft(session, ticket, message, facts, now=now, new_ticket=new)
            if item.created and mailbox is not None and mailbox.replies.auto_ack:
                self._ack(session, ticket, message, mailbox, facts, now=now)

    def _mailboxes(self, session: Session) -> dict[int, MailboxConfig]:
        """Configured mailboxes by their database id."""
        by_name = {m.name: m for m in self._config.mailboxes}
        return {
            row.id: by_name[row.name]
            for row in session.scalars(select(Mailbox))
            if row.name in by_name
        }

    def _facts(self, ticket: Ticket, message: Message, mailbox: MailboxConfig | None) -> ReplyFacts:
        return ReplyFacts(
            ticket_number=ticket.number,
            ticket_subject=ticket.subject,
            category=ticket.category,
            priority=ticket.priority,
            customer_name=ticket.customer_name,
            customer_address=ticket.customer_address,
            customer_language=message.language,
            mailbox_name=mailbox.name if mailbox else "",
            mailbox_address=mailbox.address if mailbox else "",
            mailbox_language=mailbox.replies.language if mailbox else "en",
            agent_name=agent_name(ticket.assignee, ticket.owner),
            signature=mailbox.replies.signature if mailbox else None,
            response_target=self._config.sla.targets.get(ticket.priority or "normal"),
            business_hours=self._config.sla.clock == "business",
            captures={k: str(v) for k, v in (message.captures or {}).items()},
        )

    def _draft(
        self,
        session: Session,
        ticket: Ticket,
        message: Message,
        facts: ReplyFacts,
        *,
        now: datetime,
        new_ticket: bool,
    ) -> None:
        log = get_logger(ticket=ticket.number, message_pk=message.id)
        try:  # rendering writes nothing: a failure leaves the ticket as it is
            text = draft_reply(self._templates, facts)
        except TemplateRenderError as exc:
            log.error("draft_failed", error=str(exc))
            record_event(session, ticket.id, now, "draft_failed", error=str(exc))
            return
        draft_id = save_draft(session, ticket.id, message.id, text, now, new_ticket=new_ticket)
        log.debug("draft_saved", draft=draft_id, template=text.template, missing=text.missing)

    def _ack(
        self,
        session: Session,
        ticket: Ticket,
        message: Message,
        mailbox: MailboxConfig,
        facts: ReplyFacts,
        *,
        now: datetime,
    ) -> None:
        log = get_logger(ticket=ticket.number, message_pk=message.id)
        raw = session.get_one(MessageBlob, message.content_hash).raw
        refusal = ack_refusal(message, self._own, raw)
        if refusal is None and now - message.internaldate > ACK_MAX_AGE:
            refusal = f"received more than {ACK_MAX_AGE} ago (a backlog)"
        if refusal is None and self._acked_recently(session, message, mailbox, now):
            refusal = f"already acknowledged this sender within {mailbox.replies.ack_interval}"
        if refusal is not None:
            log.info("ack_skipped", reason=refusal)
            return
        language = reply_languages_for_ack(facts, self._templates)
        try:
            rendered = self._templates.render(
                f"ack.{language}.txt.j2", reply_context(facts, language)
            )
        except TemplateRenderError as exc:
            log.error("ack_failed", error=str(exc))
            return
        if rendered.missing:
            # Nobody reviews an acknowledgement: a gap would reach the customer as [[name]].
            log.error("ack_not_sent", missing=list(rendered.missing))
            record_event(session, ticket.id, now, "ack_not_sent", missing=list(rendered.missing))
            return
        parent = None if message.message_id_synthesized else message.message_id
        mail = build_message(
            from_address=mailbox.address,
            from_name=mailbox.replies.display_name,
            to_address=message.from_address or "",
            to_name=ticket.customer_name,
            subject=reply_subject(ticket.subject, ticket.number),
            text=rendered.text,
            html=rendered.html,
            in_reply_to=parent,
            references=references_for(parent, message.references or []),
            date=now,
            auto_submitted="auto-replied",
        )
        interval = mailbox.replies.ack_interval.total_seconds()
        bucket = int(now.timestamp() // interval)
        queued = outbox.queue(
            session,
            mail=mail,
            ticket_id=ticket.id,
            mailbox_id=message.mailbox_id,
            kind="ack",
            dedupe_key=f"ack:{message.mailbox_id}:{mail.to_address.lower()}:{bucket}",
            envelope_from="",  # RFC 3834 §3.3: automatic responses use the null return path
            now=now,
        )
        log.info("ack_queued" if queued else "ack_skipped", reason=None if queued else "raced")

    def _acked_recently(
        self, session: Session, message: Message, mailbox: MailboxConfig, now: datetime
    ) -> bool:
        since = now - mailbox.replies.ack_interval
        return bool(
            session.scalar(
                select(func.count(OutgoingMessage.id)).where(
                    OutgoingMessage.to_address == (message.from_address or "").lower(),
                    OutgoingMessage.kind == "ack",
                    OutgoingMessage.mailbox_id == message.mailbox_id,
                    OutgoingMessage.created_at > since,
                )
            )
        )


def _answered_since(ticket: Ticket, message: Message) -> bool:
    replied = ticket.last_agent_reply_at
    return replied is not None and replied >= message.internaldate


def _load(session: Session, model: Any, ids: list[int]) -> Sequence[Any]:
    """Rows by primary key in one query per 500 (the batch's messages or tickets)."""
    rows: list[Any] = []
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), 500):
        rows.extend(session.scalars(select(model).where(model.id.in_(unique[start : start + 500]))))
    return rows


def reply_languages_for_ack(facts: ReplyFacts, templates: TemplateSet) -> str:
    """The acknowledgement's language: the customer's if there is a template for it."""
    for language in (facts.customer_language, facts.mailbox_language, "en"):
        if language and templates.exists(f"ack.{language}.txt.j2"):
            return language
    return "en"
