"""Threading into tickets against a real database (SQLite file and local PostgreSQL)."""

from __future__ import annotations

import threading

from sqlalchemy import select, update

from maild.config import Config, config_from_mapping
from maild.ingest import Ingestor
from maild.store.db import Database
from maild.store.models import Message, Ticket
from maild.store.tickets import next_number
from maild.ticket_views import list_tickets, show_ticket
from tests.memory_inbox import MemoryInbox


def config(*mailboxes: str) -> Config:
    return config_from_mapping(
        {
            "timezone": "Asia/Shanghai",
            "mailbox": [
                {"name": name, "address": f"{name}@example.com", "maildir": {"path": "/x"}}
                for name in mailboxes or ("support",)
            ],
        }
    )


def mail(
    message_id: str,
    subject: str,
    body: str = "Hello,\r\nplease help.\r\n",
    *,
    sender: str = "Zhang Wei <zhang.wei@example.cn>",
    to: str = "support@example.com",
    extra: str = "",
) -> bytes:
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\n"
        f"Date: Tue, 24 Nov 2026 10:00:00 +0800\r\n{extra}\r\n{body}"
    ).encode()


def poll(database: Database, inboxes: dict[str, MemoryInbox]) -> None:
    cfg = config(*inboxes)
    outcomes = Ingestor(database, cfg, inbox_factory=lambda m: inboxes[m.name]).poll_all()
    assert all(outcome.ok for outcome in outcomes)


def threads(database: Database) -> dict[str, tuple[str | None, str | None]]:
    """Message-ID → (ticket number, how it was threaded)."""
    with database.session() as session:
        rows = session.execute(
            select(Message.message_id, Ticket.number, Message.thread_method)
            .outerjoin(Ticket, Ticket.id == Message.ticket_id)
            .order_by(Message.id)
        ).all()
    return {message_id or "": (number, method) for message_id, number, method in rows}


def test_a_reply_joins_the_ticket_of_the_message_it_answers(database: Database) -> None:
    """In-Reply-To naming a stored message puts the reply on that message's ticket."""
    inbox = MemoryInbox()
    inbox.add(mail("<a@x>", "无法登录"))
    inbox.add(mail("<b@x>", "回复：无法登录", extra="In-Reply-To: <a@x>\r\n"))
    poll(database, {"support": inbox})
    result = threads(database)
    assert result["<a@x>"][1] == "new"
    assert result["<b@x>"] == (result["<a@x>"][0], "in-reply-to")
    (ticket,) = list_tickets(database)
    assert ticket["message_count"] == 2
    assert ticket["number"].startswith("CS20261124-")


def test_a_reply_fetched_before_the_original_still_makes_one_ticket(database: Database) -> None:
    """Out-of-order arrival: the original, stored after a reply to it, joins the reply's ticket."""
    inbox = MemoryInbox()
    inbox.add(mail("<b@x>", "Re: Sync stuck", extra="In-Reply-To: <a@x>\r\n"))
    poll(database, {"support": inbox})
    inbox.add(mail("<a@x>", "Sync stuck"))
    poll(database, {"support": inbox})
    result = threads(database)
    assert result["<a@x>"] == (result["<b@x>"][0], "referenced-by")
    assert len(list_tickets(database)) == 1


def test_a_stranger_typing_a_ticket_number_gets_a_new_linked_ticket(database: Database) -> None:
    """A ticket number in the subject attaches only a participant's mail; others are linked."""
    inbox = MemoryInbox()
    inbox.add(mail("<a@x>", "Invoice request"))
    poll(database, {"support": inbox})
    (first,) = list_tickets(database)
    inbox.add(mail("<c@x>", f"[{first['number']}] more info", sender="zhang.wei@example.cn"))
    inbox.add(mail("<d@x>", f"[{first['number']}] hello", sender="mallory@evil.example.org"))
    poll(database, {"support": inbox})
    result = threads(database)
    assert result["<c@x>"] == (first["number"], "ticket-number")
    assert result["<d@x>"][0] != first["number"] and result["<d@x>"][1] == "new"
    stranger = show_ticket(database, str(result["<d@x>"][0]))
    assert stranger is not None and stranger["linked_to"] == first["number"]


def test_mail_sent_to_two_support_mailboxes_is_one_ticket(database: Database) -> None:
    """The same message delivered to support@ and billing@ makes one ticket showing both."""
    both = "support@example.com, billing@example.com"
    support, billing = MemoryInbox(), MemoryInbox()
    support.add(mail("<x@customer>", "Charged twice", to=both) + b"Delivered-To: support\r\n")
    billing.add(mail("<x@customer>", "Charged twice", to=both) + b"Delivered-To: billing\r\n")
    poll(database, {"support": support, "billing": billing})
    (ticket,) = list_tickets(database)
    shown = show_ticket(database, ticket["number"])
    assert shown is not None
    assert shown["mailboxes"] == ["billing", "support"]
    assert [m["thread_method"] for m in shown["messages"]] == ["new", "same-message"]
    assert "support@example.com" not in shown["participants"]


def test_ticket_numbers_are_unique_when_two_processes_create_at_once(database: Database) -> None:
    """The per-day sequence hands out every number once, even to concurrent writers."""
    numbers: list[str] = []
    lock = threading.Lock()

    def allocate() -> None:
        for _ in range(25):
            with database.transaction() as session:
                number = next_number(session, "CS", "20261124")
            with lock:
                numbers.append(number)

    workers = [threading.Thread(target=allocate) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(numbers) == [f"CS20261124-{n:04d}" for n in range(1, 51)]


def test_messages_list_names_each_message_ticket(database: Database) -> None:
    """`maild messages list` fills `ticket` with the ticket number."""
    from maild.views import list_messages  # noqa: PLC0415

    inbox = MemoryInbox()
    inbox.add(mail("<a@x>", "问题"))
    poll(database, {"support": inbox})
    (row,) = list_messages(database)
    (ticket,) = list_tickets(database)
    assert row["ticket"] == ticket["number"]


def test_messages_processed_but_not_threaded_are_threaded_next_poll(database: Database) -> None:
    """A crash between recording a batch and threading it leaves work the next poll finishes."""
    inbox = MemoryInbox()
    inbox.add(mail("<a@x>", "Sync stuck"))
    poll(database, {"support": inbox})
    with database.transaction() as session:
        session.execute(update(Message).values(ticket_id=None, thread_method=None))
    assert threads(database) == {"<a@x>": (None, None)}
    poll(database, {"support": inbox})
    (ticket,) = list_tickets(database)
    assert threads(database) == {"<a@x>": (ticket["number"], "subject")}
