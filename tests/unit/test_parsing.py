"""Tests for maild.parsing: the real-world corpus, charsets, ids, bodies, attachments and flags."""

from __future__ import annotations

import base64
import logging
import os
import re
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maild.parsing import Address, ParsedMessage, ParseError, parse_message

ARRIVED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
CORPUS = Path(
    os.environ.get("MAILD_CORPUS") or Path(__file__).resolve().parents[3] / "shared" / "corpus"
)
CORPUS_FILES = sorted(CORPUS.rglob("*.eml")) if CORPUS.is_dir() else []
NO_CORPUS = f"mail corpus not found at {CORPUS} (set MAILD_CORPUS to its folder)"
CORPUS_IDS = [p.relative_to(CORPUS).as_posix() for p in CORPUS_FILES] or ["<no corpus>"]


def corpus_bytes(name: str) -> bytes:
    path = CORPUS / name
    if not path.is_file():
        pytest.skip(f"{NO_CORPUS}: {name} missing")
    return path.read_bytes()


def corpus(name: str) -> ParsedMessage:
    return parse_message(corpus_bytes(name), ARRIVED)


def build(*headers: str | bytes, body: bytes = b"Hello.\r\n", eol: bytes = b"\r\n") -> bytes:
    """A message from header lines and a body; str lines are UTF-8, bytes lines are kept raw."""
    lines = [h if isinstance(h, bytes) else h.encode("utf-8") for h in headers]
    return eol.join([*lines, b"", b""]) + body


def parse(*headers: str | bytes, body: bytes = b"Hello.\r\n") -> ParsedMessage:
    return parse_message(
        build("From: Customer <customer@example.com>", *headers, body=body), ARRIVED
    )


def b64(text: str, codec: str) -> bytes:
    return base64.encodebytes(text.encode(codec))


def storable(parsed: ParsedMessage) -> bool:
    """Every string is valid Unicode (no lone surrogates), so a UTF-8 database accepts it."""
    names = [a.name for a in (*parsed.to, *parsed.cc, *parsed.reply_to)]
    strings = [parsed.subject, parsed.text, parsed.html or "", *names, *parsed.notes]
    strings += [a.filename for a in parsed.attachments]
    strings += [parsed.sender.name] if parsed.sender else []
    for text in strings:
        text.encode("utf-8")
    return True


# --- the whole corpus ----------------------------------------------------------------------


@pytest.mark.parametrize("name", CORPUS_IDS)
def test_corpus_file_parses_or_is_quarantined_with_a_one_line_reason(name: str) -> None:
    """Every corpus message either parses into a consistent ParsedMessage or raises ParseError
    with a non-empty one-line reason, within a few seconds."""
    if not CORPUS_FILES:
        pytest.skip(NO_CORPUS)
    raw = (CORPUS / name).read_bytes()
    started = time.perf_counter()
    try:
        parsed = parse_message(raw, ARRIVED)
    except ParseError as exc:
        assert exc.reason.strip()
        assert "\n" not in exc.reason
        return
    finally:
        assert time.perf_counter() - started < 5
    assert re.fullmatch(r"<[^<>\s]+>", parsed.message_id)
    assert parsed.internaldate == ARRIVED
    assert parsed.date is None or parsed.date.utcoffset() == timedelta(0)
    assert parsed.language in ("zh", "en", "other")
    assert "\r" not in parsed.text and "\x00" not in parsed.text
    assert all(a.address == a.address.lower() for a in (*parsed.to, *parsed.cc, *parsed.reply_to))
    assert parsed.sender is not None or parsed.is_bounce or parsed.is_auto_submitted
    assert all(n.strip() for n in parsed.notes)
    assert storable(parsed)


@pytest.mark.parametrize("name", CORPUS_IDS)
def test_corpus_body_is_readable_once_a_sender_is_added(name: str) -> None:
    """With a From header added, every corpus message parses: only a missing sender or header
    block ever quarantines, never the MIME structure, charsets or encodings of the body."""
    if not CORPUS_FILES:
        pytest.skip(NO_CORPUS)
    raw = b"From: tester@example.com\r\n" + (CORPUS / name).read_bytes()
    parsed = parse_message(raw, ARRIVED)
    assert parsed.sender is not None


def test_corpus_quarantines_only_messages_without_header_block_or_sender() -> None:
    """Quarantine reasons in the corpus are limited to a missing header block or sender."""
    if not CORPUS_FILES:
        pytest.skip(NO_CORPUS)
    reasons = set()
    for path in CORPUS_FILES:
        try:
            parse_message(path.read_bytes(), ARRIVED)
        except ParseError as exc:
            reasons.add(exc.reason.split(":")[0])
    assert reasons <= {"no header block", "no usable sender"}


def test_message_without_header_block_is_quarantined() -> None:
    """A body with no header fields at all is quarantined as having no header block."""
    with pytest.raises(ParseError, match="no header block"):
        corpus("malformed/mime4j-malformedHeader-noheader.eml")


def test_message_without_from_is_quarantined_naming_the_from_header() -> None:
    """A person's message whose From has no usable address is quarantined, quoting the header."""
    with pytest.raises(ParseError, match="From header 'me' has no usable address"):
        corpus("attachments/mimetools-uu-zeegee.eml")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [(b"", "empty message"), (b" \r\n\r\n\t", "only whitespace"), (b"\x00\x00", "whitespace")],
)
def test_empty_input_is_quarantined(raw: bytes, reason: str) -> None:
    """Empty or blank input raises ParseError with a reason saying so."""
    with pytest.raises(ParseError, match=reason):
        parse_message(raw, ARRIVED)


SEED = build(
    "From: =?gb2312?B?0rvR9w==?= <yiyang@example.cn>",
    "Subject: =?GBK?B?zcu/7snqx+s=?=",
    "Message-ID: <seed@example.cn>",
    'Content-Type: multipart/alternative; boundary="xx"',
    body=b"--xx\r\nContent-Type: text/plain; charset=gb2312\r\n\r\n"
    + "您好".encode("gbk")
    + b"\r\n--xx\r\nContent-Type: text/html\r\n\r\n<p>hi</p>\r\n--xx--\r\n",
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_only_ever_raise_parse_error(raw: bytes) -> None:
    """Any byte string either parses into storable text or raises ParseError, nothing else."""
    try:
        assert storable(parse_message(raw, ARRIVED))
    except ParseError as exc:
        assert exc.reason


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(SEED)), st.integers(0, 40), st.binary(max_size=40))
def test_corrupted_message_only_ever_raises_parse_error(at: int, cut: int, junk: bytes) -> None:
    """A real message with bytes cut out and junk spliced in parses or raises ParseError."""
    raw = SEED[:at] + junk + SEED[at + cut :]
    try:
        assert storable(parse_message(raw, ARRIVED))
    except ParseError as exc:
        assert exc.reason


def test_missing_from_falls_back_to_reply_to_with_a_note() -> None:
    """Without a From, the Reply-To address becomes the sender and the fallback is noted."""
    raw = build("Reply-To: Li Lei <LiLei@Example.CN>", "Subject: hi")
    parsed = parse_message(raw, ARRIVED)
    assert parsed.sender == Address("Li Lei", "lilei@example.cn")
    assert any("Reply-To" in n for n in parsed.notes)


# --- charsets --------------------------------------------------------------------------------


def test_gb2312_encoded_word_subject_and_body_are_readable() -> None:
    """Outlook's GB2312 "RE:" subject, sender name and body come out as Chinese text."""
    parsed = corpus("cjk/spamassassin-cjk-gb2312.2.eml")
    assert parsed.subject == "RE: 装硬碟问题"
    assert parsed.sender == Address("Jason Lee (李展锋)", "jason_lee@quantatw.com")
    assert "假设你的硬碟是IDE介面(不是SCSI)" in parsed.text
    assert parsed.language == "zh"
    assert "charset gb2312 decoded as gb18030" in parsed.notes


def test_gb2312_label_on_gbk_characters_decodes_as_gb18030() -> None:
    """Encoded-words labelled gb2312 that carry GBK-only characters (慶) decode correctly."""
    parsed = corpus("cjk/kopano-gb2312_18030.eml")
    assert parsed.sender == Address("梁祐晟", "some.address@some.domain")
    assert parsed.to == (Address("林慶美", "other.address@some.domain"),)


def test_raw_gbk_bytes_in_headers_are_decoded() -> None:
    """Unencoded 8-bit GB2312 headers (subject and From name) are decoded, not mangled."""
    parsed = corpus("cjk/spamassassin-cjk-gb2312.1.eml")
    assert parsed.subject.startswith("全新原装进口，送货上门，货到付款－台湾鑫龙商贸集团公司")
    assert parsed.sender is not None and parsed.sender.name == "台湾鑫龙商贸集团公司"
    assert "本公司长期经销电脑配件、手机、笔记本" in parsed.text


def test_raw_big5_bytes_in_headers_use_the_body_charset() -> None:
    """Unencoded Big5 headers are decoded with the message's declared Big5 charset."""
    parsed = corpus("cjk/kopano-big5.eml")
    assert parsed.subject == "養樂多線上訂購"
    assert parsed.sender == Address("養樂多", "c@y")
    assert parsed.to == (Address("養樂多線上訂購", "r@d"),)


def test_big5_html_body_and_8bit_subject_are_readable() -> None:
    """A Big5 base64 HTML mail from a Taiwanese list reads as traditional Chinese."""
    parsed = corpus("cjk/spamassassin-cjk-big5-base64.1.eml")
    assert "6月17日新片又到" in parsed.subject
    assert "永久網址" in parsed.text
    assert parsed.html is not None and parsed.is_mailing_list
    assert parsed.language == "zh"


def test_big5_body_labelled_us_ascii_is_recognised() -> None:
    """Big5 text wrongly labelled us-ascii is detected as Big5 and noted as a guess."""
    raw = b"From: a@example.com\r\n" + corpus_bytes("cjk/enmime-parts-chardet-success-big-5.eml")
    parsed = parse_message(raw, ARRIVED)
    assert parsed.text.startswith("顏是家訓  北齊  顏之推")
    assert "declared us-ascii charset in text/plain guessed as CJK" in parsed.notes


@pytest.mark.parametrize(
    "name",
    [
        "cjk/letters-test_chinese_plaintext_gbk_over_base64.eml",
        "cjk/letters-test_chinese_plaintext_gbk_over_quoted-printable.eml",
        "cjk/letters-test_chinese_plaintext_gb18030_over_base64.eml",
        "cjk/letters-test_chinese_multipart_mixed_gb18030_over_quoted-printable.eml",
        "cjk/letters-test_chinese_multipart_signed_gbk_over_base64.eml",
    ],
)
def test_gbk_and_gb18030_letters_matrix_reads_as_chinese(name: str) -> None:
    """GBK/GB18030 bodies and names (base64, QP, plain, multipart) decode to the same text."""
    parsed = corpus(name)
    assert parsed.text.startswith("石室诗士施氏，嗜狮，誓食十狮。")
    assert parsed.subject.endswith("Test 施氏食狮史")
    assert parsed.sender == Address("艾莉絲 发件人", "alice.fajianren@example.com")
    assert parsed.language == "zh"


def test_gb18030_encoded_word_with_bad_padding_is_decoded() -> None:
    """A gb18030 encoded-word with excess base64 padding still decodes."""
    parsed = corpus("cjk/rt-new-ticket-from-gb18030.eml")
    assert parsed.subject == "测试"
    assert parsed.text == "测试"


def test_japanese_text_labelled_iso_2022_jp_but_in_euc_jp_is_readable() -> None:
    """EUC-JP bytes under an iso-2022-jp label are recognised and decoded."""
    parsed = corpus("cjk/spamassassin-cjk-iso-2022-jp.2.eml")
    assert "心当たりがあります" in parsed.text
    assert parsed.language == "other"


def test_gbk_only_characters_in_a_gb2312_body_are_kept() -> None:
    """A body labelled gb2312 containing GBK-only characters decodes via gb18030."""
    body = b64("客服：张喆，您的订单已发货。", "gbk")
    parsed = parse(
        "Content-Type: text/plain; charset=gb2312", "Content-Transfer-Encoding: base64", body=body
    )
    assert parsed.text == "客服：张喆，您的订单已发货。"
    assert "charset gb2312 decoded as gb18030" in parsed.notes


def test_gb18030_four_byte_characters_in_a_gbk_body_are_kept() -> None:
    """Four-byte GB18030 sequences (𠮷) inside a body labelled GBK decode correctly."""
    parsed = parse(
        "Content-Type: text/plain; charset=GBK",
        "Content-Transfer-Encoding: base64",
        body=b64("𠮷野家的订单", "gb18030"),
    )
    assert parsed.text == "𠮷野家的订单"


def test_hkscs_characters_in_a_big5_body_are_kept() -> None:
    """Hong Kong characters (嘅) in a body labelled big5 decode via big5hkscs."""
    parsed = parse(
        "Content-Type: text/plain; charset=big5",
        "Content-Transfer-Encoding: base64",
        body=b64("你嘅訂單已經寄出", "big5hkscs"),
    )
    assert parsed.text == "你嘅訂單已經寄出"


@pytest.mark.parametrize(
    ("codec", "label"),
    [("gbk", None), ("big5", None), ("gbk", "utf-8"), ("gbk", "us-ascii"), ("gbk", "iso-8859-1")],
)
def test_chinese_body_with_missing_or_wrong_label_is_guessed(codec: str, label: str | None) -> None:
    """GBK or Big5 bytes with no charset, or labelled UTF-8/ASCII/Latin-1, read as Chinese."""
    text = "您好，我的订单还没有收到，请帮忙查询物流。"
    if codec == "big5":
        text = "您好，我的訂單還沒有收到，請幫忙查詢物流。"
    content_type = f"Content-Type: text/plain; charset={label}" if label else "X-Label: none"
    parsed = parse(
        content_type, "Content-Transfer-Encoding: 8bit", body=text.encode(codec) + b"\r\n"
    )
    assert parsed.text == text
    assert any("guessed as CJK" in n for n in parsed.notes)
    assert parsed.language == "zh"


@pytest.mark.parametrize("label", ["unknown-8bit", "x-user-defined", "utf-8lalala", "rot13", "bas"])
def test_unknown_or_misspelt_charset_names_do_not_crash(label: str) -> None:
    """Unknown, codec-but-not-text or misspelt charset names fall back to a sensible decoding."""
    parsed = parse(
        f"Subject: =?{label}?B?{base64.b64encode('退款申请'.encode()).decode()}?=",
        f"Content-Type: text/plain; charset={label}",
        body="请尽快处理我的退款。\r\n".encode(),
    )
    assert parsed.subject == "退款申请"
    assert parsed.text == "请尽快处理我的退款。"


def test_latin1_body_without_label_is_not_mistaken_for_chinese() -> None:
    """Undeclared Latin-1 text stays Latin (windows-1252), not GBK characters."""
    parsed = parse(body="La France Orange M\xe9canique, tr\xe8s r\xe1pido.\r\n".encode("latin-1"))
    assert parsed.text == "La France Orange Mécanique, très rápido."


def test_charset_label_with_junk_appended_is_salvaged() -> None:
    """A charset label with markup glued on ("windows-1252http-equiv…") still finds its codec."""
    parsed = corpus("malformed/kopano-zcp-13449-meca.eml")
    assert parsed.subject == "Orange mécanique"
    assert "Orange Mécanique" in parsed.text


def test_multibyte_character_split_across_encoded_words_is_joined() -> None:
    """Adjacent encoded-words of one charset are joined before decoding, as CJK mailers need."""
    raw = "退款申请".encode("gbk")
    first, second = (base64.b64encode(part).decode() for part in (raw[:3], raw[3:]))
    parsed = parse(f"Subject: =?GBK?B?{first}?=\r\n =?GBK?B?{second}?= (urgent)")
    assert parsed.subject == "退款申请 (urgent)"


def test_raw_utf8_and_gbk_subjects_are_decoded() -> None:
    """Unencoded UTF-8 subjects decode as UTF-8 and unencoded GBK ones as GBK."""
    assert parse("Subject: 订单问题".encode()).subject == "订单问题"
    gbk = parse(b"Subject: " + "发票开错了".encode("gbk"))
    assert gbk.subject == "发票开错了"


def test_utf16_body_with_nul_bytes_is_decoded() -> None:
    """A binary UTF-16 part (full of NUL bytes) decodes to text without NULs."""
    parsed = parse(
        "Content-Type: text/plain; charset=utf-16le",
        "Content-Transfer-Encoding: binary",
        body="Test message".encode("utf-16le"),
    )
    assert parsed.text == "Test message"


# --- identifiers, dates, addresses ----------------------------------------------------------


def test_missing_message_id_is_synthesized_stably_from_the_raw_bytes() -> None:
    """No Message-ID gives the same synthesized id for the same bytes and a different one for
    other bytes, flagged and noted."""
    raw = build("From: a@example.com", "Subject: one")
    first, again = parse_message(raw, ARRIVED), parse_message(raw, ARRIVED + timedelta(days=1))
    other = parse_message(build("From: a@example.com", "Subject: two"), ARRIVED)
    assert re.fullmatch(r"<[0-9a-f]{32}@maild\.invalid>", first.message_id)
    assert first.message_id == again.message_id != other.message_id
    assert first.message_id_synthesized
    assert "message-id missing; synthesized from the raw bytes" in first.notes


def test_blank_message_id_is_synthesized() -> None:
    """A Message-ID header with nothing in it counts as missing."""
    parsed = parse("Message-ID:   ")
    assert parsed.message_id_synthesized and parsed.message_id.endswith("@maild.invalid>")


def test_message_ids_are_normalised_to_angle_bracket_form() -> None:
    """Message-ID, In-Reply-To and References come out as "<...>" ids, in order, de-duplicated."""
    parsed = parse(
        "Message-ID: abc@example.com",
        "In-Reply-To: Your message of Monday <first@example.com> <second@example.com>",
        "References: <r1@example.com>\r\n <r2@example.com> <r1@example.com>",
    )
    assert parsed.message_id == "<abc@example.com>"
    assert not parsed.message_id_synthesized
    assert parsed.in_reply_to == "<first@example.com>"
    assert parsed.references == ("<r1@example.com>", "<r2@example.com>")


def test_date_is_utc_and_internaldate_is_normalised() -> None:
    """Date is converted to UTC; a naive or non-UTC internaldate is returned as UTC."""
    parsed = parse("Date: Mon, 01 Apr 2019 07:55:00 +0800")
    assert parsed.date == datetime(2019, 3, 31, 23, 55, tzinfo=UTC)
    eastern = datetime(2026, 1, 1, 20, 0, tzinfo=timezone(timedelta(hours=8)))
    assert parse_message(build("From: a@example.com"), eastern).internaldate == datetime(
        2026, 1, 1, 12, 0, tzinfo=UTC
    )
    naive = parse_message(build("From: a@example.com"), datetime(2026, 1, 1, 12, 0))
    assert naive.internaldate == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def test_unparseable_date_is_none_with_a_note() -> None:
    """A Date header that is not a date gives date None and a note."""
    parsed = parse("Date: <HR>")
    assert parsed.date is None
    assert "date header unparseable" in parsed.notes


def test_addresses_are_lowercased_and_names_decoded() -> None:
    """To/Cc/Reply-To addresses are lower-cased, display names decoded, groups flattened."""
    parsed = parse(
        "To: =?UTF-8?B?5a6i5pyN?= <Support@Example.COM>, undisclosed-recipients:;",
        'Cc: "Wang, Fang" <WANG.Fang@example.cn>',
        "Reply-To: noreply@example.com",
    )
    assert parsed.to == (Address("客服", "support@example.com"),)
    assert parsed.cc == (Address("Wang, Fang", "wang.fang@example.cn"),)
    assert parsed.reply_to == (Address("", "noreply@example.com"),)


def test_huge_recipient_list_does_not_exhaust_the_stack() -> None:
    """A To header with thousands of entries (stdlib recursion bomb) still parses."""
    recipients = ",\r\n ".join(f"=?utf-8?q?user{i}?= <user{i}@example.com>" for i in range(3000))
    parsed = parse(f"To: {recipients}")
    assert parsed.sender == Address("Customer", "customer@example.com")


# --- bodies and attachments --------------------------------------------------------------------


def test_html_only_mail_is_turned_into_plain_text() -> None:
    """Without text/plain, text comes from the HTML: tags stripped, entities unescaped,
    <br>/<p> as line breaks, script and style dropped."""
    html = (
        "<html><head><style>p {color: red}</style><title>t</title></head><body>"
        "<p>Dear&nbsp;team,</p><p>My order&#39;s status is &lt;unknown&gt;.<br>Thanks"
        "<script>alert('x')</script></p></body></html>"
    )
    parsed = parse("Content-Type: text/html; charset=utf-8", body=html.encode())
    assert parsed.text == "Dear team,\n\nMy order's status is <unknown>.\nThanks"
    assert parsed.html == html


def test_html_only_chinese_corpus_mail_has_text() -> None:
    """A Chinese HTML-only message (Foxmail) yields readable plain text."""
    parsed = corpus("cjk/spamassassin-spam-unicode2.eml")
    assert parsed.subject == "外贸客户开发，势在必行"
    assert parsed.text.startswith("WhatsApp目前已经是国外最火的即时聊天通讯软件")


def test_html_charset_from_meta_tag_is_used() -> None:
    """An HTML part without a charset parameter uses the charset of its <meta> tag."""
    html = '<meta charset="gbk"><p>您好</p>'.encode("gbk")
    parsed = parse("Content-Type: text/html", body=html)
    assert parsed.text == "您好"


def test_plain_text_is_preferred_over_html_alternative() -> None:
    """In multipart/alternative the text/plain part is the text; text/enriched is not a file."""
    parsed = corpus("cjk/letters-test_chinese_multipart_mixed_gbk_over_base64.eml")
    assert parsed.text.startswith("石室诗士施氏")
    assert parsed.html is not None
    names = [a.filename for a in parsed.attachments]
    assert names[:2] == [
        "inline-jpg-image-without-disposition.jpg",
        "inline-jpg-image-filename.jpg",
    ]
    assert "attached-pdf-filename.pdf" in names
    assert "text/enriched" not in {a.content_type for a in parsed.attachments}


def test_attachments_are_listed_with_decoded_names_types_and_sizes() -> None:
    """Attachments list decoded file names (RFC 2047, RFC 2231 continuations), types, sizes."""
    korean = corpus("cjk/phpmimeparser-m0018.eml")
    assert korean.attachments[0].filename == "사진.JPG"
    assert korean.attachments[0].content_type == "image/jpeg"
    assert korean.attachments[0].size > 0
    japanese = corpus("cjk/rt-rfc2231-attachment-filename-continuations.eml")
    assert [a.filename for a in japanese.attachments] == ["新しいテキスト ドキュメント.txt"]


def test_raw_8bit_attachment_name_is_decoded() -> None:
    """An unencoded UTF-8 file name is decoded instead of becoming replacement characters."""
    parsed = corpus("attachments/rubymail-attachment_nonascii_filename.eml")
    assert [a.filename for a in parsed.attachments] == ["ciële.txt"]


def test_attachment_name_never_carries_a_path() -> None:
    """Directory parts of a file name ("../../etc/passwd") are removed and noted."""
    parsed = parse(
        "Content-Type: text/plain",
        'Content-Disposition: attachment; filename="../../etc/passwd"',
    )
    assert parsed.attachments[0].filename == "passwd"
    assert "path removed from attachment file name" in parsed.notes


def test_forwarded_message_is_an_attachment_not_text() -> None:
    """An attached message/rfc822 is listed as an attachment with a size, not mixed into text."""
    parsed = corpus("attachments/rt-email-file-attachment.eml")
    assert parsed.text == "This is a test with an email file attachment."
    assert parsed.attachments[0].content_type == "message/rfc822"
    assert parsed.attachments[0].size > 500


def test_hundreds_of_attachments_are_all_listed() -> None:
    """A message with 300+ attachments lists every one of them."""
    assert len(corpus("attachments/phpmimeparser-issue408.eml").attachments) == 328


def test_format_flowed_paragraphs_are_joined() -> None:
    """format=flowed soft line breaks are joined; hard breaks and signatures are kept."""
    body = b"This line is \r\nsoft wrapped.\r\nHard break.\r\n-- \r\nSig"
    parsed = parse("Content-Type: text/plain; charset=utf-8; format=flowed", body=body)
    assert parsed.text == "This line is soft wrapped.\nHard break.\n-- \nSig"


# --- malformed input ----------------------------------------------------------------------------


def test_bare_cr_line_endings_are_parsed() -> None:
    """A classic-Mac (bare CR) bounce parses with its headers and a CR-free text."""
    parsed = corpus("malformed/sisimai-mac-lhost-postfix-01.eml")
    assert parsed.subject == "Undelivered Mail Returned to Sender"
    assert parsed.sender is not None
    assert parsed.sender.address == "mailer-daemon@p351355.pool.example.ne.jp"
    assert parsed.text.startswith("This is the mail system at host p351355.pool.example.ne.jp.")
    assert "bare CR line endings converted to LF" in parsed.notes
    assert parsed.is_bounce


def test_constructed_bare_cr_message_parses() -> None:
    """A message whose only line ending is CR keeps its headers and body lines apart."""
    raw = build("From: a@example.com", "Subject: mac", body=b"line one\rline two\r", eol=b"\r")
    parsed = parse_message(raw, ARRIVED)
    assert parsed.subject == "mac"
    assert parsed.text == "line one\nline two"


def test_nul_bytes_are_removed_from_text_and_headers() -> None:
    """NUL bytes in headers or body never reach subject or text."""
    parsed = parse(b"Subject: ref\x00und", body=b"Hello\x00 there\r\n")
    assert parsed.subject == "refund"
    assert parsed.text == "Hello there"


def test_header_lines_with_invalid_names_are_dropped() -> None:
    """A header with spaces in its name no longer swallows the rest of the header block."""
    parsed = corpus("cjk/letters-test_chinese_plaintext_gbk_over_base64.eml")
    assert "malformed header lines repaired or dropped" in parsed.notes
    assert parsed.text.startswith("石室诗士施氏")


def test_message_mail_parser_raises_on_is_read() -> None:
    """A message mail-parser's constructor raises AttributeError on is parsed all the same."""
    parsed = corpus("autoreply-bounce/sisimai-lhost-sendgrid-01.eml")
    assert parsed.subject == "Undelivered Mail Returned to Sender"
    assert parsed.is_bounce


def nested(depth: int) -> bytes:
    """A message whose single text part sits inside ``depth`` nested multiparts."""
    part = '--b{0}\r\nContent-Type: multipart/mixed; boundary="b{1}"\r\n\r\n'
    body = "".join(part.format(i, i + 1) for i in range(depth))
    body += f"--b{depth}\r\nContent-Type: text/plain\r\n\r\ndeep\r\n"
    root = 'Content-Type: multipart/mixed; boundary="b0"'
    return build("From: a@example.com", root, body=body.encode())


@pytest.mark.parametrize(
    ("depth", "note"),
    [(100, "MIME parts nested deeper than 60 ignored"), (3000, "MIME nesting too deep")],
)
def test_deeply_nested_mime_is_parsed_with_a_note(depth: int, note: str) -> None:
    """Deep nesting is cut off (past 60 levels) or, past the interpreter's recursion limit,
    read as headers plus raw body: parsed with a note, quickly, never an exception."""
    started = time.perf_counter()
    parsed = parse_message(nested(depth), ARRIVED)
    assert any(n.startswith(note) for n in parsed.notes)
    assert parsed.sender == Address("", "a@example.com")
    assert time.perf_counter() - started < 5


def test_moderately_nested_mime_still_yields_its_text() -> None:
    """Nesting within the limit keeps the innermost text part as the message text."""
    assert parse_message(nested(50), ARRIVED).text == "deep"


def test_attached_message_with_huge_8bit_header_is_parsed_quickly() -> None:
    """A forwarded message with a 24 KB raw UTF-8 subject (which mail-parser would re-encode in
    quadratic time, seconds) is parsed in milliseconds."""
    inner = b"From: x@example.com\r\nSubject: " + ("长" * 8000).encode() + b"\r\n\r\nbody\r\n"
    attached = b"Content-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n"
    body = b"--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\n" + attached
    body += inner + b"--b--\r\n"
    started = time.perf_counter()
    parsed = parse('Content-Type: multipart/mixed; boundary="b"', body=body)
    assert time.perf_counter() - started < 1
    assert parsed.text == "see attached"
    assert parsed.attachments[0].content_type == "message/rfc822"


def test_corpus_stack_overflow_messages_parse() -> None:
    """The corpus' recursion bombs (deep nesting, huge address lists) parse."""
    assert corpus("malformed/mimekit-stack-overflow.eml").text == "Message Body"
    deep = parse_message(
        b"From: a@example.com\r\n" + corpus_bytes("malformed/horde-deeply_nested.eml"), ARRIVED
    )
    assert deep.sender is not None


def test_parsing_does_not_log(caplog: pytest.LogCaptureFixture) -> None:
    """Parsing reports through notes, never through the application's logging."""
    caplog.set_level(logging.DEBUG)
    corpus("attachments/postalmime-calendar-event.eml")
    assert caplog.records == []


# --- flags and language ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "autoreply-bounce/sisimai-lhost-postfix-01.eml",
        "autoreply-bounce/flanker-bounce-gmail-invalid-address.eml",
        "autoreply-bounce/sisimai-lhost-qmail-01.eml",
        "autoreply-bounce/sisimai-lhost-exchange2003-01.eml",
        "autoreply-bounce/sisimai-rhost-tencent-01.eml",
        "autoreply-bounce/otrs-PostMaster-Test10.eml",
    ],
)
def test_bounces_are_flagged(name: str) -> None:
    """DSNs, X-Failed-Recipients and MAILER-DAEMON bounces with bounce subjects are bounces."""
    assert corpus(name).is_bounce


def test_bounce_without_from_is_kept_with_no_sender() -> None:
    """A delivery report with no From is parsed (sender None), not quarantined."""
    parsed = corpus("autoreply-bounce/mimekit-delivery-status2.eml")
    assert parsed.is_bounce and parsed.sender is None


@pytest.mark.parametrize(
    "name",
    [
        "autoreply-bounce/sisimai-rfc3834-01.eml",
        "autoreply-bounce/sisimai-rfc3834-02.eml",
        "autoreply-bounce/sisimai-rfc3834-03.eml",
        "autoreply-bounce/spamassassin-MIME_BASE64_TEXT-fp-bug-5909.eml",
        "autoreply-bounce/phpmimeparser-issue212.eml",
        "autoreply-bounce/spamassassin-CHALLENGE_RESPONSE-10.eml",
        "autoreply-bounce/mimekit-disposition-notification.eml",
    ],
)
def test_auto_replies_are_flagged_auto_submitted(name: str) -> None:
    """RFC 3834 headers, X-Autoreply, Precedence auto_reply, out-of-office subjects (English,
    Polish) and read receipts are auto-submitted, and not bounces."""
    parsed = corpus(name)
    assert parsed.is_auto_submitted
    assert not parsed.is_bounce


@pytest.mark.parametrize(
    "header", ["Auto-Submitted: auto-replied", "X-Autoreply: yes", "Precedence: auto_reply"]
)
def test_auto_submitted_headers_are_recognised(header: str) -> None:
    """Each auto-reply header alone marks a message auto-submitted."""
    assert parse(header).is_auto_submitted


@pytest.mark.parametrize(
    "subject", ["自动回复: 订单问题", "Out of Office: order", "自動回覆：您好"]
)
def test_auto_reply_subjects_are_recognised(subject: str) -> None:
    """Chinese and English out-of-office subjects mark a message auto-submitted."""
    assert parse(f"Subject: {subject}").is_auto_submitted


def test_auto_submitted_no_is_a_person() -> None:
    """Auto-Submitted: no is what people's mail may carry: not auto-submitted."""
    assert not parse("Auto-Submitted: no").is_auto_submitted


@pytest.mark.parametrize(
    "name",
    [
        "autoreply-bounce/spamassassin-nice-mailman_message.eml",
        "autoreply-bounce/mime4j-mime4j-219-new-date-time-format.eml",
    ],
)
def test_mailing_list_mail_is_flagged(name: str) -> None:
    """List-Id / List-Unsubscribe / Precedence bulk mark a mailing-list message."""
    parsed = corpus(name)
    assert parsed.is_mailing_list
    assert not parsed.is_bounce


@pytest.mark.parametrize(
    "name",
    [
        "autoreply-bounce/spamassassin-BOUNCE_MESSAGE-fp-bug5882-att4298.eml",
        "plain/sisimai-is-not-bounce-01.eml",
        "plain/sisimai-is-not-bounce-02.eml",
        "replies/dovecot-thirdparty-015.eml",
    ],
)
def test_ordinary_and_helpdesk_mail_is_not_flagged(name: str) -> None:
    """Helpdesk notifications and "not a bounce" controls carry none of the three flags."""
    parsed = corpus(name)
    assert not (parsed.is_bounce or parsed.is_auto_submitted or parsed.is_mailing_list)


@pytest.mark.parametrize(
    ("subject", "body", "language"),
    [
        ("订单问题", "您好，我的订单 12345 还没有到，order number ABC-99，请帮忙查一下。", "zh"),
        ("Order not received", "Hi, my order has not arrived yet. Thanks, 李雷", "en"),
        ("Заказ", "Здравствуйте, мой заказ ещё не пришёл.", "other"),
        ("注文について", "こんにちは、注文した商品がまだ届いていません。", "other"),
        ("", "", "other"),
    ],
)
def test_language_is_guessed_from_subject_and_text(subject: str, body: str, language: str) -> None:
    """Han-rich text is zh, mostly-ASCII English is en, other scripts (kana, Cyrillic) are other."""
    parsed = parse(
        f"Subject: {subject}", "Content-Type: text/plain; charset=utf-8", body=body.encode()
    )
    assert parsed.language == language


def test_typical_small_message_parses_fast() -> None:
    """A typical small reply parses at well over 100 messages per second on one core."""
    raw = corpus_bytes("replies/talon-gmail.eml")
    parse_message(raw, ARRIVED)
    started = time.perf_counter()
    for _ in range(100):
        parse_message(raw, ARRIVED)
    assert time.perf_counter() - started < 1.0
