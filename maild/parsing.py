"""Raw RFC 5322 bytes → :class:`ParsedMessage`: headers, decoded text, attachments, language, flags.

Owns the reading of one message and nothing after it: no I/O, no clock, no other maild stage.
The standard library ``email`` package builds the MIME tree (walked by :mod:`maild.mimewalk`),
mail-parser reads the Date, and header/body decoding is done here (via :mod:`maild.charsets`)
because mail-parser's own decoding garbles mislabelled GBK/Big5 mail. Everything that goes wrong
in a message that is still usable is kept in ``notes``; only a message that cannot serve as a
support message raises :class:`ParseError`, with a one-line reason for the quarantine.
"""

from __future__ import annotations

import email
import email.message
import email.parser
import email.policy
import email.utils
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from mailparser.dates import parse_mail_date

from maild import bodytext, charsets
from maild.mimewalk import Attachment, Body, content_charset

__all__ = ["Address", "Attachment", "ParseError", "ParsedMessage", "parse_message"]

_COMPAT = email.policy.compat32
_MAX_NOTES = 40
_MSG_ID = re.compile(r"<([^<>]*)>")
_AUTO_SUBJECT = re.compile(
    r"\s*(?:\[[^\]]*\]\s*)?(?:auto(?:matic|matische)?[\s_-]*(?:reply|response|respons|antwort)"
    r"|out of (?:the )?office|away from (?:the )?office|abwesenheit|réponse automatique"
    r"|respuesta automática|risposta automatica|automatyczna odpowied"
    r"|自动回复|自動回覆|自動回復|自动答复|自動応答|자동 응답"
    # Outlook read receipts: "Read: <subject>", "已读: <subject>".
    r"|read:|已读|已讀)",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|returned mail|delivery status notification|delivery (?:has )?fail"
    r"|mail delivery failed|failure notice|delivery failure|mail system error|delayed mail"
    r"|message delayed|could not send message|delivery notification|mail delivery status"
    r"|postmaster notify|rejected mail|returned to sender|blocked message|odrzucon"
    r"|退信|投递失败|發送失敗|无法投递",
    re.IGNORECASE,
)
_DAEMON_LOCALPARTS = frozenset({"mailer-daemon", "postmaster", "mail-daemon", "mailer", "daemon"})


class ParseError(Exception):
    """The message cannot serve as a support message; ``reason`` says why, in one line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Address:
    name: str
    address: str


@dataclass(frozen=True)
class ParsedMessage:
    message_id: str
    message_id_synthesized: bool
    subject: str
    sender: Address | None
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    reply_to: tuple[Address, ...]
    in_reply_to: str | None
    references: tuple[str, ...]
    date: datetime | None
    internaldate: datetime
    text: str
    html: str | None
    attachments: tuple[Attachment, ...]
    language: str
    is_auto_submitted: bool
    is_bounce: bool
    is_mailing_list: bool
    notes: tuple[str, ...]


def parse_message(raw: bytes, internaldate: datetime) -> ParsedMessage:
    """Parse one raw message; raises :class:`ParseError` (and nothing else) to quarantine it."""
    try:
        return _parse(raw, internaldate)
    except ParseError:
        raise
    except RecursionError as exc:
        raise ParseError("message structure is nested too deeply to read") from exc
    except Exception as exc:
        # A parser bug must quarantine one message, never stop the pipeline.
        raise ParseError(f"unexpected parser failure: {type(exc).__name__}: {exc}"[:200]) from exc


def _parse(raw: bytes, internaldate: datetime) -> ParsedMessage:
    if not raw.strip(b"\x00 \t\r\n"):
        raise ParseError("empty message" if not raw else "message contains only whitespace")
    notes: list[str] = []
    data = charsets.normalise_raw(bytes(raw), notes)
    if data is None:
        raise ParseError("no header block: the first line is not a header field")
    msg = _structure(data, notes)
    if not msg.keys():
        raise ParseError("no header block: the message has no header fields")
    body = Body(notes)
    body.walk(msg)
    heads = _Headers(msg, content_charset(msg) or body.first_charset, notes)
    subject = " ".join(heads.text("subject").split())
    from_ = heads.addresses("from")
    message_id = next(iter(_all_ids(heads.text("message-id"))), None)
    synthesized = message_id is None
    if message_id is None:
        message_id = f"<{hashlib.sha256(raw).hexdigest()[:32]}@maild.invalid>"
        notes.append("message-id missing; synthesized from the raw bytes")
    plain = "\n\n".join(t for t in body.plain if t.strip()).strip()
    html = "\n".join(body.html) if body.html else None
    if not plain and html is not None:
        if body.plain:
            notes.append("text/plain part is empty; text taken from the HTML part")
        plain = bodytext.html_to_text(html)
    is_auto, is_bounce, is_list = _flags(heads, subject, from_, body, msg)
    sender = _pick_sender(heads, msg, notes)
    if sender is None and not (is_auto or is_bounce):
        shown = " ".join(heads.raw.get("from", "").split())[:60]
        where = f"From header {shown!r} has no usable address" if shown else "no From header"
        raise ParseError(f"no usable sender: {where}, and no Sender/Reply-To/Return-Path address")
    return ParsedMessage(
        message_id=message_id,
        message_id_synthesized=synthesized,
        subject=subject,
        sender=sender,
        to=heads.addresses("to"),
        cc=heads.addresses("cc"),
        reply_to=heads.addresses("reply-to"),
        in_reply_to=next(iter(_all_ids(heads.text("in-reply-to"))), None),
        references=_all_ids(heads.text("references")),
        date=_date(heads, notes),
        internaldate=_utc(internaldate),
        text=plain,
        html=html,
        attachments=tuple(body.attachments),
        language=bodytext.guess_language(subject, plain),
        is_auto_submitted=is_auto,
        is_bounce=is_bounce,
        is_mailing_list=is_list,
        notes=_dedupe(notes),
    )


def _structure(data: bytes, notes: list[str]) -> email.message.Message:
    """The MIME tree, from the standard library's lenient parser.

    mail-parser builds the same tree with the same parser and then eagerly decodes every header,
    address and body, which maild does itself (mail-parser's decoding garbled GBK and Big5 in
    the corpus): calling it cost 75% of the parse time for nothing used. Its Date reader is
    used (see `_date`).
    """
    msg = _stdlib(data, notes, False)
    if not msg.keys() or any(
        type(d).__name__ == "MissingHeaderBodySeparatorDefect" for d in msg.defects
    ):
        repaired = charsets.repair_header_block(data)
        if repaired is not None:
            notes.append("malformed header lines repaired or dropped")
            msg = _stdlib(repaired, notes, False)
    return msg


def _stdlib(data: bytes, notes: list[str], deep: bool) -> email.message.Message:
    if not deep:
        try:
            return email.message_from_bytes(data, policy=_COMPAT)
        except RecursionError:
            pass
    notes.append("MIME nesting too deep; body kept unparsed")
    return email.parser.BytesParser(policy=_COMPAT).parsebytes(data, headersonly=True)


class _Headers:
    """First occurrence of each header field, decoded on demand (most are never read)."""

    def __init__(self, msg: email.message.Message, hint: str | None, notes: list[str]) -> None:
        self.hint = hint
        self.notes = notes
        self.raw: dict[str, str] = {}
        self._addresses: dict[str, tuple[Address, ...]] = {}
        for name, value in msg.raw_items():
            self.raw.setdefault(name.lower(), value if isinstance(value, str) else str(value))

    def text(self, name: str) -> str:
        value = self.raw.get(name)
        if value is None:
            return ""
        unfolded = value.replace("\r", "").replace("\n", "")
        return charsets.header_text(unfolded, self.hint, self.notes, name).strip()

    def addresses(self, name: str) -> tuple[Address, ...]:
        if name not in self._addresses:
            value = self.raw.get(name, "").replace("\r", "").replace("\n", "")
            pairs = charsets.address_list(value, self.hint, self.notes, name) if value else []
            self._addresses[name] = tuple(dict.fromkeys(Address(n, a) for n, a in pairs))
        return self._addresses[name]


def _pick_sender(heads: _Headers, msg: email.message.Message, notes: list[str]) -> Address | None:
    """From, else the first usable fallback address (each fallback leaves a note)."""
    for name in ("from", "sender", "reply-to", "return-path"):
        for candidate in heads.addresses(name):
            if charsets.usable_address(candidate.address):
                if name != "from":
                    notes.append(f"no usable From address; sender taken from {name.title()}")
                return candidate
    unixfrom = (msg.get_unixfrom() or "").split()
    if len(unixfrom) > 1 and charsets.usable_address(unixfrom[1].lower()):
        notes.append("no usable From address; sender taken from the mbox From_ line")
        return Address("", unixfrom[1].lower())
    return None


def _all_ids(value: str) -> tuple[str, ...]:
    found = ["".join(m.split()) for m in _MSG_ID.findall(value)]
    if not any(found):
        found = [t for t in value.replace(",", " ").split() if "@" in t] or value.split()[:1]
    return tuple(dict.fromkeys(f"<{i.strip('<>')}>" for i in found if i.strip("<>")))


def _date(heads: _Headers, notes: list[str]) -> datetime | None:
    """mail-parser's Date reader (it reads obsolete forms such as "(EDT) -0400" that the
    standard library gets wrong), then the standard library's."""
    value = heads.text("date")
    if not value:
        return None
    selected = parse_mail_date(value).value
    if selected is not None:
        return _utc(selected)
    try:
        return _utc(email.utils.parsedate_to_datetime(value))
    except (TypeError, ValueError, IndexError, OverflowError):
        notes.append("date header unparseable")
        return None


def _utc(moment: datetime) -> datetime:
    # A naive time (RFC 5322 "-0000", or a caller's naive value) is taken as UTC.
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _flags(
    heads: _Headers,
    subject: str,
    from_: tuple[Address, ...],
    body: Body,
    msg: email.message.Message,
) -> tuple[bool, bool, bool]:
    """(auto-submitted, bounce, mailing list) from headers, report types and subjects."""
    auto = heads.text("auto-submitted").split(";")[0].strip().lower()
    precedence = heads.text("precedence").lower()
    report = ""
    if msg.get_content_type() == "multipart/report":
        value = msg.get_param("report-type")
        report = value.lower() if isinstance(value, str) else ""
    is_auto = bool(
        (auto and auto != "no")
        or any(h in heads.raw for h in ("x-autoreply", "x-autorespond", "x-autoresponder"))
        or precedence == "auto_reply"
        or heads.text("x-autogenerated").lower() == "reply"
        or report in ("disposition-notification", "feedback-report")
        or "message/disposition-notification" in body.types
        or _AUTO_SUBJECT.match(subject)
    )
    # A bounce comes from a mailer daemon, from nobody, or with the null reverse path <>.
    daemon = not from_ or any(a.address.split("@")[0] in _DAEMON_LOCALPARTS for a in from_)
    null_path = "return-path" in heads.raw and heads.text("return-path").replace(" ", "") == "<>"
    is_bounce = bool(
        report == "delivery-status"
        or "message/delivery-status" in body.types
        or "x-failed-recipients" in heads.raw
        or ((daemon or null_path) and _BOUNCE_SUBJECT.search(subject))
    )
    is_list = bool(
        any(h in heads.raw for h in ("list-id", "list-unsubscribe", "list-post", "mailing-list"))
        or precedence in ("bulk", "list", "junk")
    )
    return is_auto, is_bounce, is_list


def _dedupe(notes: list[str]) -> tuple[str, ...]:
    unique = tuple(dict.fromkeys(notes))
    if len(unique) > _MAX_NOTES:
        return (*unique[: _MAX_NOTES - 1], f"… and {len(unique) - _MAX_NOTES + 1} more notes")
    return unique
