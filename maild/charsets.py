"""Turning the bytes of real-world mail into text: raw-byte repairs, charsets, encoded words.

Owns everything below the MIME structure: line endings and broken header lines in the raw bytes,
which codec a run of bytes is decoded with, RFC 2047/2231 words in headers and file names, and
address lists (plain text from HTML and flowed bodies is `maild.bodytext`'s). Declared charsets
are often wrong (GBK bytes labelled gb2312, Big5 labelled us-ascii, UTF-8 labelled iso-8859-1) or
unknown ("unknown-8bit", "x-user-defined", typos), so every function here falls back step by step
and never raises; each fallback it takes is appended to the caller's ``notes`` list.
"""

from __future__ import annotations

import binascii
import codecs
import email.utils
import re
from functools import lru_cache

# Mail labelled with the narrow legacy name routinely carries characters of the superset:
# decoding with the superset loses nothing and rescues the rest. Keys are canonical codec names.
_SUPERSETS = {
    **dict.fromkeys(("gb2312", "gbk"), "gb18030"),
    **dict.fromkeys(("big5", "cp950"), "big5hkscs"),
    **dict.fromkeys(("iso8859-1", "ascii"), "cp1252"),
    **{"euc_kr": "cp949", "shift_jis": "cp932", "iso8859-9": "cp1254", "tis-620": "cp874"},
}
# Names Python's codec registry does not know, spelled the way mailers spell them.
_EXTRA_NAMES = {
    **dict.fromkeys(("gb_2312-80", "csgb2312", "x-euc-cn", "cn-gb"), "gb2312"),
    **dict.fromkeys(("x-big5", "cn-big5", "big-5"), "big5"),
    **{"x-gbk": "gbk", "x-sjis": "shift_jis", "windows-31j": "cp932", "windows-874": "cp874"},
    **{"x-mac-roman": "mac_roman", "x-windows-949": "cp949", "utf8mb4": "utf-8"},
}
# Text codecs that would not decode a mail body but reinterpret it (escapes, IDNA) or always fail.
_REFUSED = frozenset(
    {"undefined", "unicode-escape", "raw-unicode-escape", "idna", "punycode", "charmap"}
)
# ASCII bytes mean something else in these, so the all-ASCII shortcut must not apply.
_NOT_ASCII_COMPATIBLE = ("utf-16", "utf-32", "utf-7", "iso2022", "hz")

HAN_RANGES = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_CJK_TEXT = re.compile(f"[{HAN_RANGES}\u3000-\u303f\uff00-\uffef\u2018-\u201d\u2026\u00b7]")
_CJK_KANA = re.compile(f"[{HAN_RANGES}\u3000-\u30ff\uff01-\uff60\u2018-\u201d\u2026\u00b7]")
_CJK_HANGUL = re.compile(
    f"[{HAN_RANGES}\uac00-\ud7af\u1100-\u11ff\u3130-\u318f\u3000-\u303f\uff00-\uffef]"
)
_HEADER_LINE = re.compile(rb"(?:From |[\x21-\x39\x3b-\x7e]+[ \t]*:)")
_SPACED_NAME = re.compile(rb"([\x21-\x39\x3b-\x7e]+)[ \t]+:")
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_IDEOGRAPH = re.compile(f"[{HAN_RANGES}\uac00-\ud7af]")
_LABEL_PREFIX = re.compile(r"[a-z]+(?:[-_]?[0-9]+)+")
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
_BETWEEN_WORDS = re.compile(r"[ \t\r\n]*")


def normalise_raw(data: bytes, notes: list[str]) -> bytes | None:
    """The message with one line-ending style and its header first; None if no header starts it."""
    stripped = data.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    if len(stripped) != len(data):
        notes.append("byte-order mark or blank lines before the header block removed")
    first_cr = stripped.find(b"\r")
    first_lf = stripped.find(b"\n")
    if first_cr != -1 and (first_lf == -1 or first_cr < first_lf - 1):
        # Classic-Mac line endings: the parser would see one endless header line otherwise.
        stripped = stripped.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        notes.append("bare CR line endings converted to LF")
    return stripped if _HEADER_LINE.match(stripped) else None


def repair_header_block(data: bytes) -> bytes | None:
    """Fix "Name :" fields and drop fields with invalid names, when a header block follows."""
    end_match = _HEADER_END.search(data)
    if end_match is None:
        return None
    kept: list[bytes] = []
    dropping = changed = False
    for line in data[: end_match.start()].split(b"\n"):
        if line[:1] in (b" ", b"\t"):
            if not dropping:
                kept.append(line)
            continue
        dropping = False
        spaced = _SPACED_NAME.match(line)
        if spaced:
            kept.append(spaced.group(1) + line[spaced.end() - 1 :])
            changed = True
        elif _HEADER_LINE.match(line):
            kept.append(line)
        elif b":" in line:
            dropping = changed = True
        else:
            return None  # a real body line: the parser's reading stands
    return b"\n".join(kept) + data[end_match.start() :] if changed else None


@lru_cache(maxsize=256)
def resolve(declared: str | None) -> tuple[str | None, str | None]:
    """Map a declared charset to (codec to try first, the declared codec if it differs)."""
    if not declared:
        return None, None
    name = declared.strip().strip("\"'").lower().split("*", 1)[0]
    name = _EXTRA_NAMES.get(name, name.replace("cp-", "cp"))
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        # Salvage labels with junk glued on, e.g. 'windows-1252http-equivContent-Type'.
        prefix = _LABEL_PREFIX.match(name)
        if prefix is None or prefix.group() == name:
            return None, None
        return resolve(prefix.group())
    if info.name in _REFUSED or not getattr(info, "_is_text_encoding", True):
        return None, None
    wider = _SUPERSETS.get(info.name)
    return (wider, info.name) if wider else (info.name, None)


def _common(codec: str, leads: range, trails: list[int]) -> frozenset[str]:
    """The characters of a code range: the everyday level of a national character set."""
    pairs = (bytes((lead, trail)) for lead in leads for trail in trails)
    return frozenset(p.decode(codec, "ignore") for p in pairs) - {""}


@lru_cache(maxsize=1)
def _guesses() -> tuple[tuple[str, re.Pattern[str], frozenset[str]], ...]:
    """Codecs a CJK mailbox sees unlabelled: each with the script its text must consist of and
    the everyday characters its ideographs/syllables must mostly come from. Latin-1 or Cyrillic
    read as GBK decodes "successfully" into rare characters, which is what gives it away."""
    high = list(range(0xA1, 0xFF))
    jis = _common("euc_jp", range(0xB0, 0xD0), high)
    return (
        ("gb18030", _CJK_TEXT, _common("gb2312", range(0xB0, 0xD8), high)),
        ("big5hkscs", _CJK_TEXT, _common("big5", range(0xA4, 0xC7), [*range(0x40, 0x7F), *high])),
        ("euc_jp", _CJK_KANA, jis),
        ("cp932", _CJK_KANA, jis),
        ("cp949", _CJK_HANGUL, _common("euc_kr", range(0xB0, 0xC9), high)),
    )


def _plausible(text: str, script: re.Pattern[str], common: frozenset[str]) -> bool:
    foreign = len(text) - len(text.encode("ascii", "ignore"))
    if not foreign or len(script.findall(text)) < 0.9 * foreign:
        return False
    ideographs = _IDEOGRAPH.findall(text)
    return sum(ch in common for ch in ideographs) >= 0.8 * len(ideographs)


def _guess(data: bytes) -> str | None:
    """Try the encodings a Chinese-language mailbox sees when the label is missing or wrong."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(data, "utf-16")
    for codec, script, common in _guesses():
        text = _strict(data, codec)
        if text is not None and _plausible(text, script, common):
            return text
    return None


def decode_bytes(data: bytes, declared: str | None, notes: list[str], what: str = "body") -> str:
    """Decode ``data`` labelled ``declared`` (or unlabelled), recording every fallback taken."""
    first, original = resolve(declared)
    if data.isascii() and not (first or "").startswith(_NOT_ASCII_COMPATIBLE):
        if b"\x1b" in data:
            # 7-bit ISO-2022 text (JIS, ISO-2022-CN/KR) whose label is missing or "us-ascii".
            text = _strict(data, "iso2022_jp_2") or _strict(data, "iso2022_kr")
            if text is not None:
                return text
        return data.decode("ascii")
    label = (declared or "").strip().strip("\"'").lower()
    said = f"declared {label}" if declared else "undeclared"
    if declared and first is None:
        notes.append(f"unknown charset {label!r} in {what} ignored")
    # Latin labels decode anything, so UTF-8 and CJK get a chance to prove the label wrong first.
    latin = first == "cp1252"
    for codec in (first, original) if first and not latin else ():
        text = _strict(data, codec)
        if text is not None:
            if codec == first and original:
                notes.append(f"charset {label} decoded as {codec}")
            return text
    text = _strict(data, "utf-8")
    if text is not None:
        if first != "utf-8":
            notes.append(f"{said} charset in {what} guessed as utf-8")
        return text
    # GBK under a Latin label shows as mostly high-bit bytes; real Latin text has a few.
    high_bytes = len(data) - len(data.decode("ascii", "ignore"))
    text = _guess(data) if not latin or high_bytes * 4 > len(data) else None
    if text is not None:
        notes.append(f"{said} charset in {what} guessed as CJK")
        return text
    return _last_resort(data, first, notes, what)


def _strict(data: bytes, codec: str | None) -> str | None:
    if not codec:
        return None
    try:
        text = data.decode(codec)
        if codec == "utf-7":
            text.encode("utf-8")  # UTF-7 can yield lone surrogates, which no database will store
    except ValueError:  # UnicodeDecodeError / UnicodeEncodeError
        return None
    return text


def _last_resort(data: bytes, first: str | None, notes: list[str], what: str) -> str:
    """Nothing decoded cleanly: accept a few broken sequences in otherwise valid multi-byte text
    (a truncated tail, one corrupt byte), else read every byte as cp1252 / latin-1."""
    if first == "cp1252":
        return _strict(data, "cp1252") or data.decode("latin-1")
    for codec in (first, "utf-8"):
        if codec and codec != "utf-7":
            text = data.decode(codec, "replace")
            broken = text.count("\ufffd")
            decoded = len(text) - len(text.encode("ascii", "ignore")) - broken
            if broken * 10 <= decoded:
                notes.append(f"{what} decoded as {codec} with {broken} bad byte sequence(s)")
                return text
    # Both readings keep every byte; windows-1252 gives curly quotes where latin-1 gives controls.
    windows = _strict(data, "cp1252")
    notes.append(f"{what} in no known charset, read as {'cp1252' if windows else 'latin-1'}")
    return windows or data.decode("latin-1")


def header_text(value: str, hint: str | None, notes: list[str], name: str) -> str:
    """Turn a raw header value (8-bit bytes as surrogate escapes) into text, words decoded."""
    if not value.isascii():
        raw = value.encode("utf-8", "surrogateescape")
        value = decode_bytes(raw, hint, notes, f"8-bit {name} header")
    if "=?" in value:
        value = decode_words(value, notes)
    return value.replace("\x00", "")


def _word_bytes(encoding: str, payload: str) -> bytes | None:
    try:
        if encoding in "bB":
            payload = re.sub(r"[^A-Za-z0-9+/]", "", payload)
            payload += "=" * (-len(payload) % 4)
            return binascii.a2b_base64(payload)
        return binascii.a2b_qp(payload.encode("ascii", "replace"), header=True)
    except (binascii.Error, ValueError):
        return None


def decode_words(value: str, notes: list[str]) -> str:
    """Decode RFC 2047 encoded-words, joining adjacent words of one charset before decoding.

    CJK mailers split a multi-byte character across two words, so each run of same-charset words
    is decoded as one byte string; whitespace between encoded-words is dropped (RFC 2047 §6.2).
    """
    out: list[str] = []
    run = bytearray()
    run_charset = ""
    pos = 0
    after_word = False

    def flush() -> None:
        if run_charset:
            out.append(decode_bytes(bytes(run), run_charset, notes, "encoded-word"))
            run.clear()

    for match in _ENCODED_WORD.finditer(value):
        gap = value[pos : match.start()]
        pos = match.end()
        data = _word_bytes(match.group(2), match.group(3))
        if data is None:
            notes.append("undecodable encoded-word kept literally")
            flush()
            run_charset, after_word = "", False
            out.append(gap + match.group(0))
            continue
        charset = match.group(1).split("*", 1)[0].lower()
        if not (after_word and _BETWEEN_WORDS.fullmatch(gap)):
            flush()
            run_charset = ""
            out.append(gap)
        if charset != run_charset:
            flush()
            run_charset = charset
        run += data
        after_word = True
    flush()
    out.append(value[pos:])
    return "".join(out)


_USABLE_ADDRESS = re.compile(r"(?:\"[^\"]*\"|[^@\s<>()\[\],;:\"]+)@[^@\s<>()\[\],;:\"]+")
# A match may only start at a token boundary: otherwise a long run without "@" is rescanned from
# every position (quadratic on hostile headers).
_BARE_ADDRESS = re.compile(r"(?<![^\s<>()\[\],;:\"'])[^\s<>()\[\],;:\"'@]+@[^\s<>()\[\],;:\"']+")
_META_CHARSET = re.compile(rb"<meta[^>]{0,200}?charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)


def usable_address(address: str) -> bool:
    """Whether ``address`` is a complete local@domain address one could reply to."""
    return _USABLE_ADDRESS.fullmatch(address) is not None


def address_list(
    value: str, hint: str | None, notes: list[str], name: str
) -> list[tuple[str, str]]:
    """(display name, lower-cased address) pairs of an unfolded address header."""
    if not value.isascii():
        raw = value.encode("utf-8", "surrogateescape")
        value = decode_bytes(raw, hint, notes, f"8-bit {name} header")
    try:
        pairs = email.utils.getaddresses([value])
    except (RecursionError, ValueError, IndexError):
        pairs = []  # the stdlib address parser recurses once per list item
    found: list[tuple[str, str]] = []
    for raw_name, raw_address in pairs:
        address = raw_address.strip().strip("<>").lower()
        # Names are decoded after the split: a decoded name may itself contain "," or "<".
        display = decode_words(raw_name, notes) if "=?" in raw_name else raw_name
        display = " ".join(display.replace("\x00", "").split()).strip("'\" ")
        if address:
            found.append(("" if display.lower() == address else display, address))
    if not any(usable_address(a) for _, a in found):
        bare = [("", a.lower()) for a in _BARE_ADDRESS.findall(value)]
        if bare:
            notes.append(f"{name} header unparseable; addresses picked out of it")
            return bare
    return found


def filename_text(value: object, raw: str, param: str, hint: str | None, notes: list[str]) -> str:
    """A file-name parameter (RFC 2231 tuple, RFC 2047 words, raw 8-bit) as a bare name.

    ``value`` is what the email package made of parameter ``param``; ``raw`` is the whole header
    as received, needed because the email package replaces raw 8-bit bytes with U+FFFD.
    """
    if isinstance(value, str) and "\ufffd" in value and not raw.isascii():
        unfolded = header_text(raw.replace("\r", "").replace("\n", ""), hint, notes, "file name")
        found = re.search(rf'\b{param}\s*=\s*(?:"([^"]*)"|([^;\s]+))', unfolded, re.IGNORECASE)
        value = (found.group(1) or found.group(2)) if found else value
    if isinstance(value, tuple) and len(value) == 3:
        encoded = str(value[2])  # RFC 2231 %XX octets, one per character
        try:
            data = encoded.encode("latin-1", "surrogateescape")
        except UnicodeEncodeError:  # already text: the email package met 8-bit bytes
            data = encoded.encode("utf-8", "surrogateescape")
        name = decode_bytes(data, value[0] or None, notes, "file name")
    elif isinstance(value, str):
        name = header_text(value, hint, notes, "file name")
    else:
        return ""
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    base = re.split(r"[/\\]", name)[-1].strip()
    if base != name:
        notes.append("path removed from attachment file name")
    return base


def html_meta_charset(data: bytes) -> str | None:
    """The charset an HTML part declares in a <meta> tag near its start, if any."""
    meta = _META_CHARSET.search(data, 0, 4096)
    return meta.group(1).decode("ascii") if meta else None
