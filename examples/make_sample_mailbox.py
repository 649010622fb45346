#!/usr/bin/env python3
"""Generate the bundled sample mailbox that ``maild demo`` ingests.

What this script makes (all under ``examples/sample-mailbox/``):

* a Maildir: ``new/`` holds 30 raw RFC 5322 messages sent to support@example.com of
  the fictional product "Cloudlet" (a cloud file-sync and team workspace run from Shanghai);
  ``cur/`` and ``tmp/`` are empty apart from a ``.keep`` file so that git keeps them.
  Readers must skip dot-files: the Maildir convention says so, but ``mailbox.Maildir``
  in CPython 3.11 and 3.12 does not (the fix landed later), so on those versions it
  lists ``cur/.keep`` as an empty message.
* ``README.md``: a table of every message (what it is and what a support team expects
  maild to do with it), generated from the same data as the messages.
* ``.gitattributes``: switches off line-ending conversion for the messages, so that git
  never rewrites their bytes (one of them is deliberately raw 8-bit GBK).

The 30 messages are realistic support mail in English and Chinese (about half each),
dated 2026-11-20 .. 2026-11-25 in the senders' time zones: usage questions, faults, an
outage report sent at 02:30, billing, complaints, a suggestion, a sales inquiry, urgent
mail, customer replies (``Re:``, ``RE:``, ``AW:``, ``回复：``, ``答复:``, a ticket number in
the subject) with quoted history and correct In-Reply-To / References, one GBK message
(raw 8-bit body, ``=?gbk?B?...?=`` subject), one Big5 message from Taiwan, one message with
a PNG attachment, one HTML-only message, one out-of-office auto-reply, one message
without a Message-ID and one malformed message (no From, truncated MIME body) that
should end up quarantined.

People and companies are fictional. Addresses and hosts are subdomains of example.com and
example.org (reserved by RFC 2606) or of example.cn (for the Chinese customers; not formally
reserved), and IPs are in the documentation ranges 192.0.2.0/24, 198.51.100.0/24 and
203.0.113.0/24.
Message files use LF line endings, as Maildir files on disk normally do.

The output is deterministic: ids, boundaries and the screenshot are derived from fixed
seeds (no clock, no randomness), so running the script twice gives identical bytes.

Usage (Python 3.11+, standard library only)::

    python examples/make_sample_mailbox.py          # (re)write the mailbox, then verify it
    python examples/make_sample_mailbox.py --check  # verify the committed files are current

Files are named ``<unix time of delivery>.M<nnn>P1.sample.eml`` (no ':' characters), so
an alphabetical listing is also the order of arrival.
"""

# ruff: noqa: E501
# (E501: message bodies are kept exactly as customers type them, one paragraph per line.)

from __future__ import annotations

import argparse
import base64
import binascii
import email
import email.policy
import hashlib
import struct
import sys
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage, Message
from email.utils import format_datetime
from pathlib import Path

MAILBOX = Path(__file__).resolve().parent / "sample-mailbox"
SUPPORT = "support@example.com"
FILE_SUFFIX = ".sample.eml"

CST = timezone(timedelta(hours=8))  # China / Taiwan
EST = timezone(timedelta(hours=-5))  # US East Coast (winter)
CET = timezone(timedelta(hours=1))  # Germany / France (winter)


# --------------------------------------------------------------------------------------
# Small deterministic helpers
# --------------------------------------------------------------------------------------


def digest(seed: str) -> str:
    """A stable hex string derived from *seed* (stands in for randomness)."""
    return hashlib.sha256(seed.encode()).hexdigest()


def uuid_like(seed: str) -> str:
    h = digest(seed).upper()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-A{h[17:20]}-{h[20:32]}"


def when(year_month_day: str, hms: str, tz: timezone) -> datetime:
    y, mo, d = (int(x) for x in year_month_day.split("-"))
    h, mi, s = (int(x) for x in hms.split(":"))
    return datetime(y, mo, d, h, mi, s, tzinfo=tz)


def rfc_date(dt: datetime) -> str:
    return format_datetime(dt)


# --------------------------------------------------------------------------------------
# Header encoding (RFC 2047 / RFC 2231)
# --------------------------------------------------------------------------------------

MAX_WORD = 66  # length of one encoded word; keeps "Subject: " + word under 78 columns


def encoded_words(text: str, charset: str = "utf-8", label: str = "UTF-8") -> str:
    """RFC 2047 B-encoding, split on character boundaries and folded one word per line."""
    overhead = len(f"=?{label}?B??=")
    words: list[str] = []
    chunk = ""
    for ch in text:
        candidate = chunk + ch
        if chunk and len(base64.b64encode(candidate.encode(charset))) > MAX_WORD - overhead:
            words.append(chunk)
            chunk = ch
        else:
            chunk = candidate
    words.append(chunk)
    encoded = (base64.b64encode(w.encode(charset)).decode("ascii") for w in words)
    return "\n ".join(f"=?{label}?B?{e}?=" for e in encoded)


def q_word(text: str, charset: str = "iso-8859-1") -> str:
    """RFC 2047 Q-encoding of a short phrase, as Outlook writes Latin-1 names."""
    out = []
    for byte in text.encode(charset):
        ch = chr(byte)
        if ch == " ":
            out.append("_")
        elif ch.isascii() and ch.isalnum():
            out.append(ch)
        else:
            out.append(f"={byte:02X}")
    return f"=?{charset}?Q?{''.join(out)}?="


def header_text(text: str, charset: str = "utf-8", label: str = "UTF-8") -> str:
    """Plain ASCII stays as it is; anything else becomes encoded words."""
    return text if text.isascii() else encoded_words(text, charset, label)


def mailbox_header(
    name: str, addr: str, charset: str = "utf-8", label: str = "UTF-8", quote: bool = False
) -> str:
    """A ``Display Name <addr>`` header value, encoding or quoting the name as needed."""
    if not name:
        return f"<{addr}>"
    if not name.isascii():
        shown = encoded_words(name, charset, label)
    elif quote or any(c in name for c in ',.;:@"()<>[]\\'):
        shown = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    else:
        shown = name
    return f"{shown} <{addr}>"


def rfc2231_filename(name: str) -> str:
    quoted = "".join(
        chr(b) if chr(b).isascii() and (chr(b).isalnum() or chr(b) in "-_.") else f"%{b:02X}"
        for b in name.encode("utf-8")
    )
    return f"UTF-8''{quoted}"


def fold_ids(ids: Sequence[str]) -> str:
    return "\n ".join(ids)


# --------------------------------------------------------------------------------------
# Body encoding and MIME assembly (done by hand so every byte is under our control)
# --------------------------------------------------------------------------------------


def b64_lines(data: bytes) -> bytes:
    text = base64.b64encode(data).decode("ascii")
    return "".join(text[i : i + 76] + "\n" for i in range(0, len(text), 76)).encode("ascii")


def encode_body(data: bytes, cte: str) -> bytes:
    if cte == "base64":
        return b64_lines(data)
    if cte == "quoted-printable":
        out = binascii.b2a_qp(data, quotetabs=False, istext=True, header=False)
        return out if out.endswith(b"\n") else out + b"\n"
    if cte in ("7bit", "8bit"):
        if cte == "7bit" and not data.isascii():
            raise ValueError("7bit body with non-ASCII bytes")
        return data if data.endswith(b"\n") else data + b"\n"
    raise ValueError(cte)


@dataclass
class Part:
    """A MIME entity: header lines (name, value) and an already-encoded body."""

    headers: list[tuple[str, str]]
    body: bytes


def text_part(
    text: str,
    *,
    subtype: str = "plain",
    charset: str = "utf-8",
    label: str | None = None,
    cte: str = "base64",
    params: str = "",
    quote_charset: bool = True,
) -> Part:
    label = label or charset
    cs = f'"{label}"' if quote_charset else label
    data = text.encode(charset)
    return Part(
        [
            ("Content-Type", f"text/{subtype}; charset={cs}{params}"),
            ("Content-Transfer-Encoding", cte),
        ],
        encode_body(data, cte),
    )


def multipart(subtype: str, boundary: str, parts: Sequence[Part], preamble: str = "") -> Part:
    chunks: list[bytes] = []
    if preamble:
        chunks.append(preamble.encode("ascii") + b"\n")
    for part in parts:
        chunks.append(b"\n--" + boundary.encode("ascii") + b"\n")
        chunks.append(render_headers(part.headers))
        chunks.append(b"\n")
        chunks.append(part.body)
    chunks.append(b"\n--" + boundary.encode("ascii") + b"--\n")
    body = b"".join(chunks)
    if not preamble:
        body = body[1:]  # the first delimiter may start the body directly
    return Part([("Content-Type", f'multipart/{subtype};\n boundary="{boundary}"')], body)


def render_headers(headers: Sequence[tuple[str, str]]) -> bytes:
    out = []
    for name, value in headers:
        line = f"{name}: {value}\n"
        if not line.isascii():
            raise ValueError(f"unencoded non-ASCII header {name}: {value!r}")
        out.append(line.encode("ascii"))
    return b"".join(out)


def html_of(text: str) -> str:
    """A simple HTML rendering of a plain-text body, as mail clients produce it."""
    esc = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    paragraphs = esc.strip("\n").split("\n\n")
    divs = []
    for para in paragraphs:
        inner = "<br>\n".join(para.split("\n"))
        divs.append(f"<div>{inner}</div>")
    return '<div dir="ltr">\n' + "\n<div><br></div>\n".join(divs) + "\n</div>\n"


def outlook_html(text: str, lang: str = "EN-US", font: str = "Calibri") -> str:
    esc = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    paras = "\n".join(
        f'<p class="MsoNormal">{line if line else "&nbsp;"}<o:p></o:p></p>'
        for line in esc.rstrip("\n").split("\n")
    )
    return (
        '<html xmlns:o="urn:schemas-microsoft-com:office:office">\n'
        '<head>\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\n'
        '<meta name="Generator" content="Microsoft Word 15 (filtered medium)">\n'
        f'<style>p.MsoNormal {{margin:0cm; font-size:11.0pt; font-family:"{font}",sans-serif;}}'
        "</style>\n</head>\n"
        f'<body lang="{lang}" link="#0563C1" vlink="#954F72">\n<div class="WordSection1">\n'
        f"{paras}\n</div>\n</body>\n</html>\n"
    )


def flowed(text: str, width: int = 72) -> str:
    """RFC 3676 format=flowed, as Thunderbird sends it: soft breaks end in a space."""
    out = []
    for paragraph in text.rstrip("\n").split("\n"):
        rest = paragraph
        while len(rest) > width and (cut := rest.rfind(" ", 0, width)) > 0:
            out.append(rest[: cut + 1])
            rest = rest[cut + 1 :]
        out.append(rest)
    return "\n".join(out) + "\n"


def quote_lines(text: str, prefix: str = "> ") -> str:
    lines = text.rstrip("\n").split("\n")
    return "".join((prefix + line if line else prefix.rstrip()) + "\n" for line in lines)


# --------------------------------------------------------------------------------------
# The tiny "screenshot": a valid 8-bit palette PNG written with stored (uncompressed)
# deflate blocks, so the bytes do not depend on the zlib version.
# --------------------------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _stored_zlib(raw: bytes) -> bytes:
    out = bytearray(b"\x78\x01")
    for start in range(0, max(len(raw), 1), 65535):
        block = raw[start : start + 65535]
        final = 1 if start + 65535 >= len(raw) else 0
        out += bytes([final]) + struct.pack("<HH", len(block), len(block) ^ 0xFFFF) + block
    out += struct.pack(">I", zlib.adler32(raw))
    return bytes(out)


def error_dialog_png(width: int = 64, height: int = 40) -> bytes:
    """A miniature error dialog: grey frame, red title bar, white body, red icon."""
    palette = [
        (0xF0, 0xF0, 0xF0),
        (0x99, 0x99, 0x99),
        (0xD9, 0x3F, 0x3F),
        (0xFF, 0xFF, 0xFF),
        (0x33, 0x33, 0x33),
    ]
    rows = []
    for y in range(height):
        row = bytearray([0])  # filter type: none
        for x in range(width):
            if x in (0, width - 1) or y in (0, height - 1):
                c = 1
            elif y < 8 or (12 <= y <= 21 and 6 <= x <= 15):
                c = 2
            elif y in (14, 18) and 20 <= x <= 20 + (width - 30 if y == 14 else width - 40):
                c = 4
            elif 28 <= y <= 34 and width - 22 <= x <= width - 6:
                c = 1
            else:
                c = 3
            row.append(c)
        rows.append(bytes(row))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)
    plte = b"".join(bytes(rgb) for rgb in palette)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"PLTE", plte)
        + _png_chunk(b"IDAT", _stored_zlib(b"".join(rows)))
        + _png_chunk(b"IEND", b"")
    )


# --------------------------------------------------------------------------------------
# The messages
# --------------------------------------------------------------------------------------


@dataclass
class Sample:
    key: str  # stable short name used to wire up replies
    sent: datetime  # the Date header, in the sender's time zone
    lang: str
    sender: str  # for the README
    subject: str  # for the README (decoded)
    represents: str  # README: what this message is
    expect: str  # README: what a support team expects maild to do
    build: Callable[[Sample, dict[str, Sample]], bytes]
    message_id: str | None = None
    reply_to: str | None = None  # key of the earlier sample this one answers
    via: str | None = None  # our agent's outbound reply (not in the mailbox) it answers
    filename: str = ""
    raw: bytes = b""

    @property
    def delivered(self) -> datetime:
        lag = 2 + int(digest(self.key)[:2], 16) % 9
        return (self.sent + timedelta(seconds=lag)).astimezone(UTC)


def envelope(
    s: Sample,
    *,
    from_: str | None,
    return_path: str | None,
    helo: str,
    ip: str,
    to: str = SUPPORT,
) -> list[tuple[str, str]]:
    """Headers the receiving MX adds, then the usual originator fields."""
    qid = digest("qid" + s.key)[:11].upper()
    received = (
        f"from {helo} ({helo} [{ip}])\n\tby mx1.example.com (Postfix) with ESMTPS id 4Cl{qid}\n"
        f"\tfor <{SUPPORT}>; {format_datetime(s.delivered)} (UTC)"
    )
    h: list[tuple[str, str]] = []
    if return_path is not None:
        h.append(("Return-Path", f"<{return_path}>"))
    h.append(("Delivered-To", SUPPORT))
    h.append(("Received", received))
    if from_ is not None:
        h.append(("From", from_))
    h.append(("To", to))
    return h


def thread_headers(s: Sample, ids: dict[str, Sample]) -> list[tuple[str, str]]:
    """In-Reply-To / References for a reply to ``s.reply_to``, or to our answer ``s.via``."""
    assert s.reply_to is not None
    parent = ids[s.reply_to].message_id
    assert parent is not None
    if s.via is None:
        return [("In-Reply-To", parent), ("References", parent)]
    return [("In-Reply-To", s.via), ("References", fold_ids([parent, s.via]))]


def assemble(headers: list[tuple[str, str]], top: Part) -> bytes:
    return render_headers(headers + top.headers) + b"\n" + top.body


# ---- individual messages -------------------------------------------------------------
# Each builder returns the raw bytes of one message. Bodies are written as the customer
# would have typed them.

LOGIN_ZH = """你好，

我的账号 zhang.wei@example.cn 从今天早上开始登录不上，网页版和 Windows 客户端都一样，一直提示“用户名或密码错误”。

已经用“忘记密码”重置了两次，用新密码还是提示错误。浏览器试了 Chrome 和 Edge，清过缓存也不行。

昨天晚上还能正常用，中间没改过任何设置。我们团队的共享文件都在上面，今天上午要用，麻烦尽快看一下。

谢谢！

--
张伟
产品部
"""


def build_login_zh(s: Sample, ids: dict[str, Sample]) -> bytes:
    h = envelope(
        s,
        from_=mailbox_header("张伟", "zhang.wei@example.cn"),
        return_path="zhang.wei@example.cn",
        helo="mail.example.cn",
        ip="198.51.100.23",
    )
    h += [
        ("Subject", header_text(s.subject)),
        ("Date", rfc_date(s.sent)),
        ("Message-ID", s.message_id or ""),
        ("X-Mailer", "Foxmail 7.2.25.375[cn]"),
        ("MIME-Version", "1.0"),
    ]
    return assemble(h, text_part(LOGIN_ZH, cte="base64"))


INVOICE_ZH = """您好：

我司于 2026 年 11 月 18 日续费了 Cloudlet 团队版（年付，20 个账号），订单号 CL-20261118-07731，金额 21,600.00 元。现申请开具增值税专用发票，信息如下：

发票抬头：上海示例信息技术有限公司
纳税人识别号：91310000000000000X
地址：上海市徐汇区示例路 100 号
开户行：示例银行上海徐汇支行

电子发票发到 li.na@finance.example.cn 即可。麻烦在本月 25 日前开出，我们月底要入账。

谢谢！

李娜
财务部
上海示例信息技术有限公司
"""


def outlook_boundary(s: Sample) -> str:
    a, b, c = digest("b" + s.key)[:4], digest(s.key)[:2], digest("c" + s.key)[:8]
    return f"----=_NextPart_000_{a.upper()}_01DB5A{b.upper()}.{c.upper()}"


def outlook_alternative(s: Sample, text: str, lang: str, font: str = "Calibri") -> Part:
    boundary = outlook_boundary(s)
    return multipart(
        "alternative",
        boundary,
        [
            text_part(text, cte="quoted-printable"),
            text_part(outlook_html(text, lang, font), subtype="html", cte="quoted-printable"),
        ],
        preamble="This is a multipart message in MIME format.",
    )


def outlook_id(s: Sample, domain: str) -> str:
    h = digest("mid" + s.key)
    return f"<000{h[:1]}01db{h[1:5]}${h[5:13]}${h[13:21]}$@{domain}>"


def build_invoice_zh(s: Sample, ids: dict[str, Sample]) -> bytes:
    h = envelope(
        s,
        from_=mailbox_header("李娜", "li.na@finance.example.cn"),
        return_path="li.na@finance.example.cn",
        helo="smtp.finance.example.cn",
        ip="198.51.100.41",
    )
    h += [
        ("Subject", header_text(s.subject)),
        ("Date", rfc_date(s.sent)),
        ("Message-ID", s.message_id or ""),
        ("MIME-Version", "1.0"),
        ("X-Mailer", "Microsoft Outlook 16.0"),
        ("Thread-Index", "AdtaS" + digest("ti" + s.key)[:20]),
        ("Content-Language", "zh-cn"),
    ]
    return assemble(h, outlook_alternative(s, INVOICE_ZH, "ZH-CN", "等线"))


PERMS_ZH = """你好，我们团队10个人，想让实习生只能看文件，不能改也不能删，在哪里设置？谢谢

发自我的iPhone
"""


def iphone_headers(s: Sample, mailer: str = "iPhone Mail (22B91)") -> list[tuple[str, str]]:
    return [
        ("Date", rfc_date(s.sent)),
        ("Message-ID", s.message_id or ""),
        ("X-Mailer", mailer),
        ("Mime-Version", "1.0 (1.0)"),
    ]


def build_perms_zh(s: Sample, ids: dict[str, Sample]) -> bytes:
    h = envelope(
        s,
        from_=mailbox_header("王芳", "wang.fang@example.cn"),
        return_path="wang.fang@example.cn",
        helo="mail.example.cn",
        ip="198.51.100.23",
    )
    h += [("Subject", header_text(s.subject)), *iphone_headers(s)]
    return assemble(h, text_part(PERMS_ZH, cte="base64", quote_charset=False))


SCREENSHOT_NAME = "微信截图_20261120172944.png"

UPLOAD_ERR_ZH = """您好，

Mac 客户端上传大文件（2GB 左右的视频）的时候总是失败，弹出报错：

    错误代码 E4012：上传会话已过期，请重试

小文件没有问题。重试了很多次，每次都是传到一半左右就报这个错。截图见附件。

环境：macOS 15.1，Cloudlet 4.8.2，公司网络（有代理）

孙浩
"""


def build_upload_err_zh(s: Sample, ids: dict[str, Sample]) -> bytes:
    h = envelope(
        s,
        from_=mailbox_header("孙浩", "sun.hao@dev.example.cn"),
        return_path="sun.hao@dev.example.cn",
        helo="mx.dev.example.cn",
        ip="198.51.100.57",
    )
    h += [
        ("Subject", header_text(s.subject)),
        ("Date", rfc_date(s.sent)),
        ("Message-ID", s.message_id or ""),
        ("X-Mailer", "Foxmail 7.2.25.375[cn]"),
        ("MIME-Version", "1.0"),
    ]
    png = error_dialog_png()
    name_ew = encoded_words(SCREENSHOT_NAME)
    attachment = Part(
        [
            ("Content-Type", f'image/png;\n name="{name_ew}"'),
            ("Content-Transfer-Encoding", "base64"),
            ("Content-Disposition", f"attachment;\n filename*={rfc2231_filename(SCREENSHOT_NAME)}"),
        ],
        b64_lines(png),
    )
    boundary = f"----=_001_NextPart{digest('b' + s.key)[:12]}_=----"
    top = multipart(
        "mixed",
        boundary,
        [text_part(UPLOAD_ERR_ZH, cte="base64"), attachment],
        preamble="This is a multi-part message in MIME format.",
    )
    return assemble(h, top)


SHARE_EN = """Hi,

We're on the Team plan and I need to share our "Q4 Campaign Assets" folder with a freelance designer who doesn't have a Cloudlet account. When I click Share and type her email it says "User not found in this workspace".

Is there a way to give her access without adding her as a paid seat? She only needs to upload files, she shouldn't see anything else in our workspace.

Thanks,
Maria

--
Maria Jones
Marketing Operations Manager
"""


def gmail_id(s: Sample, domain: str = "mail.example.com") -> str:
    raw = base64.b64encode(bytes.fromhex(digest("mid" + s.key)[:54])).decode()
    return f"<CA{raw.replace('/', '_')}@{domain}>"


def gmail_alternative(s: Sample, text: str) -> Part:
    boundary = "000000000000" + digest("b" + s.key)[:16]
    return multipart(
        "alternative",
        boundary,
        [
            text_part(text, cte="7bit" if text.isascii() else "quoted-printable", label="UTF-8"),
            text_part(
                html_of(text),
                subtype="html",
                label="UTF-8",
                cte="7bit" if text.isascii() else "quoted-printable",
            ),
        ],
    )


def build_share_en(s: Sample, ids: dict[str, Sample]) -> bytes:
    h = envelope(
        s,
        from_=mailbox_header("Maria Jones", "m.jones@customer.example.com"),
        return_path="m.jones@customer.example.com",
        helo="mail-sor-f41.example.com",
        ip="192.0.2.41",
    )
    h += [
        ("MIME-Version", "1.0"),
        ("Date", rfc_date(s.sent)),
        ("Message-ID", s.message_id or ""),
        ("Subject", s.subject),
    ]
    return assemble(h, gmail_alternative(s, SHARE_EN))


SYNC_DE = r"""Hello Cloudlet Support,

since yesterday the Windows client (version 4.8.2) on my notebook is stuck at "Synchronising 99% - 1 file remaining". It stays like this for hours. The file it shows is "Angebot_2026-11_Müller_GmbH.xlsx" in our shared folder "Projekte".

What I tried already:
- pause and resume sync
- restart the client and the notebook
- check that the file is not open in Excel

In the log (%APPDATA%\Cloudlet\logs\sync.log) I see this line many times:

2026-11-20 14:51:07 WARN  [uploader] chunk 3/3 failed: HTTP 409 Conflict (retry 17)

Windows 11 Pro 23H2, German language. My colleagues on Mac have no problem.

Mit freundlichen Grüßen / Kind regards

Thomas Müller
Planungsbüro Müller & Partner
"""


def latin1_outlook(s: Sample, text: str) -> Part:
    boundary = outlook_boundary(s)
    return multipart(
        "alternative",
        boundary,
        [
            text_part(text, charset="iso-8859-1", cte="quoted-printable"),
            text_part(
                outlook_html(text, "DE").replace("charset=utf-8", "charset=iso-8859-1"),
                subtype="html",
                charset="iso-8859-1",
                cte="quoted-printable",
            ),
        ],
        preamble="This is a multipart message in MIME format.",
    )


def build_sync_de(s: Sample, ids: dict[str, Sample]) -> bytes:
    h = envelope(
        s,
        from_=f"{q_word('Thomas Müller')} <t.mueller@planung.example.org>",
        return_path="t.mueller@planung.example.org",
        helo="mail.planung.example.org",
        ip="203.0.113.18",
    )
    h += [
        ("Subject", s.subject),
        ("Date", rfc_date(s.sent)),
        ("Message-ID", s.message_id or ""),
        ("MIME-Version", "1.0"),
        ("X-Mailer", "Microsoft Outlook 16.0"),
        ("Thread-Index", "AdtbF" + digest("ti" + s.key)[:20]),
        ("Content-Language", "de"),
    ]
    return assemble(h, latin1_outlook(s, SYNC_DE))


OUTAGE_ZH = """app.cloudlet.example.com 打不开了，返回 502 Bad Gateway
桌面客户端也一直显示“正在连接…”
我们这边换了电信和移动两个网络都一样，应该是你们服务挂了

今天早上要给客户交付，please check ASAP!!

发自我的华为手机
"""


def build_outage(s: Sample, ids: dict[str, Sample]) -> bytes:
    h = envelope(
        s,
        from_=mailbox_header("刘洋", "liu.yang@ops.example.cn"),
        return_path="liu.yang@ops.example.cn",
        helo="smtp.ops.example.cn",
        ip="198.51.100.77",
    )
    h += [
        ("Subject", s.subject),
        ("Date", rfc_date(s.sent)),
        ("Message-ID", s.message_id or ""),
        ("MIME-Version", "1.0"),
        ("X-Mailer", "Huawei Email 13.0"),
    ]
    return assemble(h, text_part(OUTAGE_ZH, cte="base64", label="UTF-8"))


OUTAGE_FOLLOWUP_ZH = """网页已经恢复了，客户端也连上了。
但是宕机期间上传的文件有几个显示成了冲突副本（conflicted copy），需要我们手动处理吗？
另外麻烦发一份故障说明，我们要跟领导汇报。

发自我的华为手机

-------- 原始邮件 --------
发件人：刘洋 <liu.yang@ops.example.cn>
日期：2026年11月21日周六 02:30
收件人：support@example.com
主题：site down

"""


def build_outage_followup(s: Sample, ids: dict[str, Sample]) -> bytes:
    h = envelope(
        s,
        from_=mailbox_header("刘洋", "liu.yang@ops.example.cn"),
        return_path="liu.yang@ops.example.cn",
        helo="smtp.ops.example.cn",
        ip="198.51.100.77",
    )
    h += [
        ("Subject", s.subject),
        ("Date", rfc_date(s.sent)),
        ("Message-ID", s.message_id or ""),
        *thread_headers(s, ids),
        ("MIME-Version", "1.0"),
        ("X-Mailer", "Huawei Email 13.0"),
    ]
    text = OUTAGE_FOLLOWUP_ZH + OUTAGE_ZH
    return assemble(h, text_part(text, cte="base64", label="UTF-8"))


CHARGED_EN = """Hello,

I was charged twice for our November renewal. My card statement shows two identical charges of $1,188.00 from CLOUDLET*SUBSCRIPTION on Nov 18, about 4 minutes apart. We only have one workspace (Chen & Associates, 12 seats) and the billing page only shows one invoice (INV-2026-118204).

Please refund the duplicate charge to the same card (Visa ending 4242) and confirm by email.

Regards,
David Chen
Office Manager
Chen & Associates
"""


def build_charged_en(s: Sample, ids: dict[str, Sample]) -> bytes:
    h = envelope(
        s,
        from_=mailbox_header("David Chen", "david.chen@accounts.example.com"),
        return_path="david.chen@accounts.example.com",
        helo="mail.accounts.example.com",
        ip="192.0.2.88",
    )
    h += [
        ("Subject", s.subject),
        ("Date", rfc_date(s.sent)),
        ("Message-ID", s.message_id or ""),
        ("MIME-Version", "1.0"),
        ("X-Mailer", "Microsoft Outlook 16.0"),
        ("Thread-Index", "AdtbRk" + digest("ti" + s.key)[:19]),
        ("Content-Language", "en-us"),
    ]
    return assemble(h, outlook_alternative(s, CHARGED_EN, "EN-US"))


REFUND_GBK = """客服你好：

我们公司的账号（管理员 zhao.lei@example.cn）昨天下午被同事误操作，从专业版升级成了企业版年付，系统直接从我们的企业支付宝扣了 38880 元。

我们只有 8 个人，用不到企业版的功能，请帮忙：
1. 取消这次升级，恢复成原来的专业版；
2. 把 38880 元原路退回。

订单号：CL-20261120-11902

如果需要盖章的退款申请书，请告诉我格式，我们马上准备。

谢谢！
赵磊
行政部
"""


def build_refund_gbk(s: Sample, ids: dict[str, Sample]) -> bytes:
    h = envelope(
        s,
        from_=mailbox_header("赵磊", "zhao.lei@example.cn", "gbk", "gbk"),
        return_path="zhao.lei@example.cn",
        helo="mail.example.cn",
        ip="198.51.100.23",
    )
    h += [
        ("Subject", encoded_words(s.subject, "gbk", "gbk")),
        ("Date", rfc_date(s.sent)),
        ("Message-ID", s.message_id or ""),
        ("X-Mailer", "Foxmail 6, 15, 201, 23 [cn]"),
        ("Mime-Version", "1.0"),
    ]
    # Deliberately raw 8-bit GBK, as some older clients still send it.
    return assemble(h, text_part(REFUND_GBK, charset="gbk", cte="8bit"))


RUDE_AGENT_EN = """To whom it may concern,

I contacted your live chat yesterday (Friday, around 4:30 PM Eastern) because our shared links suddenly started asking recipients to log in. The agent, who gave his name as "Kevin", was frankly rude. When I asked why the behavior had changed without notice, he replied "that's how it works now, read the release notes" and closed the chat before I could ask anything else.

I have been a paying customer for three years and have recommended Cloudlet to several colleagues. I do not expect to be treated this way. I would like:

1. an actual answer about the shared link change, and
2. someone to review how that chat was handled.

The chat reference shown at the end of the session was CHAT-88213.

Karen Whitfield
Practice Administrator
"""


def build_rude_agent(s: Sample, ids: dict[str, Sample]) -> bytes:
    h = envelope(
        s,
        from_=mailbox_header("Karen Whitfield", "karen.whitfield@lawoffice.example.org"),
        return_path="karen.whitfield@lawoffice.example.org",
        helo="mail.lawoffice.example.org",
        ip="203.0.113.54",
    )
    h += [
        ("Content-Type", "text/plain;\n\tcharset=us-ascii"),
        ("Content-Transfer-Encoding", "7bit"),
        ("Mime-Version", "1.0 (Mac OS X Mail 16.0 \\(3826.200.121\\))"),
        ("Subject", s.subject),
        ("Date", rfc_date(s.sent)),
        ("Message-ID", s.message_id or ""),
        ("X-Mailer", "Apple Mail (2.3826.200.121)"),
    ]
    return render_headers(h) + b"\n" + encode_body(RUDE_AGENT_EN.encode("ascii"), "7bit")


RESTORE_BIG5 = """您好：

我們工作室的共用資料夾「2026 品牌提案」裡面有十幾個設計稿，昨天被新來的同事不小心刪掉了，資源回收筒裡也找不到。

請問：
1. 有沒有辦法復原？我們是團隊版，聽說會保留 30 天的版本記錄？
2. 以後要怎麼設定，才能讓新同事只能上傳、不能刪除檔案？

這些檔案很重要，下週一要給客戶看，麻煩盡快回覆，謝謝！

陳美玲
美玲設計工作室
台北市
"""


def build_restore_big5(s: Sample, ids: dict[str, Sample]) -> bytes:
    h = envelope(
        s,
        from_=mailbox_header("陳美玲", "chen.meiling@studio.example.org", "big5", "big5"),
        return_path="chen.meiling@studio.example.org",
        helo="mail.studio.example.org",
        ip="203.0.113.90",
    )
    h += [
        ("Subject", encoded_words(s.subject, "big5", "big5")),
        ("Date", rfc_date(s.sent)),
        ("Message-ID", s.message_id or ""),
        ("MIME-Version", "1.0"),
        ("X-Mailer", "Microsoft Outlook 16.0"),
        ("Content-Language", "zh-tw"),
    ]
    return assemble(h, text_part(RESTORE_BIG5, charset="big5", cte="base64"))


SUGGESTION_EN = """Hello,

We use Cloudlet at our agency to send large video files to clients, and it works very well – thank you.

A small suggestion: it would be very useful to set an expiry date and a password on a public share link. Today the links stay valid forever unless we remember to delete them, and some of our clients ask about this for data protection (RGPD/GDPR) reasons.

Also, a notification when the client has downloaded the files would be great. At the moment we ask them by email.

Best regards / Cordialement,

Sophie Laurent
Chef de projet – Agence Lumière
"""


def build_suggestion(s: Sample, ids: dict[str, Sample]) -> bytes:
    h = envelope(
        s,
        from_=mailbox_header("Sophie Laurent", "sophie.laurent@agence.example.org"),
        return_path="sophie.laurent@agence.example.org",
        helo="smtp.agence.example.org",
        ip="203.0.113.131",
    )
    h += [
        ("Message-ID", s.message_id or ""),
        ("Date", rfc_date(s.sent)),
        ("MIME-Version", "1.0"),
        ("User-Agent", "Mozilla Thunderbird"),
        ("Content-Language", "en-GB"),
        ("Subject", s.subject),
    ]
    return assemble(
        h,
        text_part(
            flowed(SUGGESTION_EN),
            charset="utf-8",
            label="UTF-8",
            cte="8bit",
            params="; format=flowed",
            quote_charset=False,
        ),
    )


LOGIN_FOLLOWUP_ZH = """两天了还是登不上，也没人回复？？周一开会要用里面的文件，能不能打个电话给我

发自我的iPhone

> 在 2026年11月20日，09:12，张伟 <zhang.wei@example.cn> 写道：
>
"""


def build_login_followup(s: Sample, ids: dict[str, Sample]) -> bytes:
    h = envelope(
        s,
        from_=mailbox_header("张伟", "zhang.wei@example.cn"),
        return_path="zhang.wei@example.cn",
        helo="mail.example.cn",
        ip="198.51.100.23",
    )
    h += [("Subject", header_text(s.subject)), *iphone_headers(s), *thread_headers(s, ids)]
    text = LOGIN_FOLLOWUP_ZH + quote_lines(LOGIN_ZH)
    return assemble(h, text_part(text, cte="base64", quote_charset=False))


NEW_PC_ZH = """旧电脑坏了开不了机，新电脑装了cloudlet，登陆以后文件夹是空的？？之前的文件还在吗
怎么吧文件都同步到新电脑上 急
"""


def build_new_pc(s: Sample, ids: dict[str, Sample]) -> bytes:
    h = envelope(
        s,
        from_=mailbox_header("陈晨", "chen_chen1990@example.cn"),
        return_path="chen_chen1990@example.cn",
        helo="smtp.example.cn",
        ip="198.51.100.24",
    )
    h += [
        ("Subject", header_text(s.subject)),
        ("Date", rfc_date(s.sent)),
        ("Message-ID", s.message_id or ""),
        ("MIME-Version", "1.0"),
    ]
    boundary = "----=_NextPart_" + digest("b" + s.key)[:24].upper()
    html = (
        '<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">'
        "<div>旧电脑坏了开不了机，新电脑装了cloudlet，登陆以后文件夹是空的？？之前的文件还在吗</div>"
        "<div>怎么吧文件都同步到新电脑上 急</div>\n"
    )
    top = multipart(
        "alternative",
        boundary,
        [
            text_part(NEW_PC_ZH, label="utf-8", cte="base64"),
            text_part(html, subtype="html", label="utf-8", cte="base64"),
        ],
        preamble="This is a multi-part message in MIME format.",
    )
    return assemble(h, top)


TWO_FA_EN = """Hello Cloudlet team,

I'm travelling in Shanghai for two weeks and can't sign in because the SMS verification code never arrives. My phone number is a US number (ending in 0147). Roaming works for normal texts - I received an SMS from my bank today.

I never set up the authenticator app, only SMS. Is there any other way to verify, e.g. a backup code by email? I need access to our shared workspace for client meetings on Tuesday.

Thanks,
Wei

Wei Zhang | Senior Analyst
Global Strategy Group
"""


def build_two_fa(s: Sample, ids: dict[str, Sample]) -> bytes:
    h = envelope(
        s,
        from_=mailbox_header("Zhang, Wei", "wei.zhang@global.example.com"),
        return_path="wei.zhang@global.example.com",
        helo="mail.global.example.com",
        ip="192.0.2.140",
    )
    h += [
        ("Subject", s.subject),
        ("Date", rfc_date(s.sent)),
        ("Message-ID", s.message_id or ""),
        ("MIME-Version", "1.0"),
        ("X-Mailer", "Microsoft Outlook 16.0"),
        ("Thread-Index", "AdtcO" + digest("ti" + s.key)[:20]),
        ("Content-Language", "en-us"),
    ]
    return assemble(h, outlook_alternative(s, TWO_FA_EN, "EN-US"))


UNHAPPY_HTML = """<div style="line-height:1.7;color:#000000;font-size:14px;font-family:Arial"><div>你们好，</div>
<div><br></div>
<div>11月19日我就反映过团队空间里的文件同步后丢失的问题（“合同归档”文件夹里少了20多个PDF），到今天已经四天了。</div>
<div>期间客服只回复过一次，让我“卸载重装客户端”，我照做了，问题依旧，之后就再也没有人理我。</div>
<div><br></div>
<div>这些是我们公司和客户签的合同，丢了后果很严重。我们每年付几万块钱，得到的就是这种服务？<b>非常不满意！</b></div>
<div><br></div>
<div>请今天之内安排技术人员联系我，并给出书面的处理方案。如果还是没有结果，我们会考虑更换产品，并要求退还剩余的服务费。</div>
<div><br></div>
<div>周婷</div>
<div>行政主管</div>
</div>
<br><br><span title="neteasefooter"><p>&nbsp;</p></span>
"""


def build_unhappy_html(s: Sample, ids: dict[str, Sample]) -> bytes:
    h = envelope(
        s,
        from_=mailbox_header("周婷", "zhou.ting@example.cn"),
        return_path="zhou.ting@example.cn",
        helo="m12-34.example.cn",
        ip="198.51.100.112",
    )
    h += [
        ("Date", rfc_date(s.sent)),
        ("Subject", header_text(s.subject)),
        ("X-Priority", "3"),
        ("X-Mailer", "Coremail Webmail Server Version XT5.0.14 build 20230109(dcb5de15)"),
        ("MIME-Version", "1.0"),
        ("Message-ID", s.message_id or ""),
    ]
    # HTML only, no text/plain alternative: some webmail clients send exactly this.
    return assemble(
        h, text_part(UNHAPPY_HTML, subtype="html", label="UTF-8", cte="base64", quote_charset=False)
    )


INVOICE_FOLLOWUP_ZH = """您好，

补充一下上封邮件：发票抬头需要开分公司的，请改为“上海示例信息技术有限公司杭州分公司”，纳税人识别号 91330100000000000Y，其他信息不变。

另外请问发票大概什么时候能开出来？上周五发的邮件到现在还没有收到回复。

谢谢！

李娜
财务部

-----原始邮件-----
发件人: 李娜 <li.na@finance.example.cn>
发送时间: 2026年11月20日 10:05
收件人: support@example.com
主题: 申请开具11月发票

"""


def build_invoice_followup(s: Sample, ids: dict[str, Sample]) -> bytes:
    h = envelope(
        s,
        from_=mailbox_header("李娜", "li.na@finance.example.cn"),
        return_path="li.na@finance.example.cn",
        helo="smtp.finance.example.cn",
        ip="198.51.100.41",
    )
    h += [
        ("Subject", header_text(s.subject)),
        ("Date", rfc_date(s.sent)),
        ("Message-ID", s.message_id or ""),
        *thread_headers(s, ids),
        ("MIME-Version", "1.0"),
        ("X-Mailer", "Microsoft Outlook 16.0"),
        ("Thread-Index", "AdtaS" + digest("ti" + (s.reply_to or ""))[:20] + "AAHk"),
        ("Content-Language", "zh-cn"),
    ]
    return assemble(h, outlook_alternative(s, INVOICE_FOLLOWUP_ZH + INVOICE_ZH, "ZH-CN", "等线"))


AGENT_REPLY_SYNC = """Dear Thomas,

thank you for the details. The 409 error usually means that the server already holds a newer version of the file. Could you please rename the file (ideally without special characters) and let the client retry? If it still gets stuck, please send us the full sync.log.

Best regards,
Anna
Cloudlet Support
"""

SYNC_FOLLOWUP_DE = """Hello,

thank you for the quick answer. I have renamed the file as you suggested (removed the "ü"), but the sync is again stuck at 99% with the same 409 error, now with a different file ("Protokoll 19.11.docx").

I also installed version 4.8.3 this morning. No change.

Can somebody please call me or do a remote session? I am in the office Monday to Friday, 8-17 CET.

Mit freundlichen Grüßen
Thomas Müller

-----Ursprüngliche Nachricht-----
Von: Cloudlet Support <support@example.com>
Gesendet: Freitag, 20. November 2026 18:40
An: Thomas Müller <t.mueller@planung.example.org>
Betreff: Re: Sync stuck at 99% on Windows client

{agent}
-----Ursprüngliche Nachricht-----
Von: Thomas Müller <t.mueller@planung.example.org>
Gesendet: Freitag, 20. November 2026 15:05
An: support@example.com
Betreff: Sync stuck at 99% on Windows client

{original}"""


def build_sync_followup(s: Sample, ids: dict[str, Sample]) -> bytes:
    h = envelope(
        s,
        from_=f"{q_word('Thomas Müller')} <t.mueller@planung.example.org>",
        return_path="t.mueller@planung.example.org",
        helo="mail.planung.example.org",
        ip="203.0.113.18",
    )
    h += [
        ("Subject", s.subject),
        ("Date", rfc_date(s.sent)),
        ("Message-ID", s.message_id or ""),
        *thread_headers(s, ids),
        ("MIME-Version", "1.0"),
        ("X-Mailer", "Microsoft Outlook 16.0"),
        ("Thread-Index", "AdtbF" + digest("ti" + (s.reply_to or ""))[:20] + "AAJq"),
        ("Content-Language", "de"),
    ]
    text = SYNC_FOLLOWUP_DE.format(agent=AGENT_REPLY_SYNC, original=SYNC_DE)
    return assemble(h, latin1_outlook(s, text))


AGENT_REPLY_PERMS = """王女士您好：

感谢您的来信。可以通过“角色”来限制实习生的权限：
1. 用管理员账号登录网页版，进入“团队设置 → 成员与权限”；
2. 选中实习生，把角色改为“只读成员”；
3. 点击“保存”。

只读成员可以查看和下载文件，但不能编辑、移动或删除。

如有其他问题，请直接回复本邮件（请保留标题中的工单号）。

Cloudlet 客户支持 小陈
"""

PERMS_FOLLOWUP_ZH = """按你说的改成了“只读成员”，但是实习生那边还是能删文件，刚才试了一下真的删掉了一个（已经从回收站恢复了）。是不是要重新登录才生效？还是哪里没设置对？

王芳

在 2026年11月20日 14:02，Cloudlet 客户支持 <support@example.com> 写道：
"""


def build_perms_followup(s: Sample, ids: dict[str, Sample]) -> bytes:
    h = envelope(
        s,
        from_=mailbox_header("王芳", "wang.fang@example.cn"),
        return_path="wang.fang@example.cn",
        helo="mail.example.cn",
        ip="198.51.100.23",
    )
    h += [
        ("Subject", header_text(s.subject)),
        ("Date", rfc_date(s.sent)),
        ("Message-ID", s.message_id or ""),
        *thread_headers(s, ids),
        ("X-Mailer", "Foxmail 7.2.25.375[cn]"),
        ("MIME-Version", "1.0"),
    ]
    text = PERMS_FOLLOWUP_ZH + quote_lines(AGENT_REPLY_PERMS)
    return assemble(h, text_part(text, cte="base64"))


SHARE_FOLLOWUP_EN = """Hi again,

Looping in Tom Becker, our workspace admin. I think external sharing might be switched off on our side, which would explain the error. Tom, can you check?

Support team, could you confirm which setting we need? We still haven't heard back, and the designer starts tomorrow.

Thanks,
Maria

On Fri, 20 Nov 2026 at 08:45, Maria Jones <m.jones@customer.example.com> wrote:
"""


def build_share_followup(s: Sample, ids: dict[str, Sample]) -> bytes:
    h = envelope(
        s,
        from_=mailbox_header("Maria Jones", "m.jones@customer.example.com"),
        return_path="m.jones@customer.example.com",
        helo="mail-sor-f41.example.com",
        ip="192.0.2.41",
    )
    h += [
        ("Cc", "Tom Becker <t.becker@customer.example.com>"),
        ("MIME-Version", "1.0"),
        ("Date", rfc_date(s.sent)),
        *thread_headers(s, ids),
        ("Message-ID", s.message_id or ""),
        ("Subject", s.subject),
    ]
    return assemble(h, gmail_alternative(s, SHARE_FOLLOWUP_EN + quote_lines(SHARE_EN)))


PRICING_EN = """Hi there,

We're evaluating Cloudlet as a replacement for our current file-sharing setup and would like a quote for roughly 200 seats on an annual plan, with the option to add about 50 more next year.

A few questions:
1. Do you offer volume pricing at that size, and can you invoice in USD with NET 30 terms?
2. Is SAML SSO (we use Okta) included, or is it an add-on?
3. About 40 of our users work in our Suzhou office. Can their data be stored in mainland China while everyone else stays in the US?
4. Could we get a 30-day trial for a pilot group of 15 people?

We're aiming to make a decision before the end of December.

Best regards,
James Whitaker
IT Procurement Lead
Brightline Manufacturing
+1 (555) 010-4477
"""


def build_pricing(s: Sample, ids: dict[str, Sample]) -> bytes:
    h = envelope(
        s,
        from_=mailbox_header("James Whitaker", "j.whitaker@brightline.example.com"),
        return_path="j.whitaker@brightline.example.com",
        helo="mail.brightline.example.com",
        ip="192.0.2.203",
    )
    h += [
        ("Subject", s.subject),
        ("Date", rfc_date(s.sent)),
        ("Message-ID", s.message_id or ""),
        ("MIME-Version", "1.0"),
        ("X-Mailer", "Microsoft Outlook 16.0"),
        ("Thread-Index", "AdtcZ" + digest("ti" + s.key)[:20]),
        ("Content-Language", "en-us"),
    ]
    return assemble(h, outlook_alternative(s, PRICING_EN, "EN-US"))


CHARGED_FOLLOWUP_EN = """Hi,

Following up on the message below. It has been three days and I have not received any response, not even a ticket number. The duplicate charge is still on our card.

If this isn't resolved by Wednesday I will have to file a dispute with our bank, which I would rather avoid.

David Chen
Office Manager

-----Original Message-----
From: David Chen <david.chen@accounts.example.com>
Sent: Friday, November 20, 2026 7:10 PM
To: support@example.com
Subject: Charged twice for November subscription

"""


def build_charged_followup(s: Sample, ids: dict[str, Sample]) -> bytes:
    h = envelope(
        s,
        from_=mailbox_header("David Chen", "david.chen@accounts.example.com"),
        return_path="david.chen@accounts.example.com",
        helo="mail.accounts.example.com",
        ip="192.0.2.88",
    )
    h += [
        ("Subject", s.subject),
        ("Date", rfc_date(s.sent)),
        ("Message-ID", s.message_id or ""),
        *thread_headers(s, ids),
        ("MIME-Version", "1.0"),
        ("X-Mailer", "Microsoft Outlook 16.0"),
        ("Thread-Index", "AdtbRk" + digest("ti" + (s.reply_to or ""))[:19] + "AAEr"),
        ("Content-Language", "en-us"),
    ]
    return assemble(h, outlook_alternative(s, CHARGED_FOLLOWUP_EN + CHARGED_EN, "EN-US"))


DELAY_EN = """Hello,

On Wednesday, Nov 18 I requested a full export of our workspace (about 340 GB) because we need it for an audit. Your phone support told me it would be ready "within 24-48 hours" and gave me the reference CS20261118-0042.

It is now Monday evening and still nothing. Two emails to this address have gone unanswered. This is unacceptable. Our auditors are waiting and I am running out of excuses.

Please tell me today when the export will be available, or escalate this to someone who can.

Greg Patterson
Finance Director

Sent from Mail for Windows
"""


def build_delay(s: Sample, ids: dict[str, Sample]) -> bytes:
    h = envelope(
        s,
        from_=mailbox_header("Greg Patterson", "greg.patterson@example.com"),
        return_path="greg.patterson@example.com",
        helo="mail.example.com",
        ip="192.0.2.16",
    )
    h += [
        ("MIME-Version", "1.0"),
        ("Date", rfc_date(s.sent)),
        ("Subject", s.subject),
        ("Message-ID", s.message_id or ""),
    ]
    boundary = "_" + uuid_like("b" + s.key) + "_"
    top = multipart(
        "alternative",
        boundary,
        [
            text_part(DELAY_EN, cte="quoted-printable"),
            text_part(html_of(DELAY_EN), subtype="html", cte="quoted-printable"),
        ],
    )
    return assemble(h, top)


URGENT_ZH = """Cloudlet 技术支持：

从今天早上 8 点左右开始，我们公司（约 120 个账号）所有 Windows 客户端都无法同步，状态栏显示“同步失败（E5003）”。网页版可以正常登录，但是上传文件一直转圈。

已排查：
- 公司网络正常，访问其他网站都没问题；
- 重启客户端、退出重新登录都无效；
- 用手机热点也一样，应该不是我们防火墙的问题。

今天上午 10 点有客户验收，设计稿都在 Cloudlet 上，情况非常紧急，请马上安排工程师处理！

吴静
IT 负责人
"""


def build_urgent_zh(s: Sample, ids: dict[str, Sample]) -> bytes:
    h = envelope(
        s,
        from_=mailbox_header("吴静", "wu.jing@it.example.cn"),
        return_path="wu.jing@it.example.cn",
        helo="mail.it.example.cn",
        ip="198.51.100.150",
    )
    h += [
        ("Subject", header_text(s.subject)),
        ("Date", rfc_date(s.sent)),
        ("Message-ID", s.message_id or ""),
        ("MIME-Version", "1.0"),
        ("X-Mailer", "Microsoft Outlook 16.0"),
        ("X-Priority", "1"),
        ("Importance", "High"),
        ("Thread-Index", "AdtdB" + digest("ti" + s.key)[:20]),
        ("Content-Language", "zh-cn"),
    ]
    return assemble(h, outlook_alternative(s, URGENT_ZH, "ZH-CN", "等线"))


OOO_EN = """Thank you for your email. I am out of the office for the Thanksgiving holiday and will return on Monday, November 30, with limited access to email until then.

For urgent procurement matters, please contact procurement@brightline.example.com.

James Whitaker
IT Procurement Lead
Brightline Manufacturing
"""


def build_ooo(s: Sample, ids: dict[str, Sample]) -> bytes:
    h = envelope(
        s,
        from_=mailbox_header("James Whitaker", "j.whitaker@brightline.example.com"),
        return_path="",
        helo="mail.brightline.example.com",
        ip="192.0.2.203",
    )
    h += [
        ("Subject", s.subject),
        ("Date", rfc_date(s.sent)),
        ("Message-ID", s.message_id or ""),
        *thread_headers(s, ids),
        ("Auto-Submitted", "auto-replied"),
        ("X-Auto-Response-Suppress", "All"),
        ("MIME-Version", "1.0"),
        ("Content-Language", "en-us"),
    ]
    return assemble(h, text_part(OOO_EN, cte="quoted-printable", label="us-ascii", charset="ascii"))


LOCKED_EN = """i cant log in, it says my account is locked afer too many attemps. i did NOT try that many times!! i have a client presentation in an hour and all my slides are in cloudlet. please unlock it asap

emily.carter@example.com

Sent from my iPhone
"""


def build_locked(s: Sample, ids: dict[str, Sample]) -> bytes:
    h = envelope(
        s,
        from_=mailbox_header("Emily Carter", "emily.carter@example.com"),
        return_path="emily.carter@example.com",
        helo="mail.example.com",
        ip="192.0.2.16",
    )
    h += [
        ("Content-Type", "text/plain;\n\tcharset=us-ascii"),
        ("Content-Transfer-Encoding", "7bit"),
        ("Subject", s.subject),
        *iphone_headers(s),
    ]
    return render_headers(h) + b"\n" + encode_body(LOCKED_EN.encode("ascii"), "7bit")


LOCKED_FOLLOWUP_EN = """nvm, it unlocked itself after like 20 min and im in now. would be good if the message said how long you have to wait tho

Sent from my iPhone

> On Nov 24, 2026, at 7:50 AM, Emily Carter <emily.carter@example.com> wrote:
>
"""


def build_locked_followup(s: Sample, ids: dict[str, Sample]) -> bytes:
    h = envelope(
        s,
        from_=mailbox_header("Emily Carter", "emily.carter@example.com"),
        return_path="emily.carter@example.com",
        helo="mail.example.com",
        ip="192.0.2.16",
    )
    h += [
        ("Content-Type", "text/plain;\n\tcharset=us-ascii"),
        ("Content-Transfer-Encoding", "7bit"),
        ("Subject", s.subject),
        *iphone_headers(s),
        *thread_headers(s, ids),
    ]
    text = LOCKED_FOLLOWUP_EN + quote_lines(LOCKED_EN)
    return render_headers(h) + b"\n" + encode_body(text.encode("ascii"), "7bit")


TRUNCATED_ZH = """您好，

附件是上个月的合同扫描件和盖章页，请查收。关于续费的折扣，我们领导的意见是
"""


def build_malformed(s: Sample, ids: dict[str, Sample]) -> bytes:
    # No From/Sender/Reply-To at all, and the body stops in the middle of a base64 line
    # with no closing boundary: the kind of debris a broken relay or scanner leaves behind.
    h = envelope(s, from_=None, return_path=None, helo="scanner.local", ip="203.0.113.77")
    h += [
        ("Subject", header_text(s.subject)),
        ("Date", rfc_date(s.sent)),
        ("Message-ID", s.message_id or ""),
        ("MIME-Version", "1.0"),
    ]
    boundary = "----=_NextPart_000_0012_01DB5E2A." + digest("b" + s.key)[:8].upper()
    part_body = b64_lines(TRUNCATED_ZH.encode("utf-8")).decode("ascii").replace("\n", "")
    cut = part_body[: len(part_body) * 2 // 3 + 1]  # not a multiple of 4: truncated
    body = (
        "This is a multi-part message in MIME format.\n\n"
        f"--{boundary}\n"
        'Content-Type: multipart/alternative;\n boundary="----=_NextPart_001_0013_01DB5E2A"\n\n'
        "------=_NextPart_001_0013_01DB5E2A\n"
        'Content-Type: text/plain;\n charset="utf-8"\n'
        "Content-Transfer-Encoding: base64\n\n"
        f"{cut[:76]}\n{cut[76:]}"
    )
    top = Part(
        [("Content-Type", f'multipart/mixed;\n boundary="{boundary}"')], body.encode("ascii")
    )
    return assemble(h, top)


CANCEL_EN = """hello how do i cancel my subscription. i dont use it anymore and the website says to contact support. the account is bob.miller@example.com

thanks
bob
"""


def build_no_message_id(s: Sample, ids: dict[str, Sample]) -> bytes:
    h = envelope(
        s,
        from_="bob.miller@example.com",
        return_path="bob.miller@example.com",
        helo="localhost",
        ip="192.0.2.199",
    )
    h += [
        ("Subject", s.subject),
        ("Date", rfc_date(s.sent)),
        ("X-Mailer", "EasyMail Classic 3.2"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=us-ascii"),
        ("Content-Transfer-Encoding", "7bit"),
    ]
    # No Message-ID: the client never wrote one and our MX does not add it for remote mail.
    return render_headers(h) + b"\n" + encode_body(CANCEL_EN.encode("ascii"), "7bit")


# --------------------------------------------------------------------------------------
# The catalogue: order here is irrelevant, files are numbered by time of delivery.
# --------------------------------------------------------------------------------------


def foxmail_id(s: Sample, domain: str) -> str:
    stamp = s.sent.strftime("%Y%m%d%H%M%S")
    return f"<{stamp}{int(digest('mid' + s.key)[:12], 16) % 10**10:010d}@{domain}>"


def catalogue() -> list[Sample]:
    samples = [
        Sample(
            "login-zh",
            when("2026-11-20", "09:12:33", CST),
            "zh",
            "张伟",
            "无法登录，一直提示密码错误",
            "Login failure after two password resets (web and Windows client)",
            "technical / account access; normal-high (blocks a whole team's work)",
            build_login_zh,
        ),
        Sample(
            "invoice-zh",
            when("2026-11-20", "10:05:12", CST),
            "zh",
            "李娜",
            "申请开具11月发票",
            "Request for a VAT special invoice (增值税专用发票) for a renewal, Outlook",
            "billing / invoice; normal",
            build_invoice_zh,
        ),
        Sample(
            "perms-zh",
            when("2026-11-20", "11:47:05", CST),
            "zh",
            "王芳",
            "如何设置团队权限？",
            "Short how-to question from an iPhone (发自我的iPhone); became ticket "
            "CS20261120-0003 (the third mail of 20 Nov, Shanghai time)",
            "usage / permissions; low-normal",
            build_perms_zh,
        ),
        Sample(
            "upload-err-zh",
            when("2026-11-20", "17:32:48", CST),
            "zh",
            "孙浩",
            "客户端报错 E4012，上传失败",
            "Upload fails with error code E4012; the only message with an attachment "
            f"(PNG screenshot `{SCREENSHOT_NAME}`, RFC 2231 file name)",
            "technical / sync-upload, error code E4012; normal; attachment stored",
            build_upload_err_zh,
        ),
        Sample(
            "share-en",
            when("2026-11-20", "08:45:20", EST),
            "en",
            "Maria Jones",
            "How do I share a folder with people outside our team?",
            "How-to question about external sharing (Gmail, multipart/alternative)",
            "usage / sharing; normal",
            build_share_en,
        ),
        Sample(
            "sync-de",
            when("2026-11-20", "15:05:51", CET),
            "en",
            "Thomas Müller",
            "Sync stuck at 99% on Windows client",
            "Sync fault with a log line (HTTP 409) from a German customer, Latin-1 Outlook "
            "(`=?iso-8859-1?Q?Thomas_M=FCller?=`)",
            "technical / sync; normal",
            build_sync_de,
        ),
        Sample(
            "outage",
            when("2026-11-21", "02:30:41", CST),
            "zh",
            "刘洋",
            "site down",
            "Outage report sent at 02:30 local time: web app returns 502, clients cannot "
            "connect (English subject, Chinese body, 发自我的华为手机)",
            "outage / technical; urgent even without the word in the subject "
            "(502, 服务挂了, night-time)",
            build_outage,
        ),
        Sample(
            "outage-followup",
            when("2026-11-21", "03:16:09", CST),
            "zh",
            "刘洋",
            "Re: site down",
            "Follow-up: service is back; asks about conflicted copies and an incident "
            "report; Android-style `-------- 原始邮件 --------` quote",
            "technical / outage; normal",
            build_outage_followup,
            reply_to="outage",
        ),
        Sample(
            "charged-en",
            when("2026-11-20", "19:10:02", EST),
            "en",
            "David Chen",
            "Charged twice for November subscription",
            "Duplicate card charge, asks for a refund (Outlook)",
            "billing / refund; high (money taken twice)",
            build_charged_en,
        ),
        Sample(
            "refund-gbk",
            when("2026-11-21", "09:20:15", CST),
            "zh",
            "赵磊",
            "申请退款：误购企业版年付套餐",
            "Refund request after an accidental upgrade. The GBK message: subject and "
            "name as `=?gbk?B?...?=`, body raw 8-bit GBK (Foxmail 6)",
            "billing / refund; high; must decode to readable Chinese",
            build_refund_gbk,
        ),
        Sample(
            "rude-agent",
            when("2026-11-21", "11:15:40", EST),
            "en",
            "Karen Whitfield",
            "Complaint about your chat support agent",
            "Complaint about a rude live-chat agent (Apple Mail, plain us-ascii)",
            "complaint / service quality; high (escalate to a team lead)",
            build_rude_agent,
        ),
        Sample(
            "restore-big5",
            when("2026-11-22", "14:08:27", CST),
            "zh-TW",
            "陳美玲",
            "共用資料夾的檔案被誤刪，可以復原嗎？",
            "Traditional Chinese from a Taiwan studio, charset=big5 (base64): restore "
            "deleted files and stop new staff from deleting",
            "usage / data recovery; high (files lost, client deadline)",
            build_restore_big5,
        ),
        Sample(
            "suggestion",
            when("2026-11-22", "10:40:03", CET),
            "en",
            "Sophie Laurent",
            "Suggestion: expiry date and password for share links",
            "Feature suggestion (Thunderbird, 8-bit UTF-8, format=flowed)",
            "feature request; low",
            build_suggestion,
        ),
        Sample(
            "login-followup",
            when("2026-11-22", "20:03:44", CST),
            "zh",
            "张伟",
            "回复：无法登录，一直提示密码错误",
            "Customer chases their own unanswered mail from an iPhone; Apple-style "
            "`在 2026年11月20日，09:12，张伟 <...> 写道：` quote; full-width colon in 回复：",
            "technical / account access; raise to high (second contact, no answer for two days)",
            build_login_followup,
            reply_to="login-zh",
        ),
        Sample(
            "new-pc-zh",
            when("2026-11-22", "22:51:10", CST),
            "zh",
            "陈晨",
            "换了新电脑 怎么吧文件同步过来",
            "Terse question with typical typos (吧→把, 登陆→登录), no punctuation, no signature",
            "usage / new device; normal (the word 急 alone is not an emergency)",
            build_new_pc,
        ),
        Sample(
            "two-fa",
            when("2026-11-23", "07:22:00", CST),
            "en",
            '"Zhang, Wei"',
            "2FA code not arriving while travelling in China",
            "SMS 2FA codes do not arrive while roaming in China; display name with a "
            'comma (`"Zhang, Wei" <...>`)',
            "technical / account access (2FA); normal-high",
            build_two_fa,
        ),
        Sample(
            "unhappy-html",
            when("2026-11-23", "10:20:36", CST),
            "zh",
            "周婷",
            "对你们的服务非常不满意！",
            "The HTML-only message (text/html, no text part, Coremail webmail): files lost, "
            "four days without a real answer, threatens to leave",
            "complaint (+ data loss); high; text must be extracted from the HTML",
            build_unhappy_html,
        ),
        Sample(
            "invoice-followup",
            when("2026-11-23", "14:30:55", CST),
            "zh",
            "李娜",
            "答复: 申请开具11月发票",
            "Correction to the invoice request; Chinese Outlook `答复:` and "
            "`-----原始邮件-----` quote",
            "billing / invoice; normal",
            build_invoice_followup,
            reply_to="invoice-zh",
        ),
        Sample(
            "sync-followup",
            when("2026-11-23", "09:14:02", CET),
            "en",
            "Thomas Müller",
            "AW: Sync stuck at 99% on Windows client",
            "German Outlook reply (`AW:`, `-----Ursprüngliche Nachricht-----`) to our "
            "agent's answer, quoting both earlier mails",
            "technical / sync; normal-high (workaround failed, asks for a call)",
            build_sync_followup,
            reply_to="sync-de",
            via="<CS20261120-0011.7f3a9c2e@support.example.com>",
        ),
        Sample(
            "perms-followup",
            when("2026-11-23", "16:25:19", CST),
            "zh",
            "王芳",
            "回复: [CS20261120-0003] 如何设置团队权限？",
            "Reply to the agent's answer, with ticket number CS20261120-0003 in the "
            "subject and a `在 ... 写道：` quote",
            "usage / permissions, possible bug (a read-only user could delete); normal; "
            "matches its ticket by number as well as by References",
            build_perms_followup,
            reply_to="perms-zh",
            via="<CS20261120-0003.4b1d08e5@support.example.com>",
        ),
        Sample(
            "share-followup",
            when("2026-11-23", "09:02:47", EST),
            "en",
            "Maria Jones",
            "Re: How do I share a folder with people outside our team?",
            "Follow-up that Cc's the customer's admin; Gmail "
            "`On Fri, 20 Nov 2026 at 08:45, ... wrote:` quote",
            "usage / sharing; normal (deadline tomorrow)",
            build_share_followup,
            reply_to="share-en",
        ),
        Sample(
            "pricing",
            when("2026-11-23", "09:31:18", EST),
            "en",
            "James Whitaker",
            "Pricing for 200 seats (annual plan)",
            "Pre-sales inquiry: quote for 200 seats, SSO, China data residency, trial",
            "sales inquiry; normal (route to sales)",
            build_pricing,
        ),
        Sample(
            "charged-followup",
            when("2026-11-23", "11:30:12", EST),
            "en",
            "David Chen",
            "RE: Charged twice for November subscription",
            "Angry follow-up threatening a chargeback; Outlook `RE:` and "
            "`-----Original Message-----` quote",
            "billing / refund; high (chargeback threat)",
            build_charged_followup,
            reply_to="charged-en",
        ),
        Sample(
            "delay",
            when("2026-11-23", "16:45:09", EST),
            "en",
            "Greg Patterson",
            "Unacceptable delay - data export still not done",
            "Complaint about an unacceptable delay on a data export promised by phone "
            "(quotes reference CS20261118-0042, a ticket not in this mailbox); "
            "Sent from Mail for Windows",
            "complaint / delay; high",
            build_delay,
        ),
        Sample(
            "urgent-zh",
            when("2026-11-24", "08:55:31", CST),
            "zh",
            "吴静",
            "【紧急】全公司客户端同步失败，报错 E5003",
            "Urgent company-wide sync failure with error code E5003 (【紧急】 in the subject, "
            "X-Priority: 1 / Importance: High)",
            "technical / sync, error code E5003; urgent",
            build_urgent_zh,
        ),
        Sample(
            "ooo",
            when("2026-11-23", "21:15:09", EST),
            "en",
            "James Whitaker",
            "Out of Office: Re: Pricing for 200 seats (annual plan)",
            "Out-of-office auto-reply to our answer to the pricing inquiry "
            "(Auto-Submitted: auto-replied, empty Return-Path)",
            "auto-reply: flag it, never auto-respond to it, do not open a ticket",
            build_ooo,
            reply_to="pricing",
            via="<CS20261123-0019.c05e7d21@support.example.com>",
        ),
        Sample(
            "locked",
            when("2026-11-24", "07:50:18", EST),
            "en",
            "Emily Carter",
            "URGENT!!! locked out of my account, presentation in 1 hr",
            "Account locked, all lower case with typos, Sent from my iPhone",
            "technical / account access; urgent (URGENT in the subject)",
            build_locked,
        ),
        Sample(
            "locked-followup",
            when("2026-11-24", "08:12:40", EST),
            "en",
            "Emily Carter",
            "Re: URGENT!!! locked out of my account, presentation in 1 hr",
            '"nvm, it unlocked itself": the customer resolved it; iOS '
            "`On Nov 24, 2026, at 7:50 AM, ... wrote:` quote",
            "the thread can drop to low or be closed, although the subject still says URGENT",
            build_locked_followup,
            reply_to="locked",
        ),
        Sample(
            "malformed",
            when("2026-11-25", "03:07:55", CST),
            "zh",
            "(no From header)",
            "转发：合同扫描件",
            "Malformed: no From/Sender/Reply-To and a multipart body cut off in the middle "
            "of a base64 line with no closing boundary",
            "quarantine (cannot be answered or attributed to a customer)",
            build_malformed,
        ),
        Sample(
            "no-message-id",
            when("2026-11-25", "06:58:13", EST),
            "en",
            "bob.miller@example.com",
            "cancel subscription",
            "Cancellation request from an old client that writes no Message-ID header",
            "billing / cancellation; normal; maild must still ingest it (synthesise a "
            "stable id, e.g. from a hash of the raw bytes)",
            build_no_message_id,
        ),
    ]
    ids: dict[str, Callable[[Sample], str]] = {
        "login-zh": lambda s: foxmail_id(s, "example.cn"),
        "invoice-zh": lambda s: outlook_id(s, "finance.example.cn"),
        "perms-zh": lambda s: f"<{uuid_like('mid' + s.key)}@example.cn>",
        "upload-err-zh": lambda s: foxmail_id(s, "dev.example.cn"),
        "share-en": gmail_id,
        "sync-de": lambda s: outlook_id(s, "planung.example.org"),
        "outage": lambda s: f"<{digest('mid' + s.key)[:32]}@mail.ops.example.cn>",
        "outage-followup": lambda s: f"<{digest('mid' + s.key)[:32]}@mail.ops.example.cn>",
        "charged-en": lambda s: outlook_id(s, "accounts.example.com"),
        "refund-gbk": lambda s: foxmail_id(s, "example.cn"),
        "rude-agent": lambda s: f"<{uuid_like('mid' + s.key)}@lawoffice.example.org>",
        "restore-big5": lambda s: outlook_id(s, "studio.example.org"),
        "suggestion": lambda s: f"<{uuid_like('mid' + s.key).lower()}@agence.example.org>",
        "login-followup": lambda s: f"<{uuid_like('mid' + s.key)}@example.cn>",
        "new-pc-zh": lambda s: f"<tencent_{digest('mid' + s.key)[:40].upper()}@example.cn>",
        "two-fa": lambda s: outlook_id(s, "global.example.com"),
        "unhappy-html": lambda s: (
            f"<{digest('mid' + s.key)[:8]}.{digest('m2' + s.key)[:4]}."
            f"{digest('m3' + s.key)[:11]}.Coremail.zhou.ting@example.cn>"
        ),
        "invoice-followup": lambda s: outlook_id(s, "finance.example.cn"),
        "sync-followup": lambda s: outlook_id(s, "planung.example.org"),
        "perms-followup": lambda s: foxmail_id(s, "example.cn"),
        "share-followup": gmail_id,
        "pricing": lambda s: outlook_id(s, "brightline.example.com"),
        "charged-followup": lambda s: outlook_id(s, "accounts.example.com"),
        "delay": lambda s: f"<{uuid_like('mid' + s.key)}@mail.example.com>",
        "urgent-zh": lambda s: outlook_id(s, "it.example.cn"),
        "ooo": lambda s: f"<{digest('mid' + s.key)[:32].upper()}@brightline.example.com>",
        "locked": lambda s: f"<{uuid_like('mid' + s.key)}@example.com>",
        "locked-followup": lambda s: f"<{uuid_like('mid' + s.key)}@example.com>",
        "malformed": lambda s: f"<{digest('mid' + s.key)[:24]}@scanner.local>",
    }
    for s in samples:
        if s.key in ids:
            s.message_id = ids[s.key](s)
    samples.sort(key=lambda s: s.delivered)
    by_key = {s.key: s for s in samples}
    for n, s in enumerate(samples, 1):
        s.filename = f"{int(s.delivered.timestamp())}.M{n:03d}P1{FILE_SUFFIX}"
        s.raw = s.build(s, by_key)
    return samples


# --------------------------------------------------------------------------------------
# README
# --------------------------------------------------------------------------------------


def readme(samples: Sequence[Sample]) -> str:
    number = {s.key: i for i, s in enumerate(samples, 1)}

    def n(key: str) -> str:
        return f"#{number[key]:02d}"

    rows = []
    for i, s in enumerate(samples, 1):
        relation = ""
        if s.reply_to and s.via:
            relation = (
                f"In the thread of {n(s.reply_to)}: In-Reply-To is our agent's reply (not in "
                f"this mailbox), References starts with {n(s.reply_to)}. "
            )
        elif s.reply_to:
            relation = f"Reply to {n(s.reply_to)} (In-Reply-To). "
        subject = s.subject.replace("|", "\\|")
        rows.append(
            f"| {i:02d} | `new/{s.filename}` | {s.sent.strftime('%a %d %b %H:%M %z')} | "
            f"{s.lang} | {s.sender} | {subject} | {s.represents} | {relation}{s.expect} |"
        )
    table = "\n".join(rows)
    threads = ", ".join(
        sorted(f"{n(s.reply_to)[1:]}→{n(s.key)[1:]}" for s in samples if s.reply_to)
    )
    zh = sum(s.lang.startswith("zh") for s in samples)
    return f"""# Sample mailbox

A Maildir with {len(samples)} realistic messages sent to `support@example.com` of "Cloudlet",
a fictional cloud file-sync and team-workspace product run from Shanghai, with customers in
China and abroad. `maild demo` ingests it; tests can use it as a fixture.

**Generated, do not edit by hand.** The files are written by
[`examples/make_sample_mailbox.py`](../make_sample_mailbox.py) (Python 3.11+, standard
library only, deterministic). To change a message, edit the script and run

    python examples/make_sample_mailbox.py          # rewrite and verify
    python examples/make_sample_mailbox.py --check  # verify only (for CI)

## Layout

* `new/`: the messages, raw RFC 5322 bytes with LF line endings. Names are
  `<unix time of delivery>.M<nnn>P1.sample.eml`, contain no `:`, and sort in order of
  arrival (`nnn` is the `#` below).
* `cur/`, `tmp/`: empty apart from `.keep` so that git keeps them. **Skip dot-files when
  reading**, as the Maildir convention says: CPython 3.11 and 3.12 `mailbox.Maildir` do not,
  and list `cur/.keep` as an empty message.
* `.gitattributes`: switches off line-ending conversion for the messages so git never
  rewrites their bytes ({n("refund-gbk")} is raw 8-bit GBK).

Everything is fictional. Addresses use subdomains of example.com and example.org (RFC 2606)
and of example.cn (for Chinese customers; not formally reserved), and IP addresses in the
documentation ranges.

## What is in it

* {zh} Chinese and {len(samples) - zh} English messages: usage questions, faults with error
  codes, an outage report at 02:30 ({n("outage")}), billing (double charge, 发票, 退款,
  cancellation), complaints, a feature suggestion, a 200-seat sales inquiry, and urgent mail
  (`【紧急】` {n("urgent-zh")}, `URGENT` {n("locked")}).
* Replies, with quoted history in the styles of Gmail, Apple Mail, Outlook (English,
  German, Chinese) and Android. Most have In-Reply-To set to an earlier message in this
  mailbox. {n("sync-followup")} (`AW:`) and {n("perms-followup")} (ticket number
  `[CS20261120-0003]` in the subject) answer our agent's outbound reply instead, so their
  In-Reply-To names a message that is not here, and the first References entry names the
  original. The auto-reply {n("ooo")} also links to its thread only through References.
  Subject prefixes: `Re:`, `RE:`, `AW:`, `回复：`, `回复:`, `答复:`.
* Encodings: UTF-8 (base64, quoted-printable, 8bit), ISO-8859-1 (German Outlook), us-ascii
  7bit, one **GBK** message ({n("refund-gbk")}: `=?gbk?B?...?=` subject and name, raw
  8-bit body) and one **Big5** message ({n("restore-big5")}, Traditional Chinese from Taiwan).
* Special cases:
  * one attachment ({n("upload-err-zh")}, a 64x40 PNG "screenshot" with an RFC 2231
    Chinese file name);
  * one HTML-only message ({n("unhappy-html")});
  * one auto-reply ({n("ooo")}, `Auto-Submitted: auto-replied`);
  * one message without a Message-ID ({n("no-message-id")});
  * one malformed message ({n("malformed")}, no From header, truncated MIME body) that
    should be quarantined.

## Messages

Dates are shown in the sender's time zone. "Expected" is what a support team would expect
maild to do. It is a guide for the demo and for rule authors, not a spec of maild's labels.

| # | File | Date (sender's zone) | Lang | From | Subject | What it is | Expected |
|---|------|----------------------|------|------|---------|------------|----------|
{table}

Threads (earlier → later): {threads}.
"""


# --------------------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------------------


class CheckError(Exception):
    pass


def need(cond: object, what: str) -> None:
    if not cond:
        raise CheckError(what)


def text_of(msg: Message) -> str:
    """All text/* parts, decoded with their declared charsets."""
    out = []
    for part in msg.walk():
        if part.get_content_maintype() != "text":
            continue
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        out.append(payload.decode(part.get_content_charset() or "ascii"))
    return "\n".join(out)


@dataclass
class Tally:
    zh: int = 0
    attachments: int = 0
    html_only: int = 0
    auto_replies: int = 0
    without_message_id: int = 0
    direct_replies: int = 0


def parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def check_file_shape(s: Sample) -> None:
    need(":" not in s.filename, f"{s.filename}: ':' in name")
    need(b"\r" not in s.raw, f"{s.filename}: LF line endings only")
    need(all(len(line) <= 998 for line in s.raw.split(b"\n")), f"{s.filename}: long line")
    head = s.raw.split(b"\n\n", 1)[0]
    need(head.isascii(), f"{s.filename}: header must be 7-bit (RFC 2047 encoded)")
    local_day = s.sent.strftime("%Y-%m-%d")
    need("2026-11-20" <= local_day <= "2026-11-25", f"{s.filename}: date out of range")


def check_thread(s: Sample, msg: EmailMessage, by_key: dict[str, Sample], tally: Tally) -> None:
    if not s.reply_to:
        need(msg["In-Reply-To"] is None, f"{s.filename}: unexpected In-Reply-To")
        return
    parent = by_key[s.reply_to]
    refs = str(msg["References"]).split()
    need(refs and refs[0] == parent.message_id, f"{s.filename}: References starts with parent")
    irt = str(msg["In-Reply-To"])
    if irt == parent.message_id:
        tally.direct_replies += 1
    else:
        need(irt.endswith("@support.example.com>"), f"{s.filename}: In-Reply-To")
    need(parent.delivered < s.delivered, f"{s.filename}: reply arrives after its parent")


def check_well_formed(
    s: Sample, msg: EmailMessage, by_key: dict[str, Sample], tally: Tally
) -> None:
    for part in msg.walk():
        need(not part.defects, f"{s.filename}: parser defects {part.defects}")
    need(msg["From"] is not None and "@" in str(msg["From"]), f"{s.filename}: From")
    if s.message_id is None:
        tally.without_message_id += 1
        need(msg["Message-ID"] is None, f"{s.filename}: must lack Message-ID")
    else:
        need(msg["Message-ID"] == s.message_id, f"{s.filename}: Message-ID")
    check_thread(s, msg, by_key, tally)

    body = text_of(msg)
    need(body.strip(), f"{s.filename}: empty body")
    if s.lang.startswith("zh"):
        han = sum("\u4e00" <= c <= "\u9fff" for c in body)
        need(han > 15, f"{s.filename}: no readable Chinese")
    for part in msg.walk():
        if part.get_content_disposition() == "attachment":
            tally.attachments += 1
            need(part.get_filename() == SCREENSHOT_NAME, "attachment file name")
            png = part.get_payload(decode=True)
            assert isinstance(png, bytes)
            check_png(png)
    tally.html_only += msg.get_content_type() == "text/html"
    tally.auto_replies += msg.get("Auto-Submitted", "no") != "no"


def check_legacy_charsets(samples: Sequence[Sample], by_key: dict[str, Sample]) -> None:
    gbk = by_key["refund-gbk"]
    msg = parse(gbk.raw)
    need(msg.get_content_charset() == "gbk", "GBK charset")
    need("=?gbk?B?" in gbk.raw.decode("latin-1"), "GBK encoded words")
    need("退款" in msg.get_content() and "退款" in str(msg["Subject"]), "GBK decodes")
    need("赵磊" in str(msg["From"]), "GBK display name decodes")
    try:
        gbk.raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        raise CheckError("the GBK body should be raw 8-bit GBK, not valid UTF-8")
    big5 = parse(by_key["restore-big5"].raw)
    need(big5.get_content_charset() == "big5" and "資料夾" in big5.get_content(), "Big5")
    legacy = [
        str(p.get_content_charset())
        for s in samples
        for p in parse(s.raw).walk()
        if p.get_content_charset() in ("gbk", "big5")
    ]
    need(sorted(legacy) == ["big5", "gbk"], "exactly one GBK and one Big5 part")


def verify(samples: Sequence[Sample]) -> None:
    """Check the messages against what the README promises (raises CheckError)."""
    need(len(samples) == 30, "30 messages")
    need(len({s.filename for s in samples}) == 30, "unique file names")
    by_key = {s.key: s for s in samples}
    ids = [s.message_id for s in samples if s.message_id]
    need(len(set(ids)) == len(ids) == 29, "29 unique Message-IDs")
    tally = Tally()
    for s in samples:
        check_file_shape(s)
        tally.zh += s.lang.startswith("zh")
        msg = parse(s.raw)
        need(msg["To"] == SUPPORT, f"{s.filename}: To")
        need(str(msg["Subject"]) == s.subject, f"{s.filename}: Subject {msg['Subject']!r}")
        need(msg["Date"].datetime == s.sent, f"{s.filename}: Date")
        if s.key == "malformed":
            need(msg["From"] is None and msg["Sender"] is None, "malformed: no From")
            need(any(p.defects for p in msg.walk()), "malformed: parser reports defects")
        else:
            check_well_formed(s, msg, by_key, tally)
    check_legacy_charsets(samples, by_key)
    need(tally.attachments == 1, f"one attachment, found {tally.attachments}")
    need(tally.html_only == 1, f"one HTML-only message, found {tally.html_only}")
    need(tally.auto_replies == 1, f"one auto-reply, found {tally.auto_replies}")
    need(tally.without_message_id == 1, "one message without Message-ID")
    need(tally.direct_replies >= 5, "at least five replies to messages in this mailbox")
    need(12 <= tally.zh <= 18, f"about half Chinese, found {tally.zh}")


def check_png(data: bytes) -> None:
    need(data[:8] == b"\x89PNG\r\n\x1a\n", "PNG signature")
    pos, idat, kinds = 8, b"", []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        chunk = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        need(zlib.crc32(kind + chunk) == crc, f"PNG CRC of {kind!r}")
        kinds.append(kind)
        if kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    need(kinds[0] == b"IHDR" and kinds[-1] == b"IEND", "PNG chunk order")
    width, height = struct.unpack(">II", data[16:24])
    need(len(zlib.decompress(idat)) == height * (width + 1), "PNG image data size")


# --------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------

GITATTRIBUTES = """\
# Generated by examples/make_sample_mailbox.py. The messages are exact bytes (LF line
# endings, one raw 8-bit GBK body): git must never convert their line endings.
new/** -text
"""


def outputs(samples: Sequence[Sample]) -> dict[Path, bytes]:
    files = {MAILBOX / "new" / s.filename: s.raw for s in samples}
    files[MAILBOX / "cur" / ".keep"] = b""
    files[MAILBOX / "tmp" / ".keep"] = b""
    files[MAILBOX / ".gitattributes"] = GITATTRIBUTES.encode()
    files[MAILBOX / "README.md"] = readme(samples).encode()
    return files


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="verify that the files on disk are current; write nothing",
    )
    args = parser.parse_args(argv)

    samples = catalogue()
    verify(samples)
    files = outputs(samples)
    stale = (
        sorted(p for p in (MAILBOX / "new").glob(f"*{FILE_SUFFIX}") if p not in files)
        if (MAILBOX / "new").is_dir()
        else []
    )

    if args.check:
        problems = [
            str(path)
            for path, data in files.items()
            if not path.is_file() or path.read_bytes() != data
        ]
        problems += [f"{path} (not generated)" for path in stale]
        for problem in problems:
            print(f"out of date: {problem}", file=sys.stderr)
        if problems:
            print("run: python examples/make_sample_mailbox.py", file=sys.stderr)
            return 1
        print(f"{MAILBOX}: {len(samples)} messages, up to date")
        return 0

    for path in stale:
        path.unlink()
    for path, data in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    for s in samples:
        print(f"new/{s.filename}  {s.key}")
    print(f"wrote {len(samples)} messages to {MAILBOX}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
