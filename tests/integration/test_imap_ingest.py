"""Ingest from a real Dovecot: the corpus, crash safety, restarts, UIDVALIDITY, after_import."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from maild import resources
from maild.config import MailboxConfig, load_config
from maild.ingest import Ingestor, pipeline_settings
from maild.pipeline import run_pipeline
from maild.rules import load_rules
from maild.sources.base import Inbox, SourceError
from maild.sources.imap import ImapInbox
from maild.store.db import Database, open_database
from maild.store.models import Message
from tests.conftest import postgres_database
from tests.integration.maild_process import (
    PASSWORD_ENV,
    maild_command,
    maild_env,
    run_maild,
    write_config,
)
from tests.memory_inbox import simple_message
from tests.servers.dovecot import DovecotServer

pytestmark = pytest.mark.dovecot


@pytest.fixture
def imap_env(dovecot_server: DovecotServer, monkeypatch: pytest.MonkeyPatch) -> DovecotServer:
    monkeypatch.setenv(PASSWORD_ENV, dovecot_server.password)
    return dovecot_server


@pytest.fixture
def open_db() -> Iterator[list[Database]]:
    opened: list[Database] = []
    yield opened
    for database in opened:
        database.dispose()


def poll_in_process(config_path: Path, opened: list[Database]) -> tuple[Database, int]:
    config = load_config(config_path)
    database = open_database(config.database_url)
    opened.append(database)
    outcomes = Ingestor(database, config).poll_all()
    assert all(outcome.ok for outcome in outcomes), [o.error for o in outcomes]
    return database, sum(outcome.stored for outcome in outcomes)


def stored(config_path: Path) -> list[dict[str, object]]:
    """The stored messages; none while the schema does not exist yet."""
    database = config_path.parent / "maild.db"
    if not database.exists():
        return []
    with sqlite3.connect(database) as connection:
        if not connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'messages'"
        ).fetchone():
            return []
        connection.row_factory = sqlite3.Row
        rows = connection.execute("SELECT id, uid, status, reason, message_id FROM messages")
        return [dict(row) for row in rows]


def test_every_corpus_message_stored_exactly_once(
    imap_env: DovecotServer, corpus: list[Path], tmp_path: Path, open_db: list[Database]
) -> None:
    """Every corpus file delivered to Dovecot is stored once, ok or quarantined with a reason."""
    uids = imap_env.append_many(path.read_bytes() for path in corpus)
    assert len(uids) == len(corpus)
    # Dovecot serves line endings as CRLF, so corpus files differing only in them (rubymail's
    # basic_email and basic_email_lf) arrive as the same bytes: those are stored once.
    with imap_env.connect() as client:
        client.select_folder("INBOX", readonly=True)
        served = client.fetch(uids, ["BODY.PEEK[]"])
    distinct = {hashlib.sha256(data[b"BODY[]"]).hexdigest() for data in served.values()}
    config = write_config(tmp_path, imap_env, batch_size=50)
    _, count = poll_in_process(config, open_db)
    assert count == len(distinct)
    rows = stored(config)
    assert len(rows) == len(distinct)
    with sqlite3.connect(config.parent / "maild.db") as connection:
        delivered = [r[0] for r in connection.execute("SELECT uid FROM deliveries")]
    assert sorted(delivered) == sorted(uids)
    assert {row["status"] for row in rows} <= {"ok", "quarantined"}
    assert all(str(row["reason"]).startswith("parse: ") for row in rows if row["status"] != "ok")
    # What was stored is what the pipeline decides on the bytes the server served.
    loaded = load_config(config)
    settings = pipeline_settings(loaded, load_rules(loaded.rules_dir, loaded.owners))
    expected = {
        uid: "quarantined"
        if run_pipeline(
            (0, data[b"BODY[]"], datetime.now(UTC), "support"), settings
        ).quarantine_reason
        else "ok"
        for uid, data in served.items()
    }
    assert {row["uid"]: row["status"] for row in rows} == {
        row["uid"]: expected[row["uid"]] for row in rows
    }
    assert sum(status == "ok" for status in expected.values()) >= 300
    with sqlite3.connect(config.parent / "maild.db") as connection:
        unclassified = connection.execute(
            "SELECT count(*) FROM messages WHERE status = 'ok' AND category IS NULL"
        ).fetchone()[0]
    assert unclassified == 0, "every message that parsed was classified"
    _, again = poll_in_process(config, open_db)
    assert again == 0
    assert len(stored(config)) == len(distinct)


@pytest.mark.postgres
def test_corpus_into_postgresql(
    imap_env: DovecotServer, corpus: list[Path], tmp_path: Path, open_db: list[Database]
) -> None:
    """The whole corpus goes through IMAP into PostgreSQL too (NUL bytes, odd charsets)."""
    urls = postgres_database()
    url = next(urls)
    try:
        imap_env.append_many(path.read_bytes() for path in corpus)
        config = write_config(tmp_path, imap_env, batch_size=100, database_url=url)
        database, count = poll_in_process(config, open_db)
        with database.session() as session:
            statuses = dict(
                session.execute(select(Message.status, func.count()).group_by(Message.status)).all()
            )
        assert count == sum(statuses.values()) >= len(corpus) - 1
        assert set(statuses) <= {"ok", "quarantined"}
        assert statuses["ok"] >= 300
        database.dispose()
        open_db.remove(database)
    finally:
        urls.close()


def test_seen_and_old_mail_is_ingested_like_any_other(
    imap_env: DovecotServer, tmp_path: Path, open_db: list[Database]
) -> None:
    """The UID decides what is new: \\Seen flags and old arrival dates do not hide mail."""
    imap_env.append(simple_message(1), flags=["\\Seen"])
    imap_env.append(simple_message(2), internaldate=datetime(2019, 1, 1, tzinfo=UTC))
    config = write_config(tmp_path, imap_env)
    _, count = poll_in_process(config, open_db)
    assert count == 2
    with imap_env.connect() as client:
        client.select_folder("INBOX", readonly=True)
        flags = client.get_flags(client.search(["ALL"]))
    assert [b"\\Seen" in f for _, f in sorted(flags.items())] == [True, False]


def test_uidvalidity_change_stores_no_duplicates(
    imap_env: DovecotServer, tmp_path: Path, open_db: list[Database]
) -> None:
    """When Dovecot renumbers the folder, maild re-reads it and stores only the new message."""
    imap_env.append_many(simple_message(n) for n in range(1, 6))
    config = write_config(tmp_path, imap_env)
    poll_in_process(config, open_db)
    imap_env.reset_uidvalidity()
    imap_env.append(simple_message(6))
    _, count = poll_in_process(config, open_db)
    assert count == 1
    assert len(stored(config)) == 6


@pytest.mark.parametrize(
    ("after_import", "expect"), [("seen", "seen"), ("move:Processed", "moved")]
)
def test_after_import_happens_after_the_commit(
    imap_env: DovecotServer, tmp_path: Path, open_db: list[Database], after_import: str, expect: str
) -> None:
    """after_import flags or moves exactly the stored messages, even thousands at once."""
    # Every other UID: no ranges to collapse them into, more than one 64 KB command line holds.
    total = 12_000
    imap_env.create_folder("Processed")
    uids = imap_env.append_many(simple_message(n) for n in range(1, 2 * total + 1))
    with imap_env.connect() as client:
        client.select_folder("INBOX")
        doomed = uids[1::2]
        for start in range(0, len(doomed), 1000):
            client.delete_messages(doomed[start : start + 1000])
        client.expunge()
    config = write_config(tmp_path, imap_env, after_import=after_import, batch_size=1000)
    _, count = poll_in_process(config, open_db)
    assert count == total
    if expect == "seen":
        with imap_env.connect() as client:
            client.select_folder("INBOX", readonly=True)
            unseen = client.search(["UNSEEN"])
        assert unseen == []
        assert imap_env.message_count("INBOX") == total
    else:
        assert imap_env.message_count("INBOX") == 0
        assert imap_env.message_count("Processed") == total


def test_after_import_left_undone_by_a_failed_poll_is_done_by_the_next(
    imap_env: DovecotServer, tmp_path: Path, open_db: list[Database]
) -> None:
    """A poll that stored its messages but lost the server before flagging them leaves the
    flagging to the next poll: the database, not memory, knows what is still to be marked."""
    imap_env.append_many(simple_message(n) for n in range(1, 21))
    config_path = write_config(tmp_path, imap_env, after_import="seen")
    config = load_config(config_path)
    database = open_database(config.database_url)
    open_db.append(database)

    def failing_once(mailbox: MailboxConfig) -> Inbox:
        inbox = ImapInbox(mailbox.imap, mailbox.name)  # type: ignore[arg-type]

        def lost(folder: str, uids: Sequence[int]) -> None:
            raise SourceError("connection lost")

        inbox.mark_done = lost  # type: ignore[method-assign]
        return inbox

    Ingestor(database, config, inbox_factory=failing_once).poll_all()
    assert len(stored(config_path)) == 20
    with imap_env.connect() as client:
        client.select_folder("INBOX", readonly=True)
        assert len(client.search(["UNSEEN"])) == 20
    _, count = poll_in_process(config_path, open_db)
    assert count == 0
    with imap_env.connect() as client:
        client.select_folder("INBOX", readonly=True)
        assert client.search(["UNSEEN"]) == []


def test_poll_once_exits_nonzero_naming_an_unreachable_mailbox(
    imap_env: DovecotServer, tmp_path: Path
) -> None:
    """poll --once exits 3 and names the mailbox whose server is down."""
    config = write_config(tmp_path, imap_env, name="billing")
    imap_env.stop()
    result = run_maild(config, imap_env, "poll", "--once")
    assert result.returncode == 3
    assert "mailbox 'billing' could not be read" in result.stderr
    assert imap_env.password not in result.stderr + result.stdout


def test_killed_poller_loses_and_duplicates_nothing(
    imap_env: DovecotServer, tmp_path: Path
) -> None:
    """SIGKILL part-way through a 2,000-message sync, then poll again: each stored exactly once."""
    imap_env.append_many(simple_message(n, body="x" * (n % 700)) for n in range(1, 2001))
    config = write_config(tmp_path, imap_env, batch_size=50)
    process = subprocess.Popen(
        maild_command(config, "poll", "--once"),
        env=maild_env(imap_env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    database = config.parent / "maild.db"
    while time.monotonic() < deadline and process.poll() is None:
        if len(stored(config)) >= 300:
            break
        time.sleep(0.02)
    assert process.poll() is None, "the poll finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    partial = len(stored(config))
    assert 0 < partial < 2000
    result = run_maild(config, imap_env, "poll", "--once")
    assert result.returncode == 0, result.stderr
    rows = stored(config)
    assert len(rows) == 2000
    assert sorted(row["uid"] for row in rows) == list(range(1, 2001))
    assert {row["status"] for row in rows} == {"ok"}
    with sqlite3.connect(database) as connection:
        deliveries = connection.execute("SELECT count(*) FROM deliveries").fetchone()[0]
    assert deliveries == 2000


def read_events(path: Path) -> list[dict[str, object]]:
    events = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("{"):
            events.append(json.loads(line))
    return events


def wait_for(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def start_daemon(config: Path, server: DovecotServer, log_path: Path) -> subprocess.Popen[bytes]:
    """`maild run` with its JSON log lines going to log_path."""
    with log_path.open("w") as log:
        return subprocess.Popen(
            maild_command(config, "run"), env=maild_env(server), stdout=log, stderr=log
        )


def has_event(log_path: Path, name: str) -> bool:
    return any(event["event"] == name for event in read_events(log_path))


def test_daemon_survives_dovecot_restart_and_stops_cleanly(
    imap_env: DovecotServer, tmp_path: Path
) -> None:
    """The daemon logs a lost server, retries, catches up after restart, and exits 0 on SIGTERM."""
    imap_env.append_many(simple_message(n) for n in range(1, 4))
    config = write_config(tmp_path, imap_env, poll_interval="1s")
    log_path = tmp_path / "daemon.log"
    daemon = start_daemon(config, imap_env, log_path)
    try:
        wait_for(lambda: len(stored(config)) == 3, 30, "the first poll")
        imap_env.stop()
        wait_for(lambda: has_event(log_path, "poll_failed"), 30, "a logged poll failure")
        imap_env.start()
        imap_env.append(simple_message(4))
        wait_for(lambda: len(stored(config)) == 4, 60, "catching up after the restart")
        assert daemon.poll() is None
    finally:
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(timeout=10)
    assert code == 0
    events = [e["event"] for e in read_events(log_path)]
    assert "daemon_stopped" in events
    assert imap_env.password not in log_path.read_text()


def test_sighup_reloads_configuration(imap_env: DovecotServer, tmp_path: Path) -> None:
    """SIGHUP re-reads maild.toml; a broken file is reported and the old configuration kept."""
    config = write_config(tmp_path, imap_env, poll_interval="1h")
    log_path = tmp_path / "daemon.log"
    daemon = start_daemon(config, imap_env, log_path)
    try:
        wait_for(lambda: has_event(log_path, "folder_polled"), 30, "the first poll")
        config.write_text(config.read_text() + "bogus_key = 1\n")
        daemon.send_signal(signal.SIGHUP)
        wait_for(lambda: has_event(log_path, "reload_failed"), 10, "reload_failed")
        config.write_text(config.read_text().replace("bogus_key = 1\n", ""))
        imap_env.append(simple_message(9))
        daemon.send_signal(signal.SIGHUP)
        wait_for(lambda: len(stored(config)) == 1, 20, "the reloaded daemon polling")
    finally:
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=10) == 0
    events = read_events(log_path)
    failed = next(e for e in events if e["event"] == "reload_failed")
    assert "bogus_key" in str(failed["error"])
    assert any(e["event"] == "config_reloaded" for e in events)


def test_sigterm_mid_sync_commits_and_exits_zero(imap_env: DovecotServer, tmp_path: Path) -> None:
    """SIGTERM during a long first sync finishes the batch in hand and exits 0 within 10 s."""
    imap_env.append_many(simple_message(n, body="y" * (n % 500)) for n in range(1, 3001))
    config = write_config(tmp_path, imap_env, batch_size=50)
    daemon = subprocess.Popen(
        maild_command(config, "run"),
        env=maild_env(imap_env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for(lambda: len(stored(config)) >= 200, 60, "part of the sync")
    daemon.send_signal(signal.SIGTERM)
    started = time.monotonic()
    assert daemon.wait(timeout=10) == 0
    assert time.monotonic() - started < 10
    partial = stored(config)
    assert 0 < len(partial) < 3000
    assert {row["status"] for row in partial} == {"ok"}, "the batch in hand was finished"
    assert run_maild(config, imap_env, "poll", "--once").returncode == 0
    rows = stored(config)
    assert sorted(row["uid"] for row in rows) == list(range(1, 3001))


def test_status_shows_server_and_stored_counts(imap_env: DovecotServer, tmp_path: Path) -> None:
    """maild status puts the server's count beside the stored count and the last outcome."""
    imap_env.append_many(simple_message(n) for n in range(1, 6))
    config = write_config(tmp_path, imap_env)
    assert run_maild(config, imap_env, "poll", "--once").returncode == 0
    result = run_maild(config, imap_env, "status", "--json")
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert row["mailbox"] == "support" and row["folder"] == "INBOX"
    assert row["server_count"] == 5 and row["stored_count"] == 5
    assert row["last_outcome"] == "ok" and row["last_poll_at"]


def test_sample_conversations_become_exactly_that_many_tickets(
    imap_env: DovecotServer, tmp_path: Path
) -> None:
    """The bundled sample mailbox through Dovecot: 29 usable messages in 20 conversations
    (its README lists which message answers which) make exactly 20 tickets."""
    sample = sorted((resources.packaged("sample-mailbox") / "new").glob("*.eml"))
    imap_env.append_many(path.read_bytes() for path in sample)
    config = write_config(tmp_path, imap_env)
    assert run_maild(config, imap_env, "poll", "--once").returncode == 0
    result = run_maild(config, imap_env, "tickets", "list", "--json")
    assert result.returncode == 0, result.stderr
    tickets = json.loads(result.stdout)
    assert len(tickets) == 20
    assert sum(ticket["message_count"] for ticket in tickets) == 29
    for ticket in tickets:
        assert {
            "number",
            "status",
            "subject",
            "category",
            "priority",
            "owner",
            "assignee",
            "customer",
            "created_at",
            "last_customer_at",
            "message_count",
            "escalation_tier",
        } <= ticket.keys()
