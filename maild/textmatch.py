"""Keyword and regular-expression matching for classification rules (rules/README.md, "Matching").

Owns three things: the normal form that keywords and texts are compared in (:func:`normalise`),
a compiled index that finds every keyword of one rule field in one text (:class:`KeywordIndex`),
and the compilation of rule regular expressions with load-time errors (:func:`compile_regex`).
Pure: no I/O, no clock, no other maild stage.

Built for speed: classification must keep up with >5,000 messages/s on one core against 1,000
rules and 5,000 keywords, so a text is scanned once per field by one Aho–Corasick automaton
(ahocorasick-rs), never once per keyword. Measured on 1 KB texts against 5,000 keywords: the
automaton and the word-boundary checks below take 20–40 µs a text (building it: 10 ms); the
best stdlib ``re`` design (one trie-shaped alternation, restarted after each match to catch
overlaps) took about 900 µs, and 4.5 s to compile.
"""

from __future__ import annotations

import re

# The re module's own pattern parser (typeshed stubs it only under the deprecated sre_* names).
import re._constants as _re_constants  # type: ignore[import-not-found]
import re._parser as _re_parser  # type: ignore[import-not-found]
import unicodedata
from collections.abc import Iterable
from typing import Any

from ahocorasick_rs import AhoCorasick, MatchKind

# Scripts written without spaces between words: a keyword in them matches anywhere, and their
# characters never count as a word's neighbour for a Latin-script keyword ("报错E5003" holds the
# word "e5003"). Han (with radicals, 々〇 and the supplementary planes), kana, Hangul (its
# particles attach to the word), Thai, Lao, Myanmar and Khmer.
_NOSPACE = (
    "\u0e00-\u0eff\u1000-\u109f\u1100-\u11ff\u1780-\u17ff\u2e80-\u2fdf\u3005-\u3007"
    "\u3021-\u3029\u3038-\u303b\u3040-\u30ff\u3100-\u312f\u3130-\u318f\u31f0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff\uff66-\uff9f"
    "\U00020000-\U0003ffff"
)
# A word character: a letter or digit of a script written with spaces. "_" and "-" are not,
# so "file_down" and "e-mail" hold the words "down" and "mail".
_WORD_CHAR = re.compile(rf"[^\W_{_NOSPACE}]")
# Characters replaced in one pass before NFKC:
# - invisible ones that HTML mail and copy-paste put inside words ("ur\u200bgent"): soft hyphen,
#   zero-width space and joiners, word joiner, BOM; NFKC keeps them, so they go;
# - full-width ASCII (U+FF01–FF5E) and the ideographic space, mapped as NFKC maps them: Chinese
#   text always has some ("，", "："), NFKC is slow on text it must change, and after this most
#   texts are already normal, which `unicodedata.is_normalized` tells quickly;
# - lone surrogates (from bytes decoded with "surrogateescape"), which the automaton cannot
#   encode as UTF-8: U+FFFD, one character for one, so positions stay the same.
_SURROGATE = re.compile("[\ud800-\udfff]")
_SPECIAL = re.compile("[\u00ad\u200b-\u200d\u2060\ufeff\u3000\uff01-\uff5e\ud800-\udfff]")
_REPLACEMENT = (
    dict.fromkeys("\u00ad\u200b\u200c\u200d\u2060\ufeff", "")
    | {chr(code): chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)}
    | {"\u3000": " "}
)


def _replace(char: re.Match[str]) -> str:
    return _REPLACEMENT.get(char[0], "\ufffd")


def normalise(text: str) -> str:
    """``text`` in the form keywords are compared in: NFKC, case-folded, invisible characters
    removed, each run of whitespace (newlines included) one space, none at either end."""
    return _normal(text, fold_case=True)


def normalise_width(text: str) -> str:
    """``text`` in the form rule regular expressions are searched in: as :func:`normalise` but
    with letter case kept, so that ``(?i)`` decides about case and captures keep theirs."""
    return _normal(text, fold_case=False)


def _normal(text: str, *, fold_case: bool) -> str:
    if text.isascii():
        # ASCII is unchanged by NFKC, and casefold() is lower() on it: the common case is cheap.
        folded = text.lower() if fold_case else text
    else:
        folded = _SPECIAL.sub(_replace, text)
        if not unicodedata.is_normalized("NFKC", folded):
            folded = unicodedata.normalize("NFKC", folded)
        if fold_case:
            folded = folded.casefold()
            # Folding can leave text that NFKC would change again; normalising once more keeps
            # normalise(normalise(x)) == normalise(x).
            if not unicodedata.is_normalized("NFKC", folded):
                folded = unicodedata.normalize("NFKC", folded)
    return " ".join(folded.split())


def is_word_char(char: str) -> bool:
    """Whether ``char`` is a letter or digit of a spaced script: next to one, a Latin-script
    keyword is part of a longer word and does not match."""
    if char < "\x80":
        return char.isalnum()
    return _WORD_CHAR.match(char) is not None


class KeywordIndex:
    """Every keyword of one rule field, compiled into one automaton that finds them all.

    Built from ``(keyword_id, keyword)`` pairs; several ids may share a keyword, and a keyword
    that normalises to nothing never matches (the rule loader reports it). A keyword starting
    with a letter or digit of a spaced script (Latin, Cyrillic, Greek…) must not have one right
    before it in the text, nor one right after it if it ends with one: whole words only, so
    "bill" is not in "billion" while "c++" and "e-mail" match as written. Keywords in scripts
    written without spaces match anywhere. Every keyword found is reported, including ones that
    overlap ("site down" and "down") or start at the same place ("系统故障" and "系统").
    """

    def __init__(self, keywords: Iterable[tuple[int, str]]) -> None:
        written: dict[str, dict[int, str]] = {}
        for keyword_id, keyword in keywords:
            text = normalise(keyword)
            if text:
                written.setdefault(text, {})[keyword_id] = keyword
        self._texts = list(written)
        self._written = list(written.values())
        # Per keyword: whether it needs a word boundary before it, and after it.
        self._bounds = [(is_word_char(t[0]), is_word_char(t[-1])) for t in self._texts]
        # Standard match kind, overlapping: every occurrence of every keyword, which the
        # boundary checks then filter. (Leftmost kinds would hide "down" inside "site down".)
        self._automaton = (
            AhoCorasick(self._texts, matchkind=MatchKind.Standard) if written else None
        )

    def __len__(self) -> int:
        """The number of distinct keywords, after normalisation."""
        return len(self._texts)

    def find(self, text: str) -> dict[int, str]:
        """The ids of the keywords in ``text`` (already :func:`normalise`\\ d), each with its
        keyword as written, for reasons."""
        if self._automaton is None:
            return {}
        try:
            hits = self._automaton.find_matches_as_indexes(text, overlapping=True)
        except UnicodeEncodeError:
            hits = self._automaton.find_matches_as_indexes(
                _SURROGATE.sub("\ufffd", text), overlapping=True
            )
        found: dict[int, str] = {}
        done: set[int] = set()
        size = len(text)
        for index, start, end in hits:
            if index in done:
                continue
            before, after = self._bounds[index]
            if before and start and is_word_char(text[start - 1]):
                continue
            if after and end < size and is_word_char(text[end]):
                continue
            done.add(index)
            found.update(self._written[index])
        return found


def compile_regex(pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled, or :class:`ValueError` saying in one line what is wrong and where
    (the rule loader adds the file and line).

    Rule patterns are searched in :func:`normalise_width` text: NFKC has turned full-width
    letters, digits and punctuation into ASCII ("：" is ":", "（" is "("), and each run of
    whitespace, newlines included, into one space.
    """
    try:
        return re.compile(pattern)
    except re.error as exc:
        where = f" at position {exc.pos}" if exc.pos is not None else ""
        raise ValueError(f"bad regular expression {pattern!r}: {exc.msg}{where}") from None
    except (RecursionError, OverflowError, MemoryError) as exc:
        # A pattern nested thousands deep, or a repeat count larger than `re` can hold.
        shown = pattern if len(pattern) <= 60 else pattern[:60] + "…"
        raise ValueError(
            f"regular expression {shown!r} cannot be compiled: {type(exc).__name__}"
        ) from None


def captures(match: re.Match[str]) -> dict[str, str]:
    """The named groups of ``match`` that took part in it, e.g. ``{"order_id": "07731"}``."""
    return {name: value for name, value in match.groupdict().items() if value is not None}


def search_captures(pattern: re.Pattern[str], text: str) -> dict[str, str] | None:
    """``None`` when ``pattern`` is not found in ``text``, else its named-group captures."""
    match = pattern.search(text)
    return None if match is None else captures(match)


def required_literals(pattern: str) -> tuple[str, ...] | None:
    """Strings one of which must appear (case-folded) in any text the pattern matches, or None.

    Lets a rule whose only condition is a regular expression skip the (comparatively slow)
    regex search on messages that cannot match: `"order #" in text` costs a fraction of it.
    Reads the pattern with the `re` module's own parser; anything unexpected gives None, which
    only means "no shortcut".
    """
    try:
        parsed = _re_parser.parse(pattern)
        return _sequence_requirement(list(parsed.data))
    except Exception:  # a parser detail that changed between Python versions: no shortcut
        return None


def _sequence_requirement(items: list[tuple[Any, Any]]) -> tuple[str, ...] | None:
    best: tuple[str, ...] | None = None
    run: list[str] = []

    def consider(candidate: tuple[str, ...] | None) -> None:
        nonlocal best
        if (
            candidate
            and all(len(c) >= 2 for c in candidate)
            and (best is None or min(map(len, candidate)) > min(map(len, best)))
        ):
            best = candidate

    for op, argument in items:
        if op is _re_constants.LITERAL:
            run.append(chr(argument))
            continue
        consider(("".join(run).casefold(),) if run else None)
        run = []
        if op is _re_constants.BRANCH:
            alternatives = [_sequence_requirement(list(branch)) for branch in argument[1]]
            if all(alternatives):
                consider(tuple(sorted({a for alt in alternatives if alt for a in alt})))
        elif op is _re_constants.SUBPATTERN:
            consider(_sequence_requirement(list(argument[-1])))
        elif op is _re_constants.MAX_REPEAT or op is _re_constants.MIN_REPEAT:
            low, _high, body = argument
            if low >= 1:
                consider(_sequence_requirement(list(body)))
    consider(("".join(run).casefold(),) if run else None)
    return best
