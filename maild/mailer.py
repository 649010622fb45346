"""Sending the outbox over SMTP (aiosmtplib): one connection per flush, every outcome recorded.

A temporary failure (no connection, a 4xx answer, a failed login) leaves the message queued for
a later flush with backoff; a permanent one (5xx) fails it with the server's answer for the
agent to see. The states and the never-twice guarantee live in `maild.store.outbox`.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosmtplib

from maild.config_mail import SmtpSettings
from maild.log import get_logger
from maild.store import outbox
from maild.store.db import Database
from maild.store.models import OutgoingMessage


@dataclass(frozen=True)
class FlushReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    uncertain: int = 0


@dataclass(frozen=True)
class _Envelope:
    row_id: int
    ticket_id: int | None
    mailbox_id: int
    message_id: str
    sender: str
    recipient: str
    raw: bytes


class _TemporaryError(Exception):
    pass


class _PermanentError(Exception):
    pass


class _OutcomeUnknownError(Exception):
    """The message went out but the server's answer never came back."""


async def flush_outbox(
    database: Database,
    settings: SmtpSettings,
    clock: Callable[[], datetime],
    *,
    copy_sent: Callable[[int, bytes, datetime], None] | None = None,
) -> FlushReport:
    """Send every due message once; returns what happened to them. `copy_sent` (mailbox id,
    message, time) stores a copy of each sent message, e.g. in the IMAP Sent folder."""
    with database.transaction() as session:
        silent_after = timedelta(seconds=settings.timeout * 3 + 60)
        uncertain = outbox.recover_interrupted(session, clock(), silent_after)
    with database.transaction() as session:
        claimed = [_envelope(row) for row in outbox.claim_due(session, clock())]
    if not claimed:
        return FlushReport(uncertain=uncertain)
    counts = {"sent": 0, "retrying": 0, "failed": 0, "uncertain": uncertain}
    client: aiosmtplib.SMTP | None = None
    for envelope in claimed:
        try:
            if client is None or not client.is_connected:
                client = await _connect(settings)
            reply = await _send(client, envelope)
        except _TemporaryError as exc:
            outcome, detail = "retry", str(exc)
        except _PermanentError as exc:
            outcome, detail = "failed", str(exc)
        except _OutcomeUnknownError as exc:
            outcome, detail = "uncertain", str(exc)
        else:
            outcome, detail = "sent", reply
        _finish(database, envelope, outcome, detail, clock())
        counts[_COUNTED[outcome]] += 1
        if outcome == "sent" and copy_sent is not None:
            await _copy(copy_sent, envelope, clock())
    if client is not None and client.is_connected:
        try:
            await client.quit()
        except aiosmtplib.SMTPException:
            client.close()
    return FlushReport(**counts)


_COUNTED = {"sent": "sent", "retry": "retrying", "failed": "failed", "uncertain": "uncertain"}


def _envelope(row: OutgoingMessage) -> _Envelope:
    return _Envelope(
        row.id,
        row.ticket_id,
        row.mailbox_id,
        row.message_id,
        row.envelope_from,
        row.to_address,
        row.raw,
    )


async def _copy(
    copy_sent: Callable[[int, bytes, datetime], None], envelope: _Envelope, now: datetime
) -> None:
    """The Sent-folder copy is a convenience: failing it never un-sends or re-sends."""
    try:
        await asyncio.to_thread(copy_sent, envelope.mailbox_id, envelope.raw, now)
    except Exception as exc:
        get_logger(ticket_id=envelope.ticket_id, message_id=envelope.message_id).warning(
            "sent_copy_failed", error=f"{type(exc).__name__}: {exc}"
        )


def _finish(
    database: Database, envelope: _Envelope, outcome: str, detail: str, now: datetime
) -> None:
    with database.transaction() as session:
        row = session.get_one(OutgoingMessage, envelope.row_id)
        if outcome == "sent":
            outbox.mark_sent(session, row, detail, now)
        elif outcome == "failed":
            outbox.mark_failed(session, row, detail, now)
        elif outcome == "uncertain":
            outbox.mark_uncertain(session, row, detail, now)
        else:
            outbox.mark_retry(session, row, detail, now)
    log = get_logger(ticket_id=envelope.ticket_id, message_id=envelope.message_id)
    if outcome == "sent":
        log.info("mail_sent", to=envelope.recipient)
    else:
        log.warning("mail_not_sent", outcome=outcome, detail=detail)


async def _connect(settings: SmtpSettings) -> aiosmtplib.SMTP:
    context = ssl.create_default_context(cafile=str(settings.ca_file) if settings.ca_file else None)
    client = aiosmtplib.SMTP(
        hostname=settings.host,
        port=settings.port,
        use_tls=settings.security == "tls",
        start_tls=settings.security == "starttls",
        tls_context=context if settings.security != "none" else None,
        timeout=settings.timeout,
    )
    try:
        await client.connect()
        if settings.username:
            await client.login(settings.username, settings.read_password())
    except aiosmtplib.SMTPResponseException as exc:
        client.close()
        # A refused login or greeting is the server's or the configuration's problem, not the
        # message's: keep it queued (the log says why) rather than fail a customer's reply.
        raise _TemporaryError(
            f"SMTP {settings.host}:{settings.port}: {exc.code} {exc.message}"
        ) from None
    except (aiosmtplib.SMTPException, OSError) as exc:
        client.close()
        raise _TemporaryError(
            f"cannot connect to SMTP {settings.host}:{settings.port}: {exc}"
        ) from None
    return client


async def _send(client: aiosmtplib.SMTP, envelope: _Envelope) -> str:
    """MAIL, RCPT, DATA one by one: a failure before DATA's end is a clean "not sent"; losing
    the connection while the server holds the whole message is "maybe sent"."""
    try:
        await client.mail(envelope.sender)
        await client.rcpt(envelope.recipient)
    except aiosmtplib.SMTPResponseException as exc:
        await _reset(client)
        raise _by_code(exc.code, f"{exc.code} {exc.message}") from None
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise _TemporaryError(f"{type(exc).__name__}: {exc}") from None
    try:
        response = await client.data(envelope.raw)
    except aiosmtplib.SMTPResponseException as exc:
        raise _by_code(exc.code, f"{exc.code} {exc.message}") from None
    except (aiosmtplib.SMTPException, OSError) as exc:
        client.close()
        raise _OutcomeUnknownError(
            f"the connection was lost after the message was handed over ({type(exc).__name__}: "
            f"{exc}): the server may have accepted it"
        ) from None
    return f"{response.code} {response.message}"


def _by_code(code: int, answer: str) -> Exception:
    return _PermanentError(answer) if 500 <= code < 600 else _TemporaryError(answer)


async def _reset(client: aiosmtplib.SMTP) -> None:
    try:
        await client.rset()
    except (aiosmtplib.SMTPException, OSError):
        client.close()
