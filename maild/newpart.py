"""The new part of a reply: the customer's own words, without quoted history and signature.

Owns one decision: where, in a message's decoded text, the sender's new words end. Body rules
search only this part (rules/README.md, "Matching"), so a customer quoting our earlier answer
does not trigger rules with our words. Pure: no I/O, no clock.

The work is done by the maintained library mail-parser-reply (``mailparser_reply``), which knows
the quote headers of many mail clients and languages ("On … wrote:", "Am … schrieb …:",
"From: … Sent: …" blocks, "-- " and "Sent from my …" signatures). Around it, this module adds
only what the library gets wrong or misses, each measured on real mail:

* before it: the Chinese quote headers it misses (its Chinese pattern wants the line to *start*
  with the date, so Apple's "在 2026年11月20日 …写道：" and Gmail's "张伟 <…> 于2026年…写道：" slip
  through, as do full-width colons in "发件人：" blocks, Traditional "寄件者:"/"寫道：" and every
  "-----原始邮件-----" separator), and the removal of ``>``-quoted lines, which it keeps;
* in its call: ``keep_hyphen_lists``, because by default a "- item" line starts a "signature"
  and everything after it is dropped (a customer's list of what they tried, and the rest);
* after it: Chinese phone signatures ("发自我的iPhone") and "Sent from Mail for Windows", a
  leftover attribution line ("Marc wrote:") above a removed quote, and a guard against its
  closing-phrase signatures ("Thanks," anywhere cuts the rest of the mail) eating a sentence.
"""

from __future__ import annotations

import re

from mailparser_reply import EmailMessage  # type: ignore[import-untyped]

# Languages whose quote headers the library looks for; English is always added by it. Danish,
# Swedish and Polish are left out on purpose: their patterns take "Tak…"/"/path" lines for
# signatures and a single "Data:" line for a quote header, cutting ordinary text.
_LANGUAGES = ("zh", "de", "fr", "es", "ja")

# The new part of a real reply is at its top: it is looked for in this much of a text only, and
# nothing past it is part of it. This also bounds the cost of the library's patterns.
_MAX_CHARS = 32_000
# The library's patterns are quadratic in the length of a line ("On " + 40,000 characters took
# 20 s) and in the length of a run of blank lines (40,000 newlines: 74 s). No quote header is
# this long, so longer lines are shown to it as a short token and put back afterwards.
_LONG_LINE = re.compile(r"^[^\n]{300,}", re.MULTILINE)
_TOKEN = re.compile("\ue000([0-9]+)\ue001")
_BLANK_RUN = re.compile(r"\n(?:[^\S\n]*\n){2,}")

_SEP = r"[ \t\u00a0\u3000]"
_QUOTE_START = re.compile(
    # "-----原始邮件-----", QQ's "------------------ 原始邮件 ------------------", Android's
    # "-------- 原始邮件 --------", and the same in other languages the library lacks.
    rf"^{_SEP}*[-_=─—]{{2,}}{_SEP}*(?:原始邮件|原始郵件|原邮件|原郵件|Original Message|Original"
    r"|Ursprüngliche Nachricht|Message d'origine|Mensaje original|Messaggio originale"
    # Outlook Express puts "From: …" on the separator's line, so nothing is required after it.
    rf"|元のメッセージ){_SEP}*[-_=─—]{{2,}}"
    # "在 2026年11月20日 09:12，张伟 <…> 写道：", "张伟 <…> 于2026年11月20日周五 09:12写道：",
    # "在 2026-11-20 09:12:00，"张伟" <…> 写道：" (NetEase), Traditional "…寫道："; one line
    # with a digit in it, or two lines when the client wrapped it after "在"/"於".
    rf"|^[^\n\d]{{0,200}}\d[^\n]{{0,200}}?(?:写道|寫道){_SEP}*[:：]{_SEP}*$"
    rf"|^{_SEP}*(?:在|於){_SEP}[^\n\d]{{0,200}}\d[^\n]{{0,200}}\n[^\n]{{0,200}}?(?:写道|寫道)"
    rf"{_SEP}*[:：]{_SEP}*$"
    # NetEase's English "At 2026-11-20 09:12:00, "Zhang" <…> wrote:" and Yahoo's "--- On Wed,
    # 4/4/12, … wrote:" (the library wants the line to start with "On").
    rf"|^{_SEP}*(?:-{{2,}}{_SEP}*)?(?:On|At){_SEP}[^\n\d]{{0,200}}\d[^\n]{{0,200}}?wrote{_SEP}*:{_SEP}*$"
    # Outlook CN / Foxmail / QQ / Outlook TW header blocks, with either width of colon:
    # "发件人：…" then, within three lines, another header field.
    r"|^[ \t*]*(?:发件人|發件人|寄件者|寄件人|发信人)[ \t*]*[:：][^\n]*\n(?:[^\n]*\n){0,2}?"
    r"[ \t*]*(?:发送时间|發送時間|发件时间|傳送時間|寄件日期|时间|時間|日期|收件人|收件者|主题|主題"
    r"|主旨|抄送|副本|Sent|Date|To|Subject|Cc)[ \t*]*[:：]",
    re.MULTILINE | re.IGNORECASE,
)
# Phone and desktop "sent from" lines the library misses ("Sent from my …" it knows). The Chinese
# "从我的…发送" form must end with 发送/傳送: "从我的手机上传文件失败" is a customer's sentence.
_SENT_FROM = re.compile(
    r"^(?:发自我的|發自我的|寄自我的)[^\n]{0,30}$"
    r"|^(?:从|從)我的[^\n]{0,30}(?:发送|傳送)$"
    r"|^(?:Sent from Mail for Windows|Sent from Outlook|Sent from Yahoo Mail|Von meinem"
    r" [^\n]{0,30} gesendet|Envoyé de mon|Enviado desde mi)[^\n]{0,40}$",
    re.MULTILINE | re.IGNORECASE,
)
# An attribution line above a quoted block ("Marc Slemko wrote:", "… 写道："), and the first
# half of one that its client wrapped ("On Fri, 7 Feb 2003 …" / "… <").
_ATTRIBUTION = re.compile(
    r"(?:wrote|schrieb|écrit|escribió|scritto|napisał|написал|写道|寫道)[ \t]*[:：][ \t]*$",
    re.IGNORECASE,
)
_ATTRIBUTION_START = re.compile(r"^[ \t]*(?:On|Am|Le|El|Il|在|於)\s|<[^>]*$")
_QUOTED = re.compile(r"[ \t]*>")
# Separator lines left at the end: "-----", "---------- Forwarded message ---------" (the
# library cuts at the "From:" below it), Apple's "Begin forwarded message:".
_SEPARATOR_LINE = re.compile(
    r"[-_=*~ \t]*|[ \t]*[-_=]{2,}[^\n]{0,40}[-_=]{2,}[ \t]*|Begin forwarded message:[ \t]*",
    re.IGNORECASE,
)
_SENTENCE_END = (".", "!", "?", "。", "！", "？", "…")


def new_part(text: str) -> str:
    """The sender's new words in ``text``; ``text`` stripped when none can be told apart.

    Never raises: quote detection is a heuristic, and a failure in it must not stop a message.
    A message with no words of its own (a bare forward, an empty reply) is returned whole, so
    it is judged on its text rather than on nothing. Only the first 32,000 characters are read.
    """
    try:
        found = _new_part(text)
    except Exception:  # the library is a set of regular expressions; any bug costs one cut only
        found = ""
    return found or text.strip()


def _new_part(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")[:_MAX_CHARS]
    # Quoted lines go first, with the attribution above them, wherever they are: a customer who
    # answers below or between quoted lines keeps those answers. What then remains of a quote
    # header starts a top-posted history, which is cut off.
    text = _drop_quoted_lines(text)
    cut = _QUOTE_START.search(text)
    if cut is not None:
        text = text[: cut.start()]
    hidden: list[str] = []
    text = _hide_long_lines(_BLANK_RUN.sub("\n\n", text), hidden)
    message = EmailMessage(text=text, languages=list(_LANGUAGES), keep_hyphen_lists=True).read()
    if not message.replies:
        return ""
    reply = message.replies[0]
    body: str = reply.content
    for disclaimer in reply.disclaimers:
        body = body.replace(disclaimer, "")
    if reply.signatures and _is_signature(reply.signatures):
        # It runs to the end; the library's str.replace would cut an identical earlier passage.
        body = body[: body.rfind(reply.signatures)]
    if reply.headers:
        body = body.replace(reply.headers, "")
    body = _TOKEN.sub(lambda token: hidden[int(token[1])], body)
    sent_from = _SENT_FROM.search(body)
    if sent_from is not None:
        body = body[: sent_from.start()]
    lines = body.split("\n")
    while lines and _SEPARATOR_LINE.fullmatch(lines[-1]):
        lines.pop()
    return _BLANK_RUN.sub("\n\n", "\n".join(lines)).strip()


def _drop_quoted_lines(text: str) -> str:
    """``text`` without its ``>`` lines and the attribution line above each quoted block."""
    kept: list[str] = []
    for line in text.split("\n"):
        if not _QUOTED.match(line):
            kept.append(line)
            continue
        end = len(kept)
        while end and not kept[end - 1].strip():
            end -= 1
        if end and len(kept[end - 1]) <= 300 and _ATTRIBUTION.search(kept[end - 1]):
            end -= 1
            if end and len(kept[end - 1]) <= 300 and _ATTRIBUTION_START.search(kept[end - 1]):
                end -= 1
            del kept[end:]
    return "\n".join(kept)


def _hide_long_lines(text: str, hidden: list[str]) -> str:
    """``text`` with each line of 300 characters or more replaced by a token that indexes
    ``hidden``; private-use characters cannot be typed, so the token marks are taken out."""

    def hide(line: re.Match[str]) -> str:
        hidden.append(line[0])
        return f"\ue000{len(hidden) - 1}\ue001"

    return _LONG_LINE.sub(hide, text.replace("\ue000", "").replace("\ue001", ""))


def _is_signature(signature: str) -> bool:
    """Whether the library's signature really is one.

    It takes any line starting with a closing phrase ("Thanks,", "Best,", "谢谢，") for the start
    of a signature and drops everything after it; a closing line is short and no sentence, so a
    line like "Thanks, but the sync still fails at 99%." keeps the text after it.
    """
    first = signature.split("\n", 1)[0].strip()
    if first.startswith(("--", "__")):
        return True
    cjk = sum(1 for char in first if char >= "\u2e80")
    return (
        len(first) <= 60
        and len(first.split()) <= 6
        and cjk <= 10
        and not first.endswith(_SENTENCE_END)
    )
