"""The queries and writes the services need, each a small function over a Session."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from maild.sources.base import FetchedMessage
from maild.store.models import (
    Delivery,
    FolderState,
    Mailbox,
    Message,
    MessageBlob,
    Ticket,
    utcnow,
)

# Core tables for the bulk statements on the ingest path (the ORM layer adds per-row cost there).
_MESSAGES = cast(Table, Message.__table__)


@lru_cache(maxsize=64)
def _insert_ignoring(dialect: str, table: Table) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing()


def insert_ignoring_duplicates(
    session: Session, model: Any, rows: Sequence[dict[str, Any]]
) -> None:
    """INSERT … ON CONFLICT DO NOTHING: how two overlapping pollers avoid storing twice."""
    if not rows:
        return
    session.execute(_insert_ignoring(session.get_bind().dialect.name, model.__table__), list(rows))


def ensure_mailbox(session: Session, name: str, address: str) -> int:
    insert_ignoring_duplicates(session, Mailbox, [{"name": name, "address": address}])
    mailbox = session.scalars(select(Mailbox).where(Mailbox.name == name)).one()
    if mailbox.address != address:
        mailbox.address = address
    return mailbox.id


def folder_state(session: Session, mailbox_id: int, folder: str) -> FolderState:
    insert_ignoring_duplicates(
        session, FolderState, [{"mailbox_id": mailbox_id, "folder": folder, "last_uid": 0}]
    )
    return session.scalars(
        select(FolderState).where(
            FolderState.mailbox_id == mailbox_id, FolderState.folder == folder
        )
    ).one()


def known_source_keys(
    session: Session, mailbox_id: int, folder: str, uidvalidity: int, keys: Sequence[str]
) -> set[str]:
    rows = session.scalars(
        select(Delivery.source_key).where(
            Delivery.mailbox_id == mailbox_id,
            Delivery.folder == folder,
            Delivery.uidvalidity == uidvalidity,
            Delivery.source_key.in_(list(keys)),
        )
    )
    return set(rows)


def content_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True)
class StoredBatch:
    """What a batch stored for the first time: (message id, position in the batch) pairs."""

    new_messages: tuple[tuple[int, int], ...]


def store_batch(
    session: Session,
    *,
    mailbox_id: int,
    folder: str,
    uidvalidity: int,
    batch: Sequence[FetchedMessage],
) -> StoredBatch:
    """Store raw bytes, messages and deliveries, and advance the folder's high-water mark.

    The caller commits this together: after that commit nothing of the batch can be lost, and a
    crash before it leaves the high-water mark where it was, so the batch is fetched again.
    """
    now = utcnow()
    hashes = [content_hash(message.raw) for message in batch]
    insert_ignoring_duplicates(
        session,
        MessageBlob,
        list({h: {"sha256": h, "raw": m.raw} for h, m in zip(hashes, batch, strict=True)}.values()),
    )
    candidates = {
        h: {
            "content_hash": h,
            "mailbox_id": mailbox_id,
            "folder": folder,
            "uid": m.uid,
            "internaldate": m.internaldate,
            "size": len(m.raw),
            "stored_at": now,
            "direction": "in",
            "status": "pending",
        }
        for h, m in zip(hashes, batch, strict=True)
    }
    # RETURNING yields only the rows this transaction inserted: a message another poller (or an
    # earlier delivery) stored first is not ours to process again.
    created: list[tuple[int, str]] = []
    if candidates:
        dialect = session.get_bind().dialect.name
        statement = _insert_ignoring(dialect, _MESSAGES).returning(
            _MESSAGES.c.id, _MESSAGES.c.content_hash
        )
        created = [
            (row[0], row[1]) for row in session.execute(statement, list(candidates.values()))
        ]
    ids: dict[str, int] = {
        row[0]: row[1]
        for row in session.execute(
            select(Message.content_hash, Message.id).where(Message.content_hash.in_(hashes))
        )
    }
    insert_ignoring_duplicates(
        session,
        Delivery,
        [
            {
                "stored_message_id": ids[h],
                "mailbox_id": mailbox_id,
                "folder": folder,
                "uidvalidity": uidvalidity,
                "uid": m.uid,
                "source_key": m.source_key,
                "internaldate": m.internaldate,
                "flags": list(m.flags),
                "recorded_at": now,
            }
            for h, m in zip(hashes, batch, strict=True)
        ],
    )
    if batch:
        high = max(m.uid for m in batch)
        session.execute(
            update(FolderState)
            .where(FolderState.mailbox_id == mailbox_id, FolderState.folder == folder)
            .values(
                last_uid=func.max(FolderState.last_uid, high)
                if _is_sqlite(session)
                else func.greatest(FolderState.last_uid, high)
            )
        )
    position = {digest: i for i, digest in reversed(list(enumerate(hashes)))}
    return StoredBatch(new_messages=tuple(sorted((pk, position[digest]) for pk, digest in created)))


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def stored_work(
    session: Session, message_ids: Iterable[int]
) -> list[tuple[int, bytes, datetime, str]]:
    """(id, raw bytes, arrival, mailbox name) of stored messages, to run the pipeline again."""
    rows = session.execute(
        select(Message.id, MessageBlob.raw, Message.internaldate, Mailbox.name)
        .join(MessageBlob, MessageBlob.sha256 == Message.content_hash)
        .join(Mailbox, Mailbox.id == Message.mailbox_id)
        .where(Message.id.in_(list(message_ids)))
        .order_by(Message.id)
    )
    return [(row[0], row[1], row[2], row[3]) for row in rows]


def pending_message_ids(session: Session, limit: int = 1000) -> list[int]:
    return list(
        session.scalars(
            select(Message.id).where(Message.status == "pending").order_by(Message.id).limit(limit)
        )
    )


def unthreaded_message_ids(session: Session, limit: int = 1000) -> list[int]:
    """Processed incoming messages that are on no ticket yet, oldest first."""
    return list(
        session.scalars(
            select(Message.id)
            .where(
                Message.status == "ok",
                Message.direction == "in",
                Message.ticket_id.is_(None),
            )
            .order_by(Message.internaldate, Message.id)
            .limit(limit)
        )
    )


def apply_updates(session: Session, updates: Sequence[dict[str, Any]]) -> None:
    """Bulk UPDATE by primary key; each dict has "id" and the columns to set.

    Plain Core executemany, grouped by the set of columns: the ORM's per-row bookkeeping
    costs more than the statement itself at ingest volumes.
    """
    table = _MESSAGES
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in updates:
        columns = tuple(sorted(key for key in row if key != "id"))
        groups.setdefault(columns, []).append({"row_id": row["id"], **row})
    for columns, rows in groups.items():
        statement = (
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values({column: bindparam(column) for column in columns})
        )
        session.execute(statement, rows)


def messages_query(*, status: str | None = None) -> Select[Message, str, str | None]:
    query = (
        select(Message, Mailbox.name, Ticket.number)
        .join(Mailbox, Mailbox.id == Message.mailbox_id)
        .outerjoin(Ticket, Ticket.id == Message.ticket_id)
    )
    if status is not None:
        query = query.where(Message.status == status)
    return query.order_by(Message.id)


def stored_counts(session: Session) -> dict[tuple[int, str], int]:
    """Messages recorded per (mailbox, folder) under the folder's current UIDVALIDITY."""
    query = (
        select(Delivery.mailbox_id, Delivery.folder, func.count(Delivery.id))
        .join(
            FolderState,
            (FolderState.mailbox_id == Delivery.mailbox_id)
            & (FolderState.folder == Delivery.folder)
            & (FolderState.uidvalidity == Delivery.uidvalidity),
        )
        .group_by(Delivery.mailbox_id, Delivery.folder)
    )
    return {(row[0], row[1]): row[2] for row in session.execute(query)}


def deliveries_awaiting_after_import(
    session: Session, mailbox_id: int, folder: str, uidvalidity: int, limit: int
) -> list[tuple[int, int]]:
    """(delivery id, uid) pairs stored in this folder whose after_import is still to be done."""
    rows = session.execute(
        select(Delivery.id, Delivery.uid)
        .where(
            Delivery.mailbox_id == mailbox_id,
            Delivery.folder == folder,
            Delivery.uidvalidity == uidvalidity,
            Delivery.after_import_done.is_(False),
        )
        .order_by(Delivery.uid)
        .limit(limit)
    )
    return [(row[0], row[1]) for row in rows]


def mark_after_import_done(session: Session, delivery_ids: Sequence[int]) -> None:
    session.execute(
        update(Delivery).where(Delivery.id.in_(list(delivery_ids))).values(after_import_done=True)
    )
