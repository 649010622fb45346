"""Tests for maild.subjects: reply and forward prefixes in many languages, tags and counters."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maild.subjects import has_prefix, is_reply_subject, strip_prefixes

REPLY_PREFIXES = [
    "Re:",
    "RE:",
    "re:",
    "AW:",  # German Antwort
    "SV:",  # Swedish/Norwegian/Danish svar
    "VS:",  # Finnish vastaus
    "Antw:",  # Dutch antwoord
    "回复:",
    "答复:",
    "回覆:",
    "答覆:",
    "回复：",  # full-width colon, as a Chinese input method types it
    "答复：",
    "回覆：",
    "Re[2]:",
    "RE[12]:",
    "Re^3:",
    "Re(2):",
    "ＲＥ：",  # full-width letters and colon
    "Re :",  # French spacing
]
FORWARD_PREFIXES = [
    "Fwd:",
    "FWD:",
    "Fw:",
    "FW:",
    "WG:",  # German weitergeleitet
    "TR:",  # French transféré
    "RV:",  # Spanish reenviado
    "转发:",
    "转发：",
    "轉寄:",
    "轉寄：",
    "轉發:",
    "Fwd[2]:",
]


@pytest.mark.parametrize("prefix", REPLY_PREFIXES)
def test_reply_prefixes_make_a_reply(prefix: str) -> None:
    """A subject starting with a reply prefix of any supported language is a reply."""
    assert is_reply_subject(f"{prefix} 关于订单 order 123")
    assert is_reply_subject(f"{prefix}subject without space")


@pytest.mark.parametrize("prefix", FORWARD_PREFIXES)
def test_forwards_are_not_replies(prefix: str) -> None:
    """A forwarded message is not a reply to us."""
    assert not is_reply_subject(f"{prefix} 关于订单 order 123")


@pytest.mark.parametrize("prefix", REPLY_PREFIXES + FORWARD_PREFIXES)
def test_strip_removes_each_prefix(prefix: str) -> None:
    """Every reply and forward prefix is removed, leaving the subject itself."""
    assert strip_prefixes(f"{prefix} Invoice wrong") == "Invoice wrong"
    assert strip_prefixes(f"{prefix}发票错误") == "发票错误"


@pytest.mark.parametrize(
    "subject",
    [
        "Invoice wrong",
        "Regarding my invoice",
        "Reply needed",
        "Return policy",
        "Re-install failed",
        "Refund",
        "RE",
        "Re ",
        "Fwd",
        "Awesome product",
        "Svar snart",
        "Trial question",
        "回复",
        "回复一下",
        "请回复: 发票",
        "转发规则怎么设置",
        "",
        "   ",
    ],
)
def test_subjects_without_a_prefix_are_not_replies(subject: str) -> None:
    """Words that merely start like a prefix, or a prefix without its colon, are not prefixes."""
    assert not is_reply_subject(subject)


@pytest.mark.parametrize(
    ("subject", "kept"),
    [
        ("Regarding my invoice", "Regarding my invoice"),
        ("Re-install failed", "Re-install failed"),
        ("Return: policy", "Return: policy"),
        ("Fwd", "Fwd"),
        ("回复一下", "回复一下"),
        ("Question: Re: billing", "Question: Re: billing"),
    ],
)
def test_strip_keeps_subjects_without_leading_prefixes(subject: str, kept: str) -> None:
    """Only leading prefixes are removed; a prefix in the middle of the subject stays."""
    assert strip_prefixes(subject) == kept


@pytest.mark.parametrize(
    ("subject", "stripped", "is_reply"),
    [
        ("RE: AW: 回复：Re: subject", "subject", True),
        ("Re: Re: Re: hello", "hello", True),
        ("Re:Re:hello", "hello", True),
        ("Fwd: Re: hello", "hello", False),
        ("AW: WG: SV: VS: TR: RV: Antw: hello", "hello", True),
        ("回复：转发：答复：回覆：轉寄: 发票", "发票", True),
        ("Re[2]: RE^3: Re(4): x", "x", True),
        ("ＲＥ：ＦＷ：test", "test", True),
    ],
)
def test_mixed_prefix_chains(subject: str, stripped: str, is_reply: bool) -> None:
    """Chains of mixed prefixes are all removed; whether it is a reply is decided by the first."""
    assert strip_prefixes(subject) == stripped
    assert is_reply_subject(subject) is is_reply


@pytest.mark.parametrize(
    ("subject", "stripped", "is_reply"),
    [
        ("[External] Re: hello", "hello", True),
        ("[EXTERNAL] RE: hello", "hello", True),
        ("[External]Re: hello", "hello", True),
        ("[Ext] AW: hallo", "hallo", True),
        ("[外部邮件] 回复：发票", "发票", True),
        ("[外部郵件] 回覆：發票", "發票", True),
        ("[External] Fwd: hello", "hello", False),
        ("[External] hello", "hello", False),
        ("RE: [External] RE: hello", "hello", True),
        ("  [External]   Re:   hello   world  ", "hello world", True),
    ],
)
def test_external_tags_are_skipped(subject: str, stripped: str, is_reply: bool) -> None:
    """An [External] tag (added by the customer's or our mail gateway) hides no prefix."""
    assert strip_prefixes(subject) == stripped
    assert is_reply_subject(subject) is is_reply


def test_other_bracket_tags_are_kept() -> None:
    """Tags other than [External] belong to the subject and stay."""
    assert strip_prefixes("Re: [Ticket #123] hello") == "[Ticket #123] hello"
    assert strip_prefixes("[Ticket #123] Re: hello") == "[Ticket #123] Re: hello"


def test_strip_collapses_whitespace_and_applies_nfkc() -> None:
    """The stripped subject has single spaces and half-width letters and digits."""
    assert strip_prefixes("Re:   Order\t  ＡＢＣ１２３  ") == "Order ABC123"
    assert strip_prefixes("回复：　发票　问题") == "发票 问题"


def test_prefix_only_subject_strips_to_empty() -> None:
    """A subject that is only prefixes strips to the empty string."""
    assert strip_prefixes("Re: Fwd: ") == ""
    assert strip_prefixes("回复：") == ""


PREFIXES = st.sampled_from(REPLY_PREFIXES + FORWARD_PREFIXES + ["[External]"])
WORDS = st.text(
    st.characters(categories=("L", "N"), exclude_characters=":：[]"), min_size=1, max_size=20
)


@given(st.lists(PREFIXES, max_size=6), WORDS)
def test_strip_is_idempotent_and_removes_any_chain(prefixes: list[str], rest: str) -> None:
    """Any chain of prefixes and tags before a subject strips to the same result as none."""
    subject = " ".join([*prefixes, "X" + rest])
    stripped = strip_prefixes(subject)
    assert stripped == strip_prefixes("X" + rest)
    assert strip_prefixes(stripped) == stripped


@given(st.text(max_size=80))
def test_subject_functions_never_raise(subject: str) -> None:
    """Any text, control characters included, gives a bool and a string."""
    assert isinstance(is_reply_subject(subject), bool)
    assert isinstance(strip_prefixes(subject), str)


@pytest.mark.parametrize("prefix", REPLY_PREFIXES + FORWARD_PREFIXES)
def test_has_prefix_sees_replies_and_forwards(prefix: str) -> None:
    """Reply and forward prefixes both count as a prefix, also after an [External] tag."""
    assert has_prefix(f"{prefix} 发票")
    assert has_prefix(f"[External] {prefix}invoice")


@pytest.mark.parametrize("subject", ["Invoice", "Return: policy", "回复一下", "Fwd", "", "x Re: y"])
def test_has_prefix_ignores_subjects_without_a_leading_prefix(subject: str) -> None:
    """A subject that does not start with a prefix has none."""
    assert not has_prefix(subject)
