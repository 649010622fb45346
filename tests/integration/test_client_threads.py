"""Replies as real mail clients write them, threaded onto tickets (SQLite and PostgreSQL).

Each conversation is built the way its client really sends it: Outlook's "RE:" without reply
headers and its "From: / Sent:" quote block, Gmail's "On … wrote:", Apple Mail's "> On …, at …",
Foxmail and QQ Mail in GBK/GB18030 with "回复:" and the "原始邮件" block, Outlook Taiwan in Big5.
Then the shared corpus: every real reply in `replies/` in one poll, and the originals they
answer delivered later, out of order. No IMAP server: `MemoryInbox` feeds the real `Ingestor`.
"""

from __future__ import annotations

import base64
import email
import email.errors
import email.header
import email.policy
import email.utils
import quopri
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import aliased

from maild.store.db import Database
from maild.store.models import Delivery, Message, Ticket, TicketParticipant
from tests.conftest import CORPUS
from tests.integration.test_tickets import poll, threads
from tests.memory_inbox import MemoryInbox

SUPPORT = "support@example.com"
CRLF = "\r\n"


# --- building messages the way clients write them ---------------------------------------------


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def encoded_word(text: str, charset: str = "utf-8") -> str:
    """An RFC 2047 B-word, as clients write non-ASCII subjects and display names."""
    return f"=?{charset}?B?{base64.b64encode(text.encode(charset)).decode('ascii')}?="


def encode_body(text: str, charset: str, transfer: str) -> bytes:
    """`text` (LF line ends) as a client sends it: CRLF lines in `charset`, then encoded."""
    if transfer == "quoted-printable":
        return quopri.encodestring(text.encode(charset)).replace(b"\n", b"\r\n")
    data = text.replace("\n", CRLF).encode(charset)
    if transfer == "base64":
        return base64.encodebytes(data).replace(b"\n", b"\r\n")
    return data  # 7bit / 8bit: the bytes as they are


def text_part(text: str, charset: str = "utf-8", transfer: str = "quoted-printable") -> bytes:
    """A single text/plain body with its two content headers (for use in a multipart)."""
    head = f'Content-Type: text/plain; charset="{charset}"{CRLF}'
    head += f"Content-Transfer-Encoding: {transfer}{CRLF}{CRLF}"
    return head.encode("ascii") + encode_body(text, charset, transfer)


def html_part(html: str, charset: str = "utf-8") -> bytes:
    head = f'Content-Type: text/html; charset="{charset}"{CRLF}'
    head += f"Content-Transfer-Encoding: quoted-printable{CRLF}{CRLF}"
    return head.encode("ascii") + encode_body(html, charset, "quoted-printable")


def alternative(boundary: str, *parts: bytes) -> tuple[str, bytes]:
    """(Content-Type value, body) of a multipart/alternative, the way webmail sends text+HTML."""
    body = b"".join(f"--{boundary}{CRLF}".encode() + part + CRLF.encode() for part in parts)
    return f'multipart/alternative; boundary="{boundary}"', body + f"--{boundary}--{CRLF}".encode()


def raw_mail(headers: Sequence[tuple[str, str]], body: bytes) -> bytes:
    """Header fields in the order given (their values ASCII, as on the wire), then the body."""
    head = "".join(f"{name}: {value}{CRLF}" for name, value in headers)
    return head.encode("ascii") + CRLF.encode() + body


def plain_mail(
    headers: Sequence[tuple[str, str]],
    text: str,
    charset: str = "utf-8",
    transfer: str = "quoted-printable",
) -> bytes:
    """A one-part text/plain message."""
    content = [
        ("MIME-Version", "1.0"),
        ("Content-Type", f'text/plain; charset="{charset}"'),
        ("Content-Transfer-Encoding", transfer),
    ]
    return raw_mail([*headers, *content], encode_body(text, charset, transfer))


def quoted(text: str) -> str:
    """`text` quoted line by line with "> ", as Gmail, Apple Mail and Thunderbird quote."""
    return "\n".join(f"> {line}".rstrip() for line in text.split("\n"))


@dataclass(frozen=True)
class TicketRow:
    """A ticket as stored (read straight from the tables: the views are not under test)."""

    number: str
    status: str
    subject: str
    customer: str | None
    linked_to: str | None  # the number of the ticket it is linked to


def ticket_rows(database: Database) -> list[TicketRow]:
    linked = aliased(Ticket)
    with database.session() as session:
        rows = session.execute(
            select(
                Ticket.number, Ticket.status, Ticket.subject, Ticket.customer_address, linked.number
            )
            .outerjoin(linked, linked.id == Ticket.linked_to_id)
            .order_by(Ticket.id)
        ).all()
    return [TicketRow(*row) for row in rows]


def ticket_row(database: Database, number: str | None) -> TicketRow:
    (row,) = [row for row in ticket_rows(database) if row.number == number]
    return row


def tickets_of(database: Database) -> list[str]:
    return [row.number for row in ticket_rows(database)]


def participants_of(database: Database, number: str) -> set[str]:
    with database.session() as session:
        return set(
            session.scalars(
                select(TicketParticipant.address)
                .join(Ticket, Ticket.id == TicketParticipant.ticket_id)
                .where(Ticket.number == number)
            )
        )


def subjects_on(database: Database, number: str) -> list[str | None]:
    """The subjects of the ticket's messages, in arrival order."""
    with database.session() as session:
        return list(
            session.scalars(
                select(Message.subject)
                .join(Ticket, Ticket.id == Message.ticket_id)
                .where(Ticket.number == number)
                .order_by(Message.internaldate, Message.id)
            )
        )


def messages_with_id(database: Database, message_id: str) -> list[Message]:
    with database.session() as session:
        return list(
            session.scalars(
                select(Message).where(Message.message_id == message_id).order_by(Message.id)
            )
        )


def ticket_number(database: Database, ticket_id: int | None) -> str | None:
    if ticket_id is None:
        return None
    with database.session() as session:
        return session.scalar(select(Ticket.number).where(Ticket.id == ticket_id))


# --- Outlook: "RE:", no reply headers, a "From: / Sent: / To: / Subject:" quote block ----------

OUTLOOK_ORIGINAL_ID = (
    "<DB9PR03MB73501C2F8E4A6B0D91E7A3C4B2F59@DB9PR03MB7350.eurprd03.prod.outlook.com>"
)
OUTLOOK_SUBJECT = "Invoice INV-20931 shows the wrong VAT number"
OUTLOOK_ORIGINAL_TEXT = (
    "Hello,\n\n"
    "Our invoice INV-20931 from 1 November shows the VAT number GB123456789, but our VAT\n"
    "number is GB987654321. Our auditors need a corrected invoice by Friday.\n"
    "Could you reissue it?\n\n"
    "Best regards\n"
    "David Chen\n"
    "Finance | Contoso Ltd.\n"
)
# Outlook 365 / new Outlook: an underscore rule, then the header block with "Sent:".
OUTLOOK_365_QUOTE = (
    "________________________________\n"
    "From: David Chen <david.chen@contoso.com>\n"
    "Sent: Tuesday, November 24, 2026 9:12 AM\n"
    f"To: {SUPPORT} <{SUPPORT}>\n"
    f"Subject: {OUTLOOK_SUBJECT}\n"
)
# Outlook 2010-2016 desktop: "-----Original Message-----" and "[mailto:…]" in From.
OUTLOOK_DESKTOP_QUOTE = (
    "-----Original Message-----\n"
    "From: David Chen [mailto:david.chen@contoso.com] \n"
    "Sent: Tuesday, November 24, 2026 9:12 AM\n"
    f"To: {SUPPORT}\n"
    f"Subject: {OUTLOOK_SUBJECT}\n"
)


def outlook_mail(message_id: str, subject: str, text: str, date: str, thread_index: str) -> bytes:
    html = "<html><body>" + "".join(f"<p>{line}</p>" for line in text.split("\n")) + "</body>"
    content_type, body = alternative(
        "_000_DB9PR03MB7350C1F2_", text_part(text, "us-ascii"), html_part(html, "us-ascii")
    )
    headers = [
        ("From", "David Chen <david.chen@contoso.com>"),
        ("To", f'"{SUPPORT}" <{SUPPORT}>'),
        ("Subject", subject),
        ("Thread-Topic", OUTLOOK_SUBJECT),
        ("Thread-Index", thread_index),
        ("Date", date),
        ("Message-ID", message_id),
        ("Accept-Language", "en-GB, en-US"),
        ("Content-Language", "en-GB"),
        ("X-MS-Has-Attach", ""),
        ("X-MS-TNEF-Correlator", ""),
        ("MIME-Version", "1.0"),
        ("Content-Type", content_type),
    ]
    return raw_mail(headers, body)


@pytest.mark.parametrize("quote_block", [OUTLOOK_365_QUOTE, OUTLOOK_DESKTOP_QUOTE])
def test_outlook_reply_without_reply_headers_threads_by_subject(
    database: Database, quote_block: str
) -> None:
    """Outlook's "RE:" reply that carries neither In-Reply-To nor References joins the ticket
    of the same customer's original by its subject."""
    inbox = MemoryInbox()
    original = outlook_mail(
        OUTLOOK_ORIGINAL_ID,
        OUTLOOK_SUBJECT,
        OUTLOOK_ORIGINAL_TEXT,
        "Tue, 24 Nov 2026 09:12:44 +0000",
        "AQHbPq1fVZ3t0m5xQkS2yq8tN1n5Vw==",
    )
    reply_id = "<DB9PR03MB7350E4A1D0C93B2F6A15C8E7D04AA@DB9PR03MB7350.eurprd03.prod.outlook.com>"
    reply_text = (
        "Hi again,\n\n"
        "I attach our company registration showing GB987654321, in case you need it.\n\n"
        "Best regards\nDavid Chen\n\n" + quote_block + "\n" + OUTLOOK_ORIGINAL_TEXT
    )
    reply = outlook_mail(
        reply_id,
        f"RE: {OUTLOOK_SUBJECT}",
        reply_text,
        "Tue, 24 Nov 2026 10:05:17 +0000",
        "AQHbPq1fVZ3t0m5xQkS2yq8tN1n5VwABc7Rk",
    )
    assert b"In-Reply-To" not in reply and b"References" not in reply
    inbox.add(original, utc(24, 9, 13))
    inbox.add(reply, utc(24, 10, 6))
    poll(database, {"support": inbox})

    result = threads(database)
    (number,) = tickets_of(database)
    assert result[OUTLOOK_ORIGINAL_ID] == (number, "new")
    assert result[reply_id] == (number, "subject")


# --- Gmail: In-Reply-To and References, "On … wrote:" then "> " quotes -------------------------

GMAIL_ORIGINAL_ID = "<CAHx7k+Z3qW9pLr8e2vN5tYb0uJd4mKa6sFg1cXh9oPi2wEr5Tq@mail.gmail.com>"
GMAIL_FOLLOW_UP_ID = "<CAHx7k+aT4m0Qe1Zp7oGv3sXw9uKd2LbR8nYc5hJf6iMq0Ds1Wg@mail.gmail.com>"
GMAIL_ANSWER_TO_AGENT_ID = "<CAHx7k+bN8r2Xw5Lq0tHj4eYv7uPd3McS1oZf9gKa6iTn2Eu3Ry@mail.gmail.com>"
AGENT_ANSWER_ID = "<20261124061502.4f2a9c@helpdesk.example.com>"  # our reply: never ingested
GMAIL_SUBJECT = "Cannot export reports to PDF"
GMAIL_SENDER = "Zhang Wei <zhangwei.dev@gmail.com>"


def gmail_mail(
    message_id: str, subject: str, text: str, date: str, reply_headers: Sequence[tuple[str, str]]
) -> bytes:
    html = '<div dir="ltr">' + "<br>".join(text.split("\n")) + "</div>"
    content_type, body = alternative(
        "000000000000a1b2c3d4e5f60718", text_part(text, "UTF-8"), html_part(html, "UTF-8")
    )
    headers = [
        ("MIME-Version", "1.0"),
        ("Date", date),
        *reply_headers,
        ("Message-ID", message_id),
        ("Subject", subject),
        ("From", GMAIL_SENDER),
        ("To", SUPPORT),
        ("Content-Type", content_type),
    ]
    return raw_mail(headers, body)


def test_gmail_replies_thread_by_in_reply_to_then_references(database: Database) -> None:
    """A Gmail follow-up to the customer's own mail threads by In-Reply-To; their answer to our
    reply (which is not stored) threads by the References that name their earlier mail."""
    original_text = (
        "Hi,\n\nSince this morning every PDF export of the monthly report fails with\n"
        '"Export failed (code 502)". CSV export still works.\n\nThanks,\nZhang Wei\n'
    )
    follow_up_text = (
        "Forgot to say: it fails in Chrome and Firefox alike, on two different laptops.\n\n"
        f"On Tue, 24 Nov 2026 at 10:00, {GMAIL_SENDER} wrote:\n\n" + quoted(original_text)
    )
    answer_text = (
        "Yes, clearing the cache fixed it. Thank you!\n\n"
        "On Tue, 24 Nov 2026 at 14:15, Example Support <support@example.com> wrote:\n\n"
        + quoted("Hello Zhang Wei,\n\nplease clear the browser cache and try again.\n")
    )
    inbox = MemoryInbox()
    inbox.add(
        gmail_mail(
            GMAIL_ORIGINAL_ID, GMAIL_SUBJECT, original_text, "Tue, 24 Nov 2026 10:00:00 +0800", []
        ),
        utc(24, 2, 0),
    )
    inbox.add(
        gmail_mail(
            GMAIL_FOLLOW_UP_ID,
            f"Re: {GMAIL_SUBJECT}",
            follow_up_text,
            "Tue, 24 Nov 2026 10:07:31 +0800",
            [("References", GMAIL_ORIGINAL_ID), ("In-Reply-To", GMAIL_ORIGINAL_ID)],
        ),
        utc(24, 2, 8),
    )
    inbox.add(
        gmail_mail(
            GMAIL_ANSWER_TO_AGENT_ID,
            f"Re: {GMAIL_SUBJECT}",
            answer_text,
            "Tue, 24 Nov 2026 15:31:02 +0800",
            [
                (
                    "References",
                    f"{GMAIL_ORIGINAL_ID}{CRLF}\t{GMAIL_FOLLOW_UP_ID}{CRLF}\t{AGENT_ANSWER_ID}",
                ),
                ("In-Reply-To", AGENT_ANSWER_ID),
            ],
        ),
        utc(24, 7, 32),
    )
    poll(database, {"support": inbox})

    result = threads(database)
    (number,) = tickets_of(database)
    assert result[GMAIL_ORIGINAL_ID] == (number, "new")
    assert result[GMAIL_FOLLOW_UP_ID] == (number, "in-reply-to")
    assert result[GMAIL_ANSWER_TO_AGENT_ID] == (number, "references")


# --- Apple Mail: References only, "> On 24 Nov 2026, at 10:00, … wrote:" ------------------------


def test_apple_mail_reply_with_references_only_threads_by_references(database: Database) -> None:
    """Apple Mail's reply carrying References but no In-Reply-To threads by References."""
    sender = f"{encoded_word('Emma Müller')} <emma.mueller@icloud.com>"
    original_id = "<5E1F0C3A-8B7D-4C2E-9F61-2A3B4C5D6E7F@icloud.com>"
    reply_id = "<A0C4E2F1-7D3B-4A19-8E56-0F9B1C2D3E4A@icloud.com>"
    original_text = (
        "Hello,\n\nthe two-factor codes for my account never arrive by SMS. I waited over an\n"
        "hour and requested a new code three times.\n\nKind regards\nEmma Müller\n"
    )
    apple = [
        ("Mime-Version", "1.0 (Mac OS X Mail 16.0 \\(3774.600.62\\))"),
        ("X-Mailer", "Apple Mail (2.3774.600.62)"),
        ("From", sender),
        ("To", SUPPORT),
    ]
    original = raw_mail(
        [
            *apple,
            ("Subject", "Two-factor codes never arrive"),
            ("Date", "Tue, 24 Nov 2026 10:00:00 +0100"),
            ("Message-Id", original_id),
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Transfer-Encoding", "quoted-printable"),
        ],
        encode_body(original_text, "utf-8", "quoted-printable"),
    )
    reply_text = (
        "I also tried with my husband’s phone number: same result.\n\n"
        "> On 24 Nov 2026, at 10:00, Emma Müller <emma.mueller@icloud.com> wrote:\n>\n"
        + quoted(original_text)
        + "\n\n"
    )
    reply = raw_mail(
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Transfer-Encoding", "quoted-printable"),
            *apple,
            ("Subject", "Re: Two-factor codes never arrive"),
            ("Date", "Tue, 24 Nov 2026 11:42:10 +0100"),
            ("References", original_id),
            ("Message-Id", reply_id),
        ],
        encode_body(reply_text, "utf-8", "quoted-printable"),
    )
    inbox = MemoryInbox()
    inbox.add(original, utc(24, 9, 0))
    inbox.add(reply, utc(24, 10, 43))
    poll(database, {"support": inbox})

    result = threads(database)
    (number,) = tickets_of(database)
    assert result[original_id] == (number, "new")
    assert result[reply_id] == (number, "references")


# --- Foxmail and QQ Mail: GBK / GB18030, "回复:" without reply headers, the 原始邮件 block -------


@dataclass(frozen=True)
class ChineseClient:
    name: str
    display_name: str
    address: str
    charset: str
    transfer: str
    reply_prefix: str
    mailer: tuple[str, str]


FOXMAIL = ChineseClient(
    name="foxmail",
    display_name="李娜",
    address="lina.dev@foxmail.com",
    charset="GBK",
    transfer="base64",
    reply_prefix="回复: ",
    mailer=("X-Mailer", "Foxmail 7.2.25.228[cn]"),
)
QQ_MAIL = ChineseClient(
    name="qqmail",
    display_name="王芳",
    address="2847561930@qq.com",
    charset="gb18030",
    transfer="8bit",
    reply_prefix="回复：",  # a full-width colon, as QQ Mail writes it
    mailer=("X-QQ-MID", "xmsezb4a9c2f1e3d5b7a9c1e3f5a7b9d1f3e5a7b9"),
)


@pytest.mark.parametrize("client", [FOXMAIL, QQ_MAIL], ids=lambda client: client.name)
def test_chinese_client_reply_threads_by_subject(database: Database, client: ChineseClient) -> None:
    """A Foxmail/QQ Mail reply: "回复:"/"回复：" subject in GBK or GB18030, the 原始邮件 quote
    block, and no In-Reply-To or References, joins the customer's ticket by its subject."""
    subject = "企业邮箱的日历无法同步到手机"
    original_text = (
        "您好，\n\n从昨天下午开始，企业邮箱的日历无法同步到手机（iPhone 15，iOS 19）。\n"
        "邮件收发正常，只有日历不更新。请帮忙看看。\n\n谢谢！\n"
    )
    reply_text = (
        "补充一下：我已经删除账户重新添加了两次，日历还是不同步。\n\n"
        " \n"
        "------------------ 原始邮件 ------------------\n"
        f'发件人: "{client.display_name}"<{client.address}>;\n'
        "发送时间: 2026年11月24日(星期二) 上午10:00\n"
        f'收件人: "support"<{SUPPORT}>;\n'
        f"主题: {subject}\n\n" + original_text
    )
    original_id = f"<tencent_5C3A1B9F0E7D2C4A6B8E0F1D3C5A7B9E1F0A@{client.name}.example>"
    reply_id = f"<tencent_8E2D4F6A1C3B5D7F9A0B2C4E6F8A1B3D5E7C@{client.name}.example>"

    def mail(message_id: str, subject_text: str, text: str, date: str) -> bytes:
        return plain_mail(
            [
                ("From", f"{encoded_word(client.display_name, client.charset)} <{client.address}>"),
                ("To", f'"support" <{SUPPORT}>'),
                ("Subject", encoded_word(subject_text, client.charset)),
                ("Date", date),
                ("Message-ID", message_id),
                client.mailer,
            ],
            text,
            client.charset,
            client.transfer,
        )

    inbox = MemoryInbox()
    inbox.add(
        mail(original_id, subject, original_text, "Tue, 24 Nov 2026 10:00:12 +0800"), utc(24, 2, 1)
    )
    reply = mail(
        reply_id, client.reply_prefix + subject, reply_text, "Tue, 24 Nov 2026 10:31:40 +0800"
    )
    inbox.add(reply, utc(24, 2, 32))
    poll(database, {"support": inbox})

    result = threads(database)
    (number,) = tickets_of(database)
    assert result[original_id] == (number, "new")
    assert result[reply_id] == (number, "subject")
    assert ticket_row(database, number).subject == subject
    assert subjects_on(database, number) == [subject, client.reply_prefix + subject]


# --- Big5: Outlook (Taiwan) "回覆:" with the 原始郵件 block -------------------------------------


def test_big5_reply_threads_by_subject(database: Database) -> None:
    """A Traditional Chinese reply in Big5 with "回覆:" joins the ticket by its subject."""
    subject = "無法登入會員帳號"
    sender = f"{encoded_word('陳志明', 'big5')} <chen.zhiming@example.com.tw>"
    original_text = (
        "您好：\n\n我的會員帳號從今天早上開始無法登入，一直顯示「密碼錯誤」。\n請協助處理，謝謝。\n"
    )
    reply_text = (
        "已經重設密碼，但還是無法登入。\n\n陳志明\n\n"
        "-----原始郵件-----\n"
        "寄件者: 陳志明 <chen.zhiming@example.com.tw> \n"
        "寄件日期: 2026年11月24日 上午 10:00\n"
        f"收件者: {SUPPORT}\n"
        f"主旨: {subject}\n\n" + original_text
    )
    original_id = "<TY2PR01MB4331F0A7C9E2B5D8163A4F27C9E1B@TY2PR01MB4331.apcprd01.prod.outlook.com>"
    reply_id = "<TY2PR01MB43315B8E2D0F7A9C64E1D3B0F8A2C@TY2PR01MB4331.apcprd01.prod.outlook.com>"

    def mail(message_id: str, subject_text: str, text: str, date: str) -> bytes:
        return plain_mail(
            [
                ("From", sender),
                ("To", f'"{SUPPORT}" <{SUPPORT}>'),
                ("Subject", encoded_word(subject_text, "big5")),
                ("Thread-Topic", encoded_word(subject, "big5")),
                ("Date", date),
                ("Message-ID", message_id),
                ("Content-Language", "zh-TW"),
            ],
            text,
            "big5",
            "base64",
        )

    inbox = MemoryInbox()
    inbox.add(
        mail(original_id, subject, original_text, "Tue, 24 Nov 2026 10:00:03 +0800"), utc(24, 2, 0)
    )
    inbox.add(
        mail(reply_id, f"回覆: {subject}", reply_text, "Tue, 24 Nov 2026 11:15:45 +0800"),
        utc(24, 3, 16),
    )
    poll(database, {"support": inbox})

    result = threads(database)
    (number,) = tickets_of(database)
    assert result[original_id] == (number, "new")
    assert result[reply_id] == (number, "subject")


# --- ticket numbers: a participant's fresh mail joins; a stranger's is linked -----------------


def test_a_ticket_number_in_a_fresh_mail_joins_participants_and_links_strangers(
    database: Database,
) -> None:
    """A new mail (no reply headers) naming the ticket number joins the ticket when its sender
    is the customer or was on the original's Cc; a stranger using it gets a new linked ticket."""
    inbox = MemoryInbox()
    original_id = "<CAHx7k+d9Qw2Rt5Yu8Io1Pa4Sd7Fg0Hj3Kl6Zx9Cv2Bn5Mq8We@mail.gmail.com>"
    inbox.add(
        plain_mail(
            [
                ("From", GMAIL_SENDER),
                ("To", SUPPORT),
                ("Cc", "Li Ming <li.ming@example.cn>"),
                ("Subject", "Refund for order 88213 not received"),
                ("Date", "Wed, 25 Nov 2026 01:30:00 +0800"),
                ("Message-ID", original_id),
            ],
            "Hello,\n\nthe refund for order 88213 promised on 10 November has not arrived.\n",
        ),
        # 17:30 UTC on the 24th is 01:30 on the 25th in Asia/Shanghai: the ticket's day.
        utc(24, 17, 30),
    )
    poll(database, {"support": inbox})
    (number,) = tickets_of(database)
    assert number.startswith("CS20261125-")

    fresh = [
        ("<CAHx7k+customer@mail.gmail.com>", GMAIL_SENDER, f"Still broken [{number}]"),
        (
            "<cc-colleague@example.cn>",
            "Li Ming <li.ming@example.cn>",
            f"仍然没有收到退款【{number}】",
        ),
        ("<stranger@evil.example.org>", "Mallory <mallory@evil.example.org>", f"{number} refund"),
    ]
    for message_id, sender, subject in fresh:
        inbox.add(
            plain_mail(
                [
                    ("From", sender),
                    ("To", SUPPORT),
                    ("Subject", encoded_word(subject)),
                    ("Date", "Thu, 26 Nov 2026 09:00:00 +0800"),
                    ("Message-ID", message_id),
                ],
                "Any news about this? I am still waiting.\n",
            ),
            utc(26, 1, 0),
        )
    poll(database, {"support": inbox})

    result = threads(database)
    assert result["<CAHx7k+customer@mail.gmail.com>"] == (number, "ticket-number")
    assert result["<cc-colleague@example.cn>"] == (number, "ticket-number")
    stranger_ticket, stranger_method = result["<stranger@evil.example.org>"]
    assert stranger_method == "new" and stranger_ticket not in (None, number)
    assert tickets_of(database) == [number, stranger_ticket]
    linked = ticket_row(database, stranger_ticket)
    assert (linked.linked_to, linked.customer) == (number, "mallory@evil.example.org")
    assert participants_of(database, number) == {
        "zhangwei.dev@gmail.com",
        "li.ming@example.cn",
    }


# --- forwards: a forward prefix counts as a reply (threader `_looks_like_reply`) ----------------

FORWARDS = {
    "gmail-fwd": (
        "Fwd: ",
        "Please see below, this is still happening.\n\n"
        "---------- Forwarded message ---------\n"
        f"From: {GMAIL_SENDER}\n"
        "Date: Tue, 24 Nov 2026 at 10:00\n"
        "Subject: {subject}\n"
        f"To: <{SUPPORT}>\n\n",
    ),
    "qqmail-zhuanfa": (
        "转发：",
        "再转发一次，问题还在。\n\n"
        "------------------ 原始邮件 ------------------\n"
        '发件人: "Zhang Wei"<zhangwei.dev@gmail.com>;\n'
        "发送时间: 2026年11月24日(星期二) 上午10:00\n"
        f'收件人: "support"<{SUPPORT}>;\n'
        "主题: {subject}\n\n",
    ),
}


@pytest.mark.parametrize("style", sorted(FORWARDS))
@pytest.mark.parametrize("status", ["new", "resolved"])
def test_a_customer_forwarding_their_own_mail_joins_its_ticket(
    database: Database, style: str, status: str
) -> None:
    """A forward ("Fwd:", "转发：") of the customer's own earlier mail has no reply headers, but
    its forward prefix and forwarded text make it a reply to the threader (`has_prefix` counts
    forward prefixes; `_looks_like_reply`), so it threads by subject, even onto a resolved
    ticket (which it reopens) where a fresh mail would start a new one."""
    subject = "Sync stuck at 99% on the desktop client"
    original_text = "Hello,\n\nthe desktop client stops syncing at 99% since the last update.\n"
    prefix, forward_head = FORWARDS[style]
    inbox = MemoryInbox()
    inbox.add(
        plain_mail(
            [
                ("From", GMAIL_SENDER),
                ("To", SUPPORT),
                ("Subject", subject),
                ("Date", "Tue, 24 Nov 2026 10:00:00 +0800"),
                ("Message-ID", "<orig-sync@mail.gmail.com>"),
            ],
            original_text,
        ),
        utc(24, 2, 0),
    )
    poll(database, {"support": inbox})
    (number,) = tickets_of(database)
    with database.transaction() as session:
        session.execute(update(Ticket).where(Ticket.number == number).values(status=status))

    inbox.add(
        plain_mail(
            [
                ("From", GMAIL_SENDER),
                ("To", SUPPORT),
                ("Subject", encoded_word(prefix + subject)),
                ("Date", "Wed, 25 Nov 2026 09:00:00 +0800"),
                ("Message-ID", "<fwd-sync@mail.gmail.com>"),
            ],
            forward_head.format(subject=subject) + original_text,
        ),
        utc(25, 1, 0),
    )
    poll(database, {"support": inbox})

    result = threads(database)
    assert result["<fwd-sync@mail.gmail.com>"] == (number, "subject")
    assert ticket_row(database, number).status == ("new" if status == "new" else "open")
    assert tickets_of(database) == [number]


def test_a_fresh_mail_with_the_subject_of_a_resolved_ticket_is_a_new_ticket(
    database: Database,
) -> None:
    """The counterpart of the forward test: the same subject without a prefix, reply headers or
    quoted text does not join a resolved ticket (only a still-active one)."""
    subject = "Sync stuck at 99% on the desktop client"
    inbox = MemoryInbox()
    first = plain_mail(
        [
            ("From", GMAIL_SENDER),
            ("To", SUPPORT),
            ("Subject", subject),
            ("Date", "Tue, 24 Nov 2026 10:00:00 +0800"),
            ("Message-ID", "<orig-sync@mail.gmail.com>"),
        ],
        "Hello,\n\nthe desktop client stops syncing at 99% since the last update.\n",
    )
    inbox.add(first, utc(24, 2, 0))
    poll(database, {"support": inbox})
    (number,) = tickets_of(database)
    with database.transaction() as session:
        session.execute(update(Ticket).where(Ticket.number == number).values(status="resolved"))
    inbox.add(
        plain_mail(
            [
                ("From", GMAIL_SENDER),
                ("To", SUPPORT),
                ("Subject", subject),
                ("Date", "Wed, 25 Nov 2026 09:00:00 +0800"),
                ("Message-ID", "<again-sync@mail.gmail.com>"),
            ],
            "Hello,\n\nit is stuck again at 99%, on a different computer this time.\n",
        ),
        utc(25, 1, 0),
    )
    poll(database, {"support": inbox})
    again_ticket, again_method = threads(database)["<again-sync@mail.gmail.com>"]
    assert again_method == "new" and again_ticket != number
    assert len(tickets_of(database)) == 2


# --- duplicates -----------------------------------------------------------------------------


def test_the_same_bytes_delivered_twice_are_one_message_on_one_ticket(database: Database) -> None:
    """The same raw message at two UIDs of one mailbox is stored once, with two deliveries."""
    raw = gmail_mail(
        GMAIL_ORIGINAL_ID,
        GMAIL_SUBJECT,
        "Hi,\n\nevery PDF export fails with code 502.\n",
        "Tue, 24 Nov 2026 10:00:00 +0800",
        [],
    )
    inbox = MemoryInbox()
    inbox.add(raw, utc(24, 2, 0))
    inbox.add(raw, utc(24, 2, 0))
    poll(database, {"support": inbox})

    (stored,) = messages_with_id(database, GMAIL_ORIGINAL_ID)
    with database.session() as session:
        uids = session.scalars(
            select(Delivery.uid)
            .where(Delivery.stored_message_id == stored.id)
            .order_by(Delivery.uid)
        ).all()
    assert list(uids) == [1, 2]
    (number,) = tickets_of(database)
    assert ticket_number(database, stored.ticket_id) == number and stored.thread_method == "new"


def test_a_different_message_reusing_a_message_id_is_kept_and_not_merged(
    database: Database,
) -> None:
    """A different message (another sender, subject and body) that reuses a stored Message-ID
    -- a form mailer or broken client writing a fixed id -- is stored as a second message and
    is not put on the other customer's ticket: "same-message" is for one mail delivered twice
    (README: "a different message that reuses a Message-ID is a different message")."""
    reused = "<contact-form@shop.example.com>"
    inbox = MemoryInbox()
    inbox.add(
        plain_mail(
            [
                ("From", "Anna Schmidt <anna.schmidt@example.de>"),
                ("To", SUPPORT),
                ("Subject", "Order 4471 arrived damaged"),
                ("Date", "Tue, 24 Nov 2026 09:00:00 +0100"),
                ("Message-ID", reused),
            ],
            "Hello,\n\nthe parcel for order 4471 arrived with a broken screen.\n",
        ),
        utc(24, 8, 0),
    )
    inbox.add(
        plain_mail(
            [
                ("From", "Tom Baker <tom.baker@example.co.uk>"),
                ("To", SUPPORT),
                ("Subject", "Change my delivery address"),
                ("Date", "Tue, 24 Nov 2026 11:30:00 +0000"),
                ("Message-ID", reused),
            ],
            "Hi,\n\nplease send order 5120 to 12 High Street, Leeds instead.\n",
        ),
        utc(24, 11, 30),
    )
    poll(database, {"support": inbox})

    first, second = messages_with_id(database, reused)
    assert (first.from_address, second.from_address) == (
        "anna.schmidt@example.de",
        "tom.baker@example.co.uk",
    )
    assert first.status == second.status == "ok"
    assert first.thread_method == "new" and first.ticket_id is not None
    assert second.ticket_id is not None
    assert (second.ticket_id, second.thread_method) != (first.ticket_id, "same-message"), (
        "Tom Baker's unrelated mail was put on Anna Schmidt's ticket as the 'same message' "
        "only because it reuses her Message-ID"
    )
    assert second.thread_method == "new"
    assert len(tickets_of(database)) == 2


# --- out of order ---------------------------------------------------------------------------


def test_a_thunderbird_reply_fetched_before_its_original_makes_one_ticket(
    database: Database,
) -> None:
    """The reply comes in one poll, the original (delayed by the customer's server) in a later
    one: the original joins the reply's ticket by "referenced-by"."""
    original_id = "<8d1c2f0a-3b4e-4c5d-9e6f-7a8b9c0d1e2f@posteo.de>"
    reply_id = "<f3e2d1c0-b9a8-4776-8554-433221100fed@posteo.de>"
    sender = "Jonas Weber <jonas.weber@posteo.de>"
    thunderbird = [
        ("User-Agent", "Mozilla Thunderbird"),
        ("Content-Language", "de-DE"),
        ("From", sender),
        ("To", SUPPORT),
    ]
    original_text = "Hallo,\n\nseit dem Update startet die App nicht mehr (Fehler 0x80070005).\n"
    reply = plain_mail(
        [
            ("Message-ID", reply_id),
            ("Date", "Tue, 24 Nov 2026 10:20:00 +0100"),
            ("MIME-Version", "1.0"),
            *thunderbird,
            ("References", original_id),
            ("Subject", "Re: App startet nach Update nicht"),
            ("In-Reply-To", original_id),
        ],
        "Nachtrag: auch nach Neuinstallation derselbe Fehler.\n\n"
        "Am 24.11.26 um 10:00 schrieb Jonas Weber:\n" + quoted(original_text),
        "UTF-8",
        "8bit",
    )
    original = plain_mail(
        [
            ("Message-ID", original_id),
            ("Date", "Tue, 24 Nov 2026 10:00:00 +0100"),
            ("MIME-Version", "1.0"),
            *thunderbird,
            ("Subject", "App startet nach Update nicht"),
        ],
        original_text,
        "UTF-8",
        "8bit",
    )
    inbox = MemoryInbox()
    inbox.add(reply, utc(24, 9, 21))
    poll(database, {"support": inbox})
    (number,) = tickets_of(database)
    inbox.add(original, utc(24, 11, 1))  # held up two hours by a greylisting server
    poll(database, {"support": inbox})

    result = threads(database)
    assert result[reply_id] == (number, "new")
    assert result[original_id] == (number, "referenced-by")
    assert tickets_of(database) == [number]


# --- the shared corpus: every real reply, then the originals they answer ------------------------

CORPUS_REPLIES = "replies"
CORPUS_EXTRA = "autoreply-bounce/roundcube-list_00.eml"
_ID = re.compile(r"<[^<>\s]+>")
_REPLY_PREFIX = re.compile(
    r"^\s*(?:re|fwd?|aw|wg|sv|antw|tr|rv|r|i|回复|回覆|答复|转发|轉寄|轉發)\s*(?:\[\d+\])?\s*[:：]\s*",
    re.IGNORECASE,
)
# Subjects too generic to say two mails are one conversation (the threader docstring: "a
# meaningful subject"); the only same-sender subject the corpus repeats is "Test".
_GENERIC = frozenset({"", "test", "hello", "help", "question", "problem", "issue", "support"})


@dataclass(frozen=True)
class CorpusMail:
    """What the headers say, read with the standard library (not with maild)."""

    label: str  # path under the corpus
    raw: bytes
    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    sender: str  # lower-case address ("" when the From has none)
    subject: str  # decoded

    @property
    def topic(self) -> str:
        """The subject without reply/forward prefixes, case-folded."""
        return " ".join(without_prefixes(self.subject).casefold().split())


def without_prefixes(subject: str) -> str:
    """`subject` without its leading "Re:", "R: I:", "回复：", "Fwd:"… prefixes."""
    while (stripped := _REPLY_PREFIX.sub("", subject, count=1)) != subject:
        subject = stripped
    return subject.strip()


def _decoded(value: str | None) -> str:
    if value is None:
        return ""
    try:
        return str(email.header.make_header(email.header.decode_header(value)))
    except (LookupError, UnicodeDecodeError, email.errors.HeaderParseError):
        return str(value)


def read_corpus_mail(label: str, raw: bytes) -> CorpusMail:
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)

    def ids(name: str) -> list[str]:
        return _ID.findall(" ".join(str(msg.get(name, "")).split()))

    address = ""
    for name in ("from", "sender", "reply-to", "return-path"):
        found = email.utils.parseaddr(_decoded(msg.get(name)))[1].lower()
        if "@" in found:
            address = found
            break
    return CorpusMail(
        label=label,
        raw=raw,
        message_id=next(iter(ids("message-id")), None),
        in_reply_to=next(iter(ids("in-reply-to")), None),
        references=tuple(ids("references")),
        sender=address,
        subject=" ".join(_decoded(msg.get("subject")).split()),
    )


def corpus_mails() -> list[CorpusMail]:
    paths = [*sorted((CORPUS / CORPUS_REPLIES).glob("*.eml")), CORPUS / CORPUS_EXTRA]
    return [read_corpus_mail(p.relative_to(CORPUS).as_posix(), p.read_bytes()) for p in paths]


def expected_conversations(mails: Sequence[CorpusMail]) -> set[frozenset[str]]:
    """The conversations the headers describe, as sets of labels (union-find):
    * a mail naming another's Message-ID in In-Reply-To or References;
    * the same Message-ID from the same sender (one mail stored twice: copies may differ in
      transport headers and list tags); another sender reusing an id is another mail;
    * the same sender and the same, meaningful subject without reply/forward prefixes."""
    parent = {mail.label: mail.label for mail in mails}

    def root(label: str) -> str:
        while parent[label] != label:
            parent[label] = parent[parent[label]]
            label = parent[label]
        return label

    def join(a: str, b: str) -> None:
        parent[root(a)] = root(b)

    by_id: dict[str, list[CorpusMail]] = {}
    for mail in mails:
        if mail.message_id:
            by_id.setdefault(mail.message_id, []).append(mail)
    for mail in mails:
        for named in {mail.in_reply_to, *mail.references} - {None, mail.message_id}:
            for other in by_id.get(str(named), []):
                join(mail.label, other.label)
    for same_id in by_id.values():
        for a in same_id:
            for b in same_id:
                if a.sender == b.sender:
                    join(a.label, b.label)
    by_topic: dict[tuple[str, str], str] = {}
    for mail in mails:
        if mail.sender and mail.topic not in _GENERIC:
            join(mail.label, by_topic.setdefault((mail.sender, mail.topic), mail.label))
    groups: dict[str, set[str]] = {}
    for mail in mails:
        groups.setdefault(root(mail.label), set()).add(mail.label)
    return {frozenset(group) for group in groups.values()}


@dataclass(frozen=True)
class Stored:
    label: str
    status: str
    ticket: str | None
    method: str | None


def stored_by_label(database: Database, labels: dict[int, str]) -> dict[str, Stored]:
    """Each stored message by its label (the inbox UID it was delivered at)."""
    with database.session() as session:
        rows = session.execute(
            select(Message.uid, Message.status, Ticket.number, Message.thread_method).outerjoin(
                Ticket, Ticket.id == Message.ticket_id
            )
        ).all()
    return {
        labels[uid]: Stored(labels[uid], status, number, method)
        for uid, status, number, method in rows
    }


def actual_conversations(stored: dict[str, Stored]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for item in stored.values():
        if item.ticket is not None:
            groups.setdefault(item.ticket, set()).add(item.label)
    return {frozenset(group) for group in groups.values()}


def differences(expected: set[frozenset[str]], actual: set[frozenset[str]]) -> str:
    missing = sorted(sorted(group) for group in expected - actual)
    extra = sorted(sorted(group) for group in actual - expected)
    return f"expected but not made: {missing}; made but not expected: {extra}"


def poll_corpus(
    database: Database, mails: Sequence[CorpusMail]
) -> tuple[MemoryInbox, dict[int, str]]:
    inbox = MemoryInbox()
    labels = {inbox.add(mail.raw): mail.label for mail in mails}
    poll(database, {"support": inbox})
    return inbox, labels


def test_corpus_replies_thread_by_their_headers(database: Database, corpus: list[Path]) -> None:
    """Every real reply in the corpus (and the list mail one of them forwards) in one poll:
    every stored message is on exactly one ticket, the two pairs that name each other share a
    ticket, and the tickets are the conversations the headers describe."""
    mails = corpus_mails()
    assert len(mails) == 53
    by_label = {mail.label: mail for mail in mails}
    rlug0, rlug3 = (
        by_label["replies/mime4j-mbox.rlug-0.eml"],
        by_label["replies/mime4j-mbox.rlug-3.eml"],
    )
    fwd, listed = by_label["replies/roundcube-fwd_lines.eml"], by_label[CORPUS_EXTRA]
    assert rlug3.in_reply_to == rlug0.message_id and rlug0.message_id in rlug3.references
    assert fwd.in_reply_to == listed.message_id and listed.message_id in fwd.references

    _, labels = poll_corpus(database, mails)
    stored = stored_by_label(database, labels)

    assert set(stored) == set(by_label), "every corpus file is stored (none are byte-identical)"
    ok = {label for label, item in stored.items() if item.status == "ok"}
    assert ok == {mail.label for mail in mails if mail.sender}, "ok exactly when a sender exists"
    assert all(stored[label].ticket is not None for label in ok)
    assert all(item.ticket is None for item in stored.values() if item.status != "ok")
    with database.session() as session:
        on_tickets = session.scalar(
            select(func.count(Message.id)).where(Message.ticket_id.is_not(None))
        )
    assert on_tickets == len(ok)

    # Delivered in label order: rlug-0 before rlug-3, but roundcube-fwd_lines before the list
    # mail it forwards.
    assert stored[rlug3.label] == Stored(
        rlug3.label, "ok", stored[rlug0.label].ticket, "in-reply-to"
    )
    assert stored[listed.label] == Stored(
        listed.label, "ok", stored[fwd.label].ticket, "referenced-by"
    )

    expected = expected_conversations([by_label[label] for label in ok])
    actual = actual_conversations(stored)
    assert actual == expected, differences(expected, actual)
    assert len(tickets_of(database)) == len(expected)


def synthesized_original(reply: CorpusMail) -> bytes:
    """The message `reply` answers: its In-Reply-To as Message-ID, the reply's sender, our
    address, and the reply's subject without reply/forward prefixes."""
    assert reply.in_reply_to is not None
    return plain_mail(
        [
            ("From", reply.sender),
            ("To", SUPPORT),
            ("Subject", encoded_word(without_prefixes(reply.subject))),
            ("Date", "Tue, 24 Nov 2026 09:00:00 +0800"),
            ("Message-ID", reply.in_reply_to),
        ],
        "The original message of this conversation.\n",
    )


def test_corpus_originals_fetched_after_their_replies_join_the_replies_tickets(
    database: Database, corpus: list[Path]
) -> None:
    """The originals the corpus replies answer, delivered in a second poll (out of order): each
    joins its reply's ticket by "referenced-by", and no conversation gains a ticket."""
    mails = corpus_mails()
    inbox, labels = poll_corpus(database, mails)
    first = stored_by_label(database, labels)
    ok = [mail for mail in mails if first[mail.label].status == "ok"]
    known_ids = {mail.message_id for mail in mails}
    answered = [mail for mail in ok if mail.in_reply_to and mail.in_reply_to not in known_ids]
    assert len({mail.in_reply_to for mail in answered}) == len(answered), "one reply each"
    originals: dict[str, CorpusMail] = {}  # the synthesized original's label → the reply it begins
    synthesized: list[CorpusMail] = []
    for reply in answered:
        raw = synthesized_original(reply)
        label = f"original of {reply.label}"
        originals[label] = reply
        synthesized.append(read_corpus_mail(label, raw))
        labels[inbox.add(raw)] = label
    assert len(synthesized) == 13, "13 corpus replies answer a message the corpus lacks"
    tickets_before = len(tickets_of(database))
    poll(database, {"support": inbox})
    stored = stored_by_label(database, labels)

    for label, reply in originals.items():
        assert stored[label].status == "ok", label
        assert (stored[label].ticket, stored[label].method) == (
            stored[reply.label].ticket,
            "referenced-by",
        ), label
    assert len(tickets_of(database)) == tickets_before

    expected = expected_conversations([*ok, *synthesized])
    actual = actual_conversations(stored)
    assert actual == expected, differences(expected, actual)
    assert len(tickets_of(database)) == len(expected)
