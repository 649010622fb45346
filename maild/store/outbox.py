"""The outbox in the database: what we send, and where each message is on its way.

    queued ──claim──▶ sending ──250──▶ sent
      ▲                  │ 4xx / no connection: queued again, later (backoff)
      └──────────────────┤ 5xx: failed, with the server's answer
                         └ the sender died mid-send: uncertain (never sent again by itself)

A claim is committed before the first byte goes to the server, and the outcome after the
server answers, so a process killed in between leaves the row `sending`. Whoever finds it so,
once its claimer is known dead (same host, pid gone) or has been silent too long, marks it
`uncertain` and tells the agent: the server may have accepted it, so repeating it could send
the customer the same reply twice.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from maild.outgoing import OutgoingMail
from maild.store.models import Draft, Message, OutgoingMessage, Ticket
from maild.store.tickets import record_event

_RETRY_STEPS = (60, 120, 300, 600, 1800, 3600)  # seconds; then hourly
GIVE_UP_AFTER = timedelta(days=2)


def claimer() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def queue(
    session: Session,
    *,
    mail: OutgoingMail,
    ticket_id: int | None,
    mailbox_id: int,
    kind: str,
    dedupe_key: str,
    envelope_from: str,
    now: datetime,
    draft_id: int | None = None,
) -> OutgoingMessage | None:
    """Add a message to the outbox; None when `dedupe_key` was queued already."""
    row = OutgoingMessage(
        ticket_id=ticket_id,
        draft_id=draft_id,
        mailbox_id=mailbox_id,
        kind=kind,
        dedupe_key=dedupe_key,
        message_id=mail.message_id,
        envelope_from=envelope_from,
        to_address=mail.to_address,
        subject=mail.subject,
        raw=mail.raw,
        state="queued",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row


def claim_due(session: Session, now: datetime, limit: int = 50) -> list[OutgoingMessage]:
    """Mark due messages `sending` for this process; a row another process claimed first
    (the conditional UPDATE matched nothing) is skipped."""
    due = session.scalars(
        select(OutgoingMessage.id)
        .where(OutgoingMessage.state == "queued", OutgoingMessage.next_attempt_at <= now)
        .order_by(OutgoingMessage.next_attempt_at, OutgoingMessage.id)
        .limit(limit)
    ).all()
    mine = claimer()
    claimed: list[OutgoingMessage] = []
    for row_id in due:
        won = session.execute(
            update(OutgoingMessage)
            .where(OutgoingMessage.id == row_id, OutgoingMessage.state == "queued")
            .values(
                state="sending",
                claimed_at=now,
                claimed_by=mine,
                attempts=OutgoingMessage.attempts + 1,
            )
            .returning(OutgoingMessage.id)
        ).first()
        if won is not None:
            row = session.get_one(OutgoingMessage, row_id, populate_existing=True)
            _set_draft(session, row, "sending", None)
            claimed.append(row)
    return claimed


def mark_sent(session: Session, row: OutgoingMessage, reply: str, now: datetime) -> None:
    row.state, row.sent_at, row.smtp_reply, row.last_error = "sent", now, reply, None
    _set_draft(session, row, "sent", None)
    if row.ticket_id is None:
        return  # a digest: about no single ticket
    ticket = session.get_one(Ticket, row.ticket_id)
    record_event(
        session,
        ticket.id,
        now,
        "mail_sent",
        kind=row.kind,
        message_id=row.message_id,
        to=row.to_address,
        draft=row.draft_id,
    )
    if row.kind != "reply":
        return  # an acknowledgement is not an answer
    ticket.first_response_at = ticket.first_response_at or now
    ticket.last_agent_reply_at = now
    if ticket.status in ("new", "open") and not _customer_wrote_since(session, row, ticket):
        record_event(session, ticket.id, now, "status_changed", was=ticket.status, now="waiting")
        ticket.status = "waiting"


def mark_retry(session: Session, row: OutgoingMessage, error: str, now: datetime) -> None:
    """A temporary failure: queued again after a backoff, or failed after `GIVE_UP_AFTER`."""
    if now - row.created_at > GIVE_UP_AFTER:
        mark_failed(session, row, f"gave up after {row.attempts} attempts: {error}", now)
        return
    step = _RETRY_STEPS[min(row.attempts, len(_RETRY_STEPS)) - 1] if row.attempts else 60
    row.state, row.last_error = "queued", error
    row.next_attempt_at = now + timedelta(seconds=step)
    _set_draft(session, row, "approved", f"retrying: {error}")


def mark_failed(session: Session, row: OutgoingMessage, error: str, now: datetime) -> None:
    row.state, row.last_error = "failed", error
    _set_draft(session, row, "failed", error)
    if row.ticket_id is not None:
        record_event(session, row.ticket_id, now, "mail_failed", kind=row.kind, error=error)


def mark_uncertain(session: Session, row: OutgoingMessage, reason: str, now: datetime) -> None:
    row.state, row.last_error = "uncertain", reason
    _set_draft(session, row, "uncertain", reason)
    if row.ticket_id is not None:
        record_event(session, row.ticket_id, now, "mail_uncertain", message_id=row.message_id)


def recover_interrupted(session: Session, now: datetime, silent_after: timedelta) -> int:
    """Rows left `sending` by a sender that died: `uncertain`, for an agent to decide."""
    host = socket.gethostname()
    stuck = session.scalars(select(OutgoingMessage).where(OutgoingMessage.state == "sending")).all()
    count = 0
    for row in stuck:
        by_host, _, pid = (row.claimed_by or "").rpartition(":")
        dead_here = by_host == host and pid.isdigit() and not _alive(int(pid))
        silent = row.claimed_at is None or now - row.claimed_at > silent_after
        if not (dead_here or silent):
            continue
        reason = (
            f"the sending process stopped while handing this message to the SMTP server "
            f"(attempt {row.attempts}, {row.claimed_at:%Y-%m-%d %H:%M} UTC): it may have been "
            "delivered. Check with the customer or the Sent folder, then resend it or leave it."
        )
        mark_uncertain(session, row, reason, now)
        count += 1
    return count


def requeue(session: Session, row: OutgoingMessage, actor: str, now: datetime) -> None:
    """An agent's explicit resend of a failed or uncertain message: the same bytes and
    Message-ID, so a copy that did arrive is recognised as the same message."""
    row.state, row.next_attempt_at, row.claimed_by = "queued", now, None
    _set_draft(session, row, "approved", None)
    if row.ticket_id is not None:
        record_event(
            session, row.ticket_id, now, "mail_requeued", actor=actor, message_id=row.message_id
        )


def _customer_wrote_since(session: Session, row: OutgoingMessage, ticket: Ticket) -> bool:
    """Whether the customer wrote after the message this reply answers (then the ticket
    stays open: their newer message is still unanswered)."""
    if row.draft_id is None or ticket.last_customer_at is None:
        return False
    draft = session.get_one(Draft, row.draft_id)
    if draft.answers_message_id is None:
        return False
    answered = session.get_one(Message, draft.answers_message_id)
    return ticket.last_customer_at > answered.internaldate


def _set_draft(session: Session, row: OutgoingMessage, status: str, reason: str | None) -> None:
    if row.draft_id is not None:
        draft = session.get_one(Draft, row.draft_id)
        draft.status, draft.reason = status, reason


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
