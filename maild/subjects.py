"""Subject lines: reply and forward prefixes in the languages support mail arrives in.

Used by classification (`is_reply`) and by threading (:mod:`maild.threader` builds its
normalised subject on `strip_prefixes`, and asks `has_prefix` whether a message looks like a reply).
"""

from __future__ import annotations

import re
import unicodedata

# Re/Fwd in English; AW/WG German; SV/VS Nordic; Antw Dutch; TR/RV French/Spanish; R/I Italian
# (Outlook); 回复/答复/转发 simplified Chinese, 回覆/答覆/轉寄/轉發 traditional. Optional counters
# ("Re[2]:", "Re^3:") and full-width colons (NFKC folds them before matching).
_PREFIX = re.compile(
    r"^\s*(?:(?:re|fwd?|aw|wg|sv|vs|antw|tr|rv|r|i|回复|答复|转发|回覆|答覆|轉寄|轉發)"
    r"\s*(?:\[\d+\]|\^\d+|\(\d+\))?\s*:\s*)",
    re.IGNORECASE,
)
_REPLY_ONLY = re.compile(
    r"^\s*(?:re|aw|sv|vs|antw|r|回复|答复|回覆|答覆)\s*(?:\[\d+\]|\^\d+|\(\d+\))?\s*:",
    re.IGNORECASE,
)
_TAG = re.compile(r"^\s*\[(?:external|ext|外部邮件|外部郵件)\]\s*", re.IGNORECASE)


def is_reply_subject(subject: str) -> bool:
    """Whether the subject starts with a reply prefix (not a forward), after any [External] tag."""
    text = unicodedata.normalize("NFKC", subject)
    text = _TAG.sub("", text)
    return _REPLY_ONLY.match(text) is not None


def has_prefix(subject: str) -> bool:
    """Whether the subject starts with a reply or forward prefix, after any [External] tag."""
    text = unicodedata.normalize("NFKC", subject)
    return _PREFIX.match(_TAG.sub("", text)) is not None


def strip_prefixes(subject: str) -> str:
    """The subject without any number and mix of reply/forward prefixes and [External] tags."""
    text = unicodedata.normalize("NFKC", subject)
    while True:
        stripped = _PREFIX.sub("", _TAG.sub("", text), count=1)
        if stripped == text:
            return " ".join(text.split())
        text = stripped
