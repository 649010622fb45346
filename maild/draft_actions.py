"""What agents do to drafts: edit, approve (which queues the reply), reject, resend.

Nothing reaches a customer without an approval recorded here: approving builds the full
message (our Message-ID included) and puts it in the outbox in the same transaction, and the
outbox only ever sends what is there. Each check comes first, so a refusal changes nothing.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from maild.config import Config
from maild.outgoing import build_message, references_for
from maild.store import outbox
from maild.store.drafts import add_revision
from maild.store.models import Draft, Mailbox, Message, OutgoingMessage, Ticket
from maild.store.tickets import record_event
from maild.templating import markers_in
from maild.users import active_user, users_exist

_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


class DraftActionError(ValueError):
    """An action that is not allowed now, or names something that does not exist."""


def find_draft(session: Session, draft_id: int) -> Draft:
    draft = session.get(Draft, draft_id)
    if draft is None:
        raise DraftActionError(f"no draft {draft_id}")
    return draft


def edit(
    session: Session, draft: Draft, text: str, *, subject: str | None, author: str, now: datetime
) -> None:
    """Replace the draft's text (and subject); `missing` is recomputed from what is left."""
    _must_be(draft, "pending", "edited")
    if not text.strip():
        raise DraftActionError("the new text is empty: use `maild drafts reject` to drop a draft")
    draft.body_text = text if text.endswith("\n") else text + "\n"
    if subject is not None:
        draft.subject = " ".join(subject.split())
    # The HTML alternative was rendered from the template, not from this text: sending it
    # would show the customer what the agent just changed. An edited draft goes as text.
    draft.body_html = None
    draft.missing = list(markers_in(draft.subject, draft.body_text))
    draft.edited = True
    draft.updated_at = now
    add_revision(session, draft, author, "edited", now)
    record_event(session, draft.ticket_id, now, "draft_edited", actor=author, draft=draft.id)


def approve(
    session: Session, draft: Draft, approver: str, config: Config, now: datetime
) -> OutgoingMessage:
    """Approve and queue the reply; refused while a placeholder is unresolved, and, once
    maild has users, unless the approver is an active one (of any role)."""
    _must_be(draft, "pending", "approved")
    if not _ADDRESS.match(approver):
        raise DraftActionError(
            f"--as must be the approving agent's email address, not {approver!r}"
        )
    if users_exist(session):
        user = active_user(session, approver)
        if user is None:
            raise DraftActionError(
                f"{approver} is not an active maild user: `maild users list` shows who can approve"
            )
        approver = user.email  # as stored (lower-case), so every record names them alike
    missing = markers_in(draft.subject, draft.body_text, draft.body_html or "")
    draft.missing = list(missing)
    if missing:
        raise DraftActionError(
            f"draft {draft.id} still has placeholders without a value: "
            f"{', '.join(f'[[{name}]]' for name in missing)}; edit it first"
        )
    ticket = session.get_one(Ticket, draft.ticket_id)
    answered = session.get(Message, draft.answers_message_id) if draft.answers_message_id else None
    if answered is None:
        raise DraftActionError(f"draft {draft.id} answers no stored message")
    mailbox_row = session.get_one(Mailbox, answered.mailbox_id)
    to_name, to_address = _recipient(answered, ticket)
    parent_id = None if answered.message_id_synthesized else answered.message_id
    mail = build_message(
        from_address=mailbox_row.address,
        from_name=config.display_name_of(mailbox_row.name),
        to_address=to_address,
        to_name=to_name,
        subject=draft.subject,
        text=draft.body_text,
        html=draft.body_html,
        in_reply_to=parent_id,
        references=references_for(parent_id, answered.references or []),
        date=now,
    )
    queued = outbox.queue(
        session,
        mail=mail,
        ticket_id=ticket.id,
        mailbox_id=mailbox_row.id,
        kind="reply",
        dedupe_key=f"draft:{draft.id}",
        envelope_from=mailbox_row.address,
        now=now,
        draft_id=draft.id,
    )
    if queued is None:
        raise DraftActionError(f"draft {draft.id} is already in the outbox")
    draft.status, draft.decided_by, draft.decided_at, draft.reason = "approved", approver, now, None
    record_event(
        session,
        ticket.id,
        now,
        "draft_approved",
        actor=approver,
        draft=draft.id,
        message_id=mail.message_id,
    )
    return queued


def reject(session: Session, draft: Draft, reason: str, actor: str, now: datetime) -> None:
    _must_be(draft, "pending", "rejected")
    if not reason.strip():
        raise DraftActionError("say why the draft is rejected (--reason)")
    draft.status, draft.decided_by, draft.decided_at = "rejected", actor, now
    draft.reason = reason.strip()
    record_event(
        session, draft.ticket_id, now, "draft_rejected", actor=actor, draft=draft.id, reason=reason
    )


def resend(session: Session, draft: Draft, actor: str, now: datetime) -> None:
    """Send a failed or uncertain reply again, on an agent's explicit word."""
    if draft.status not in ("failed", "uncertain"):
        raise DraftActionError(
            f"draft {draft.id} is {draft.status}: only a failed or uncertain one is sent again"
        )
    row = session.scalars(select(OutgoingMessage).where(OutgoingMessage.draft_id == draft.id)).one()
    outbox.requeue(session, row, actor, now)


def _must_be(draft: Draft, status: str, action: str) -> None:
    if draft.status != status:
        raise DraftActionError(
            f"draft {draft.id} is {draft.status}: only a {status} draft can be {action}"
        )


def _recipient(answered: Message, ticket: Ticket) -> tuple[str | None, str]:
    """Whom the reply goes to: the Reply-To of the message answered, else the customer."""
    reply_to = (answered.recipients or {}).get("reply_to") or []
    if reply_to and reply_to[0][1]:
        name, address = reply_to[0]
        return name or None, address
    if ticket.customer_address:
        return ticket.customer_name, ticket.customer_address
    if answered.from_address:
        return answered.from_name, answered.from_address
    raise DraftActionError(f"ticket {ticket.number} has no customer address to reply to")
