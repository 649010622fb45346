"""Web benchmark: the server's response times for the main pages at 10,000 tickets and 2,000
pending drafts, against the cheapest page, measured in the same run.

Seeds a fresh SQLite database in two steps. First a small sample of realistic mail (English and
Chinese, one of each per category, half of it answered by an agent from a mail client) goes
through the real `maild poll --once`, so every row has the shape the pipeline gives it. Then
those rows — tickets, messages and their raw bytes, drafts and their revisions, participants and
history — are cloned with SQLAlchemy Core bulk inserts until there are --tickets tickets created
over the last 90 days: the newest --drafts of them unanswered (new or open, with a pending
draft, escalated once past 24 hours), the rest answered (waiting, resolved or closed, their
drafts sent), owned by five agents or nobody. Users come from `maild users add`.

Then the real `maild web` (uvicorn) serves the database, and a client on one keep-alive
connection, signed in through /login like a browser, requests each page --warmup times and then
--requests timed times (each ticket and draft page a different ticket). It prints the median
and 95th percentile in ms, and both as multiples of the baseline: GET /login signed out, a
rendered page that reads nothing from the database. The queue is timed as a supervisor sees it
(every owner's drafts) and as an agent does (their own and the unclaimed ones).

    python bench/web.py                               # 10,000 tickets, 2,000 pending drafts
    python bench/web.py --tickets 50000 --drafts 5000 --requests 50
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import Table, func, select, update  # noqa: E402

from maild.store.db import Database, open_database  # noqa: E402
from maild.store.models import (  # noqa: E402
    Draft,
    DraftRevision,
    Message,
    MessageBlob,
    Notification,
    Ticket,
    TicketEvent,
    TicketParticipant,
)

SUPPORT = "support@example.com"
PASSWORD = "bench password 2026"
SUPERVISOR = "wang.fang@example.com"
AGENT = "li.na@example.com"
OWNERS = [
    f"Li Na <{AGENT}>",
    "Wu Lei <wu.lei@example.com>",
    "Chen Jing <chen.jing@example.com>",
    "Tom Baker <tom.baker@example.com>",
    "Sara Khan <sara.khan@example.com>",
]
DAYS = 90
CHUNK = 2000
# One customer mail per category and language: (subject, body).
SAMPLE = [
    ("Cannot log in since this morning", "Since this morning the app says my password is wrong."),
    ("Invoice for October", "Please send us the invoice for October with our VAT number."),
    ("Very disappointed with the service", "The third outage this month. I want to complain."),
    ("Feature request: dark mode", "It would be lovely to have a dark mode for late shifts."),
    ("How do I share a folder?", "How can I share a folder with a colleague outside the company?"),
    ("Question about the enterprise plan", "Does the enterprise plan include single sign-on?"),
    ("无法登录，提示错误 E1234", "我的账号从今天早上开始无法登录，提示错误 E1234，请尽快处理。"),
    ("申请开具发票", "您好，请为我们三月份的订单开具增值税专用发票，谢谢。"),
    ("对服务非常不满", "这个月已经第三次无法使用了，我要投诉。"),
    ("建议增加批量导出功能", "希望能一次导出所有项目的报表，现在只能一个一个导出。"),
    ("如何设置团队权限？", "请问管理员如何给新同事设置只读权限？"),
    ("请问企业版的价格", "我们有 200 人，想了解企业版的价格和购买方式。"),
]


# --- the sample, through the real pipeline -------------------------------------------------


def sample_mail(now: datetime) -> list[tuple[datetime, bytes]]:
    """The sample's customer mails (answered ones with an agent's reply after them)."""
    mails = []
    for index, (subject, body) in enumerate(SAMPLE):
        arrived = now - timedelta(hours=48 - index)
        customer = EmailMessage()
        customer["From"] = f"Customer {index} <customer{index}@example.net>"
        customer["To"] = SUPPORT
        customer["Subject"] = subject
        customer["Message-ID"] = f"<sample{index}@example.net>"
        customer["Date"] = format_datetime(arrived)
        customer.set_content(f"Hello,\n\n{body}\n\nThanks\n")
        mails.append((arrived, customer.as_bytes()))
        if index % 2 == 0:
            reply = EmailMessage()
            reply["From"] = f"Example Support <{SUPPORT}>"
            reply["To"] = f"customer{index}@example.net"
            reply["Subject"] = f"Re: {subject}"
            reply["Message-ID"] = f"<reply{index}@example.com>"
            reply["In-Reply-To"] = reply["References"] = f"<sample{index}@example.net>"
            reply["Date"] = format_datetime(arrived + timedelta(hours=3))
            reply.set_content("Hello,\n\nthis is fixed now.\n\nLi Na\n")
            mails.append((arrived + timedelta(hours=3), reply.as_bytes()))
    return mails


def write_setup(directory: Path, now: datetime) -> Path:
    maildir = directory / "mailbox"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    for number, (arrived, raw) in enumerate(sample_mail(now)):
        (maildir / "new" / f"{int(arrived.timestamp())}.M{number}P1.bench").write_bytes(raw)
    key = directory / "web-secret.key"
    key.write_text("bench-session-key-" + "b" * 40 + "\n", encoding="utf-8")
    config = directory / "maild.toml"
    config.write_text(
        'timezone = "Asia/Shanghai"\n'
        f'supervisors = ["Wang Fang <{SUPERVISOR}>"]\n'
        "[owners]\n"
        f'lina = "{OWNERS[0]}"\n'
        '[database]\nurl = "sqlite:///maild.db"\n'
        f'[web]\nsecret_key_file = "{key.name}"\n'
        f'[[mailbox]]\nname = "support"\naddress = "{SUPPORT}"\ndefault_owner = "lina"\n'
        f'  [mailbox.maildir]\n  path = "{maildir}"\n',
        encoding="utf-8",
    )
    return config


def maild(config: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "maild", "--config", str(config), *args],
        cwd=config.parent,
        env={k: v for k, v in os.environ.items() if k != "MAILD_CONFIG"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        start_new_session=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"maild {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


# --- cloning the sample's rows --------------------------------------------------------------


def table(model: Any) -> Table:
    return cast(Table, model.__table__)


@dataclass
class Template:
    """One sample ticket's rows, as the pipeline wrote them."""

    ticket: dict[str, Any]
    messages: list[dict[str, Any]]
    draft: dict[str, Any] | None  # None: answered from a mail client, so maild drafted nothing
    revisions: list[dict[str, Any]]
    events: list[dict[str, Any]]
    participants: list[dict[str, Any]]

    @property
    def answered(self) -> bool:
        return any(m["direction"] == "out" for m in self.messages)


def load_templates(database: Database) -> tuple[list[Template], dict[str, bytes]]:
    def rows(model: Any) -> list[dict[str, Any]]:
        with database.engine.connect() as connection:
            return [dict(r._mapping) for r in connection.execute(select(table(model)))]

    by_ticket: dict[str, dict[int, list[dict[str, Any]]]] = {}
    for name, model in (
        ("messages", Message),
        ("events", TicketEvent),
        ("participants", TicketParticipant),
        ("drafts", Draft),
    ):
        grouped: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in rows(model):
            grouped[row["ticket_id"]].append(row)
        by_ticket[name] = grouped
    revisions: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows(DraftRevision):
        revisions[row["draft_id"]].append(row)
    blobs = {row["sha256"]: row["raw"] for row in rows(MessageBlob)}
    templates = []
    for ticket in rows(Ticket):
        drafts = by_ticket["drafts"][ticket["id"]]
        if len(drafts) > 1:
            raise SystemExit(f"sample ticket {ticket['number']} has {len(drafts)} drafts")
        templates.append(
            Template(
                ticket=ticket,
                messages=sorted(by_ticket["messages"][ticket["id"]], key=lambda m: m["id"]),
                draft=drafts[0] if drafts else None,
                revisions=revisions[drafts[0]["id"]] if drafts else [],
                events=by_ticket["events"][ticket["id"]],
                participants=by_ticket["participants"][ticket["id"]],
            )
        )
    return templates, blobs


@dataclass
class Rows:
    tickets: list[dict[str, Any]] = field(default_factory=list)
    blobs: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    drafts: list[dict[str, Any]] = field(default_factory=list)
    revisions: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    participants: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)

    def write(self, database: Database) -> None:
        with database.engine.begin() as connection:
            for model, chunk in (
                (Ticket, self.tickets),
                (MessageBlob, self.blobs),
                (Message, self.messages),
                (Draft, self.drafts),
                (DraftRevision, self.revisions),
                (TicketEvent, self.events),
                (TicketParticipant, self.participants),
                (Notification, self.notifications),
            ):
                if chunk:
                    connection.execute(table(model).insert(), chunk)


class Cloner:
    """Makes new tickets from the templates, with fresh ids, numbers, addresses and times."""

    def __init__(
        self, database: Database, templates: list[Template], blobs: dict[str, bytes], seed: int
    ) -> None:
        self.templates = templates
        self.blobs = blobs
        self.rng = random.Random(seed)
        self.sequence: dict[str, int] = defaultdict(lambda: 1000)
        with database.engine.connect() as connection:
            self.next_id = {
                model: int(connection.execute(select(func.max(table(model).c.id))).scalar() or 0)
                + 1
                for model in (
                    Ticket,
                    Message,
                    Draft,
                    DraftRevision,
                    TicketEvent,
                    TicketParticipant,
                    Notification,
                )
            }

    def _id(self, model: Any) -> int:
        value = self.next_id[model]
        self.next_id[model] = value + 1
        return value

    def ticket(self, rows: Rows, created: datetime, pending: bool, now: datetime) -> None:
        rng = self.rng
        template = rng.choice([t for t in self.templates if t.answered != pending])
        old = template.ticket
        day = created.strftime("%Y%m%d")
        self.sequence[day] += 1
        number = f"CS{day}-{self.sequence[day]:04d}"
        ticket_id = self._id(Ticket)
        serial = rng.randrange(4000)  # customers write more than once
        customer = f"customer{serial}@example.net"
        replied = created + timedelta(hours=rng.choice((0.5, 1, 2, 3, 5, 8, 20, 30, 50)))
        statuses = ("new", "open") if pending else ("waiting", "resolved", "closed", "closed")
        status = rng.choice(statuses)
        owner = rng.choice([*OWNERS, None])
        rows.tickets.append(
            old
            | {
                "id": ticket_id,
                "number": number,
                "status": status,
                "close_reason": "resolved" if status == "closed" else None,
                "owner": owner,
                "assignee": owner if owner and rng.random() < 0.3 else None,
                "customer_address": customer,
                "customer_name": f"Customer {serial}",
                "created_at": created,
                "last_customer_at": created,
                "first_response_at": None if pending else replied,
                "last_agent_reply_at": None if pending else replied,
                "resolved_at": replied + timedelta(days=1) if status == "resolved" else None,
                "closed_at": replied + timedelta(days=2) if status == "closed" else None,
            }
        )
        message_ids: dict[int, int] = {}
        first = f"<bench{self.next_id[Message]}@example.net>"  # the customer's, answered
        for message in template.messages:
            new_id = self._id(Message)
            message_ids[message["id"]] = new_id
            outgoing = message["direction"] == "out"
            at = replied if outgoing else created
            content_hash = hashlib.sha256(f"bench-{new_id}".encode()).hexdigest()
            rows.blobs.append({"sha256": content_hash, "raw": self.blobs[message["content_hash"]]})
            rows.messages.append(
                message
                | {
                    "id": new_id,
                    "ticket_id": ticket_id,
                    "content_hash": content_hash,
                    "uid": new_id,
                    "internaldate": at,
                    "stored_at": at,
                    "processed_at": at,
                    "sent_at": at,
                    "message_id": f"<bench{new_id}@example.net>",
                    "from_address": message["from_address"] if outgoing else customer,
                    "in_reply_to": first if outgoing else None,
                    "references": [first] if outgoing else None,
                }
            )
        if template.draft is not None:  # None: answered from a mail client, no maild draft
            self._clone_draft(
                rows,
                template,
                template.draft,
                old["number"],
                number,
                ticket_id=ticket_id,
                message_ids=message_ids,
                pending=pending,
                created=created,
                replied=replied,
            )
        for event in template.events:
            rows.events.append(
                event | {"id": self._id(TicketEvent), "ticket_id": ticket_id, "at": created}
            )
        for participant in template.participants:
            address = participant["address"]
            rows.participants.append(
                participant
                | {
                    "id": self._id(TicketParticipant),
                    "ticket_id": ticket_id,
                    "address": customer if address == old["customer_address"] else address,
                }
            )
        escalated = created + timedelta(hours=24)
        if pending and escalated < now:
            recipient = owner or f"Wang Fang <{SUPERVISOR}>"
            address = re.sub(r".*<|>", "", recipient)
            episode = created.isoformat(timespec="seconds")
            rows.notifications.append(
                {
                    "id": self._id(Notification),
                    "key": f"escalation:{number}:{episode}:1:0:{address}",
                    "kind": "escalation",
                    "ticket_id": ticket_id,
                    "episode": created,
                    "tier": 1,
                    "recipient": address,
                    "detail": {"age_hours": 24},
                    "created_at": escalated,
                    "outbox_id": None,
                }
            )

    def _clone_draft(
        self,
        rows: Rows,
        template: Template,
        draft: dict[str, Any],
        old_number: str,
        number: str,
        *,
        ticket_id: int,
        message_ids: dict[int, int],
        pending: bool,
        created: datetime,
        replied: datetime,
    ) -> None:
        draft_id = self._id(Draft)

        def renumber(text: str) -> str:
            return text.replace(old_number, number)

        rows.drafts.append(
            draft
            | {
                "id": draft_id,
                "ticket_id": ticket_id,
                "answers_message_id": message_ids.get(draft["answers_message_id"]),
                "status": "pending" if pending else "sent",
                "subject": renumber(draft["subject"]),
                "body_text": renumber(draft["body_text"]),
                "created_at": created,
                "updated_at": created if pending else replied,
                "decided_by": None if pending else AGENT,
                "decided_at": None if pending else replied,
            }
        )
        for revision in template.revisions:
            rows.revisions.append(
                revision
                | {
                    "id": self._id(DraftRevision),
                    "draft_id": draft_id,
                    "at": created,
                    "subject": renumber(revision["subject"]),
                    "body_text": renumber(revision["body_text"]),
                }
            )


def seed(database: Database, tickets: int, drafts: int, now: datetime, seed_: int) -> None:
    """Clone the sample until `tickets` tickets, the newest `drafts` with a pending draft."""
    templates, blobs = load_templates(database)
    # Answered sample tickets have no draft (an agent's reply from a mail client sets it
    # aside); any that has one counts as sent in the seeded history, like the clones'.
    answered = [t.draft["id"] for t in templates if t.answered and t.draft is not None]
    with database.engine.begin() as connection:
        connection.execute(
            update(table(Draft))
            .where(table(Draft).c.id.in_(answered))
            .values(status="sent", decided_by=AGENT, decided_at=now)
        )
    have = len(templates)
    have_pending = sum(1 for t in templates if not t.answered)
    to_add = tickets - have
    pending = drafts - have_pending
    if to_add < 0 or pending < 0 or pending > to_add:
        raise SystemExit(
            f"--tickets must be at least {have} and --drafts at least {have_pending} "
            f"and at most --tickets - {have - have_pending} (the sample)"
        )
    cloner = Cloner(database, templates, blobs, seed_)
    rng = cloner.rng
    # Creation times over the last DAYS days, oldest first: the newest `pending` are unanswered.
    times = sorted(now - timedelta(seconds=rng.uniform(60, DAYS * 86400)) for _ in range(to_add))
    rows = Rows()
    for index, created in enumerate(times):
        cloner.ticket(rows, created, index >= to_add - pending, now)
        if len(rows.tickets) >= CHUNK:
            rows.write(database)
            rows = Rows()
    rows.write(database)


# --- the server and the client --------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def web_server(config: Path) -> Iterator[int]:
    port = free_port()
    log = config.parent / "web.log"
    with log.open("wb") as output:
        command = [sys.executable, "-m", "maild", "--config", str(config), "web"]
        process = subprocess.Popen(
            [*command, "--listen", f"127.0.0.1:{port}"],
            cwd=config.parent,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise SystemExit(f"maild web exited:\n{log.read_text(errors='replace')[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("maild web did not start within 60 s") from None
                time.sleep(0.05)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Client:
    """One keep-alive connection; a signed-in session's cookie once `sign_in` ran."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookie: str | None = None

    def request(
        self, method: str, path: str, body: str | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        sent = dict(headers or {})
        if self.cookie:
            sent["Cookie"] = self.cookie
        self.connection.request(method, path, body=body, headers=sent)
        response = self.connection.getresponse()
        data = response.read()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie" and value.startswith("maild_session="):
                self.cookie = value.split(";", 1)[0]
        return response.status, data

    def sign_in(self, email: str) -> None:
        status, page = self.request("GET", "/login")
        found = re.search(rb'name="csrf" value="([^"]+)"', page)
        if status != 200 or found is None:
            raise SystemExit(f"GET /login answered {status} without a CSRF field")
        form = urlencode(
            {"email": email, "password": PASSWORD, "csrf": found.group(1).decode(), "next": "/"}
        )
        status, _ = self.request(
            "POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        if status != 303:
            raise SystemExit(f"signing in as {email} answered {status}, not 303")

    def close(self) -> None:
        self.connection.close()


@dataclass
class Timing:
    label: str
    median_ms: float
    p95_ms: float


def time_page(
    client: Client, label: str, paths: Callable[[int], str], warmup: int, requests: int
) -> Timing:
    samples = []
    for index in range(warmup + requests):
        path = paths(index)
        started = time.perf_counter()
        status, body = client.request("GET", path)
        elapsed = time.perf_counter() - started
        if status != 200:
            raise SystemExit(f"GET {path} answered {status}: {body[:300]!r}")
        if index >= warmup:
            samples.append(elapsed * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, max(0, round(0.95 * len(samples)) - 1))]
    return Timing(label, statistics.median(samples), p95)


def pick(database: Database) -> tuple[list[str], list[int]]:
    """Tickets with a pending draft (spread over the queue), and those drafts."""
    with database.engine.connect() as connection:
        rows = connection.execute(
            select(table(Ticket).c.number, table(Draft).c.id)
            .join(table(Draft), table(Draft).c.ticket_id == table(Ticket).c.id)
            .where(table(Draft).c.status == "pending")
            .order_by(table(Draft).c.id)
        ).all()
    step = max(1, len(rows) // 50)
    chosen = rows[::step]
    return [r[0] for r in chosen], [r[1] for r in chosen]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--drafts", type=int, default=2_000, help="pending drafts")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20261124)
    args = parser.parse_args()
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="maild-bench-web-") as scratch:
        config = write_setup(Path(scratch), now)
        started = time.perf_counter()
        maild(config, "poll", "--once")
        database = open_database(f"sqlite:///{Path(scratch) / 'maild.db'}")
        try:
            seed(database, args.tickets, args.drafts, now, args.seed)
            tickets, drafts = pick(database)
            with database.engine.connect() as connection:
                counts = {
                    name: connection.execute(select(func.count()).select_from(table(m))).scalar()
                    for name, m in (("tickets", Ticket), ("messages", Message))
                }
                pending = connection.execute(
                    select(func.count())
                    .select_from(table(Draft))
                    .where(table(Draft).c.status == "pending")
                ).scalar()
        finally:
            database.dispose()
        password = Path(scratch) / "password"
        password.write_text(PASSWORD + "\n", encoding="utf-8")
        for email, name, role in (
            (SUPERVISOR, "Wang Fang", "supervisor"),
            (AGENT, "Li Na", "agent"),
        ):
            maild(config, "users", "add", email, "--name", name, "--role", role,
                  "--password-file", str(password))  # fmt: skip
        seeded_s = time.perf_counter() - started
        size_mb = (Path(scratch) / "maild.db").stat().st_size / 1e6
        print(
            f"seeded {counts['tickets']:,} tickets, {counts['messages']:,} messages, "
            f"{pending:,} pending drafts (SQLite, {size_mb:.0f} MB) in {seeded_s:.1f}s"
        )
        with web_server(config) as port:
            timings = measure(port, tickets, drafts, args.warmup, args.requests)
    report(timings, args)


def measure(port: int, tickets: list[str], drafts: list[int], warmup: int, n: int) -> list[Timing]:
    anonymous, supervisor, agent = Client(port), Client(port), Client(port)
    try:
        supervisor.sign_in(SUPERVISOR)
        agent.sign_in(AGENT)
        pages: list[tuple[Client, str, Callable[[int], str]]] = [
            (anonymous, "GET /login (baseline, signed out)", lambda i: "/login"),
            (anonymous, "GET /static/maild.css", lambda i: "/static/maild.css"),
            (supervisor, "GET /queue (supervisor: all owners)", lambda i: "/queue"),
            (supervisor, "GET /queue?page=20 (supervisor)", lambda i: "/queue?page=20"),
            (agent, "GET /queue (agent: own + unclaimed)", lambda i: "/queue"),
            (agent, "GET /tickets/{number}", lambda i: f"/tickets/{tickets[i % len(tickets)]}"),
            (agent, "GET /drafts/{id}", lambda i: f"/drafts/{drafts[i % len(drafts)]}"),
            (supervisor, "GET /dashboard", lambda i: "/dashboard"),
            (agent, "GET /api/tickets", lambda i: "/api/tickets"),
            (agent, "GET /api/drafts", lambda i: "/api/drafts"),
            (supervisor, "GET /api/metrics", lambda i: "/api/metrics"),
        ]
        return [time_page(client, label, path, warmup, n) for client, label, path in pages]
    finally:
        for client in (anonymous, supervisor, agent):
            client.close()


def report(timings: list[Timing], args: Any) -> None:
    base = timings[0]
    print(
        f"web pages at {args.tickets:,} tickets, {args.drafts:,} pending drafts: "
        f"{args.requests} timed requests each after {args.warmup} warm-up, one keep-alive "
        f"connection, cores: {os.cpu_count()}"
    )
    print(f"{'page':40} {'median ms':>10} {'p95 ms':>8} {'median/base':>12} {'p95/base':>9}")
    for timing in timings:
        print(
            f"{timing.label:40} {timing.median_ms:10.1f} {timing.p95_ms:8.1f} "
            f"{timing.median_ms / base.median_ms:11.1f}x {timing.p95_ms / base.p95_ms:8.1f}x"
        )
    slowest = max(timings, key=lambda t: t.p95_ms)
    print(f"slowest p95: {slowest.label} at {slowest.p95_ms:.0f} ms")


if __name__ == "__main__":
    main()
