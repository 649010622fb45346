"""The Dovecot test server itself: a real IMAP server the other integration tests can rely on."""

from __future__ import annotations

import socket
import time
from datetime import datetime, timedelta, timezone

import pytest
from imapclient import IMAPClient
from imapclient.exceptions import LoginError

from tests.integration.conftest import MakeDovecot
from tests.servers.dovecot import DovecotServer

pytestmark = pytest.mark.dovecot

CHINA = timezone(timedelta(hours=8))

# CRLF line ends and raw 8-bit GBK in the body: the bytes must come back exactly as stored.
GBK_MESSAGE = (
    b"From: =?gbk?b?1cXI/Q==?= <zhangsan@example.cn>\r\n"
    b"To: support@example.com\r\n"
    b"Subject: =?gbk?b?tqm1pc7KzOI=?=\r\n"
    b"Message-ID: <gbk-1@example.cn>\r\n"
    b"Date: Thu, 29 Feb 2024 23:59:58 +0800\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=gbk\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n"
    b"\r\n" + "您好，我的订单还没有发货。\r\n请尽快处理，谢谢！\r\n".encode("gbk")
)


def numbered_message(n: int) -> bytes:
    return (
        f"From: customer{n}@example.com\r\n"
        f"Subject: order {n}\r\n"
        f"Message-ID: <bulk-{n}@example.com>\r\n"
        "\r\n"
        f"message number {n}\r\n"
    ).encode()


def fetch_all(server: DovecotServer, folder: str = "INBOX") -> dict[int, bytes]:
    with server.connect() as client:
        client.select_folder(folder, readonly=True)
        response = client.fetch(client.search("ALL"), [b"BODY.PEEK[]"])
    return {uid: data[b"BODY[]"] for uid, data in response.items()}


def accepts_connections(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def test_login_with_imapclient(dovecot_server: DovecotServer) -> None:
    """A plain imapclient connection logs in with the fixture's user and password, no TLS."""
    client = IMAPClient(dovecot_server.host, port=dovecot_server.port, ssl=False, timeout=10)
    try:
        assert b"Logged in" in client.login(dovecot_server.user, dovecot_server.password)
        assert client.has_capability("UIDPLUS")
        assert client.folder_status("INBOX", [b"MESSAGES"])[b"MESSAGES"] == 0
    finally:
        client.logout()
    assert dovecot_server.host == "127.0.0.1"


def test_wrong_password_is_refused_at_once(dovecot_server: DovecotServer) -> None:
    """A wrong password is a LoginError, answered without Dovecot's usual two-second delay."""
    client = IMAPClient(dovecot_server.host, port=dovecot_server.port, ssl=False, timeout=10)
    started = time.monotonic()
    try:
        with pytest.raises(LoginError):
            client.login(dovecot_server.user, "not-the-password")
    finally:
        client.logout()
    assert time.monotonic() - started < 1.5


def test_append_returns_uid_and_fetch_gives_identical_bytes(dovecot_server: DovecotServer) -> None:
    """APPENDed bytes (CRLF, 8-bit GBK) come back byte-for-byte from BODY.PEEK[] under their UID."""
    uid = dovecot_server.append(GBK_MESSAGE)

    with dovecot_server.connect() as client:
        client.select_folder("INBOX")
        response = client.fetch([uid], [b"BODY.PEEK[]", b"FLAGS"])

    assert uid == 1
    assert response[uid][b"BODY[]"] == GBK_MESSAGE
    assert b"\\Seen" not in response[uid][b"FLAGS"]


def test_append_sets_internaldate_and_flags(dovecot_server: DovecotServer) -> None:
    """The INTERNALDATE instant and flags given to append() are what the server reports back."""
    when = datetime(2024, 2, 29, 23, 59, 58, tzinfo=CHINA)
    uid = dovecot_server.append(GBK_MESSAGE, flags=[b"\\Seen"], internaldate=when)

    with dovecot_server.connect() as client:
        client.normalise_times = False
        client.select_folder("INBOX")
        response = client.fetch([uid], [b"INTERNALDATE", b"FLAGS"])

    # Maildir keeps INTERNALDATE as the file's mtime, so the instant survives but the +08:00
    # it was given in does not: Dovecot answers in its own zone.
    assert response[uid][b"INTERNALDATE"] == when
    assert b"\\Seen" in response[uid][b"FLAGS"]


def test_restart_keeps_port_messages_uids_and_uidvalidity(dovecot_server: DovecotServer) -> None:
    """After restart() the same port serves the same messages, UIDs and UIDVALIDITY."""
    uids = [dovecot_server.append(numbered_message(n)) for n in range(3)]
    before = (dovecot_server.port, dovecot_server.uidvalidity(), fetch_all(dovecot_server))
    old_pid = dovecot_server.pid

    dovecot_server.restart()

    after = (dovecot_server.port, dovecot_server.uidvalidity(), fetch_all(dovecot_server))
    assert after == before
    assert sorted(after[2]) == uids
    assert dovecot_server.pid != old_pid


def test_stop_closes_the_port_and_start_reopens_it(dovecot_server: DovecotServer) -> None:
    """stop() returns only once the port refuses connections; start() serves it again."""
    dovecot_server.append(numbered_message(1))

    dovecot_server.stop()
    assert not dovecot_server.running
    assert not accepts_connections(dovecot_server.host, dovecot_server.port)

    dovecot_server.start()
    assert dovecot_server.message_count() == 1


def test_reset_uidvalidity_changes_uidvalidity_and_keeps_messages(
    dovecot_server: DovecotServer,
) -> None:
    """reset_uidvalidity() makes a client see a new UIDVALIDITY over the same message bytes."""
    dovecot_server.append_many(numbered_message(n) for n in range(5))
    with dovecot_server.connect() as client:
        old = client.select_folder("INBOX")[b"UIDVALIDITY"]
    bodies = sorted(fetch_all(dovecot_server).values())

    new = dovecot_server.reset_uidvalidity()

    with dovecot_server.connect() as client:
        seen = client.select_folder("INBOX")[b"UIDVALIDITY"]
    assert new == seen != old
    assert sorted(fetch_all(dovecot_server).values()) == bodies


def test_reset_uidvalidity_of_a_subfolder_leaves_inbox_alone(dovecot_server: DovecotServer) -> None:
    """Resetting one folder (a non-ASCII name) changes only that folder's UIDVALIDITY."""
    folder = "客服.已处理"
    dovecot_server.create_folder(folder)
    dovecot_server.append(numbered_message(1), folder=folder)
    inbox_before = dovecot_server.uidvalidity("INBOX")
    folder_before = dovecot_server.uidvalidity(folder)

    assert dovecot_server.reset_uidvalidity(folder) != folder_before

    assert dovecot_server.uidvalidity("INBOX") == inbox_before
    assert dovecot_server.message_count(folder) == 1


def test_append_many_loads_2000_messages_in_seconds(dovecot_server: DovecotServer) -> None:
    """append_many() stores 2,000 messages quickly, in order, with consecutive UIDs."""
    started = time.monotonic()
    uids = dovecot_server.append_many(numbered_message(n) for n in range(2000))
    elapsed = time.monotonic() - started

    assert uids == list(range(1, 2001))
    assert dovecot_server.message_count() == 2000
    # Typically well under a second on tmpfs; the bound only catches a per-message round trip.
    assert elapsed < 20
    with dovecot_server.connect() as client:
        client.select_folder("INBOX", readonly=True)
        response = client.fetch([1, 1234, 2000], [b"BODY.PEEK[]"])
    for uid in (1, 1234, 2000):
        assert response[uid][b"BODY[]"] == numbered_message(uid - 1)


def test_create_folder_and_delete_all(dovecot_server: DovecotServer) -> None:
    """create_folder() is idempotent and delete_all() empties only the folder it is given."""
    dovecot_server.create_folder("Processed")
    dovecot_server.create_folder("Processed")
    dovecot_server.append_many([numbered_message(1), numbered_message(2)], folder="Processed")
    dovecot_server.append(numbered_message(3))

    assert dovecot_server.delete_all("Processed") == 2

    assert dovecot_server.message_count("Processed") == 0
    assert dovecot_server.message_count("INBOX") == 1


def test_two_servers_run_at_once_with_separate_mail(make_dovecot: MakeDovecot) -> None:
    """Two servers listen on different ports with their own users and their own mailboxes."""
    first = make_dovecot()
    second = make_dovecot(users={"billing@example.com": "billing-pw", "kefu@example.cn": "kf-pw"})

    first.append(numbered_message(1))
    second.append_many([numbered_message(2), numbered_message(3)])

    assert first.port != second.port
    assert first.root != second.root
    assert (first.message_count(), second.message_count()) == (1, 2)
    assert second.message_count(user="kefu@example.cn") == 0
    with pytest.raises(LoginError), IMAPClient(second.host, port=second.port, ssl=False) as client:
        client.login(first.user, first.password)
