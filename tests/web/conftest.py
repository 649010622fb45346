"""Web-app fixtures: a configuration, mail polled through the real ingest pipeline, users of
every role, and Starlette TestClients signed in as them (with a frozen clock and a recorded
sleep instead of real waiting)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from starlette.testclient import TestClient

from maild import users
from maild.config import Config, config_from_mapping
from maild.ingest import Ingestor
from maild.store.db import Database, open_database
from maild.web import create_app
from tests.integration.test_tickets import mail
from tests.memory_inbox import MemoryInbox

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
AGENT = "li.na@example.com"
OTHER_AGENT = "wu.lei@example.com"
SUPERVISOR = "wang.fang@example.com"
ADMIN = "admin@example.com"
SECRET = "test-secret-" + "x" * 40
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def web_config(**extra: Any) -> Config:
    document: dict[str, Any] = {
        "timezone": "Asia/Shanghai",
        "supervisors": [f"Wang Fang <{SUPERVISOR}>"],
        "owners": {"lina": f"Li Na <{AGENT}>"},
        "mailbox": [
            {
                "name": "support",
                "address": "support@example.com",
                "default_owner": "lina",
                "maildir": {"path": "/x"},
            },
            {"name": "billing", "address": "billing@example.com", "maildir": {"path": "/x"}},
        ],
        **extra,
    }
    return config_from_mapping(document)


HTML_MAIL = (
    b"From: Eve <eve@z.example>\r\nTo: support@example.com\r\nSubject: Order question\r\n"
    b"Message-ID: <html@c>\r\nDate: Tue, 24 Nov 2026 10:00:00 +0800\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\n"
    b"Content-Type: text/html; charset=utf-8\r\n\r\n"
    b"<p>Hello <b>team</b>, my order 12345 is missing.</p><script>alert('boom')</script>"
    b'<img src="https://tracker.example/p.gif" onerror="alert(2)" alt="pixel">\r\n'
    b'--XX\r\nContent-Type: application/pdf; name="quote.pdf"\r\n'
    b"Content-Disposition: attachment; filename*=UTF-8''%E6%8A%A5%E4%BB%B7%E5%8D%95.pdf\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--XX--\r\n"
)


def seed_mail(database: Database, config: Config) -> None:
    """Five customer mails in two mailboxes: Chinese, urgent, old low-priority, billing
    (no owner), and an HTML mail with a script, an event handler, a remote image and a file."""
    support, billing = MemoryInbox(), MemoryInbox()
    support.add(
        mail(
            "<zh@c>",
            "无法登录",
            "你好，\r\n我的账号无法登录，提示错误 E1234。\r\n",
            sender="张伟 <zhang.wei@example.cn>",
        ),
        NOW - timedelta(hours=5),
    )
    support.add(
        mail(
            "<down@c>",
            "URGENT: the whole service is down",
            "Nobody in our company can log in since 9:00. Production is down!\r\n",
            sender="Bob <bob@corp.example>",
        ),
        NOW - timedelta(hours=2),
    )
    support.add(
        mail(
            "<sug@c>",
            "A suggestion",
            "It would be nice to have dark mode.\r\n",
            sender="Sue <sue@x.example>",
        ),
        NOW - timedelta(hours=50),
    )
    support.add(HTML_MAIL, NOW - timedelta(hours=1))
    billing.add(
        mail(
            "<inv@c>",
            "Invoice for October",
            "Please send the invoice.\r\n",
            sender="Carl <carl@y.example>",
            to="billing@example.com",
        ),
        NOW - timedelta(hours=30),
    )
    inboxes = {"support": support, "billing": billing}
    outcomes = Ingestor(database, config, inbox_factory=lambda m: inboxes[m.name]).poll_all()
    assert all(outcome.ok for outcome in outcomes)


def add_users(database: Database) -> None:
    with database.transaction() as session:
        for email, name, role in (
            (AGENT, "Li Na", "agent"),
            (OTHER_AGENT, "Wu Lei", "agent"),
            (SUPERVISOR, "Wang Fang", "supervisor"),
            (ADMIN, "Admin", "admin"),
        ):
            users.add_user(session, email, name, role, PASSWORD, NOW)


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF field on the page"
    return match.group(1)


@dataclass
class Clock:
    now: datetime = NOW
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


@dataclass
class Web:
    """The app over one database, and a way to get clients signed in as anyone."""

    database: Database
    config: Config
    clock: Clock

    def client(self, **options: Any) -> TestClient:
        app = create_app(
            self.config,
            self.database,
            now=self.clock,
            sleep=self.clock.sleep,
            secret_key=SECRET,
        )
        return TestClient(app, **options)

    def signed_in(self, email: str, **options: Any) -> TestClient:
        client = self.client(**options)
        login(client, email)
        return client


def login(client: TestClient, email: str, password: str = PASSWORD) -> Any:
    page = client.get("/login")
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf": csrf_of(page.text), "next": "/queue"},
        follow_redirects=False,
    )


@pytest.fixture(autouse=True)
def fast_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at its cheapest: the tests check who may sign in, not the hash's cost."""
    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Iterator[Database]:
    database = open_database(f"sqlite:///{tmp_path / 'maild.db'}")
    try:
        yield database
    finally:
        database.dispose()


def _web(database: Database) -> Web:
    config = web_config()
    seed_mail(database, config)
    add_users(database)
    return Web(database, config, Clock())


@pytest.fixture
def web(sqlite_database: Database) -> Web:
    """The app over a seeded SQLite database."""
    return _web(sqlite_database)


@pytest.fixture
def any_web(database: Database) -> Web:
    """The app over a seeded database: SQLite and PostgreSQL."""
    return _web(database)
