"""Drafts and acknowledgements from polled mail, against a real database (SQLite, PostgreSQL):
one pending draft per ticket, revisions, approval rules, and RFC 3834 loop protection."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from maild import draft_actions, users
from maild.config import Config, config_from_mapping
from maild.draft_actions import DraftActionError
from maild.draft_views import list_drafts, show_draft
from maild.ingest import Ingestor
from maild.store.db import Database
from maild.store.models import OutgoingMessage
from maild.ticket_views import list_tickets
from tests.integration.test_tickets import mail
from tests.memory_inbox import MemoryInbox

AGENT = "li.na@example.com"


def setup(*, auto_ack: bool = False, language: str = "en") -> Config:
    mailbox: dict[str, Any] = {
        "name": "support",
        "address": "support@example.com",
        "display_name": "Example Support",
        "language": language,
        "maildir": {"path": "/x"},
    }
    document: dict[str, Any] = {"timezone": "Asia/Shanghai", "mailbox": [mailbox]}
    if auto_ack:
        mailbox["auto_ack"] = True
        document["smtp"] = {
            "host": "127.0.0.1",
            "port": 2525,
            "security": "none",
            "allow_insecure": True,
        }
    return config_from_mapping(document)


def poll(database: Database, inbox: MemoryInbox, config: Config | None = None) -> None:
    outcomes = Ingestor(database, config or setup(), inbox_factory=lambda _m: inbox).poll_all()
    assert all(o.ok for o in outcomes)


def now() -> datetime:
    return datetime.now(UTC)


def only_draft(database: Database, **filters: str) -> dict[str, Any]:
    (draft,) = list_drafts(database, **filters)
    return draft


def act(database: Database, draft_id: int, do: Any) -> Any:
    with database.transaction() as session:
        return do(session, draft_actions.find_draft(session, draft_id))


def edit(database: Database, draft_id: int, text: str) -> None:
    act(
        database,
        draft_id,
        lambda s, d: draft_actions.edit(s, d, text, subject=None, author=AGENT, now=now()),
    )


def approve(database: Database, draft_id: int, approver: str = AGENT) -> None:
    act(database, draft_id, lambda s, d: draft_actions.approve(s, d, approver, setup(), now()))


def test_a_customer_mail_gets_a_pending_draft_in_their_language(database: Database) -> None:
    inbox = MemoryInbox()
    inbox.add(
        mail("<a@customer>", "无法登录", "你好，\r\n我的账号无法登录，提示错误 E1234。\r\n"),
        now(),
    )
    poll(database, inbox)
    draft = only_draft(database)
    (ticket,) = list_tickets(database)
    assert (draft["status"], draft["ticket"], draft["language"]) == (
        "pending",
        ticket["number"],
        "zh",
    )
    assert draft["template"] == f"replies/{ticket['category']}.zh.txt.j2"
    assert draft["subject"] == f"Re: 无法登录 [{ticket['number']}]"
    assert draft["missing"] == ["answer"] and "[[answer]]" in draft["body"]
    assert "您好" in draft["body"] and ticket["number"] in draft["body"]


def test_approval_is_refused_until_the_placeholders_are_filled(database: Database) -> None:
    inbox = MemoryInbox()
    inbox.add(mail("<a@customer>", "Invoice for October", "Please send the invoice.\r\n"), now())
    poll(database, inbox)
    draft_id = only_draft(database)["id"]
    with pytest.raises(DraftActionError, match=r"\[\[answer\]\]"):
        approve(database, draft_id)
    assert only_draft(database)["status"] == "pending"
    half = "Hello Wei,\n\nHere it is. [[customer.first_name]]\n"
    edit(database, draft_id, half)
    assert only_draft(database)["missing"] == ["customer.first_name"]
    with pytest.raises(DraftActionError, match=r"customer\.first_name"):
        approve(database, draft_id)
    final = "Hello Wei,\n\nThe October invoice is attached to your account page.\n"
    edit(database, draft_id, final)
    with pytest.raises(DraftActionError, match="email address"):
        approve(database, draft_id, "li")
    approve(database, draft_id)
    shown = show_draft(database, draft_id)
    assert shown is not None
    assert (shown["status"], shown["decided_by"], shown["missing"]) == ("approved", AGENT, [])
    assert [(r["author"], r["kind"]) for r in shown["revisions"]] == [
        ("maild", "rendered"),
        (AGENT, "edited"),
        (AGENT, "edited"),
    ]
    with pytest.raises(DraftActionError, match="approved"):
        approve(database, draft_id)
    with database.session() as session:
        (queued,) = session.scalars(select(OutgoingMessage)).all()
    sent = email.message_from_bytes(queued.raw, policy=email.policy.default)
    assert (queued.state, queued.kind, queued.envelope_from) == (
        "queued",
        "reply",
        "support@example.com",
    )
    assert sent["In-Reply-To"] == "<a@customer>" and sent["References"] == "<a@customer>"
    assert str(sent["From"]) == "Example Support <support@example.com>"
    assert sent["Message-ID"] == queued.message_id == shown["message_id"]


def test_a_new_customer_message_refreshes_the_draft_and_keeps_the_edit(database: Database) -> None:
    inbox = MemoryInbox()
    inbox.add(mail("<a@customer>", "Invoice for October"), now() - timedelta(hours=1))
    poll(database, inbox)
    draft_id = only_draft(database)["id"]
    edited = "Dear Wei, my own careful words.\n"
    edit(database, draft_id, edited)
    reply = mail(
        "<b@customer>",
        "Re: Invoice for October",
        "Also!\r\n",
        extra="In-Reply-To: <a@customer>\r\n",
    )
    inbox.add(reply, now())
    poll(database, inbox)
    shown = show_draft(database, only_draft(database)["id"])
    assert shown is not None and shown["id"] == draft_id  # one pending draft per ticket
    assert shown["edited"] is False and "[[answer]]" in shown["body"]
    assert [r["kind"] for r in shown["revisions"]] == ["rendered", "edited", "refreshed"]
    assert shown["revisions"][1]["body"] == edited


def test_rejected_drafts_never_reach_the_outbox(database: Database) -> None:
    inbox = MemoryInbox()
    inbox.add(mail("<a@customer>", "Invoice for October"), now())
    poll(database, inbox)
    draft_id = only_draft(database)["id"]
    with pytest.raises(DraftActionError, match="why"):
        act(database, draft_id, lambda s, d: draft_actions.reject(s, d, " ", AGENT, now()))
    act(database, draft_id, lambda s, d: draft_actions.reject(s, d, "spam", AGENT, now()))
    with pytest.raises(DraftActionError, match="rejected"):
        approve(database, draft_id)
    assert only_draft(database)["status"] == "rejected"
    with database.session() as session:
        assert session.scalars(select(OutgoingMessage)).all() == []


def test_automatic_mail_gets_no_draft(database: Database) -> None:
    inbox = MemoryInbox()
    inbox.add(mail("<o@x>", "Out of office", extra="Auto-Submitted: auto-replied\r\n"), now())
    inbox.add(mail("<news@list>", "Weekly news", extra="List-Id: <news.example.org>\r\n"), now())
    poll(database, inbox)
    assert list_drafts(database) == []


def acks(database: Database) -> list[OutgoingMessage]:
    with database.session() as session:
        return list(session.scalars(select(OutgoingMessage).where(OutgoingMessage.kind == "ack")))


def test_acks_follow_rfc_3834(database: Database) -> None:
    """One ack per new ticket of a person; none to automatic, list, no-reply or our own mail,
    none for a backlog, and at most one per sender per ack_interval."""
    config = setup(auto_ack=True)
    inbox = MemoryInbox()
    inbox.add(mail("<a@customer>", "Cannot sync my calendar"), now())
    inbox.add(mail("<b@customer>", "Another question about billing"), now())  # same sender
    auto = "Auto-Submitted: auto-replied\r\n"
    inbox.add(mail("<c@x>", "Out of office", sender="bot@x.org", extra=auto), now())
    inbox.add(mail("<d@x>", "Newsletter", sender="news@x.org", extra="Precedence: bulk\r\n"), now())
    inbox.add(mail("<e@x>", "Your order shipped", sender="no-reply@shop.example"), now())
    inbox.add(mail("<f@x>", "Bounce-ish", sender="li@x.org", extra="Return-Path: <>\r\n"), now())
    inbox.add(mail("<g@x>", "Old question", sender="old@x.org"), now() - timedelta(days=3))
    poll(database, inbox, config)
    (ack,) = acks(database)
    assert (ack.to_address, ack.envelope_from, ack.state) == ("zhang.wei@example.cn", "", "queued")
    sent = email.message_from_bytes(ack.raw, policy=email.policy.default)
    assert sent["Auto-Submitted"] == "auto-replied"
    assert sent["In-Reply-To"] == "<a@customer>"
    number = list_tickets(database)[0]["number"]
    body = sent.get_body(("plain",))
    assert body is not None and number in body.get_content() and number in str(sent["Subject"])


def test_our_own_ack_coming_back_gets_no_ack(database: Database) -> None:
    config = setup(auto_ack=True)
    inbox = MemoryInbox()
    inbox.add(mail("<a@customer>", "Cannot sync my calendar"), now())
    poll(database, inbox, config)
    (ack,) = acks(database)
    inbox.add(ack.raw.replace(b"Message-ID:", b"X-Original-Message-ID:", 0), now())
    ours = mail("<self@x>", "Hello", sender="support@example.com", to="support@example.com")
    inbox.add(ours, now())
    poll(database, inbox, config)
    assert len(acks(database)) == 1


def test_once_users_exist_only_an_active_user_may_approve(database: Database) -> None:
    """Before any user is added any address approves; afterwards the approver must be an
    active user (of any role), and is recorded with the address as stored."""
    inbox = MemoryInbox()
    inbox.add(mail("<a@customer>", "Invoice for October"), now())
    inbox.add(mail("<b@other>", "Cannot log in", sender="Wu Lei <wu.lei@example.org>"), now())
    poll(database, inbox)
    first, second = (draft["id"] for draft in list_drafts(database))
    for draft_id in (first, second):
        edit(database, draft_id, "Hello,\n\nDone: it works again.\n")
    approve(database, first, "anyone@example.com")
    with database.transaction() as session:
        users.add_user(session, AGENT, "Li Na", "agent", "correct horse", now())
        users.add_user(session, "gone@example.com", "Gone", "admin", "correct horse", now())
        users.disable_user(session, "gone@example.com", now())
    for refused in ("anyone@example.com", "gone@example.com"):
        with pytest.raises(DraftActionError, match=f"{refused} is not an active maild user"):
            approve(database, second, refused)
    assert [d["status"] for d in list_drafts(database)] == ["approved", "pending"]
    approve(database, second, "Li.Na@Example.com")
    decided = {d["id"]: d["decided_by"] for d in list_drafts(database)}
    assert decided == {first: "anyone@example.com", second: AGENT}
