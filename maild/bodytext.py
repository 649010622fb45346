"""Plain text from message bodies: HTML to text, format=flowed unwrapping, the language guess."""

from __future__ import annotations

import html
import re

from maild.charsets import HAN_RANGES


def unflow(text: str, delsp: bool) -> str:
    """Join RFC 3676 soft line breaks (a trailing space), so paragraphs read as paragraphs."""
    out: list[str] = []
    for line in text.split("\n"):
        unstuffed = line[1:] if line.startswith(" ") else line
        if out and out[-1].endswith(" ") and out[-1] != "-- " and not line.startswith(">"):
            out[-1] = (out[-1][:-1] if delsp else out[-1]) + unstuffed
        else:
            out.append(unstuffed)
    return "\n".join(out)


_INVISIBLE = re.compile(r"<!--|<(script|style|title|xml)\b", re.IGNORECASE)
_BLOCK_TAG = re.compile(
    r"</?(?:br|p|div|tr|li|h[1-6]|table|blockquote|hr|pre|ul|ol|dd|dt)\b[^<>]*>",
    re.IGNORECASE,
)
# "[^<>]*" rather than "[^>]*": a stray "<" in text must not make every later "<" rescan to the end.
_TAG = re.compile(r"<[A-Za-z/!?][^<>]*>")
_BLANK_LINES = re.compile(r"\n{3,}")


def _drop_invisible(markup: str) -> str:
    """Remove comments, scripts and styles in one linear pass (no regex backtracking)."""
    lower = markup.lower()
    out: list[str] = []
    pos = 0
    unclosed: set[str] = set()
    for match in _INVISIBLE.finditer(markup):
        if match.start() < pos:
            continue
        closer = "-->" if match.group(1) is None else f"</{match.group(1).lower()}"
        if closer in unclosed:
            continue
        end = lower.find(closer, match.end())
        if end == -1:
            unclosed.add(closer)
            continue
        out.append(markup[pos : match.start()])
        tag_end = markup.find(">", end)
        pos = len(markup) if tag_end == -1 else tag_end + 1
    out.append(markup[pos:])
    return "".join(out)


def html_to_text(markup: str) -> str:
    """Readable text of an HTML body: block tags as line breaks, entities decoded."""
    text = _BLOCK_TAG.sub("\n", _drop_invisible(markup))
    text = html.unescape(_TAG.sub("", text)).replace("\xa0", " ")
    lines = (" ".join(line.split()) for line in text.splitlines())
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


_HAN_CHAR = re.compile(f"[{HAN_RANGES}]")
_KANA_HANGUL = re.compile("[\u3040-\u30ff\uac00-\ud7af\u1100-\u11ff]")
_ASCII_LETTER = re.compile("[A-Za-z]")
_LETTER = re.compile(r"[^\W\d_]")
_WORD = re.compile(r"[a-z']+")
# Function words: frequent in any English text, rare in other Latin-script languages.
_EN_COMMON = (
    "the and to of you your is are for with this that it be we have please thank thanks can"
    " will not my was i if or from me our would could"
)
_EN_WORDS = frozenset(_EN_COMMON.split())


def guess_language(subject: str, text: str) -> str:
    """Guess "zh", "en" or "other" from the scripts in the subject and the start of the text."""
    sample = f"{subject}\n{text[:2000]}"
    han = len(_HAN_CHAR.findall(sample))
    kana_hangul = len(_KANA_HANGUL.findall(sample))
    ascii_letters = len(_ASCII_LETTER.findall(sample))
    latin = len(_LETTER.findall(sample)) - han - kana_hangul
    if kana_hangul > 0.2 * (han + kana_hangul):
        return "other"  # Japanese or Korean: Han characters alone do not make it Chinese
    # One Han character carries about as much as a short English word (~4 letters).
    if han and han >= 0.3 * (han + latin / 4):
        return "zh"
    if latin and ascii_letters >= 0.9 * latin:
        words = _WORD.findall(sample.lower())
        if len(words) < 20 or sum(w in _EN_WORDS for w in words) >= 0.08 * len(words):
            return "en"
    return "other"
