"""The SMTP test server itself, driven by aiosmtplib (the client maild sends with)."""

from __future__ import annotations

import asyncio
import signal
import socket
import ssl
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from email.message import EmailMessage
from typing import Any, TypeVar

import aiosmtplib
import pytest
import trustme
from aiosmtplib.email import flatten_message

from tests.servers.smtp import Received, SmtpServer, free_port

MakeSmtp = Callable[..., SmtpServer]
T = TypeVar("T")

USER = "relay@example.com"
PASSWORD = "s3cret-relay"
SUBJECT = "回复：订单 1234 还没有发货"

# 8-bit UTF-8 body, a line that starts with a dot (the client must stuff it, the server
# unstuff it) and CRLF line ends: the stored bytes must equal these exactly.
RAW = (
    b"From: support@example.com\r\n"
    b"To: customer@example.cn\r\n"
    b"Subject: raw\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n"
    b"\r\n" + "您好，\r\n.这一行以句点开头\r\n..两个句点\r\n".encode()
)


@pytest.fixture
def make_smtp() -> Iterator[MakeSmtp]:
    servers: list[SmtpServer] = []

    def make(**options: Any) -> SmtpServer:
        server = SmtpServer(**options)
        servers.append(server)
        return server.start()

    yield make
    for server in servers:
        server.stop()


def reply_message(subject: str = SUBJECT) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "support@example.com"
    message["To"] = "customer@example.cn"
    message["Subject"] = subject
    message["Message-ID"] = "<reply-1@example.com>"
    message.set_content("您好，您的订单已经发货。\n")
    return message


def client_tls(server: SmtpServer) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(server.ca_file))


def client_options(server: SmtpServer, options: dict[str, Any]) -> dict[str, Any]:
    """aiosmtplib's options for `server` (but the port): its TLS mode and CA trust."""
    options.setdefault("hostname", server.host)
    options.setdefault("timeout", 5)
    if server.security != "none":
        options.setdefault("tls_context", client_tls(server))
    if server.security == "tls":
        options.setdefault("use_tls", True)
    return options


async def over_socket(server: SmtpServer, work: Callable[[socket.socket], Awaitable[T]]) -> T:
    """Run `work` with a socket connected to `server`; return once that socket is closed.

    aiosmtplib closes a TLS connection without awaiting the close_notify exchange, so when
    asyncio.run() ends right after, the loop can close first and leave the socket open: a
    ResourceWarning (an error here) seen under load. Handing aiosmtplib our own socket
    (`sock=`) lets us wait for it.
    """
    sock = socket.create_connection((server.host, server.port), timeout=5)
    try:
        return await work(sock)
    finally:
        deadline = time.monotonic() + 5
        while sock.fileno() != -1 and time.monotonic() < deadline:
            await asyncio.sleep(0.002)
        sock.close()  # still open only if aiosmtplib never took it over


def send(server: SmtpServer, message: EmailMessage | bytes | None = None, **options: Any) -> Any:
    """aiosmtplib.send(message or a Chinese reply) to `server`."""
    if isinstance(message, bytes):
        options.setdefault("sender", "support@example.com")
        options.setdefault("recipients", ["customer@example.cn"])
    options = client_options(server, options)

    async def work(sock: socket.socket) -> Any:
        return await aiosmtplib.send(message or reply_message(), sock=sock, **options)

    return asyncio.run(over_socket(server, work))


def test_plain_message_with_chinese_subject(make_smtp: MakeSmtp) -> None:
    server = make_smtp()
    message = reply_message()
    send(server, message)
    (received,) = server.wait_for(1)
    assert received.envelope_from == "support@example.com"
    assert received.recipients == ("customer@example.cn",)
    # Exactly what aiosmtplib put on the wire: 8BITMIME is offered, so the body goes as 8bit.
    assert received.data == flatten_message(message, cte_type="8bit")
    assert b"Subject: =?utf-8?" in received.data  # RFC 2047, not raw UTF-8, in the header
    parsed = received.message()
    assert parsed["Subject"] == SUBJECT
    # The parser keeps the wire's CRLF line ends in the decoded body.
    assert parsed.get_content() == "您好，您的订单已经发货。\r\n"


def test_raw_bytes_arrive_exactly(make_smtp: MakeSmtp) -> None:
    server = make_smtp()
    send(server, RAW, recipients=["a@example.cn", "b@example.cn"])
    (received,) = server.wait_for(1)
    assert received.data == RAW
    assert received.recipients == ("a@example.cn", "b@example.cn")
    assert server.received == [received]


def test_null_reverse_path(make_smtp: MakeSmtp) -> None:
    server = make_smtp()
    send(server, sender="")  # an EmailMessage: "" is sent as MAIL FROM:<>
    assert server.wait_for(1)[0].envelope_from == ""
    # aiosmtplib.send() refuses a falsy sender with raw bytes; SMTP.sendmail() takes it.
    with pytest.raises(ValueError, match="Sender must be provided"):
        asyncio.run(aiosmtplib.send(RAW, sender="", recipients=["x@example.cn"]))

    async def sendmail(sock: socket.socket) -> None:
        async with aiosmtplib.SMTP(sock=sock, **client_options(server, {})) as client:
            await client.sendmail("", ["customer@example.cn"], RAW)

    asyncio.run(over_socket(server, sendmail))
    assert [m.envelope_from for m in server.wait_for(2)] == ["", ""]


@pytest.mark.parametrize("code", [451, 550])
def test_fail_next_answers_data_and_keeps_nothing(make_smtp: MakeSmtp, code: int) -> None:
    server = make_smtp()
    server.fail_next(2, code, "4.3.0 try again later" if code == 451 else "5.7.1 rejected")
    for _ in range(2):
        with pytest.raises(aiosmtplib.SMTPDataError) as caught:
            send(server)
        assert caught.value.code == code
        assert caught.value.message.endswith("try again later" if code == 451 else "rejected")
    assert server.received == []
    send(server)
    assert len(server.wait_for(1)) == 1


def test_refused_recipient(make_smtp: MakeSmtp) -> None:
    server = make_smtp()
    server.refuse_recipient("gone@example.cn", 550, "5.1.1 no such user")
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as caught:
        send(server, RAW, recipients=["gone@example.cn"])
    (refusal,) = caught.value.recipients
    assert (refusal.code, refusal.message) == (550, "5.1.1 no such user")
    assert refusal.recipient == "gone@example.cn"
    assert server.received == []
    # With another recipient accepted the send succeeds and reports the refusal instead.
    errors, _ = send(server, RAW, recipients=["gone@example.cn", "ok@example.cn"])
    assert {k: (v.code, v.message) for k, v in errors.items()} == {
        "gone@example.cn": (550, "5.1.1 no such user")
    }
    assert server.wait_for(1)[0].recipients == ("ok@example.cn",)


@pytest.mark.parametrize("security", ["none", "starttls", "tls"])
def test_auth_required(make_smtp: MakeSmtp, security: str) -> None:
    server = make_smtp(security=security, username=USER, password=PASSWORD)
    with pytest.raises(aiosmtplib.SMTPAuthenticationError) as caught:
        send(server, username=USER, password="wrong")
    assert caught.value.code == 535
    with pytest.raises(aiosmtplib.SMTPSenderRefused) as refused:
        send(server)  # no login at all
    assert refused.value.code == 530
    assert server.received == []
    send(server, username=USER, password=PASSWORD)
    assert len(server.wait_for(1)) == 1


def test_starttls_is_required(make_smtp: MakeSmtp) -> None:
    server = make_smtp(security="starttls")
    with pytest.raises(aiosmtplib.SMTPSenderRefused) as caught:
        send(server, start_tls=False)
    assert caught.value.code == 530
    assert server.received == []


@pytest.mark.parametrize("security", ["starttls", "tls"])
@pytest.mark.parametrize("hostname", ["127.0.0.1", "localhost"])
def test_tls_verified_against_the_test_ca(
    make_smtp: MakeSmtp, security: str, hostname: str
) -> None:
    server = make_smtp(security=security)
    context = client_tls(server)  # the same the helpers use
    assert context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED

    async def session(sock: socket.socket) -> Any:
        options = {"hostname": hostname, "start_tls": security == "starttls"}
        async with aiosmtplib.SMTP(sock=sock, **client_options(server, options)) as client:
            await client.send_message(reply_message())
            return client.get_transport_info("peercert")

    peercert = asyncio.run(over_socket(server, session))
    assert ("IP Address", "127.0.0.1") in peercert["subjectAltName"]
    assert server.wait_for(1)[0].message()["Subject"] == SUBJECT


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_tls_untrusted_ca_fails(make_smtp: MakeSmtp, security: str) -> None:
    server = make_smtp(security=security)
    stranger = ssl.create_default_context(cafile=None)
    trustme.CA().configure_trust(stranger)  # trusts some CA, just not the server's
    with pytest.raises((aiosmtplib.SMTPConnectError, ssl.SSLError)) as caught:
        send(server, tls_context=stranger)
    if security == "tls":  # aiosmtplib wraps the failed handshake on connect...
        assert isinstance(caught.value, aiosmtplib.SMTPConnectError)
        assert isinstance(caught.value.__cause__, ssl.SSLCertVerificationError)
    else:  # ...but lets the one after STARTTLS out raw
        assert isinstance(caught.value, ssl.SSLCertVerificationError)
    assert server.received == []


def test_shared_ca(make_smtp: MakeSmtp) -> None:
    ca = trustme.CA()
    first, second = make_smtp(security="tls", ca=ca), make_smtp(security="starttls", ca=ca)
    context = ssl.create_default_context()
    ca.configure_trust(context)
    send(first, tls_context=context)
    send(second, tls_context=context)
    assert len(first.wait_for(1)) == len(second.wait_for(1)) == 1


def test_on_data_runs_before_the_reply(make_smtp: MakeSmtp) -> None:
    server = make_smtp()
    replied = threading.Event()
    seen: list[tuple[bool, int]] = []

    def hook(message: Received) -> None:
        time.sleep(0.2)  # the client must still be waiting after this
        seen.append((replied.is_set(), len(server.received)))

    server.on_data(hook)
    send(server)
    replied.set()
    assert seen == [(False, 1)]  # the message was already stored, the 250 not yet sent
    server.on_data(None)
    send(server)
    assert len(seen) == 1


def test_on_data_hook_error_is_a_500(make_smtp: MakeSmtp) -> None:
    server = make_smtp()

    def broken(message: Received) -> None:
        raise RuntimeError("hook bug")

    server.on_data(broken)
    with pytest.raises(aiosmtplib.SMTPDataError) as caught:
        send(server)
    assert (caught.value.code, caught.value.message) == (500, "Error: (RuntimeError) hook bug")
    assert len(server.received) == 1  # stored before the hook ran


def test_on_data_can_kill_the_client(make_smtp: MakeSmtp) -> None:
    """maild's crash test in small: the client dies after the server stored the message."""
    server = make_smtp()
    client: list[subprocess.Popen[bytes]] = []

    def kill(message: Received) -> None:
        client[0].send_signal(signal.SIGKILL)
        client[0].wait()

    server.on_data(kill)
    script = f"""
        import asyncio, aiosmtplib
        raw = {RAW!r}
        asyncio.run(aiosmtplib.send(raw, sender="a@example.com", recipients=["b@example.cn"],
                                    hostname="{server.host}", port={server.port}, timeout=5))
        print("heard 250")
    """
    client.append(
        subprocess.Popen([sys.executable, "-c", textwrap.dedent(script)], stdout=subprocess.PIPE)
    )
    (received,) = server.wait_for(1)
    stdout, _ = client[0].communicate(timeout=10)
    assert client[0].returncode == -signal.SIGKILL
    assert stdout == b""  # it never heard the 250
    assert received.data == RAW
    server.on_data(None)
    send(server)  # the server shrugged it off
    assert len(server.wait_for(2)) == 2


def test_free_port_refuses_quickly() -> None:
    port = free_port()
    started = time.monotonic()
    with pytest.raises(aiosmtplib.SMTPConnectError) as caught:
        asyncio.run(aiosmtplib.send(reply_message(), hostname="127.0.0.1", port=port, timeout=5))
    assert time.monotonic() - started < 2
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)


def test_stop_is_quick_idempotent_and_restart_keeps_the_port(make_smtp: MakeSmtp) -> None:
    server = make_smtp(security="tls")
    send(server)

    async def idle_client(sock: socket.socket) -> None:
        client = aiosmtplib.SMTP(sock=sock, **client_options(server, {}))
        await client.connect()
        await client.ehlo()
        started = time.monotonic()
        await asyncio.to_thread(server.stop)  # with a session still open
        assert time.monotonic() - started < 2
        with pytest.raises(aiosmtplib.SMTPServerDisconnected):
            await client.noop()
        client.close()

    asyncio.run(over_socket(server, idle_client))
    server.stop()
    assert not server.running
    with pytest.raises(ConnectionRefusedError):
        send(server)
    port = server.port
    server.start()
    assert server.port == port
    send(server)
    assert len(server.wait_for(2)) == 2  # messages survive a restart


def test_wait_for_reports_what_arrived(make_smtp: MakeSmtp) -> None:
    server = make_smtp()
    send(server)
    with pytest.raises(AssertionError, match=r"1 of 2 messages arrived in 0.1 s: \[\('supp"):
        server.wait_for(2, timeout=0.1)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="security"):
        SmtpServer(security="ssl")
    with pytest.raises(ValueError, match="together"):
        SmtpServer(username=USER)
    with pytest.raises(ValueError, match="4xx or 5xx"):
        SmtpServer().fail_next(1, 250, "fine")
