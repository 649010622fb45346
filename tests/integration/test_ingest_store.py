"""Ingest into a real database (SQLite file and local PostgreSQL): stored once, nothing lost."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from maild.config import Config, config_from_mapping
from maild.ingest import Ingestor
from maild.sources.base import FetchedMessage
from maild.store import repository as repo
from maild.store.db import Database
from maild.store.models import Delivery, Message
from tests.memory_inbox import MemoryInbox, simple_message


def make_config() -> Config:
    return config_from_mapping(
        {
            "schedule": {"retry_backoff": "100ms"},
            "mailbox": [
                {"name": "support", "address": "support@example.com", "maildir": {"path": "/x"}}
            ],
        }
    )


def ingestor(database: Database, inbox: MemoryInbox) -> Ingestor:
    return Ingestor(database, make_config(), inbox_factory=lambda _mailbox: inbox)


def counts(database: Database) -> tuple[int, int]:
    with database.session() as session:
        messages = session.scalar(select(func.count(Message.id))) or 0
        deliveries = session.scalar(select(func.count(Delivery.id))) or 0
    return messages, deliveries


def statuses(database: Database) -> dict[str, str]:
    with database.session() as session:
        return {m.message_id or "": m.status for m in session.scalars(select(Message))}


def test_each_message_stored_once_and_second_poll_stores_nothing(database: Database) -> None:
    """A poll stores every new message as ok; polling again finds nothing new."""
    inbox = MemoryInbox()
    for number in range(1, 8):
        inbox.add(simple_message(number))
    outcome = ingestor(database, inbox).poll_all()
    assert outcome[0].ok and outcome[0].stored == 7
    assert counts(database) == (7, 7)
    assert set(statuses(database).values()) == {"ok"}
    again = ingestor(database, inbox).poll_all()
    assert again[0].stored == 0
    assert counts(database) == (7, 7)


def test_same_bytes_twice_is_one_message_with_two_deliveries(database: Database) -> None:
    """Identical bytes delivered twice are stored once, both deliveries recorded."""
    inbox = MemoryInbox()
    inbox.add(simple_message(1))
    inbox.add(simple_message(1))
    ingestor(database, inbox).poll_all()
    assert counts(database) == (1, 2)


def test_reused_message_id_with_other_content_is_a_second_message(database: Database) -> None:
    """A different message reusing a Message-ID is not merged away."""
    inbox = MemoryInbox()
    inbox.add(simple_message(1, message_id="<dup@x>", body="first"))
    inbox.add(simple_message(2, message_id="<dup@x>", body="second"))
    ingestor(database, inbox).poll_all()
    with database.session() as session:
        rows = session.scalars(select(Message).where(Message.message_id == "<dup@x>")).all()
    assert len(rows) == 2


def test_unusable_message_is_quarantined_with_reason_and_batch_goes_on(database: Database) -> None:
    """A message without a header block is kept, quarantined with a reason; the rest are ok."""
    inbox = MemoryInbox()
    inbox.add(simple_message(1))
    inbox.add(b"\x00\x01 this is not an email at all")
    inbox.add(simple_message(3))
    ingestor(database, inbox).poll_all()
    with database.session() as session:
        rows = session.scalars(select(Message).order_by(Message.uid)).all()
    assert [row.status for row in rows] == ["ok", "quarantined", "ok"]
    assert rows[1].reason
    with database.session() as session:
        raw = repo.stored_work(session, [rows[1].id])
    assert raw[0][1] == b"\x00\x01 this is not an email at all"


def test_unexpected_stage_error_quarantines_only_that_message(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An exception inside a stage quarantines the message with the stage and error named."""
    from maild import pipeline  # noqa: PLC0415

    real = pipeline.parse_message

    def flaky(raw: bytes, internaldate: object) -> object:
        if b"message 2." in raw:
            raise KeyError("boom")
        return real(raw, internaldate)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "parse_message", flaky)
    inbox = MemoryInbox()
    for number in (1, 2, 3):
        inbox.add(simple_message(number))
    ingestor(database, inbox).poll_all()
    with database.session() as session:
        bad = session.scalars(select(Message).where(Message.status == "quarantined")).one()
    assert bad.reason is not None and "parse: unexpected KeyError" in bad.reason
    assert list(statuses(database).values()).count("ok") == 2


def test_uidvalidity_change_stores_nothing_twice(database: Database) -> None:
    """After the server renumbers a folder, a full re-read stores no duplicate."""
    inbox = MemoryInbox()
    for number in range(1, 5):
        inbox.add(simple_message(number))
    ingestor(database, inbox).poll_all()
    inbox.uidvalidity = 2
    inbox.add(simple_message(5))
    outcome = ingestor(database, inbox).poll_all()
    assert outcome[0].stored == 1
    messages, deliveries = counts(database)
    assert messages == 5
    assert deliveries == 4 + 5


def test_overlapping_pollers_do_not_duplicate(database: Database) -> None:
    """Two pollers of the same mailbox at once store every message exactly once."""
    inbox = MemoryInbox(batch_size=2)
    for number in range(1, 41):
        inbox.add(simple_message(number))
    errors: list[BaseException] = []

    def poll() -> None:
        try:
            ingestor(database, inbox).poll_all()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=poll) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    messages, _ = counts(database)
    assert messages == 40
    assert set(statuses(database).values()) == {"ok"}


def test_messages_stored_but_not_processed_are_finished_next_poll(database: Database) -> None:
    """Rows stored but not processed (a crash between store and pipeline) are done next poll."""
    config = make_config()
    with database.transaction() as session:
        mailbox_id = repo.ensure_mailbox(session, "support", "support@example.com")
        repo.folder_state(session, mailbox_id, "INBOX")
        fetched = FetchedMessage(1, "1", simple_message(1), datetime.now(UTC), ())
        repo.store_batch(
            session, mailbox_id=mailbox_id, folder="INBOX", uidvalidity=1, batch=[fetched]
        )
    assert statuses(database) == {"": "pending"}
    inbox = MemoryInbox()
    inbox.add(simple_message(1))
    Ingestor(database, config, inbox_factory=lambda _m: inbox).poll_all()
    assert statuses(database) == {"<m1@customer.example.com>": "ok"}
    assert counts(database) == (1, 1)


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    """The default SQLite database uses WAL so readers do not block the poller."""
    from maild.store.db import open_database  # noqa: PLC0415

    database = open_database(f"sqlite:///{tmp_path / 'w.db'}")
    with database.engine.connect() as connection:
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
    database.dispose()
    assert mode == "wal"
