"""Threading-cost benchmark: what threading one message costs with 1,000, 10,000 and 100,000
messages stored, which must not grow with the mailbox (every lookup is one indexed query).

Creates a fresh database with `open_database` (migrations applied) and fills it with stored,
already-threaded history by Core bulk inserts: tickets of 1-5 messages of customers from a pool,
subjects with their subject keys, Message-ID / In-Reply-To / References, message_references
rows, participants, events, tiny message_blobs rows and one mailbox. The same database grows
from one size to the next. At each size it inserts fresh processed messages (status "ok",
direction "in", no ticket yet) — ~40% replies whose In-Reply-To names a random stored message,
~10% with a ticket number in the subject sent by a participant, ~20% with the subject of an
existing ticket from its customer, the rest new — and measures, with time.perf_counter:
  (a) the baseline: `session.get(Message, pk)` of random stored messages — one primary-key
      lookup, whose cost the database's size barely touches;
  (b) `thread_messages(session, pks, settings, now)` of --messages messages in one transaction,
      as the daemon's thread stage does for a batch;
  (c) the same, one transaction per message (the daemon's fallback, and a poll of one message);
  (d) an indexed Message-ID SELECT through the driver alone: the storage engine's own growth
      (deeper B-trees, pages out of cache), against which each query shape is judged.
Prints µs per message at each size, (b) and (c) in units of (a), the ratio of the largest size to
the smallest (the claim: flat, under 1.5x); then, from one more batch with a statement log on,
the time of each query shape, of the commit and of the Python around them per message at each
size (so a query that grows shows which it is); then the plan of each `StoreLookups` query and of
every other statement the thread stage issues (EXPLAIN QUERY PLAN on SQLite, EXPLAIN on
PostgreSQL), flagging a table scan or an index range that reads a growing table.

    python bench/threading_cost.py                          # 1,000, 10,000, 100,000 stored
    python bench/threading_cost.py --sizes 1000,5000 --messages 100         # a quick look
    python bench/threading_cost.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
With a server URL, a fresh database is created next to the one named and dropped at the end.
The default run takes under a minute on 2 cores (SQLite); SQLite plans are those without
ANALYZE (maild never runs it), PostgreSQL's those after an ANALYZE of the filled tables.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import os
import platform
import random
import re
import sqlite3
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import Connection, Table, create_engine, event, func, select, text  # noqa: E402
from sqlalchemy.dialects import postgresql, sqlite  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from maild.log import configure_logging  # noqa: E402
from maild.store.db import Database, open_database, safe_url  # noqa: E402
from maild.store.models import (  # noqa: E402
    Base,
    Mailbox,
    Message,
    MessageBlob,
    MessageReference,
    Ticket,
    TicketEvent,
    TicketParticipant,
    TicketSequence,
)
from maild.store.tickets import StoreLookups  # noqa: E402
from maild.threader import ThreadingPolicy, normalised_subject  # noqa: E402
from maild.ticketing import TicketingSettings, thread_messages  # noqa: E402

MAILBOX = "support@example.com"
TIMEZONE = ZoneInfo("Asia/Shanghai")
POLICY = ThreadingPolicy()
# The measured messages arrive on this day (10:00 in Shanghai); history spans the year before.
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
HISTORY_DAYS = 365
CHUNK = 5000  # rows per executemany
WARMUP = 50  # messages threaded untimed at each size (statement caches, page cache)
BASELINE_REPEAT = 5
COMMIT = "(the commit)"
PYTHON = "(the rest: Python: ORM, threader, log)"
FLAT = 1.5  # the claim: the largest size costs less than this times the smallest

DOMAINS = (
    "example.cn",
    "example.com.cn",
    "acme.example",
    "globex.example",
    "initech.example",
    "hooli.example",
    "qq.example",
    "163.example",
    "gmail.example",
    "outlook.example",
    "company.example.de",
    "shop.example.fr",
)
SUBJECTS = (
    "Cannot log in since {weekday}",
    "Invoice {order} for {month}",
    "Refund for order {order}",
    "Sync stuck at {pct}% on {device}",
    "Error {code} when uploading {file}",
    "Charged twice in {month}",
    "How do I share a folder with {team}?",
    "Feature request: {feature}",
    "{device} app crashes on start",
    "License renewal for {seats} seats",
    "无法登录，提示错误 {code}",
    "申请开具{month}发票",
    "订单 {order} 申请退款",
    "{device} 客户端同步失败",
)
SLOTS: dict[str, tuple[str, ...]] = {
    "weekday": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "the update"),
    "month": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "device": ("Android", "iPhone", "iPad", "Windows", "macOS", "Linux", "web"),
    "file": ("PDFs", "photos", "a 2 GB video", "zip files", "the backup"),
    "team": ("my team", "an external partner", "the finance group", "guests"),
    "feature": ("dark mode", "SSO with Okta", "CSV export", "two-factor login", "audit logs"),
}
SENTENCES = (
    "The client shows an error after a few minutes and nothing syncs.",
    "I restarted the computer and reinstalled the app, but it did not help.",
    "We were charged twice this month, please refund one of the payments.",
    "Could you send the invoice with our VAT number on it?",
    "从昨天开始客户端一直无法同步，重启和重装都试过了，还是报错。",
    "麻烦尽快帮忙看一下，我们团队今天必须用到这些文件。",
    "Is there a way to give a colleague access without sharing my password?",
    "The upload stops at 99% every time, on two different networks.",
)
CATEGORIES = ("billing", "technical", "inquiry", "complaint", "suggestion", None)
PRIORITIES = ("low", "normal", "normal", "normal", "high", "urgent")
RECENT_SHARE = 0.8  # of replies, numbers and subjects that are about a recent ticket
MIX = (("reply", 0.4), ("ticket number", 0.1), ("same subject", 0.2), ("new", 0.3))


# --- stored history --------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredTicket:
    number: str
    subject: str
    customer: str
    name: str
    cc: str | None


@dataclass(frozen=True)
class StoredMessage:
    pk: int
    message_id: str
    ticket: int  # index into History.tickets
    references: tuple[str, ...]


@dataclass
class Rows:
    """One chunk of history rows, per table, in foreign-key order."""

    tickets: list[dict[str, Any]] = field(default_factory=list)
    blobs: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    references: list[dict[str, Any]] = field(default_factory=list)
    participants: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class History:
    """What was stored, kept in memory to draw realistic new messages from."""

    rng: random.Random
    mailbox_id: int
    tickets: list[StoredTicket] = field(default_factory=list)
    messages: list[StoredMessage] = field(default_factory=list)
    sequences: dict[str, int] = field(default_factory=dict)
    # Tickets active within the subject window, and their messages: what most new mail is about.
    recent_tickets: list[int] = field(default_factory=list)
    recent_messages: list[int] = field(default_factory=list)
    pool: int = 200  # customers: grows with the mailbox
    new_serial: int = 0

    def customer(self) -> tuple[str, str, str]:
        """(address, name, domain): skewed, so some customers write a lot."""
        k = int(self.pool * self.rng.random() ** 2)
        domain = DOMAINS[k % len(DOMAINS)]
        name = f"客户{k}" if k % 7 == 0 else f"Customer {k}"
        return f"customer{k}@{domain}", name, domain

    def subject(self) -> str:
        template = self.rng.choice(SUBJECTS)
        values = {key: self.rng.choice(options) for key, options in SLOTS.items()}
        return template.format(
            order=self.rng.randint(10_000, 99_999),
            pct=self.rng.randint(1, 99),
            code=self.rng.randint(400, 5999),
            seats=self.rng.choice((5, 10, 25, 50, 100)),
            **values,
        )

    def body(self, name: str, quote: str | None = None) -> tuple[str, str]:
        """(text, new part): a short customer message, quoting the conversation if a reply."""
        new = f"Hello,\n\n{' '.join(self.rng.sample(SENTENCES, 2))}\n\nThanks,\n{name}\n"
        if quote is None:
            return new, new
        quoted = "\n".join(f"> {line}" for line in quote.splitlines())
        return f"{new}\nOn {NOW:%a, %d %b %Y}, Support <{MAILBOX}> wrote:\n{quoted}\n", new


def message_row(
    pk: int | None, message_id: str, at: datetime, sender: tuple[str, str], **columns: Any
) -> dict[str, Any]:
    """Every column of a processed incoming message; `columns` override the defaults."""
    address, name = sender
    row: dict[str, Any] = {
        "content_hash": blob_hash(message_id),
        "mailbox_id": 0,
        "folder": "INBOX",
        "uid": pk or 0,
        "internaldate": at,
        "size": 1800,
        "stored_at": at,
        "direction": "in",
        "status": "ok",
        "reason": None,
        "processed_at": at,
        "ticket_id": None,
        "thread_method": None,
        "thread_reasons": None,
        "message_id": message_id,
        "message_id_synthesized": False,
        "subject": "",
        "from_name": name,
        "from_address": address,
        "recipients": {"to": [["Support", MAILBOX]]},
        "in_reply_to": None,
        "references": [],
        "sent_at": at,
        "text": "",
        "html": None,
        "attachments": [],
        "language": "en",
        "is_auto_submitted": False,
        "is_bounce": False,
        "is_mailing_list": False,
        "parse_notes": [],
        "new_part": "",
        "category": None,
        "priority": "normal",
        "owner": None,
        "tags": [],
        "captures": {},
        "classification": [],
        **columns,
    }
    if pk is not None:
        row["id"] = pk
    return row


def blob_hash(message_id: str) -> str:
    return hashlib.sha256(message_id.encode()).hexdigest()


def add_ticket(history: History, rows: Rows, ticket_pk: int, message_pk: int, count: int) -> None:
    """One stored ticket of `count` messages: the customer's first mail and its replies."""
    rng = history.rng
    address, name, domain = history.customer()
    cc = f"colleague{rng.randint(0, 9)}.{address}" if rng.random() < 0.25 else None
    subject = history.subject()
    start = NOW - timedelta(days=rng.uniform(2, HISTORY_DAYS))
    times = [start]
    for _ in range(count - 1):
        times.append(min(times[-1] + timedelta(hours=rng.uniform(1, 40)), NOW - timedelta(1)))
    day = f"{POLICY.number_prefix}{start.astimezone(TIMEZONE):%Y%m%d}"
    history.sequences[day] = history.sequences.get(day, 0) + 1
    number = f"{day}-{history.sequences[day]:04d}"
    age = NOW - times[-1]
    if age > POLICY.subject_window:
        status = "closed" if rng.random() < 0.85 else "resolved"
    else:
        status = rng.choice(("new", "open", "open", "waiting", "waiting", "resolved"))
    category, priority = rng.choice(CATEGORIES), rng.choice(PRIORITIES)
    rows.tickets.append(
        {
            "id": ticket_pk,
            "number": number,
            "status": status,
            "close_reason": "resolved" if status == "closed" else None,
            "subject": subject,
            "subject_key": normalised_subject(subject, POLICY.number_prefix)[:500],
            "category": category,
            "priority": priority,
            "owner": None,
            "assignee": None,
            "classification": [],
            "customer_address": address,
            "customer_name": name,
            "linked_to_id": None,
            "created_at": start,
            "first_response_at": start + timedelta(hours=2),
            "last_customer_at": times[-1],
            "last_agent_reply_at": times[-1] + timedelta(hours=3),
            "closed_at": times[-1] + timedelta(days=2) if status == "closed" else None,
        }
    )
    rows.participants.extend(
        {"ticket_id": ticket_pk, "address": a} for a in (address, cc) if a is not None
    )
    history.tickets.append(StoredTicket(number, subject, address, name, cc))
    earlier: list[str] = []
    quote: str | None = None
    for j, at in enumerate(times):
        pk = message_pk + j
        message_id = f"<h{pk}.{rng.getrandbits(32):08x}@mail.{domain}>"
        text_, new = history.body(name, quote)
        recipients: dict[str, Any] = {"to": [["Support", MAILBOX]]}
        if cc is not None:
            recipients["cc"] = [["", cc]]
        rows.blobs.append({"sha256": blob_hash(message_id), "raw": message_id.encode()})
        rows.messages.append(
            message_row(
                pk,
                message_id,
                at,
                (address, name),
                mailbox_id=history.mailbox_id,
                ticket_id=ticket_pk,
                thread_method="new" if j == 0 else "in-reply-to",
                thread_reasons=["history"],
                subject=subject if j == 0 else f"Re: [{number}] {subject}",
                recipients=recipients,
                in_reply_to=earlier[-1] if earlier else None,
                references=list(earlier[-10:]),
                text=text_,
                new_part=new,
                category=category,
                priority=priority,
            )
        )
        rows.references.extend({"stored_message_id": pk, "ref": r} for r in earlier[-10:])
        rows.events.append(
            {
                "ticket_id": ticket_pk,
                "at": at,
                "actor": "maild",
                "action": "created" if j == 0 else "message_added",
                "detail": {"message": pk},
            }
        )
        history.messages.append(
            StoredMessage(pk, message_id, len(history.tickets) - 1, tuple(earlier[-10:]))
        )
        earlier.append(message_id)
        quote = f"[{number}] We are looking into it.\n{new}"
    if age <= POLICY.subject_window:
        history.recent_tickets.append(len(history.tickets) - 1)
        history.recent_messages.extend(range(len(history.messages) - count, len(history.messages)))


def max_id(connection: Connection, table: Table) -> int:
    return int(connection.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one())


def insert_for(dialect: str) -> Any:
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def fill(db: Database, history: History, target: int) -> tuple[int, float]:
    """Store history until `target` messages are stored; (messages added, seconds)."""
    tables = {m: cast(Table, m.__table__) for m in (Ticket, Message)}
    started = time.perf_counter()
    with db.engine.begin() as connection:
        stored = int(connection.execute(select(func.count()).select_from(Message)).scalar_one())
        ticket_pk = max_id(connection, tables[Ticket]) + 1
        message_pk = max_id(connection, tables[Message]) + 1
        history.pool = max(200, target // 6)
        remaining = added = target - stored
        rows = Rows()
        while remaining > 0:
            count = min(remaining, history.rng.choices((1, 2, 3, 4, 5), (35, 25, 20, 12, 8))[0])
            add_ticket(history, rows, ticket_pk, message_pk, count)
            ticket_pk, message_pk, remaining = ticket_pk + 1, message_pk + count, remaining - count
            if len(rows.messages) >= CHUNK or remaining <= 0:
                write_rows(connection, rows)
                rows = Rows()
        upsert = insert_for(db.dialect)(TicketSequence.__table__)
        connection.execute(
            upsert.on_conflict_do_update(
                index_elements=["day"], set_={"last": upsert.excluded.last}
            ),
            [{"day": day, "last": last} for day, last in history.sequences.items()],
        )
        if db.dialect == "postgresql":
            for table in ("tickets", "messages"):
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    if db.dialect == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
    return max(added, 0), time.perf_counter() - started


def write_rows(connection: Connection, rows: Rows) -> None:
    for model, chunk in (
        (Ticket, rows.tickets),
        (MessageBlob, rows.blobs),
        (Message, rows.messages),
        (MessageReference, rows.references),
        (TicketParticipant, rows.participants),
        (TicketEvent, rows.events),
    ):
        if chunk:
            connection.execute(cast(Table, model.__table__).insert(), chunk)


# --- new messages to thread ------------------------------------------------------------------


def new_messages(db: Database, history: History, count: int) -> list[int]:
    """Insert `count` processed, unthreaded messages of the realistic mix; their pks."""
    rng = history.rng
    rows = []
    for _ in range(count):
        history.new_serial += 1
        serial = history.new_serial
        at = NOW + timedelta(seconds=serial)
        kind = rng.choices([k for k, _ in MIX], [w for _, w in MIX])[0]
        columns: dict[str, Any] = {"mailbox_id": history.mailbox_id}
        if kind == "new":
            address, name, domain = history.customer()
            subject, quote = history.subject(), None
        else:
            # Mostly about a conversation of the last weeks; sometimes about a long-closed one.
            recent = rng.random() < RECENT_SHARE and bool(history.recent_tickets)
            stored = None
            if kind == "reply":
                stored = history.messages[
                    rng.choice(history.recent_messages)
                    if recent
                    else rng.randrange(len(history.messages))
                ]
            ticket = history.tickets[
                stored.ticket
                if stored
                else rng.choice(history.recent_tickets)
                if recent
                else rng.randrange(len(history.tickets))
            ]
            address, name = ticket.customer, ticket.name
            if ticket.cc and kind != "same subject" and rng.random() < 0.2:
                address, name = ticket.cc, ""
            domain = address.rsplit("@", 1)[1]
            quote = f"[{ticket.number}] We are looking into it." if kind == "reply" else None
            if stored is not None:
                columns["in_reply_to"] = stored.message_id
                columns["references"] = [*stored.references, stored.message_id][-10:]
                number = f"[{ticket.number}] " if rng.random() < 0.5 else ""
                subject = f"Re: {number}{ticket.subject}"
            elif kind == "ticket number":
                subject = f"[{ticket.number}] {ticket.subject}"
            else:
                subject = ticket.subject if rng.random() < 0.5 else f"Re: {ticket.subject}"
        message_id = f"<m{serial}.{rng.getrandbits(32):08x}@mail.{domain}>"
        text_, new = history.body(name, quote)
        rows.append(
            message_row(
                None,
                message_id,
                at,
                (address, name),
                subject=subject,
                text=text_,
                new_part=new,
                **columns,
            )
        )
    table = cast(Table, Message.__table__)
    with db.transaction() as session:
        session.execute(
            cast(Table, MessageBlob.__table__).insert(),
            [{"sha256": r["content_hash"], "raw": r["message_id"].encode()} for r in rows],
        )
        pks = session.scalars(
            table.insert().returning(table.c.id, sort_by_parameter_order=True), rows
        ).all()
    return list(pks)


# --- measuring -------------------------------------------------------------------------------


def normalise_sql(statement: str) -> str:
    """One shape per statement whatever the length of its IN lists."""
    flat = " ".join(statement.split())
    return re.sub(r"\((?:\?|%\(\w+\)s)(?:, (?:\?|%\(\w+\)s))*\)", "(…)", flat)


SHAPES = (
    ("thread_messages: load the batch", r"FROM messages WHERE messages\.id IN"),
    ("by_message_ids: Message-ID", r"messages\.message_id = "),
    ("referenced_by: message_references.ref", r"message_references\.ref = "),
    ("by_subject: subject key + customer", r"tickets\.subject_key = "),
    ("tickets by number (by_number, attach)", r"FROM tickets WHERE tickets\.number = "),
    ("_ref: the ticket's participants", r"SELECT ticket_participants\.address"),
    ("next_number: the day's row", r"INSERT INTO ticket_sequences"),
    ("next_number: increment", r"UPDATE ticket_sequences"),
    ("create the ticket", r"INSERT INTO tickets"),
    ("update the ticket", r"UPDATE tickets"),
    ("add_participants", r"INSERT INTO ticket_participants"),
    ("add_references", r"INSERT INTO message_references"),
    ("record_event", r"INSERT INTO ticket_events"),
    ("update the message", r"UPDATE messages"),
)


def label(shape: str) -> str:
    for name, pattern in SHAPES:
        if re.search(pattern, shape):
            return name
    return shape[:60]


class StatementLog:
    """Per-shape time of the statements a run issues (cursor executes; commits not included)."""

    def __init__(self, db: Database) -> None:
        self.active = False
        self.seconds: dict[str, float] = {}
        self.calls: Counter[str] = Counter()
        self.samples: dict[str, tuple[str, Any]] = {}
        self._started: list[float] = []
        event.listen(db.engine, "before_cursor_execute", self._before)
        event.listen(db.engine, "after_cursor_execute", self._after)

    def start(self) -> None:
        self.seconds, self.calls, self.samples = {}, Counter(), {}
        self.active = True

    def _before(self, *_: Any) -> None:
        if self.active:
            self._started.append(time.perf_counter())

    def _after(
        self, _c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, many: bool
    ) -> None:
        if not self.active:
            return
        elapsed = time.perf_counter() - self._started.pop()
        shape = normalise_sql(statement)
        name = label(shape)
        self.seconds[name] = self.seconds.get(name, 0.0) + elapsed
        self.calls[name] += 1
        # An executemany's first row (insertmanyvalues batches come as one flat row already).
        rows = many and isinstance(params, (list, tuple)) and params
        first = rows and isinstance(params[0], (tuple, list, dict))
        self.samples.setdefault(shape, (statement, params[0] if first else params))


@dataclass
class SizeResult:
    stored: int
    fill_s: float
    baseline_us: float
    raw_us: float
    batch_us: float
    commit_us: float  # of batch_us
    each_us: float
    methods: Counter[str]
    breakdown: dict[str, tuple[float, float]]  # label → (µs per message, calls per message)


def settings() -> TicketingSettings:
    return TicketingSettings(policy=POLICY, timezone=TIMEZONE, own_addresses=frozenset({MAILBOX}))


def thread_batch(db: Database, pks: Sequence[int]) -> tuple[float, float]:
    """Seconds of threading `pks` in one transaction (as `Database.transaction`), and of its
    commit alone."""
    gc.collect()
    started = time.perf_counter()
    with db.session() as session, session.begin():
        thread_messages(session, pks, settings(), NOW + timedelta(days=1))
        committing = time.perf_counter()
    ended = time.perf_counter()
    return ended - started, ended - committing


def thread_each(db: Database, pks: Sequence[int]) -> float:
    gc.collect()
    started = time.perf_counter()
    for pk in pks:
        with db.transaction() as session:
            thread_messages(session, [pk], settings(), NOW + timedelta(days=1))
    return time.perf_counter() - started


def baseline(db: Database, history: History, count: int) -> float:
    """µs of one `session.get(Message, pk)` of a random stored message, best of a few runs."""
    pks = [m.pk for m in history.rng.sample(history.messages, min(count, len(history.messages)))]
    best = float("inf")
    for _ in range(BASELINE_REPEAT):
        gc.collect()
        with db.session() as session:
            started = time.perf_counter()
            for pk in pks:
                session.get(Message, pk)
            best = min(best, time.perf_counter() - started)
    return best * 1e6 / len(pks)


def raw_lookup(db: Database, history: History, count: int = 2000) -> float:
    """µs of one indexed Message-ID lookup straight through the driver (no SQLAlchemy), best
    of a few runs: what the storage engine's B-tree costs at this size, for the query shapes."""
    ids = [history.rng.choice(history.messages).message_id for _ in range(count)]
    mark = "?" if db.dialect == "sqlite" else "%s"
    sql = f"SELECT ticket_id FROM messages WHERE message_id = {mark}"
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        best = float("inf")
        for _ in range(BASELINE_REPEAT):
            started = time.perf_counter()
            for message_id in ids:
                cursor.execute(sql, (message_id,))
                cursor.fetchall()
            best = min(best, time.perf_counter() - started)
        raw.rollback()
    finally:
        raw.close()
    return best * 1e6 / count


def methods_of(db: Database, pks: Sequence[int]) -> Counter[str]:
    with db.session() as session:
        rows = session.execute(
            select(Message.thread_method, Message.ticket_id).where(Message.id.in_(list(pks)))
        ).all()
    return Counter((method or "?") if ticket else "(not threaded)" for method, ticket in rows)


def measure(db: Database, history: History, log: StatementLog, args: Any) -> SizeResult:
    m = args.messages
    base_us = baseline(db, history, m)
    raw_us = raw_lookup(db, history)
    warm = new_messages(db, history, WARMUP)
    thread_batch(db, warm)
    batch_pks = new_messages(db, history, m)
    batch_s, commit_s = thread_batch(db, batch_pks)
    each_pks = new_messages(db, history, m)
    each_s = thread_each(db, each_pks)
    breakdown: dict[str, tuple[float, float]] = {}
    if args.breakdown:
        pks = new_messages(db, history, args.breakdown)
        log.start()
        total_s, part_commit_s = thread_batch(db, pks)
        log.active = False
        n = len(pks)
        breakdown = {k: (s * 1e6 / n, log.calls[k] / n) for k, s in log.seconds.items()}
        rest_s = total_s - part_commit_s - sum(log.seconds.values())
        breakdown[COMMIT] = (part_commit_s * 1e6 / n, 1 / n)
        breakdown[PYTHON] = (rest_s * 1e6 / n, 0.0)
    return SizeResult(
        stored=0,
        fill_s=0,
        baseline_us=base_us,
        raw_us=raw_us,
        batch_us=batch_s * 1e6 / m,
        commit_us=commit_s * 1e6 / m,
        each_us=each_s * 1e6 / m,
        methods=methods_of(db, batch_pks + each_pks),
        breakdown=breakdown,
    )


# --- query plans -----------------------------------------------------------------------------

GROWING = frozenset(name for name in Base.metadata.tables if name != "ticket_sequences")


def lookup_statements(db: Database, history: History, log: StatementLog) -> dict[str, Any]:
    """The statements each `StoreLookups` method issues, with real arguments."""
    rng = history.rng
    replied = next(m for m in reversed(history.messages) if m.references)
    ticket = history.tickets[rng.randrange(len(history.tickets))]
    shapes: dict[str, Any] = {}
    calls: tuple[tuple[str, Callable[[StoreLookups], object]], ...] = (
        ("by_message_ids", lambda s: s.by_message_ids([rng.choice(history.messages).message_id])),
        ("referenced_by", lambda s: s.referenced_by(replied.references[-1])),
        ("by_number", lambda s: s.by_number(ticket.number)),
        (
            "by_subject",
            lambda s: s.by_subject(
                normalised_subject(ticket.subject, POLICY.number_prefix),
                ticket.customer,
                NOW - POLICY.subject_window,
            ),
        ),
    )
    with db.session() as session:
        lookups = StoreLookups(session, exclude_message=history.messages[-1].pk)
        for _name, call in calls:
            log.start()
            call(lookups)
            log.active = False
            for shape, sample in log.samples.items():
                shapes.setdefault(shape, sample)
    return shapes


def plan(connection: Connection, dialect: str, statement: str, params: Any) -> list[str]:
    if dialect == "sqlite":
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params).all()
        depth: dict[int, int] = {}
        lines = []
        for node, parent, _unused, detail in rows:
            depth[node] = depth.get(parent, -1) + 1
            lines.append("  " * depth[node] + str(detail))
        return lines
    return [
        str(line) for line in connection.exec_driver_sql(f"EXPLAIN {statement}", params).scalars()
    ]


def problems(lines: Sequence[str]) -> list[str]:
    """What in a plan reads a growing table whole: a scan, or an index used for a range only."""
    found, table = [], ""
    for raw in lines:
        line = raw.strip().removeprefix("->  ")
        scan = re.match(r"SCAN (?:TABLE )?(\w+)", line) or re.search(r"Seq Scan on (\w+)", line)
        if scan and scan[1] in GROWING:
            found.append(line)
            continue
        search = re.match(r"SEARCH (?:TABLE )?(\w+) USING .*\((.*)\)$", line)
        if search and search[1] in GROWING and not re.search(r"(?<![<>!])=\?", search[2]):
            found.append(f"{line}  (an index range, not an equality)")
        index_scan = re.match(r"Index (?:Only )?Scan (?:Backward )?using \w+ on (\w+)", line)
        if index_scan:
            table = index_scan[1]
        elif line.startswith("Index Cond:") and table in GROWING and " = " not in line:
            found.append(f"{table}: {line}  (an index range, not an equality)")
    return found


def reads_a_table(lines: Sequence[str]) -> bool:
    pattern = r"^\s*(?:SEARCH|SCAN) |(?:Seq|Index|Index Only|Bitmap Heap|Bitmap Index) Scan "
    return any(re.search(pattern, line) for line in lines)


def same_plan(lines: Sequence[str]) -> tuple[str, ...]:
    """A plan without its costs and constants, to show each plan of a label once."""
    return tuple(
        re.sub(r"\d+", "N", re.sub(r"'[^']*'|\(cost=[^)]*\)", "?", line)) for line in lines
    )


def print_plans(db: Database, title: str, statements: dict[str, Any]) -> int:
    print(f"\n{title}")
    bad, shown = 0, set()
    with db.engine.connect() as connection:
        for shape, (statement, params) in statements.items():
            lines = plan(connection, db.dialect, statement, params)
            connection.rollback()
            key = (label(shape), same_plan(lines))
            if key in shown:
                continue  # the same statement with other columns (an UPDATE's SET, a batch)
            shown.add(key)
            issues = problems(lines)
            bad += bool(issues)
            verdict = "indexed" if reads_a_table(lines) else "no table read"
            if issues:
                verdict = "READS A GROWING TABLE: " + "; ".join(issues)
            print(f"  {label(shape):40} {verdict}")
            for line in lines:
                print(f"      {line if len(line) <= 150 else line[:147] + '...'}")
    return bad


# --- set-up and report -----------------------------------------------------------------------


@contextmanager
def fresh_database(url: str | None) -> Iterator[tuple[str, str]]:
    """(URL, description) of an empty database, removed at the end unless a file was named."""
    if url is None:
        with tempfile.TemporaryDirectory(prefix="maild-bench-threading-") as scratch:
            yield f"sqlite:///{Path(scratch) / 'maild.db'}", "fresh SQLite file in a temp dir"
        return
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:" or Path(parsed.database).exists():
            raise SystemExit("--database-url: name an SQLite file that does not exist yet")
        yield url, f"fresh SQLite file {parsed.database} (kept)"
        return
    if backend != "postgresql":
        raise SystemExit(f"--database-url: SQLite or PostgreSQL, not {backend}")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"maild_bench_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        server = safe_url(url).rsplit("/", 1)[0]
        yield (
            parsed.set(database=name).render_as_string(hide_password=False),
            (f"fresh database {name} on {server} (dropped at the end)"),
        )
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def engine_version(db: Database) -> str:
    if db.dialect == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    with db.engine.connect() as connection:
        return f"PostgreSQL {connection.execute(text('SHOW server_version')).scalar_one()}"


def ratio(values: Sequence[float]) -> float:
    return values[-1] / values[0]


def report(results: list[SizeResult], args: Any) -> None:
    print(
        f"\n{'stored':>9}  {'fill':>7}  {'(a) get(pk)':>12}  {'(b) one txn':>13}  "
        f"{'(c) txn each':>13}  {'(b)/(a)':>8}  {'(c)/(a)':>8}  {'(d) raw index':>13}"
    )
    for r in results:
        print(
            f"{r.stored:>9,}  {r.fill_s:>6.1f}s  {r.baseline_us:>9.1f} µs  {r.batch_us:>10,.0f} µs"
            f"  {r.each_us:>10,.0f} µs  {r.batch_us / r.baseline_us:>7.0f}x"
            f"  {r.each_us / r.baseline_us:>7.0f}x  {r.raw_us:>10.1f} µs"
        )
    print(f"(b)'s commit alone: {', '.join(f'{r.commit_us:,.0f} µs/msg' for r in results)}")
    print(
        "(a) session.get(Message, pk), the baseline; (d) an indexed Message-ID SELECT through the "
        "driver alone,\n    the storage engine's own growth, for the query shapes below"
    )
    if len(results) < 2:
        return
    big, small = results[-1].stored, results[0].stored
    growth = {
        "(a) get(pk)": ratio([r.baseline_us for r in results]),
        "(b) one transaction": ratio([r.batch_us for r in results]),
        "(c) a transaction each": ratio([r.each_us for r in results]),
        "(b) in units of (a)": ratio([r.batch_us / r.baseline_us for r in results]),
        "(b)'s commit alone": ratio([r.commit_us for r in results]),
        "(d) raw index lookup": ratio([r.raw_us for r in results]),
    }
    print(f"\n{big:,} stored / {small:,} stored ({big // small:,}x the messages):")
    for name, value in growth.items():
        print(f"  {name:24} {value:5.2f}x")
    worst = max(growth["(b) one transaction"], growth["(c) a transaction each"])
    verdict = "flat" if worst < FLAT else "GROWS with the mailbox"
    print(f"  threading: {verdict} (claim: < {FLAT}x; worst {worst:.2f}x)")
    for r in results:
        total = sum(r.methods.values())
        shares = ", ".join(f"{k} {v * 100 / total:.0f}%" for k, v in r.methods.most_common())
        print(f"  threaded at {r.stored:,}: {shares}")
    if args.breakdown:
        report_breakdown(results, args.breakdown)


def report_breakdown(results: list[SizeResult], n: int) -> None:
    print(
        f"\nper query shape, µs per message (a batch of {n}, one transaction; calls per message):"
    )
    names = sorted(
        {k for r in results for k in r.breakdown} - {COMMIT, PYTHON},
        key=lambda k: -results[-1].breakdown.get(k, (0.0, 0.0))[0],
    )
    header = "".join(f"{r.stored:>10,}" for r in results)
    print(f"  {'':40}{header}  {'last/first':>10}  calls")
    engine = ratio([r.raw_us for r in results])
    threshold = FLAT * max(1.0, engine)
    rows = [*names, "all statements", COMMIT, PYTHON, "(d) raw index lookup, per call"]
    for name in rows:
        if name.startswith("(d)"):
            values, calls = [r.raw_us for r in results], 1.0
        elif name == "all statements":
            values = [sum(v[0] for k, v in r.breakdown.items() if k in names) for r in results]
            calls = sum(v[1] for k, v in results[-1].breakdown.items() if k in names)
        else:
            values = [r.breakdown.get(name, (0.0, 0.0))[0] for r in results]
            calls = results[-1].breakdown.get(name, (0.0, 0.0))[1]
        grew = ratio(values) if values[0] else float("nan")
        mark = "  <- grows" if grew >= threshold and values[-1] >= 5 else ""
        row = "".join(f"{v:>10.1f}" for v in values)
        print(f"  {name[:40]:40}{row}  {grew:>9.2f}x  {calls:5.2f}{mark}")
    print(
        f"  (<- grows: {threshold:.2f}x or more, i.e. at least {FLAT}x and {FLAT}x what (d) grew;"
        f" a statement reading\n  a whole table would grow about "
        f"{results[-1].stored // results[0].stored}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000,100000", help="stored messages, ascending")
    parser.add_argument("--messages", type=int, default=500, help="threaded per size and mode")
    parser.add_argument(
        "--breakdown", type=int, default=200, help="messages of the per-query run (0: none)"
    )
    parser.add_argument("--database-url", help="SQLite file or PostgreSQL server (default: temp)")
    parser.add_argument("--seed", type=int, default=20261201)
    args = parser.parse_args()
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    if not sizes or sizes != sorted(set(sizes)) or sizes[0] < 10:
        parser.error("--sizes: ascending sizes of at least 10, e.g. 1000,10000,100000")
    # The daemon logs a JSON line per threaded message; so does the bench, into /dev/null.
    with open(os.devnull, "w") as sink, fresh_database(args.database_url) as (url, where):
        configure_logging(json_output=True, stream=sink)
        db = open_database(url)
        try:
            run(db, where, sizes, args)
        finally:
            db.dispose()


def run(db: Database, where: str, sizes: Sequence[int], args: Any) -> None:
    print(
        f"{engine_version(db)} ({where}), Python {platform.python_version()}, "
        f"{os.cpu_count()} cores; SQLAlchemy statement log on only for the per-query run"
    )
    print(
        f"at each size: {args.messages} messages threaded in one transaction, {args.messages} "
        "one transaction each; mix " + ", ".join(f"{k} {w * 100:.0f}%" for k, w in MIX)
    )
    with db.transaction() as session:
        session.add(Mailbox(name="support", address=MAILBOX))
        session.flush()
        mailbox_id = session.scalars(select(Mailbox.id)).one()
    history = History(random.Random(args.seed), mailbox_id)
    log = StatementLog(db)
    results: list[SizeResult] = []
    for size in sizes:
        added, fill_s = fill(db, history, size)
        with db.session() as session:
            stored = int(session.scalar(select(func.count()).select_from(Message)) or 0)
            tickets = int(session.scalar(select(func.count()).select_from(Ticket)) or 0)
            refs = int(session.scalar(select(func.count()).select_from(MessageReference)) or 0)
        rate = f"{added / fill_s:,.0f} messages/s" if added else "nothing to add"
        print(
            f"stored {stored:,} messages on {tickets:,} tickets, {refs:,} references "
            f"(fill {fill_s:.1f}s, {rate})",
            flush=True,
        )
        # The bench's own record of the history (not the daemon's) stays out of the collector's
        # full passes, which would otherwise grow with the size and be charged to threading.
        gc.collect()
        gc.freeze()
        result = measure(db, history, log, args)
        result.stored, result.fill_s = stored, fill_s
        results.append(result)
    report(results, args)
    thread_shapes = dict(log.samples)
    lookups = lookup_statements(db, history, log)
    kind = "EXPLAIN QUERY PLAN" if db.dialect == "sqlite" else "EXPLAIN"
    bad = print_plans(
        db, f"StoreLookups query plans ({kind}, {results[-1].stored:,}+ stored):", lookups
    )
    rest = {s: v for s, v in thread_shapes.items() if s not in lookups}
    if rest:
        bad += print_plans(db, "every other statement of the thread stage:", rest)
    print(
        f"\nplans: {'all indexed' if not bad else f'{bad} statement(s) read a growing table'}"
        " (a scan, or an index range rather than an equality, of messages, tickets,\n"
        "message_references, … reads more rows as the mailbox grows)"
    )


if __name__ == "__main__":
    main()
