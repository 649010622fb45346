"""A real SMTP server (aiosmtpd, in its Controller thread) on loopback, for maild's sending tests.

Tests script the ways real relays fail: DATA answered 451 or 550 (`fail_next`), a refused
recipient, a server that is gone (`free_port`, or `stop()` and a later `start()` on the same
port). `on_data` runs code at the moment that matters for crash safety: the server holds the
message, the client has not yet heard 250. TLS uses a throwaway trustme CA (`ca_file`).
"""

from __future__ import annotations

import asyncio
import contextlib
import email.policy
import shutil
import socket
import ssl
import tempfile
import threading
import time
import weakref
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any, Self

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

HOST = "127.0.0.1"
SECURITY_MODES = ("none", "starttls", "tls")
# aiosmtpd keeps the null reverse-path as the literal "<>" (email's parser renders an empty
# angle-addr that way), and needs it truthy: RCPT answers 503 while mail_from is falsy.
_NULL_PATH = "<>"
_PARSER = BytesParser(policy=email.policy.default)
_STOP_TIMEOUT = 5.0


@dataclass(frozen=True)
class Received:
    """One message the server accepted, with its envelope."""

    envelope_from: str  # "" for the null reverse-path, MAIL FROM:<> (RFC 3834 auto-replies)
    recipients: tuple[str, ...]
    data: bytes  # the DATA bytes as received: CRLF line ends, dot-stuffing undone

    def message(self) -> EmailMessage:
        parsed = _PARSER.parsebytes(self.data)
        assert isinstance(parsed, EmailMessage)
        return parsed


def free_port(host: str = HOST) -> int:
    """A port nothing listens on right now (the kernel's pick for port 0): "SMTP is down"."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class _Controller(Controller):
    """Serves a socket we bound: aiosmtpd's start() cannot use port 0 (its readiness probe
    connects to `self.port`), and a free port picked first could be taken by someone else."""

    def __init__(self, handler: _Handler, sock: socket.socket, **kwargs: Any) -> None:
        super().__init__(handler, hostname=HOST, port=sock.getsockname()[1], **kwargs)
        self._sock = sock
        self.sessions: weakref.WeakSet[SMTP] = weakref.WeakSet()

    def _create_server(self) -> Awaitable[Any]:
        return self.loop.create_server(self._factory_invoker, sock=self._sock, ssl=self.ssl_context)

    def factory(self) -> SMTP:
        session = SMTP(self.handler, **self.SMTP_kwargs)
        self.sessions.add(session)
        return session

    def stop(self, no_assert: bool = False) -> None:
        # aiosmtpd's stop() closes the loop before cancelled sessions' transports finish closing;
        # they warn "unclosed transport" (an error under pytest) when collected. So cut them.
        if self.loop.is_running():
            closing = asyncio.run_coroutine_threadsafe(self._abort_sessions(), self.loop)
            with contextlib.suppress(TimeoutError):  # a hook blocking the loop; stop anyway
                closing.result(timeout=_STOP_TIMEOUT)
        super().stop(no_assert)
        if not self.loop.is_closed():  # the thread failed before running it (start() raised)
            self.loop.close()

    async def _abort_sessions(self) -> None:
        for session in list(self.sessions):
            if isinstance(session.transport, asyncio.Transport):
                # abort(), not close(): no TLS close_notify exchange with a stalled client.
                session.transport.abort()
        deadline = time.monotonic() + _STOP_TIMEOUT  # connection_lost() sets transport to None
        while any(s.transport for s in self.sessions) and time.monotonic() < deadline:
            await asyncio.sleep(0.005)


class _Handler:
    """aiosmtpd's hooks; they run in the Controller thread, so shared state sits behind a lock."""

    def __init__(self, credentials: tuple[bytes, bytes] | None) -> None:
        self.credentials = credentials
        self.changed = threading.Condition()
        self.received: list[Received] = []
        self.failures: deque[str] = deque()
        self.refused: dict[str, str] = {}
        self.hook: Callable[[Received], None] | None = None

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and tuple(data) == self.credentials
        # handled=False: a failure is then answered "535 5.7.8" by aiosmtpd. With the
        # default (True) it sends no reply at all and the client waits for its timeout.
        return AuthResult(success=ok, handled=False, auth_data=data)

    async def handle_MAIL(  # noqa: N802 - aiosmtpd finds hooks by this exact name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        # aiosmtpd's own auth_required warns (an error under filterwarnings=error) unless AUTH
        # also requires STARTTLS, and under implicit TLS it never sees the TLS layer
        # (aio-libs/aiosmtpd#281, #274), so AUTH is demanded here, alike in all three modes.
        if self.credentials is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if (refusal := self.refused.get(address)) is not None:  # one dict lookup: atomic
            return refusal
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        sender = envelope.mail_from or ""
        message = Received(
            envelope_from="" if sender == _NULL_PATH else sender,
            recipients=tuple(envelope.rcpt_tos),
            data=envelope.original_content or b"",
        )
        with self.changed:
            if self.failures:
                return self.failures.popleft()
            self.received.append(message)
            hook = self.hook
            self.changed.notify_all()
        if hook is not None:
            # Outside the lock (the hook may call wait_for) and before we return: aiosmtpd
            # sends the 250 only once this coroutine has returned its status.
            hook(message)
        return "250 2.0.0 OK: queued"


class SmtpServer:
    """An aiosmtpd server on 127.0.0.1:`port`; `received` lists what it accepted, in order.

    `start()` returns once the server answered its own probe connection (over TLS with
    `security="tls"`); `stop()` is quick and idempotent; a later `start()` reuses the port and
    keeps messages and scripted failures. With `username`/`password` every MAIL needs AUTH
    PLAIN or LOGIN first; `security="starttls"` requires STARTTLS before MAIL and AUTH.
    """

    def __init__(
        self,
        *,
        security: str = "none",
        username: str | None = None,
        password: str | None = None,
        ca: trustme.CA | None = None,
    ) -> None:
        if security not in SECURITY_MODES:
            raise ValueError(f"security must be one of {SECURITY_MODES}, not {security!r}")
        if (username is None) != (password is None):
            raise ValueError("username and password go together")
        self.security = security
        self.host = HOST
        self.port = 0
        self.ca_file: Path | None = None
        self._tls: ssl.SSLContext | None = None
        credentials = None
        if username is not None and password is not None:
            credentials = (username.encode(), password.encode())
        self._handler = _Handler(credentials)
        self._controller: _Controller | None = None
        if security != "none":
            ca = ca or trustme.CA(organization_name="maild test SMTP CA")
            self._tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ca.issue_cert(HOST, "localhost").configure_cert(self._tls)
            directory = tempfile.mkdtemp(prefix="maild-smtp-")
            # Not TemporaryDirectory: its implicit cleanup warns, an error under pytest here.
            weakref.finalize(self, shutil.rmtree, directory, ignore_errors=True)
            self.ca_file = Path(directory) / "ca.pem"
            ca.cert_pem.write_to_path(str(self.ca_file))

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> Self:
        if self._controller is not None:
            raise RuntimeError(f"SMTP server already running on port {self.port}")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        controller = None
        try:
            # A restart rebinds the old port, which may still have connections in TIME_WAIT.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            self.port = sock.getsockname()[1]
            controller = _Controller(self._handler, sock, **self._smtp_options())
            controller.start()
        except BaseException:
            if controller is not None:  # its thread may be serving (factory() failed late)
                controller.stop(no_assert=True)
            sock.close()
            raise
        self._controller = controller
        return self

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()  # cuts the open connections, then joins the thread

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def received(self) -> list[Received]:
        """A snapshot (a new list) of the accepted messages, oldest first."""
        with self._handler.changed:
            return list(self._handler.received)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Block until at least `count` messages arrived; return them all (a snapshot)."""
        deadline = time.monotonic() + timeout
        with self._handler.changed:
            arrived = self._handler.received
            while len(arrived) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    summary = [(m.envelope_from, m.recipients, len(m.data)) for m in arrived]
                    raise AssertionError(
                        f"{len(arrived)} of {count} messages arrived in {timeout} s: {summary}"
                    )
                self._handler.changed.wait(left)
            return list(arrived)

    def fail_next(self, count: int, code: int, text: str) -> None:
        """Answer the next `count` DATA commands with `code text` and keep nothing of them."""
        with self._handler.changed:
            self._handler.failures.extend([_reply(code, text)] * count)

    def refuse_recipient(self, address: str, code: int, text: str) -> None:
        """Answer RCPT TO:<address> (exact, case-sensitive match) with `code text`."""
        with self._handler.changed:
            self._handler.refused[address] = _reply(code, text)

    def on_data(self, hook: Callable[[Received], None] | None) -> None:
        """Run `hook` in the server thread (blocking it) after each message is stored, before 250.

        While the hook runs the client is still waiting for the reply, so a hook that kills
        the sending process reproduces a crash between the server's acceptance and the
        client's commit. An exception in the hook makes aiosmtpd answer 500 (and log it).
        """
        with self._handler.changed:
            self._handler.hook = hook

    def _smtp_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {
            # Without it aiosmtpd calls socket.getfqdn(), which can stall on a DNS lookup.
            "server_hostname": "localhost",
            # AUTH needs TLS only where TLS is the SMTP layer's business: with implicit TLS
            # aiosmtpd cannot tell it is encrypted, and "none" is plain on purpose.
            "auth_require_tls": self.security == "starttls",
        }
        if self._handler.credentials is not None:
            options["authenticator"] = self._handler.authenticate
        if self.security == "starttls":
            options.update(tls_context=self._tls, require_starttls=True)
        elif self.security == "tls":
            options["ssl_context"] = self._tls
        return options


def _reply(code: int, text: str) -> str:
    if not 400 <= code <= 599:
        raise ValueError(f"an SMTP failure code is 4xx or 5xx, not {code}")
    return f"{code} {text}"
