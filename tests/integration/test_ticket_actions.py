"""The ticket workflow against a real database: agents' actions, our own mail coming back,
automatic replies, Cc'd participants and merges (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from maild import ticket_actions
from maild.draft_views import list_drafts
from maild.store.db import Database
from maild.ticket_actions import TicketActionError
from maild.ticket_views import customer_tickets, list_tickets, show_ticket
from tests.integration.test_tickets import mail, poll, threads
from tests.memory_inbox import MemoryInbox

# Well in the past: threading judges a message at min(arrival, now), and now is real.
DAY0 = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)
CUSTOMER = "zhang.wei@example.cn"
CATEGORIES = {"technical", "billing", "other"}


def shown(database: Database, number: str) -> dict[str, Any]:
    ticket = show_ticket(database, number)
    assert ticket is not None
    return ticket


def only_ticket(database: Database) -> dict[str, Any]:
    (ticket,) = list_tickets(database)
    return ticket


def actions(database: Database, number: str) -> list[tuple[str, str]]:
    return [(e["actor"], e["action"]) for e in shown(database, number)["history"]]


def act(database: Database, number: str, do: Any) -> None:
    with database.transaction() as session:
        do(session, ticket_actions.find_ticket(session, number))


def opened(database: Database, inbox: MemoryInbox) -> str:
    """One customer mail polled: the number of the ticket it made."""
    inbox.add(mail("<a@customer>", "Cannot sync my calendar"), DAY0)
    poll(database, {"support": inbox})
    return str(only_ticket(database)["number"])


def test_assign_opens_a_new_ticket_and_records_who(database: Database) -> None:
    number = opened(database, MemoryInbox())
    assert only_ticket(database)["status"] == "new"
    act(database, number, lambda s, t: ticket_actions.assign(s, t, "li.na", "boss", DAY0))
    ticket = only_ticket(database)
    assert (ticket["assignee"], ticket["status"]) == ("li.na", "open")
    assert actions(database, number)[-2:] == [("boss", "assigned"), ("boss", "status_changed")]


def test_close_needs_a_known_reason_and_a_reply_soon_after_reopens(database: Database) -> None:
    inbox = MemoryInbox()
    number = opened(database, inbox)
    with pytest.raises(TicketActionError, match="unknown close reason 'done'"):
        act(database, number, lambda s, t: ticket_actions.close(s, t, "done", "li.na", DAY0))
    closed_at = DAY0 + timedelta(hours=1)
    act(database, number, lambda s, t: ticket_actions.close(s, t, "resolved", "li.na", closed_at))
    assert (only_ticket(database)["status"], only_ticket(database)["close_reason"]) == (
        "closed",
        "resolved",
    )
    with pytest.raises(TicketActionError, match="already closed"):
        act(database, number, lambda s, t: ticket_actions.close(s, t, "spam", "li.na", DAY0))
    reply = mail(
        "<b@customer>", "Re: Cannot sync my calendar", extra="In-Reply-To: <a@customer>\r\n"
    )
    inbox.add(reply, closed_at + timedelta(days=13))
    poll(database, {"support": inbox})
    ticket = only_ticket(database)
    assert (ticket["status"], ticket["close_reason"], ticket["message_count"]) == ("open", None, 2)
    assert ("maild", "reopened") in actions(database, number)


def test_a_reply_long_after_closing_opens_a_new_linked_ticket(database: Database) -> None:
    inbox = MemoryInbox()
    number = opened(database, inbox)
    act(database, number, lambda s, t: ticket_actions.close(s, t, "resolved", "li.na", DAY0))
    reply = mail(
        "<b@customer>", "Re: Cannot sync my calendar", extra="In-Reply-To: <a@customer>\r\n"
    )
    inbox.add(reply, DAY0 + timedelta(days=15))
    poll(database, {"support": inbox})
    old, new = list_tickets(database)
    assert (old["number"], old["status"]) == (number, "closed")
    assert (new["linked_to"], new["status"], new["message_count"]) == (number, "new", 1)


def test_resolved_ticket_reopens_on_the_customer_reply(database: Database) -> None:
    inbox = MemoryInbox()
    number = opened(database, inbox)
    act(database, number, lambda s, t: ticket_actions.resolve(s, t, "li.na", DAY0))
    with pytest.raises(TicketActionError, match="already resolved"):
        act(database, number, lambda s, t: ticket_actions.resolve(s, t, "li.na", DAY0))
    inbox.add(
        mail("<b@customer>", "Re: Cannot sync my calendar", extra="In-Reply-To: <a@customer>\r\n")
    )
    poll(database, {"support": inbox})
    assert only_ticket(database)["status"] == "open"


def test_an_agents_correction_keeps_the_rules_decision_beside_it(database: Database) -> None:
    inbox = MemoryInbox()
    number = opened(database, inbox)
    rules_said = only_ticket(database)
    with pytest.raises(TicketActionError, match="unknown category 'weather'"):
        act(database, number, lambda s, t: correct(s, t, category="weather"))
    with pytest.raises(TicketActionError, match="nothing to set"):
        act(database, number, correct)
    act(database, number, lambda s, t: correct(s, t, category="billing", priority="low"))
    ticket = only_ticket(database)
    assert (ticket["category"], ticket["priority"]) == ("billing", "low")
    assert (ticket["rule_category"], ticket["rule_priority"]) == (
        rules_said["category"],
        rules_said["priority"],
    )
    events = {e["action"]: e for e in shown(database, number)["history"]}
    assert events["category_set"]["actor"] == "li.na"
    assert events["category_set"]["detail"]["rules_said"] == rules_said["category"]
    # A later customer message that sounds urgent raises the priority again, openly.
    urgent = mail(
        "<b@customer>",
        "Re: Cannot sync my calendar",
        "URGENT: our whole office is down, production outage!\r\n",
        extra="In-Reply-To: <a@customer>\r\n",
    )
    inbox.add(urgent, DAY0 + timedelta(hours=2))
    poll(database, {"support": inbox})
    ticket = only_ticket(database)
    assert ticket["priority"] in ("high", "urgent")
    raised = [e for e in shown(database, number)["history"] if e["action"] == "priority_raised"]
    assert raised and raised[-1]["detail"]["was"] == "low" and raised[-1]["detail"]["reasons"]


def correct(session: Any, ticket: Any, **changes: str) -> None:
    ticket_actions.correct(
        session,
        ticket,
        category=changes.get("category"),
        priority=changes.get("priority"),
        known_categories=CATEGORIES,
        actor="li.na",
        now=DAY0,
    )


def test_our_reply_coming_back_answers_the_ticket(database: Database) -> None:
    """An agent's reply seen as a Bcc/Sent copy: outgoing, the ticket waits on the customer,
    the customer stays the customer; their next reply reopens it."""
    inbox = MemoryInbox()
    number = opened(database, inbox)
    ours = mail(
        "<r1@example.com>",
        f"Re: Cannot sync my calendar [{number}]",
        "Please update the app to 5.2.\r\n",
        sender="Support <support@example.com>",
        to=f"Zhang Wei <{CUSTOMER}>",
        extra="In-Reply-To: <a@customer>\r\n",
    )
    inbox.add(ours, DAY0 + timedelta(hours=3))
    poll(database, {"support": inbox})
    ticket = shown(database, number)
    assert ticket["status"] == "waiting" and ticket["customer"] == CUSTOMER
    assert ticket["first_response_at"] == ticket["last_agent_reply_at"]
    assert ticket["first_response_at"].startswith("2026-10-01T05:00")
    assert [m["direction"] for m in ticket["messages"]] == ["in", "out"]
    assert "support@example.com" not in ticket["participants"]
    again = mail(
        "<b@customer>", "Re: Cannot sync my calendar", extra="In-Reply-To: <r1@example.com>\r\n"
    )
    inbox.add(again, DAY0 + timedelta(hours=5))
    poll(database, {"support": inbox})
    assert threads(database)["<b@customer>"] == (number, "in-reply-to")
    assert shown(database, number)["status"] == "open"


def test_our_acknowledgement_coming_back_is_not_an_answer(database: Database) -> None:
    inbox = MemoryInbox()
    number = opened(database, inbox)
    ack = mail(
        "<ack1@example.com>",
        f"[{number}] We received your message",
        sender="support@example.com",
        to=CUSTOMER,
        extra="In-Reply-To: <a@customer>\r\nAuto-Submitted: auto-replied\r\n",
    )
    inbox.add(ack, DAY0 + timedelta(minutes=1))
    poll(database, {"support": inbox})
    ticket = shown(database, number)
    assert (ticket["status"], ticket["first_response_at"]) == ("new", None)
    assert ticket["messages"][-1]["direction"] == "out"


def test_mail_we_start_is_a_ticket_waiting_on_whom_we_wrote_to(database: Database) -> None:
    inbox = MemoryInbox()
    inbox.add(
        mail(
            "<o1@example.com>",
            "Your refund has been processed",
            sender="Support <support@example.com>",
            to="Li Lei <li.lei@example.org>",
        ),
        DAY0,
    )
    poll(database, {"support": inbox})
    ticket = only_ticket(database)
    assert (ticket["customer"], ticket["customer_name"], ticket["status"]) == (
        "li.lei@example.org",
        "Li Lei",
        "waiting",
    )
    assert ticket["last_customer_at"] is None and ticket["first_response_at"] is not None


def test_an_out_of_office_reply_neither_reopens_nor_restarts_the_clock(database: Database) -> None:
    inbox = MemoryInbox()
    number = opened(database, inbox)
    act(database, number, lambda s, t: ticket_actions.resolve(s, t, "li.na", DAY0))
    before = shown(database, number)["last_customer_at"]
    ooo = mail(
        "<ooo@customer>",
        "Automatic reply: Cannot sync my calendar",
        "I am out of the office until Monday.\r\n",
        extra="In-Reply-To: <a@customer>\r\nAuto-Submitted: auto-replied\r\n",
    )
    inbox.add(ooo, DAY0 + timedelta(hours=4))
    poll(database, {"support": inbox})
    ticket = shown(database, number)
    assert (ticket["status"], ticket["last_customer_at"], ticket["message_count"]) == (
        "resolved",
        before,
        2,
    )


def test_a_ccd_colleague_replying_joins_without_replacing_the_customer(database: Database) -> None:
    inbox = MemoryInbox()
    inbox.add(
        mail(
            "<a@customer>",
            "Invoice for October",
            to="support@example.com",
            extra="Cc: boss@example.cn\r\n",
        ),
        DAY0,
    )
    poll(database, {"support": inbox})
    number = str(only_ticket(database)["number"])
    inbox.add(
        mail(
            "<b@customer>",
            "Re: Invoice for October",
            sender="The Boss <boss@example.cn>",
            extra="In-Reply-To: <a@customer>\r\n",
        ),
        DAY0 + timedelta(hours=1),
    )
    poll(database, {"support": inbox})
    ticket = shown(database, number)
    assert ticket["customer"] == CUSTOMER and ticket["message_count"] == 2
    assert {"boss@example.cn", CUSTOMER} <= set(ticket["participants"])
    seen = customer_tickets(database, "Boss@Example.cn")
    assert seen["tickets"] == [] and [t["number"] for t in seen["participant_in"]] == [number]
    assert [t["number"] for t in customer_tickets(database, CUSTOMER)["tickets"]] == [number]


def test_merge_moves_messages_and_later_replies_follow(database: Database) -> None:
    inbox = MemoryInbox()
    inbox.add(mail("<a@customer>", "Cannot sync my calendar"), DAY0)
    inbox.add(mail("<b@customer>", "Calendar sync broken since update"), DAY0 + timedelta(hours=1))
    poll(database, {"support": inbox})
    into, source = (t["number"] for t in list_tickets(database))
    with pytest.raises(TicketActionError, match="into itself"):
        act(database, into, lambda s, t: ticket_actions.merge(s, t, t, "li.na", DAY0))
    with database.transaction() as session:
        moved = ticket_actions.merge(
            session,
            ticket_actions.find_ticket(session, source),
            ticket_actions.find_ticket(session, f"[{into.lower()}]"),
            "li.na",
            DAY0 + timedelta(hours=2),
        )
    assert moved == 1
    merged, target = shown(database, source), shown(database, into)
    assert (merged["status"], merged["close_reason"], merged["merged_into"]) == (
        "closed",
        "duplicate",
        into,
    )
    assert (merged["message_count"], target["message_count"]) == (0, 2)
    with pytest.raises(TicketActionError, match="merged into another ticket"):
        act(database, source, lambda s, t: ticket_actions.assign(s, t, "x", "li.na", DAY0))
    # Replies to the merged ticket's message, or by its number, land on the target.
    inbox.add(
        mail("<c@customer>", "Re: Calendar sync broken", extra="In-Reply-To: <b@customer>\r\n")
    )
    inbox.add(mail("<d@customer>", f"Any news? [{source}]"))
    poll(database, {"support": inbox})
    result = threads(database)
    assert result["<c@customer>"] == (into, "in-reply-to")
    assert result["<d@customer>"] == (into, "ticket-number")
    assert len(list_tickets(database)) == 2


def test_a_reply_from_a_mail_client_sets_maild_s_draft_aside(database: Database) -> None:
    """The agent answered in their own mail client (seen as a Bcc/Sent copy): the pending
    draft would answer twice, so it is rejected with the reason and leaves the queue."""
    inbox = MemoryInbox()
    number = opened(database, inbox)
    assert [d["status"] for d in list_drafts(database)] == ["pending"]
    ours = mail(
        "<r1@example.com>",
        f"Re: Cannot sync my calendar [{number}]",
        "Please update the app to 5.2.\r\n",
        sender="Support <support@example.com>",
        to=f"Zhang Wei <{CUSTOMER}>",
        extra="In-Reply-To: <a@customer>\r\n",
    )
    inbox.add(ours, DAY0 + timedelta(hours=3))
    poll(database, {"support": inbox})
    (draft,) = list_drafts(database)
    assert draft["status"] == "rejected" and "answered outside maild" in draft["reason"]
    assert draft["decided_by"] == "support@example.com"
    assert ("maild", "draft_superseded") in actions(database, number)


def test_a_question_answered_in_the_same_poll_gets_no_draft(database: Database) -> None:
    """The customer's mail and the agent's Sent copy arrive together (a first sync): the
    question is already answered, so no draft is made for it."""
    inbox = MemoryInbox()
    inbox.add(mail("<a@customer>", "Cannot sync my calendar"), DAY0)
    inbox.add(
        mail(
            "<r1@example.com>",
            "Re: Cannot sync my calendar",
            "Please update the app to 5.2.\r\n",
            sender="support@example.com",
            to=CUSTOMER,
            extra="In-Reply-To: <a@customer>\r\n",
        ),
        DAY0 + timedelta(hours=1),
    )
    poll(database, {"support": inbox})
    assert list_drafts(database) == []
    assert only_ticket(database)["status"] == "waiting"
