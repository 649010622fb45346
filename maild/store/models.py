"""SQLAlchemy 2.x typed models for mailboxes, their sync state, raw bytes and messages.

Unique constraints carry the idempotency: a delivery is recorded once per (mailbox, folder,
uidvalidity, source key), and the same raw bytes are stored once however often they arrive.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Stores UTC and always returns timezone-aware UTC, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class Mailbox(Base):
    __tablename__ = "mailboxes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    address: Mapped[str] = mapped_column(String(320))


class FolderState(Base):
    """Where the last poll of one folder got to, and how it went (for `maild status`)."""

    __tablename__ = "folder_states"
    __table_args__ = (UniqueConstraint("mailbox_id", "folder"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox_id: Mapped[int] = mapped_column(ForeignKey("mailboxes.id"))
    folder: Mapped[str] = mapped_column(String(500))
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    server_count: Mapped[int | None] = mapped_column(Integer)
    last_poll_at: Mapped[datetime | None]
    last_outcome: Mapped[str | None] = mapped_column(String(20))
    last_error: Mapped[str | None] = mapped_column(Text)


class MessageBlob(Base):
    """Raw bytes exactly as fetched, addressed by their SHA-256."""

    __tablename__ = "message_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    raw: Mapped[bytes] = mapped_column(LargeBinary)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (Index(None, "status"), Index(None, "message_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    content_hash: Mapped[str] = mapped_column(ForeignKey("message_blobs.sha256"), unique=True)
    mailbox_id: Mapped[int] = mapped_column(ForeignKey("mailboxes.id"))
    folder: Mapped[str] = mapped_column(String(500))
    uid: Mapped[int] = mapped_column(BigInteger)
    internaldate: Mapped[datetime]
    size: Mapped[int] = mapped_column(Integer)
    stored_at: Mapped[datetime]
    direction: Mapped[str] = mapped_column(String(3), default="in")
    # "pending" only between the durable store and the parse of the same poll (or after a crash
    # there, until the next poll); then "ok" or "quarantined" with its reason.
    status: Mapped[str] = mapped_column(String(12), default="pending")
    reason: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime | None]
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    # How the message was threaded onto its ticket ("in-reply-to", "subject", "new", …) and why.
    thread_method: Mapped[str | None] = mapped_column(String(20))
    thread_reasons: Mapped[list[Any] | None]

    message_id: Mapped[str | None] = mapped_column(String(998))
    message_id_synthesized: Mapped[bool] = mapped_column(Boolean, default=False)
    subject: Mapped[str | None] = mapped_column(Text)
    from_name: Mapped[str | None] = mapped_column(Text)
    from_address: Mapped[str | None] = mapped_column(String(320))
    recipients: Mapped[dict[str, Any] | None]
    in_reply_to: Mapped[str | None] = mapped_column(String(998))
    references: Mapped[list[Any] | None]
    sent_at: Mapped[datetime | None]
    text: Mapped[str | None] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    attachments: Mapped[list[Any] | None]
    language: Mapped[str | None] = mapped_column(String(10))
    is_auto_submitted: Mapped[bool] = mapped_column(Boolean, default=False)
    is_bounce: Mapped[bool] = mapped_column(Boolean, default=False)
    is_mailing_list: Mapped[bool] = mapped_column(Boolean, default=False)
    parse_notes: Mapped[list[Any] | None]
    # The customer's new words (quoted history and signature removed): what rules and drafts see.
    new_part: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(64), index=True)
    priority: Mapped[str | None] = mapped_column(String(10))
    owner: Mapped[str | None] = mapped_column(String(400))
    tags: Mapped[list[Any] | None]
    captures: Mapped[dict[str, Any] | None]
    # Why the category, priority and owner: one line per matching rule and condition.
    classification: Mapped[list[Any] | None]


class Delivery(Base):
    """One appearance of a message in a mailbox folder; several for the same bytes are normal."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("mailbox_id", "folder", "uidvalidity", "source_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stored_message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    mailbox_id: Mapped[int] = mapped_column(ForeignKey("mailboxes.id"))
    folder: Mapped[str] = mapped_column(String(500))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    # The IMAP UID as text, or the Maildir file's unique name (Maildir has no UIDs).
    source_key: Mapped[str] = mapped_column(String(500))
    internaldate: Mapped[datetime]
    flags: Mapped[list[Any] | None]
    recorded_at: Mapped[datetime]
    # Whether `after_import` (flag or move) was applied on the server; a poll that failed after
    # its commit leaves it false, and the next poll applies it.
    after_import_done: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class MessageReference(Base):
    """A Message-ID named in a stored message's In-Reply-To or References, for threading a
    message that arrives after a reply to it (out-of-order delivery)."""

    __tablename__ = "message_references"
    __table_args__ = (UniqueConstraint("stored_message_id", "ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stored_message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"))
    ref: Mapped[str] = mapped_column(String(998), index=True)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (Index(None, "subject_key", "customer_address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[str] = mapped_column(String(12), index=True, default="new")
    close_reason: Mapped[str | None] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(Text, default="")
    # The subject without reply prefixes and ticket numbers, case-folded: threading by subject.
    subject_key: Mapped[str] = mapped_column(String(500), default="")
    # In force: the rules' decision, or an agent's correction of it (`tickets set`).
    category: Mapped[str | None] = mapped_column(String(64))
    priority: Mapped[str | None] = mapped_column(String(10))
    # What the rules decided, kept beside an agent's correction.
    rule_category: Mapped[str | None] = mapped_column(String(64))
    rule_priority: Mapped[str | None] = mapped_column(String(10))
    owner: Mapped[str | None] = mapped_column(String(400), index=True)
    assignee: Mapped[str | None] = mapped_column(String(400))
    classification: Mapped[list[Any] | None]
    customer_address: Mapped[str | None] = mapped_column(String(320), index=True)
    customer_name: Mapped[str | None] = mapped_column(Text)
    linked_to_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    # Set by `tickets merge`: this ticket's messages moved there; replies to it follow.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    # Indexed: the dashboard counts tickets by the day they were created (last 30 days).
    created_at: Mapped[datetime] = mapped_column(index=True)
    first_response_at: Mapped[datetime | None]
    last_customer_at: Mapped[datetime | None]
    last_agent_reply_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]  # when an agent last marked it resolved
    closed_at: Mapped[datetime | None]


class TicketParticipant(Base):
    """Everyone on a ticket's conversation: the customer and who was on its To/Cc."""

    __tablename__ = "ticket_participants"
    __table_args__ = (UniqueConstraint("ticket_id", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    address: Mapped[str] = mapped_column(String(320))


class TicketEvent(Base):
    """The audit trail: who changed what on a ticket, and when."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(400))
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict[str, Any] | None]


class TicketSequence(Base):
    """The last ticket number handed out per day (per prefix): numbers are never reused."""

    __tablename__ = "ticket_sequences"

    day: Mapped[str] = mapped_column(String(60), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Draft(Base):
    """A reply an agent approves, edits or rejects before anything reaches the customer."""

    __tablename__ = "drafts"
    # One pending draft per ticket: a newer customer message refreshes it instead.
    __table_args__ = (
        Index(
            "uq_drafts_one_pending_per_ticket",
            "ticket_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    # The customer message it answers (the latest, after a refresh).
    answers_message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    # pending | approved | sending | sent | rejected | failed | uncertain
    status: Mapped[str] = mapped_column(String(12), index=True, default="pending")
    template: Mapped[str] = mapped_column(String(300))
    language: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    missing: Mapped[list[Any]]
    edited: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(String(320))  # who approved or rejected
    decided_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)  # why rejected, failed or uncertain


class DraftRevision(Base):
    """Every text a draft has had: the template's render, each refresh, each agent's edit."""

    __tablename__ = "draft_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id"), index=True)
    at: Mapped[datetime]
    author: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(12))  # rendered | refreshed | edited
    subject: Mapped[str] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text)


class OutgoingMessage(Base):
    """A message we send (an approved reply, an acknowledgement), built in full before the
    first attempt so a retry sends the same bytes, and its Message-ID threads replies back."""

    __tablename__ = "outbox"
    __table_args__ = (Index(None, "state", "next_attempt_at"), Index(None, "to_address", "kind"))

    id: Mapped[int] = mapped_column(primary_key=True)
    # None for mail about no single ticket (the supervisors' digest).
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("drafts.id"), unique=True)
    mailbox_id: Mapped[int] = mapped_column(ForeignKey("mailboxes.id"))
    kind: Mapped[str] = mapped_column(String(12))  # reply | ack | notification | digest
    # What must never be queued twice: a draft, or the ack to one sender in one interval.
    dedupe_key: Mapped[str] = mapped_column(String(500), unique=True)
    message_id: Mapped[str] = mapped_column(String(998), unique=True)
    envelope_from: Mapped[str] = mapped_column(String(320))  # "" = null reverse-path (acks)
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(Text)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    # queued | sending | sent | failed | uncertain
    state: Mapped[str] = mapped_column(String(12), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(300))  # host:pid of the sender
    last_error: Mapped[str | None] = mapped_column(Text)
    smtp_reply: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class Notification(Base):
    """Every escalation, reminder, follow-up and digest decided, once: `key` names the ticket,
    the unanswered episode (its start), the tier and the recipient, and is unique, so a second
    sweep, a restart or a concurrent sweeper finds it taken and sends nothing."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(700), unique=True)
    kind: Mapped[str] = mapped_column(String(12))  # escalation | reminder | followup | digest
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    episode: Mapped[datetime | None]  # when the unanswered episode (or resolution) began
    tier: Mapped[int] = mapped_column(Integer, default=0)  # 1-based escalation tier; else 0
    recipient: Mapped[str] = mapped_column(String(400))
    detail: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(index=True)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))


class User(Base):
    """Someone who signs in to the web pages (and whose address approves drafts)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # lower-case
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(12))  # agent | supervisor | admin
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2id, with its parameters
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]


class ApiToken(Base):
    """A per-user token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
