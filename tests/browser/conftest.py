"""Real-browser fixtures: Debian's Chromium, driven by Playwright, against the real `maild web`
process.

Once for this folder's tests: a temporary installation (maild.toml, an SQLite database, a
session key file) whose Maildir holds mail written here — English and Chinese customers, an
HTML mail with a script, an `onerror=` handler and a remote image, four weeks of history with
agents' replies — polled in by the real `maild poll --once`; users added by `maild users add
--password-file`; a real SMTP server (aiosmtpd) for the replies; a tiny HTTP server standing in
for a tracking pixel's host, recording every request it gets; and `maild web --listen
127.0.0.1:PORT`, which must exit 0 on SIGTERM at the end. Tickets an agent answered from a
mail client have no pending draft left (maild sets it aside when the Sent copy comes in).

Chromium is /usr/bin/chromium (`apt-get install chromium`; `MAILD_CHROMIUM` names another);
without it these tests skip, except under CI=true, where they fail.
"""

from __future__ import annotations

import email.policy
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import skip_or_fail
from tests.servers.smtp import SmtpServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, ViewportSize

CHROMIUM = Path(os.environ.get("MAILD_CHROMIUM", "/usr/bin/chromium"))
PASSWORD = "correct horse battery staple"
AGENT = "li.na@example.com"
SUPERVISOR = "wang.fang@example.com"
ADMIN = "admin@example.com"
SUPPORT = "support@example.com"
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
# Playwright's own waits (a selector, a navigation): generous for a loaded CI machine, yet a
# failure says so in seconds rather than after pytest's 300 s.
WAIT_MS = 15_000
_START_TIMEOUT = 30.0
# A 1x1 transparent PNG: what the tracker answers, should anything ever ask it.
_PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000105fe0de7d80000000049454e44ae426082"
)


# --- the mail -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mail:
    """One message in the test's Maildir, delivered `hours_ago` before the session started."""

    key: str
    sender: str
    subject: str
    body: str
    hours_ago: float
    html: str | None = None
    replies_to: str | None = None  # the key of the message this one answers
    to: str = SUPPORT

    @property
    def message_id(self) -> str:
        return f"<{self.key}@mail.example>"

    def raw(self, now: datetime) -> bytes:
        message = EmailMessage(policy=email.policy.SMTP)
        message["From"] = self.sender
        message["To"] = self.to
        message["Subject"] = self.subject
        message["Message-ID"] = self.message_id
        message["Date"] = format_datetime(now - timedelta(hours=self.hours_ago))
        if self.replies_to is not None:
            message["In-Reply-To"] = f"<{self.replies_to}@mail.example>"
            message["References"] = f"<{self.replies_to}@mail.example>"
        if self.html is not None:
            message.set_content(self.html, subtype="html")
        else:
            message.set_content(self.body)
        return message.as_bytes()


def html_mail(tracker_url: str) -> Mail:
    """A customer's HTML mail with everything an agent's browser must not run or fetch."""
    html = (
        "<html><body><p>Hello <b>team</b>, my order 12345 never arrived.</p>"
        "<script>alert(1)</script>"
        '<img src=x onerror="alert(2)">'
        f'<p>Kind regards, Eve</p><img src="{tracker_url}/tracker.png" alt="logo">'
        "</body></html>"
    )
    return Mail("html", "Eve Adams <eve@z.example>", "Order 12345 is missing", "", 1, html=html)


# The mails the tests act on, by key.
KEY_MAILS = [
    Mail(
        "login",
        "Bob Miller <bob@corp.example>",
        "Cannot log in since this morning",
        "Hello,\n\nSince this morning I cannot log in to the web app: it says my password is "
        "wrong, although I reset it twice.\n\nBob\n",
        3,
    ),
    Mail(
        "invoice",
        "Carl Young <carl@y.example>",
        "Invoice for October",
        "Hello,\n\nPlease send us the invoice for October, with our VAT number DE123456789 on "
        "it.\n\nThanks,\nCarl\n",
        5,
    ),
    Mail(
        "zh",
        "张伟 <zhang.wei@example.cn>",
        "无法登录，提示错误 E1234",
        "你好，\n\n我的账号从今天早上开始无法登录，提示错误 E1234。请尽快帮忙处理。\n\n张伟\n",
        27,
    ),
    Mail(
        "zh-again",
        "张伟 <zhang.wei@example.cn>",
        "回复：无法登录，提示错误 E1234",
        "请问有进展吗？我们整个部门都在等。\n\n"
        "> 我的账号从今天早上开始无法登录，提示错误 E1234。\n",
        2,
        replies_to="zh",
    ),
    Mail(
        "dark-mode",
        "Sue Park <sue@x.example>",
        "A suggestion: dark mode",
        "Hi,\n\nIt would be lovely to have a dark mode for late shifts.\n\nSue\n",
        50,
    ),
]

# Four weeks of ordinary traffic (key, sender, subject, body, days ago, hours until our reply
# or None): the dashboard's charts and the screenshots have something to show.
# fmt: off
HISTORY: list[tuple[str, str, str, str, float, float | None]] = [
    ("h15", "Paul Weber <paul@weber.example>", "Cannot open shared documents",
     "Since Monday none of the documents my team shares will open.", 28.3, 2),
    ("h16", "刘洋 <ly@maoyi.example.cn>", "账单金额有误",
     "本月账单比合同金额多了 200 元，请核对。", 26.1, 7),
    ("h17", "Grace Hall <grace@hall.example>", "Where can I download the invoice?",
     "I cannot find where to download last month's invoice.", 24.2, 1),
    ("h18", "Omar Aziz <omar@aziz.example>", "App crashes on start",
     "The Android app crashes right after the splash screen.", 22.4, 9),
    ("h19", "孙丽 <sl@jiaoyu.example.cn>", "建议增加批量导出功能",
     "希望能一次导出所有项目的报表，现在只能一个一个导出。", 20.3, 30),
    ("h20", "Nina Berg <nina@berg.example>", "Two-factor codes are rejected",
     "Every two-factor code I enter is rejected as invalid.", 18.2, 3),
    ("h21", "Jack Ryan <jack@ryan.example>", "Upgrade to the team plan",
     "How do we upgrade from the basic plan to the team plan mid-year?", 16.1, 20),
    ("h22", "周杰 <zj@wuliu.example.cn>", "同步很慢",
     "最近同步非常慢，一个小文件要几分钟。", 14.6, 4),
    ("h1", "Anna Berg <anna@berg.example>", "Charged twice this month",
     "My card was charged twice for the subscription. Please refund one payment.", 13.2, 3),
    ("h2", "李娜娜 <lnn@qiye.example.cn>", "申请开具发票",
     "您好，请为我们三月份的订单开具增值税专用发票，谢谢。", 12.4, 20),
    ("h3", "Tom Fox <tom@fox.example>", "Sync stuck at 99%",
     "The desktop client is stuck at 99% since yesterday. Restarting did not help.", 11.1, 2),
    ("h4", "Mia Wong <mia@wong.example>", "How do I share a folder?",
     "How can I share a folder with a colleague outside our company?", 10.3, 30),
    ("h5", "王强 <wq@gongsi.example.cn>", "客户端报错 E4012",
     "客户端启动时报错 E4012，重装后仍然如此，请帮忙看一下。", 9.2, 5),
    ("h6", "Raj Patel <raj@patel.example>", "Error 500 when uploading",
     "Uploading any file over 10 MB fails with error 500.", 8.1, 1.5),
    ("h7", "Lea Roth <lea@roth.example>", "Very disappointed with the service",
     "This is the third time this month the service was down. I want to complain.", 7.3, 6),
    ("h8", "陈静 <cj@shop.example.cn>", "如何设置团队权限？",
     "请问管理员如何给新同事设置只读权限？", 6.2, 26),
    ("h9", "Ivan Petrov <ivan@petrov.example>", "Password reset email never arrives",
     "I asked for a password reset three times, no email arrived.", 5.4, 4),
    ("h10", "Olga Kim <olga@kim.example>", "Question about the enterprise plan",
     "Does the enterprise plan include single sign-on?", 4.1, 50),
    ("h11", "Noah Lee <noah@lee.example>", "Export to CSV is missing columns",
     "The CSV export lacks the 'created' and 'owner' columns since the last update.", 3.3, 2.5),
    ("h12", "赵敏 <zm@keji.example.cn>", "退款申请",
     "上个月重复扣款，请退还多扣的费用。", 2.2, None),
    ("h13", "Emma Hill <emma@hill.example>", "Cannot connect the mobile app",
     "The mobile app says 'connection failed' on every network.", 1.6, None),
    ("h14", "Liam Scott <liam@scott.example>", "Refund for the duplicate order",
     "I ordered the same licence twice by mistake; please refund one.", 1.3, None),
]
# fmt: on


def all_mail(tracker_url: str) -> list[Mail]:
    mails = [*KEY_MAILS, html_mail(tracker_url)]
    for key, sender, subject, body, days, reply_after in HISTORY:
        customer = Mail(key, sender, subject, f"Hello,\n\n{body}\n\nThank you\n", days * 24)
        mails.append(customer)
        if reply_after is not None:  # an agent's answer from a mail client, seen as a Bcc copy
            address = re.search(r"<([^>]+)>", sender)
            assert address is not None
            mails.append(
                Mail(
                    f"re-{key}",
                    f"Example Support <{SUPPORT}>",
                    f"Re: {subject}",
                    "Hello,\n\nthank you, this is solved now.\n\nLi Na\n",
                    days * 24 - reply_after,
                    replies_to=key,
                    to=address.group(1),
                )
            )
    return mails


def write_maildir(directory: Path, mails: list[Mail], now: datetime) -> None:
    """Maildir file names start with the delivery time: maild takes it as the arrival."""
    for sub in ("new", "cur", "tmp"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    for index, mail in enumerate(mails):
        delivered = int((now - timedelta(hours=mail.hours_ago)).timestamp())
        name = f"{delivered}.M{index}P{os.getpid()}.browser-test"
        (directory / "new" / name).write_bytes(mail.raw(now))


# --- the tracker: a remote image's host -----------------------------------------------------


class Tracker:
    """An HTTP server on loopback that records every request (a tracking pixel's host)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[str] = []
        tracker = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with tracker._lock:
                    tracker._requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(_PIXEL)))
                self.end_headers()
                self.wfile.write(_PIXEL)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def requests(self) -> list[str]:
        with self._lock:
            return list(self._requests)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


# --- the installation and the real processes ------------------------------------------------


@dataclass
class Site:
    url: str
    directory: Path
    config: Path
    smtp: SmtpServer
    tracker: Tracker
    tickets: dict[str, str] = field(default_factory=dict)  # mail key -> ticket number
    drafts: dict[str, int] = field(default_factory=dict)  # mail key -> its pending draft

    def maild(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = maild_command(self.config, *args)
        if check:
            assert result.returncode == 0, f"maild {' '.join(args)}: {result.stderr[-3000:]}"
        return result

    def maild_json(self, *args: str) -> Any:
        return json.loads(self.maild(*args, "--json").stdout)


def maild_command(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "maild", "--config", str(config), *args],
        cwd=config.parent,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        start_new_session=True,  # no terminal: `users add` reads no prompt
    )


def _environment() -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if k not in ("MAILD_CONFIG", "NOTIFY_SOCKET")},
        "MAILD_AGENT": "browser-tests",
    }


def write_config(directory: Path, maildir: Path, smtp: SmtpServer) -> Path:
    key = directory / "web-secret.key"
    key.write_text("browser-test-session-key-" + "k" * 40 + "\n", encoding="utf-8")
    key.chmod(0o600)
    config = directory / "maild.toml"
    config.write_text(
        'timezone = "Asia/Shanghai"\n'
        f'supervisors = ["Wang Fang <{SUPERVISOR}>"]\n'
        "[owners]\n"
        f'lina = "Li Na <{AGENT}>"\n'
        "[database]\n"
        'url = "sqlite:///maild.db"\n'
        "[smtp]\n"
        f'host = "{smtp.host}"\n'
        f"port = {smtp.port}\n"
        'security = "none"\n'
        "allow_insecure = true\n"
        "timeout = 10\n"
        "[web]\n"
        f'secret_key_file = "{key.name}"\n'
        "[[mailbox]]\n"
        'name = "support"\n'
        f'address = "{SUPPORT}"\n'
        'display_name = "Example Support"\n'
        'default_owner = "lina"\n'
        "  [mailbox.maildir]\n"
        f'  path = "{maildir}"\n',
        encoding="utf-8",
    )
    return config


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class WebProcess:
    """`maild web` as a subprocess, its output in a log file."""

    def __init__(self, config: Path, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log = config.parent / "web.log"
        command = [sys.executable, "-m", "maild", "--config", str(config), "web"]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [*command, "--listen", f"127.0.0.1:{port}"],
                cwd=config.parent,
                env=_environment(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-3000:]

    def wait_until_serving(self) -> None:
        """Until GET /login answers 200 (the process started, migrated and listens)."""
        deadline = time.monotonic() + _START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"maild web exited with {self.process.returncode}:\n{self.output()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/login", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"maild web did not answer in {_START_TIMEOUT} s")
            time.sleep(0.05)

    def stop(self) -> int:
        """SIGTERM, as systemd stops it; its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise AssertionError(f"maild web ignored SIGTERM:\n{self.output()}") from None
        return self.process.returncode


@pytest.fixture(scope="package")
def chromium() -> Path:
    """Debian's Chromium and the Playwright package to drive it."""
    if not os.access(CHROMIUM, os.X_OK):
        skip_or_fail(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401, PLC0415
    except ImportError:
        skip_or_fail("the playwright package is not installed (pip install -e '.[test]')")
    return CHROMIUM


@pytest.fixture(scope="package")
def site(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The installation, seeded through the real commands, with `maild web` serving it."""
    directory = tmp_path_factory.mktemp("site")
    tracker = Tracker()
    smtp = SmtpServer().start()
    web: WebProcess | None = None
    try:
        now = datetime.now(UTC)
        maildir = directory / "mailbox"
        mails = all_mail(tracker.url)
        write_maildir(maildir, mails, now)
        config = write_config(directory, maildir, smtp)
        site = Site("", directory, config, smtp, tracker)
        polled = site.maild_json("poll", "--once")
        assert polled, "poll --once reported nothing"
        password = directory / "password"
        password.write_text(PASSWORD + "\n", encoding="utf-8")
        for email, name, role in (
            (AGENT, "Li Na", "agent"),
            (SUPERVISOR, "Wang Fang", "supervisor"),
            (ADMIN, "Admin", "admin"),
        ):
            site.maild(
                "users", "add", email, "--name", name, "--role", role,
                "--password-file", str(password),
            )  # fmt: skip
        _find_tickets_and_drafts(site, mails)
        web = WebProcess(config, free_port())
        site.url = web.url
        web.wait_until_serving()
        _reject_answered_drafts(site, mails)
        yield site
    finally:
        try:
            status = web.stop() if web is not None else 0
        finally:
            smtp.stop()
            tracker.close()
    assert status == 0, f"maild web exited {status} on SIGTERM:\n{web.output() if web else ''}"


def _find_tickets_and_drafts(site: Site, mails: list[Mail]) -> None:
    by_message_id = {mail.message_id: mail.key for mail in mails}
    for message in site.maild_json("messages", "list"):
        key = by_message_id.get(message["message_id"])
        assert message["status"] == "ok", message
        if key is not None and message["ticket"]:
            site.tickets[key] = message["ticket"]
    first_mails = {m.key for m in mails if m.replies_to is None and SUPPORT not in m.sender}
    key_of_ticket = {number: key for key, number in site.tickets.items() if key in first_mails}
    for draft in site.maild_json("drafts", "list", "--status", "pending"):
        key = key_of_ticket.get(draft["ticket"])
        if key is not None:
            site.drafts[key] = draft["id"]
    for key in ("login", "invoice", "zh", "html"):
        assert key in site.drafts, f"no pending draft for the {key!r} mail"


def _reject_answered_drafts(site: Site, mails: list[Mail]) -> None:
    """Tickets an agent answered from their mail client (the reply came back as a Sent copy)
    have no pending draft: maild set it aside itself, so the queue shows only what waits."""
    answered = {m.replies_to for m in mails if m.replies_to and SUPPORT in m.sender}
    assert answered, "the seeded history has agents' replies"
    assert not answered & site.drafts.keys(), "an answered ticket still has a pending draft"


# --- the browser ----------------------------------------------------------------------------


# Package scope, not session: while Playwright's sync API runs, the main thread has a running
# event loop, so every later test's asyncio.run() would fail. It stops after this folder.
@pytest.fixture(scope="package")
def browser(chromium: Path) -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    with sync_playwright() as playwright:
        # Root (CI, containers) cannot use Chromium's user-namespace sandbox.
        args = ["--no-sandbox"] if os.geteuid() == 0 else []
        launched = playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=args
        )
        try:
            yield launched
        finally:
            launched.close()


OpenPage = Callable[..., "Page"]


@pytest.fixture
def open_page(browser: Browser, site: Site) -> Iterator[OpenPage]:
    """`open_page(email=None, locale="en-US")`: a page in a fresh browser context (its own
    cookies), signed in as `email` through the login form unless None."""
    contexts = []

    def open_page(email: str | None = None, *, locale: str = "en-US") -> Page:
        context = browser.new_context(viewport=VIEWPORT, locale=locale)
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        page = context.new_page()
        if email is not None:
            sign_in(page, site, email)
        return page

    yield open_page
    for context in contexts:
        context.close()


def sign_in(page: Page, site: Site, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{site.url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{site.url}/queue")
