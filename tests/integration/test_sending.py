"""Sending approved replies to a real SMTP server (aiosmtpd on loopback): the headers that
thread, retries, permanent failures, a sender killed mid-send, and acknowledgement loops."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from maild import draft_actions
from maild.config import Config, config_from_mapping, load_config
from maild.draft_views import list_drafts
from maild.ingest import Ingestor
from maild.mailer import FlushReport, flush_outbox
from maild.store.db import Database, open_database
from maild.store.models import OutgoingMessage
from maild.ticket_views import list_tickets, show_ticket
from tests.integration.maild_process import maild_command, maild_env, run_maild, write_config
from tests.integration.test_tickets import mail
from tests.memory_inbox import MemoryInbox
from tests.servers.dovecot import DovecotServer
from tests.servers.smtp import SmtpServer

AGENT = "li.na@example.com"
ANSWER = "Hello Wei,\n\nThe sync is fixed in version 5.2; please update.\n\nLi Na\n"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def settings(smtp: SmtpServer, **mailbox: Any) -> Config:
    return config_from_mapping(
        {
            "timezone": "Asia/Shanghai",
            "smtp": {
                "host": smtp.host,
                "port": smtp.port,
                "security": "none",
                "allow_insecure": True,
                "timeout": 5,
            },
            "mailbox": [
                {
                    "name": "support",
                    "address": "support@example.com",
                    "display_name": "Example Support",
                    "maildir": {"path": "/x"},
                    **mailbox,
                }
            ],
        }
    )


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def flush(database: Database, config: Config, clock: Clock | None = None) -> FlushReport:
    assert config.smtp is not None
    return asyncio.run(flush_outbox(database, config.smtp, clock or Clock()))


def approved_draft(database: Database, config: Config) -> int:
    """A customer mail polled, its draft answered and approved: the draft's id."""
    inbox = MemoryInbox()
    inbox.add(mail("<a@customer>", "Cannot sync my calendar"), datetime.now(UTC))
    assert all(o.ok for o in Ingestor(database, config, inbox_factory=lambda _m: inbox).poll_all())
    (draft,) = list_drafts(database)
    now = datetime.now(UTC)
    with database.transaction() as session:
        row = draft_actions.find_draft(session, draft["id"])
        draft_actions.edit(session, row, ANSWER, subject=None, author=AGENT, now=now)
        draft_actions.approve(session, row, AGENT, config, now)
    return int(draft["id"])


def outbox_rows(database: Database) -> list[OutgoingMessage]:
    with database.session() as session:
        return list(session.scalars(select(OutgoingMessage).order_by(OutgoingMessage.id)))


def test_an_approved_draft_arrives_threaded_and_the_ticket_waits(
    database: Database, smtp: SmtpServer
) -> None:
    config = settings(smtp)
    draft_id = approved_draft(database, config)
    assert flush(database, config) == FlushReport(sent=1)
    (received,) = smtp.received
    message = received.message()
    (ticket,) = list_tickets(database)
    (row,) = outbox_rows(database)
    assert received.envelope_from == "support@example.com"
    assert received.recipients == ("zhang.wei@example.cn",)
    assert str(message["From"]) == "Example Support <support@example.com>"
    assert message["To"].addresses[0].addr_spec == "zhang.wei@example.cn"
    assert message["Subject"] == f"Re: Cannot sync my calendar [{ticket['number']}]"
    assert message["In-Reply-To"] == "<a@customer>"
    assert message["References"] == "<a@customer>"
    assert message["Message-ID"] == row.message_id and message["Date"]
    body = message.get_body(("plain",))
    assert body is not None and "version 5.2" in body.get_content()
    (draft,) = list_drafts(database)
    assert (draft["id"], draft["status"], draft["sent_at"] is not None) == (draft_id, "sent", True)
    assert ticket["status"] == "waiting" and ticket["first_response_at"] is not None
    assert flush(database, config) == FlushReport()  # nothing twice
    assert len(smtp.received) == 1


def test_smtp_down_is_retried_later_and_sent_once(database: Database) -> None:
    smtp = SmtpServer().start()
    smtp.stop()  # the port is known, nothing listens: "connection refused"
    config = settings(smtp)
    approved_draft(database, config)
    clock = Clock()
    assert flush(database, config, clock) == FlushReport(retrying=1)
    (row,) = outbox_rows(database)
    assert row.state == "queued" and "cannot connect" in (row.last_error or "")
    assert list_drafts(database)[0]["status"] == "approved"
    smtp.start()
    try:
        assert flush(database, config, clock) == FlushReport()  # not due yet: backoff
        clock.now += timedelta(minutes=2)
        assert flush(database, config, clock) == FlushReport(sent=1)
        clock.now += timedelta(hours=1)
        assert flush(database, config, clock) == FlushReport()
        assert len(smtp.received) == 1
    finally:
        smtp.stop()
    assert list_drafts(database)[0]["status"] == "sent"


def test_a_temporary_refusal_is_retried(database: Database, smtp: SmtpServer) -> None:
    config = settings(smtp)
    approved_draft(database, config)
    smtp.fail_next(1, 451, "4.3.0 try again later")
    clock = Clock()
    assert flush(database, config, clock) == FlushReport(retrying=1)
    clock.now += timedelta(minutes=5)
    assert flush(database, config, clock) == FlushReport(sent=1)
    assert len(smtp.received) == 1


def test_a_permanent_refusal_fails_the_draft_with_the_servers_answer(
    database: Database, smtp: SmtpServer
) -> None:
    config = settings(smtp)
    smtp.refuse_recipient("zhang.wei@example.cn", 550, "5.1.1 mailbox unavailable")
    approved_draft(database, config)
    assert flush(database, config) == FlushReport(failed=1)
    (draft,) = list_drafts(database)
    assert draft["status"] == "failed" and "550 5.1.1 mailbox unavailable" in draft["reason"]
    assert smtp.received == []
    (ticket,) = list_tickets(database)
    assert ticket["status"] != "waiting"  # a reply that never left answers nothing


def test_a_sender_killed_mid_send_never_sends_twice(tmp_path: Path, smtp: SmtpServer) -> None:
    """The server has the message, the sender dies before hearing 250: the next flush does not
    send it again but marks it uncertain for an agent to decide."""
    config_path = tmp_path / "maild.toml"
    config_path.write_text(
        f"""timezone = "Asia/Shanghai"
[database]
url = "sqlite:///{tmp_path / "maild.db"}"
[smtp]
host = "{smtp.host}"
port = {smtp.port}
security = "none"
allow_insecure = true
timeout = 5
[[mailbox]]
name = "support"
address = "support@example.com"
  [mailbox.maildir]
  path = "{tmp_path / "Maildir"}"
""",
        encoding="utf-8",
    )
    config = load_config(config_path)
    database = open_database(config.database_url)
    try:
        draft_id = approved_draft(database, config)
    finally:
        database.dispose()
    sender = subprocess.Popen(
        maild_command(config_path, "send", "--once"),
        env={**os.environ},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    smtp.on_data(lambda _received: os.kill(sender.pid, signal.SIGKILL))
    sender.communicate(timeout=60)
    assert sender.returncode == -signal.SIGKILL
    smtp.on_data(None)
    assert len(smtp.received) == 1
    again = subprocess.run(
        maild_command(config_path, "send", "--once"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert again.returncode == 1 and "uncertain 1" in again.stdout, again.stderr
    assert len(smtp.received) == 1
    database = open_database(config.database_url)
    try:
        (draft,) = list_drafts(database)
        assert draft["id"] == draft_id and draft["status"] == "uncertain"
        assert "may have been delivered" in draft["reason"]
    finally:
        database.dispose()


@pytest.fixture
def smtp_starttls() -> Iterator[SmtpServer]:
    with SmtpServer(security="starttls", username="support", password="s3cret") as server:
        yield server


def test_the_customer_reply_to_our_reply_threads_back_through_dovecot(
    tmp_path: Path, dovecot_server: DovecotServer, smtp_starttls: SmtpServer
) -> None:
    """Poll Dovecot, approve, send over STARTTLS with a login (trusting the server's private
    CA), a copy lands in the Sent folder; the customer answers our message (In-Reply-To = our
    Message-ID): the answer lands on the same ticket, which reopens, and the Sent copy polled
    back is known as ours."""
    smtp = smtp_starttls
    dovecot_server.create_folder("Sent")
    config_path = write_config(tmp_path, dovecot_server)
    text = config_path.read_text(encoding="utf-8").replace(
        "  timeout = 10\n",
        '  timeout = 10\n  folders = ["INBOX", "Sent"]\n  sent_folder = "Sent"\n',
    )
    config_path.write_text(
        text
        + f'[smtp]\nhost = "{smtp.host}"\nport = {smtp.port}\nsecurity = "starttls"\n'
        + f'ca_file = "{smtp.ca_file}"\nusername = "support"\npassword_env = "SMTP_SECRET"\n',
        encoding="utf-8",
    )
    dovecot_server.append(mail("<a@customer>", "Cannot sync my calendar"))
    assert run_maild(config_path, dovecot_server, "poll", "--once").returncode == 0
    database = open_database(load_config(config_path).database_url)
    try:
        (draft,) = list_drafts(database)
    finally:
        database.dispose()
    answer = tmp_path / "answer.txt"
    answer.write_text(ANSWER, encoding="utf-8")
    env = {**maild_env(dovecot_server), "SMTP_SECRET": "s3cret"}
    for args in (
        ("drafts", "edit", str(draft["id"]), "--file", str(answer), "--as", AGENT),
        ("drafts", "approve", str(draft["id"]), "--as", AGENT),
        ("send", "--once"),
    ):
        done = subprocess.run(
            maild_command(config_path, *args),
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, (args, done.stderr)
    ours = smtp.wait_for(1)[0].message()
    assert dovecot_server.message_count("Sent") == 1
    reply = mail(
        "<b@customer>",
        f"Re: {ours['Subject']}",
        "Updated, still broken.\r\n",
        extra=f"In-Reply-To: {ours['Message-ID']}\r\n",
    )
    dovecot_server.append(reply)
    assert run_maild(config_path, dovecot_server, "poll", "--once").returncode == 0
    database = open_database(load_config(config_path).database_url)
    try:
        (ticket,) = list_tickets(database)
        shown = show_ticket(database, ticket["number"])
    finally:
        database.dispose()
    assert shown is not None and shown["status"] == "open"
    # Dovecot's INTERNALDATE has whole seconds: the answer may sort beside our reply.
    assert sorted((m["direction"], m["thread_method"]) for m in shown["messages"]) == [
        ("in", "in-reply-to"),
        ("in", "new"),
        ("out", "same-message"),  # the Sent copy, known by our Message-ID
    ]
    assert shown["first_response_at"] is not None and shown["message_count"] == 3


def maildir(root: Path) -> Path:
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    return root


def instance(root: Path, smtp: SmtpServer, address: str) -> tuple[Config, Database]:
    config = config_from_mapping(
        {
            "timezone": "Asia/Shanghai",
            "smtp": {
                "host": smtp.host,
                "port": smtp.port,
                "security": "none",
                "allow_insecure": True,
            },
            "mailbox": [
                {
                    "name": "support",
                    "address": address,
                    "auto_ack": True,
                    "maildir": {"path": str(maildir(root / "Maildir"))},
                }
            ],
        }
    )
    return config, open_database(f"sqlite:///{root / 'maild.db'}")


def test_two_mailds_acknowledging_each_other_stop_after_one_ack_each(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    """Instance A's support address writes to instance B's and vice versa: each acknowledges
    the other's first (human) mail once; the acks carry Auto-Submitted, so neither answers the
    other's ack, and no loop starts however many rounds run."""
    boxes = {"a@example.com": tmp_path / "a", "b@example.net": tmp_path / "b"}
    a_config, a_db = instance(boxes["a@example.com"], smtp, "a@example.com")
    b_config, b_db = instance(boxes["b@example.net"], smtp, "b@example.net")
    deliveries = iter(range(1_000_000))

    def deliver(received: Any) -> None:
        for recipient in received.recipients:
            target = boxes[recipient] / "Maildir" / "new" / f"{next(deliveries)}.smtp"
            target.write_bytes(received.data)

    smtp.on_data(deliver)
    first = mail("<hello@b>", "Partnership question", sender="b@example.net", to="a@example.com")
    (boxes["a@example.com"] / "Maildir" / "new" / "0.human").write_bytes(first)
    second = mail("<hello@a>", "Invoice question", sender="a@example.com", to="b@example.net")
    (boxes["b@example.net"] / "Maildir" / "new" / "0.human").write_bytes(second)
    try:
        for _ in range(4):
            for config, database in ((a_config, a_db), (b_config, b_db)):
                Ingestor(database, config).poll_all()
                flush(database, config)
    finally:
        a_db.dispose()
        b_db.dispose()
    acks = [r for r in smtp.received if r.message()["Auto-Submitted"] == "auto-replied"]
    senders = sorted(str(r.message()["From"]) for r in acks)
    assert senders == ["a@example.com", "b@example.net"]
    assert all(r.envelope_from == "" for r in acks)  # RFC 3834: null return path
    assert len(smtp.received) == 2  # nothing but the two acks was ever sent


def test_an_autoresponder_answering_our_ack_gets_no_ack(
    database: Database, smtp: SmtpServer
) -> None:
    config = settings(smtp, auto_ack=True)
    inbox = MemoryInbox()
    inbox.add(mail("<a@customer>", "Cannot sync my calendar"), datetime.now(UTC))
    Ingestor(database, config, inbox_factory=lambda _m: inbox).poll_all()
    assert flush(database, config) == FlushReport(sent=1)
    ack = smtp.received[0].message()
    assert ack["In-Reply-To"] == "<a@customer>" and ack["References"] == "<a@customer>"
    vacation = mail(
        "<ooo@customer>",
        f"Automatic reply: {ack['Subject']}",
        "I am on holiday until Monday.\r\n",
        extra=f"In-Reply-To: {ack['Message-ID']}\r\nAuto-Submitted: auto-replied\r\n",
    )
    inbox.add(vacation, datetime.now(UTC))
    Ingestor(database, config, inbox_factory=lambda _m: inbox).poll_all()
    assert flush(database, config) == FlushReport()
    assert len(smtp.received) == 1
    (ticket,) = list_tickets(database)
    assert ticket["message_count"] == 2  # the vacation reply joined via our ack's Message-ID
    assert [d["status"] for d in list_drafts(database)] == ["pending"]
