"""Escalations and the digest against a real database (SQLite, PostgreSQL) and a real SMTP
server, with a frozen clock: once per episode across sweeps, restarts and concurrent sweepers;
an agent's sent reply stops the clock; the digest's grouping, order and once-a-day rule."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from maild import draft_actions
from maild.config import Config, config_from_mapping
from maild.digest import send_digest
from maild.draft_views import list_drafts
from maild.escalation import sweep
from maild.ingest import Ingestor
from maild.mailer import flush_outbox
from maild.store.db import Database, open_database
from maild.store.models import Notification, OutgoingMessage, Ticket
from maild.templating import TemplateSet
from maild.ticket_views import list_tickets
from tests.integration.test_tickets import mail
from tests.memory_inbox import MemoryInbox
from tests.servers.smtp import SmtpServer

T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # Friday 09:00 in Shanghai
OWNER = "li.na@example.com"
SUPERVISORS = ["Wang Fang <wang.fang@example.com>", "zhao.lei@example.com"]


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def settings(smtp: SmtpServer | None = None, **extra: Any) -> Config:
    document: dict[str, Any] = {
        "timezone": "Asia/Shanghai",
        "supervisors": SUPERVISORS,
        "mailbox": [
            {
                "name": "support",
                "address": "support@example.com",
                "default_owner": f"Li Na <{OWNER}>",
                "maildir": {"path": "/x"},
            }
        ],
        **extra,
    }
    if smtp is not None:
        document["smtp"] = {
            "host": smtp.host,
            "port": smtp.port,
            "security": "none",
            "allow_insecure": True,
        }
    return config_from_mapping(document)


_INBOXES: dict[str, MemoryInbox] = {}


def poll(database: Database, config: Config, *raws: tuple[bytes, datetime]) -> None:
    """Deliver `raws` to the test's mailbox and poll it (one inbox per database, so UIDs grow
    across polls as on a real server)."""
    inbox = _INBOXES.setdefault(database.url, MemoryInbox())
    for raw, at in raws:
        inbox.add(raw, at)
    Ingestor(database, config, inbox_factory=lambda _m: inbox).poll_all()


def run_sweep(database: Database, config: Config, at: datetime) -> list[Any]:
    return sweep(database, config, TemplateSet(config.templates_dir), at)


def notifications(database: Database) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count(Notification.id))) or 0)


def outbox_kinds(database: Database) -> list[str]:
    with database.session() as session:
        return list(session.scalars(select(OutgoingMessage.kind).order_by(OutgoingMessage.id)))


def test_escalation_fires_once_at_24h_across_sweeps_restarts_and_rivals(
    database: Database, smtp: SmtpServer
) -> None:
    config = settings(smtp)
    poll(database, config, (mail("<a@customer>", "Cannot sync my calendar"), T0))
    assert run_sweep(database, config, T0 + timedelta(hours=23, minutes=59)) == []
    (notice,) = run_sweep(database, config, T0 + timedelta(hours=24, minutes=1))
    assert (notice.kind, notice.tier, notice.to, notice.after_hours) == ("escalation", 1, OWNER, 24)
    assert run_sweep(database, config, T0 + timedelta(hours=24, minutes=6)) == []
    restarted = open_database(database.url)  # a new process's view of the same database
    try:
        assert run_sweep(restarted, config, T0 + timedelta(hours=25)) == []
    finally:
        restarted.dispose()
    # Two sweepers at once at the second tier: the unique key lets exactly one decide.
    results: list[list[Any]] = []
    rivals = [open_database(database.url) for _ in range(2)]
    barrier = threading.Barrier(2)

    def rival(db: Database) -> None:
        barrier.wait()
        results.append(run_sweep(db, config, T0 + timedelta(hours=48, minutes=1)))

    threads = [threading.Thread(target=rival, args=(db,)) for db in rivals]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for db in rivals:
        db.dispose()
    supervisors = sorted(n.to for batch in results for n in batch)
    assert supervisors == ["wang.fang@example.com", "zhao.lei@example.com"]
    assert notifications(database) == 3
    assert outbox_kinds(database) == ["notification"] * 3
    assert (
        asyncio.run(flush_outbox(database, config.smtp, lambda: T0 + timedelta(hours=49))).sent == 3
    )  # type: ignore[arg-type]
    first = smtp.received[0].message()
    assert first["To"].addresses[0].addr_spec == OWNER
    assert first["Auto-Submitted"] == "auto-generated"
    assert first["In-Reply-To"] == "<a@customer>" and first["References"] == "<a@customer>"
    number = list_tickets(database)[0]["number"]
    assert number in first["Subject"]
    body = first.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert f"maild tickets show {number}" in text and "please help" in text
    (ticket,) = list_tickets(database)
    assert ticket["escalation_tier"] == 2


def test_a_reply_sent_at_23h_stops_the_clock_and_a_new_message_restarts_it(
    database: Database, smtp: SmtpServer
) -> None:
    config = settings(smtp)
    poll(database, config, (mail("<a@customer>", "Cannot sync my calendar"), T0))
    (draft,) = list_drafts(database)
    answered = T0 + timedelta(hours=23)
    with database.transaction() as session:
        row = draft_actions.find_draft(session, draft["id"])
        draft_actions.edit(
            session, row, "Fixed in 5.2.\n", subject=None, author=OWNER, now=answered
        )
        draft_actions.approve(session, row, OWNER, config, answered)
    assert asyncio.run(flush_outbox(database, config.smtp, lambda: answered)).sent == 1  # type: ignore[arg-type]
    assert run_sweep(database, config, T0 + timedelta(hours=30)) == []
    later = T0 + timedelta(hours=40)
    poll(
        database,
        config,
        (
            mail(
                "<b@customer>",
                "Re: Cannot sync my calendar",
                "Still broken.\r\n",
                extra="In-Reply-To: <a@customer>\r\n",
            ),
            later,
        ),
    )
    assert run_sweep(database, config, later + timedelta(hours=23)) == []
    (notice,) = run_sweep(database, config, later + timedelta(hours=24, minutes=1))
    assert (notice.tier, notice.age_hours) == (1, pytest.approx(24.02, abs=0.01))


def test_dry_run_decides_but_records_nothing(database: Database) -> None:
    config = settings()
    poll(database, config, (mail("<a@customer>", "Cannot sync my calendar"), T0))
    dry = sweep(
        database, config, TemplateSet(config.templates_dir), T0 + timedelta(hours=25), dry_run=True
    )
    assert [(n.kind, n.to) for n in dry] == [("escalation", OWNER)]
    assert notifications(database) == 0 and outbox_kinds(database) == []


def customer(
    n: int, subject: str, at: datetime, priority_words: str = ""
) -> tuple[bytes, datetime]:
    raw = mail(f"<m{n}@c>", subject, f"Hello,\r\n{priority_words}\r\n", sender=f"c{n}@example.cn")
    return raw, at


def test_digest_groups_by_owner_oldest_first_once_a_day(database: Database) -> None:
    config = settings(
        owners={"zhou": "Zhou Min <zhou.min@example.com>"},
    )
    now = datetime(2026, 11, 26, 0, 1, tzinfo=UTC)  # 08:01 in Shanghai
    poll(
        database,
        config,
        customer(1, "Invoice question", now - timedelta(hours=30)),
        customer(2, "Cannot log in", now - timedelta(hours=50)),
        customer(3, "Where is my parcel", now - timedelta(hours=2)),  # not overdue yet
    )
    with database.transaction() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.subject == "Cannot log in")).one()
        ticket.owner = "Zhou Min <zhou.min@example.com>"
    templates = TemplateSet(config.templates_dir)
    before = datetime(2026, 11, 25, 23, 59, tzinfo=UTC)  # 07:59 in Shanghai
    assert send_digest(database, config, templates, before) == []
    sent = send_digest(database, config, templates, now)
    assert sorted(m.to for m in sent) == ["wang.fang@example.com", "zhao.lei@example.com"]
    text = sent[0].text
    assert sent[0].total == 2 and "Where is my parcel" not in text
    assert text.index("Li Na") < text.index("Invoice question") < text.index("Zhou Min")
    assert text.index("Zhou Min") < text.index("Cannot log in")
    assert sent[0].html is not None and "Cannot log in" in sent[0].html
    assert send_digest(database, config, templates, now + timedelta(hours=3)) == []
    assert len(send_digest(database, config, templates, now + timedelta(days=1))) == 2
    assert outbox_kinds(database) == ["digest"] * 4


def test_nothing_overdue_sends_nothing_unless_asked(database: Database) -> None:
    now = datetime(2026, 11, 26, 0, 1, tzinfo=UTC)
    quiet = settings()
    templates = TemplateSet(quiet.templates_dir)
    poll(database, quiet, customer(1, "Where is my parcel", now - timedelta(hours=1)))
    assert send_digest(database, quiet, templates, now) == []
    chatty = settings(digest={"at": "08:00", "send_empty": True})
    (first, _second) = send_digest(database, chatty, templates, now)
    assert first.total == 0 and "nothing overdue" in first.text


def test_notifications_in_chinese(database: Database, smtp: SmtpServer) -> None:
    config = settings(smtp, notifications={"language": "zh"})
    poll(
        database, config, (mail("<a@customer>", "无法登录", "你好，\r\n一直提示密码错误。\r\n"), T0)
    )
    run_sweep(database, config, T0 + timedelta(hours=24, minutes=1))
    assert (
        asyncio.run(flush_outbox(database, config.smtp, lambda: T0 + timedelta(hours=25))).sent == 1
    )  # type: ignore[arg-type]
    message = smtp.received[0].message()
    assert "【升级】" in message["Subject"] and "无法登录" in message["Subject"]
    body = message.get_body(("plain",))
    assert body is not None and "一直提示密码错误" in body.get_content()
    (digest,) = send_digest(
        database,
        replace(config, supervisors=("Wang Fang <wang.fang@example.com>",)),
        TemplateSet(config.templates_dir),
        datetime(2026, 11, 22, 0, 30, tzinfo=UTC),
    )
    assert digest.subject.startswith("逾期工单日报") and "无法登录" in digest.text
