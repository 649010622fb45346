"""Tests for maild.textmatch: normal form, keyword index (words, CJK, overlaps) and regexes."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maild.textmatch import (
    KeywordIndex,
    captures,
    compile_regex,
    is_word_char,
    normalise,
    normalise_width,
    search_captures,
)

# Every character, lone surrogates included (text decoded with "surrogateescape" has them).
ANY_CHAR = st.characters(exclude_categories=())
ANY_TEXT = st.text(ANY_CHAR, max_size=200)


def found(keywords: list[str], text: str) -> set[str]:
    """The keywords (as written) that an index of ``keywords`` finds in ``text``."""
    return set(KeywordIndex(enumerate(keywords)).find(normalise(text)).values())


def naive(keywords: list[str], text: str) -> set[int]:
    """The reference: every occurrence of every keyword, each boundary checked by hand."""
    hits = set()
    for number, keyword in enumerate(keywords):
        word = normalise(keyword)
        start = text.find(word) if word else -1
        while start >= 0:
            end = start + len(word)
            left_ok = not (is_word_char(word[0]) and start and is_word_char(text[start - 1]))
            right_ok = not (is_word_char(word[-1]) and end < len(text) and is_word_char(text[end]))
            if left_ok and right_ok:
                hits.add(number)
                break
            start = text.find(word, start + 1)
    return hits


# --- normalise ---------------------------------------------------------------------------------


def test_full_width_and_case_are_folded() -> None:
    """Full-width and upper-case Latin letters are the same word as lower-case ASCII."""
    assert normalise("ＵＲＧＥＮＴ") == normalise("ｕｒｇｅｎｔ") == normalise("URGENT") == "urgent"
    assert normalise("Straße") == normalise("STRASSE") == "strasse"


def test_chinese_is_kept_and_its_punctuation_made_ascii() -> None:
    """Han characters are kept as they are; full-width punctuation and digits become ASCII."""
    assert (
        normalise("【紧急】系统故障：错误码Ｅ５００３，请处理")
        == "【紧急】系统故障:错误码e5003,请处理"
    )
    assert normalise("發票") != normalise("发票")  # Traditional and Simplified stay different


def test_whitespace_runs_become_one_space() -> None:
    """Newlines, tabs, ideographic and no-break spaces collapse to one space; ends are trimmed."""
    assert normalise("  charged \n\n twice\t\u3000again\u00a0now\r\n") == "charged twice again now"


def test_invisible_characters_are_removed() -> None:
    """Zero-width spaces and soft hyphens inside a word do not split it."""
    assert normalise("ur\u200bgent in\u00advoice \ufeff紧\u200d急") == "urgent invoice 紧急"


def test_regex_form_folds_width_but_not_case() -> None:
    """The regex form keeps letter case and only maps widths, invisibles and whitespace."""
    assert normalise_width("Order  ＃ＡＢ１２\n") == "Order #AB12"
    assert normalise_width("Order #AB12") == "Order #AB12"


def test_lone_surrogates_become_replacement_characters() -> None:
    """A lone surrogate is replaced one for one, so the text can be scanned."""
    assert normalise("a\udcffb") == "a\ufffdb"


@given(ANY_TEXT)
def test_normalise_is_idempotent(text: str) -> None:
    """Normalising a normal text changes nothing, whatever the text."""
    once = normalise(text)
    assert normalise(once) == once
    assert normalise_width(once) == once
    width = normalise_width(text)
    assert normalise_width(width) == width
    assert normalise(width) == once


# --- KeywordIndex: words -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keyword", "text", "matches"),
    [
        ("bill", "the bill is wrong", True),
        ("bill", "a billion users", False),
        ("bill", "rebill me", False),
        ("down", "the site is down.", True),
        ("down", "download failed", False),
        ("down", "sundown", False),
        ("Down", "DOWN!!!", True),
        ("e-mail", "your e-mail bounced", True),
        ("e-mail", "two e-mails", False),
        ("mail", "e-mail", True),
        ("c++", "our c++ sdk", True),
        ("c++", "objc++", False),
        ("2fa", "2FA code missing", True),
        ("2fa", "12fa", False),
        ("502", "HTTP 502 Bad Gateway", True),
        ("502", "error 5020", False),
        ("502", "code:502,", True),
        ("down", "file_down", True),  # "_" is not a letter or digit
        ("urgent", "ＵＲＧＥＮＴ!!!", True),
        ("привет", "Привет, мир", True),  # Cyrillic is a spaced script
        ("привет", "приветствую", False),
    ],
)
def test_latin_keywords_match_whole_words(keyword: str, text: str, matches: bool) -> None:
    """A keyword of a spaced script matches only when no letter or digit touches it."""
    assert found([keyword], text) == ({keyword} if matches else set())


def test_several_words_match_with_any_spacing() -> None:
    """A multi-word keyword matches across runs of spaces and line breaks."""
    for text in ("I was charged  twice", "charged\ntwice", "CHARGED\r\n\t TWICE!"):
        assert found(["charged twice"], text) == {"charged twice"}
    assert found(["charged twice"], "charged, twice") == set()


# --- KeywordIndex: scripts without spaces ------------------------------------------------------


@pytest.mark.parametrize(
    ("keyword", "text"),
    [
        ("故障", "系统故障了"),
        ("紧急", "【紧急】全公司同步失败"),
        ("宕机", "服务宕机了吗"),
        ("發票", "請開發票給我"),
        ("エラー", "同期エラーが出ます"),
        ("오류", "동기화오류가"),
        ("退款", "申请退款：误购"),
    ],
)
def test_cjk_keywords_match_anywhere(keyword: str, text: str) -> None:
    """Han, kana and Hangul keywords match inside longer runs of their script."""
    assert found([keyword], text) == {keyword}


def test_mixed_keywords_use_the_boundary_of_their_ends() -> None:
    """A Latin end needs a boundary, a Han end does not, and Han next to Latin is a boundary."""
    assert found(["E5003错误"], "报错E5003错误码") == {"E5003错误"}
    assert found(["E5003错误"], "报错XE5003错误") == set()
    assert found(["e5003"], "状态栏显示同步失败（E5003）") == {"e5003"}
    assert found(["e5003"], "报错E5003了") == {"e5003"}
    assert found(["微信pay"], "用微信pay了") == {"微信pay"}
    assert found(["微信pay"], "微信payment") == set()


def test_traditional_and_simplified_are_different_keywords() -> None:
    """A Simplified keyword ("发票") does not match the Traditional form ("發票")."""
    assert found(["发票"], "請開發票") == set()


# --- KeywordIndex: overlaps and bookkeeping ----------------------------------------------------


def test_overlapping_keywords_are_all_found() -> None:
    """Keywords inside, overlapping or sharing a start with another are each reported."""
    assert found(["故障", "系统故障", "系统"], "系统故障") == {"故障", "系统故障", "系统"}
    assert found(["down", "site down", "site"], "the site down page") == {
        "down",
        "site down",
        "site",
    }
    assert found(["abc", "bcd", "cde"], "abcde") == set()  # inner ones touch letters
    assert found(["ab c", "c d", "ab"], "ab c d") == {"ab c", "c d", "ab"}
    assert found(["b c"], "ab c") == set()  # its "b" touches the "a" before it


def test_a_keyword_failing_its_boundary_does_not_hide_another_occurrence() -> None:
    """A "down" inside "download" is skipped; the whole word later on is still found."""
    assert found(["down"], "download is down") == {"down"}


def test_ids_that_share_a_keyword_are_all_reported_with_their_spelling() -> None:
    """Two rules listing the same keyword in different widths both get it, as they wrote it."""
    index = KeywordIndex([(7, "URGENT"), (9, "ｕｒｇｅｎｔ"), (11, "refund")])
    assert index.find(normalise("this is urgent")) == {7: "URGENT", 9: "ｕｒｇｅｎｔ"}
    assert len(index) == 2


def test_empty_keywords_and_empty_indexes_match_nothing() -> None:
    """A keyword that normalises to nothing is dropped; an index without keywords finds none."""
    index = KeywordIndex([(1, ""), (2, " \n\u200b ")])
    assert len(index) == 0
    assert index.find("anything at all") == {}
    assert KeywordIndex([]).find("") == {}


def test_find_accepts_text_that_was_not_normalised() -> None:
    """Text with lone surrogates or newlines does not make find raise."""
    index = KeywordIndex([(1, "ab")])
    assert index.find("x\ud800 ab\n") == {1: "ab"}


# --- KeywordIndex: properties ------------------------------------------------------------------


@settings(max_examples=300)
@given(st.lists(ANY_TEXT, max_size=20), ANY_TEXT)
def test_building_and_finding_never_raise(keywords: list[str], text: str) -> None:
    """Any keywords and any text, normalised or not: no exception, only known ids."""
    index = KeywordIndex(enumerate(keywords))
    for candidate in (text, normalise(text)):
        assert set(index.find(candidate)) <= set(range(len(keywords)))


@given(st.lists(ANY_TEXT.filter(lambda k: normalise(k) != ""), min_size=1, max_size=10))
def test_every_keyword_finds_itself(keywords: list[str]) -> None:
    """A keyword is found in a text that is exactly that keyword."""
    index = KeywordIndex(enumerate(keywords))
    for number, keyword in enumerate(keywords):
        assert number in index.find(normalise(keyword))


SMALL = st.text(st.sampled_from("ab1- 中文ÄÉ\n"), max_size=6)


@settings(max_examples=500)
@given(st.lists(SMALL, max_size=8), st.text(st.sampled_from("ab1- 中文äé\n"), max_size=40))
def test_index_agrees_with_a_keyword_by_keyword_search(keywords: list[str], text: str) -> None:
    """On a small alphabet (so overlaps are common) the index finds exactly what a naive
    per-keyword search with the same boundary rules finds."""
    normal = normalise(text)
    assert set(KeywordIndex(enumerate(keywords)).find(normal)) == naive(keywords, normal)


def test_a_large_index_stays_correct() -> None:
    """5,000 keywords of mixed scripts over many texts give the naive search's answers."""
    rng = random.Random(5)
    letters = "abcdefghijklmnop"
    hans = "系统故障紧急退款发票登录同步失败错误账号密码上传下载"
    keywords = sorted(
        {"".join(rng.choice(letters) for _ in range(rng.randint(2, 6))) for _ in range(2500)}
        | {"".join(rng.choice(hans) for _ in range(rng.randint(2, 4))) for _ in range(2500)}
    )
    index = KeywordIndex(enumerate(keywords))
    for _ in range(30):
        text = normalise(
            " ".join(
                "".join(rng.choice(letters + hans) for _ in range(rng.randint(1, 8)))
                for _ in range(100)
            )
        )
        assert set(index.find(text)) == naive(keywords, text)


# --- regular expressions -----------------------------------------------------------------------


def test_named_groups_are_captured_from_the_regex_form() -> None:
    """A rule regex sees full-width digits and colons as ASCII and keeps their case."""
    pattern = compile_regex(r"订单号:?\s*(?P<order_id>[A-Z]{2}-\d+)(?P<unused>x)?")
    text = normalise_width("您好，订单号：ＣＬ-２０２６１１１８\n谢谢")
    assert search_captures(pattern, text) == {"order_id": "CL-20261118"}
    assert search_captures(pattern, "no order here") is None
    match = re.search(r"(?P<a>\d)(?P<b>x)?", "7")
    assert match is not None
    assert captures(match) == {"a": "7"}


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("订单号(?P<id>\\d+", "missing ), unterminated subpattern at position 3"),
        ("[z-a]", "bad character range z-a at position 1"),
        ("(?P<x>a)(?P<x>b)", "redefinition of group name 'x'"),
        ("(?<=a+)b", "look-behind requires fixed-width pattern"),
        ("a{99999999999}", "cannot be compiled: OverflowError"),
        ("(" * 2000 + ")" * 2000, "cannot be compiled: RecursionError"),
    ],
)
def test_bad_regexes_raise_one_clear_value_error(pattern: str, message: str) -> None:
    """Every way a pattern can fail to compile is a ValueError that says what is wrong."""
    with pytest.raises(ValueError, match=re.escape(message)):
        compile_regex(pattern)
