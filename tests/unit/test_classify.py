"""Tests for maild.classify and maild.facts: every condition, every action, matching and reasons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maild.calendar_time import BusinessCalendar
from maild.classify import (
    ClassifyContext,
    CompiledRules,
    Decision,
    MessageFacts,
    compiled_rules,
)
from maild.facts import message_facts
from maild.parsing import parse_message
from maild.resources import packaged
from maild.rules import PRIORITIES, load_rules
from tests.unit.rule_helpers import (
    BERLIN,
    CALENDAR,
    CONTEXT,
    FACTS,
    HOLIDAY,
    MAKE_UP_WORKDAY,
    OWNERS,
    SENT,
    SHANGHAI,
    classify,
    compile_rules,
    facts,
    shanghai,
    write_rules,
)


def one_rule(tmp_path: Path, body: str) -> CompiledRules:
    """A rule set of one rule named "r" with ``body`` (TOML lines) and category "hit"."""
    return compile_rules(tmp_path, f'[[rule]]\nname = "r"\ncategory = "hit"\n{body}\n')


def hits(rules: CompiledRules, **changes: Any) -> bool:
    """Whether rule "r" matches FACTS with ``changes``."""
    return "r" in classify(rules, **changes).rules


# --- no rule matches -----------------------------------------------------------------------------


def test_no_match_gives_other_normal_and_the_default_owner_with_reasons(tmp_path: Path) -> None:
    """With no matching rule the decision is other/normal/the mailbox's default owner, each said."""
    rules = one_rule(tmp_path, 'subject_any = ["nothing-like-this"]')
    decision = classify(rules)
    assert decision == Decision(
        category="other",
        priority="normal",
        owner="Li Na <li.na@example.com>",
        tags=(),
        captures={},
        reasons=(
            "no rule set a category: other",
            "no rule set a priority: normal",
            "no rule named an owner: the mailbox's default owner",
        ),
        rules=(),
    )


def test_no_default_owner_leaves_the_owner_empty(tmp_path: Path) -> None:
    """A mailbox without default_owner and no rule owner gives no owner, and no owner reason."""
    rules = one_rule(tmp_path, 'subject_any = ["nothing-like-this"]')
    context = ClassifyContext(calendar=CALENDAR, owners=OWNERS, default_owner=None)
    decision = rules.classify(FACTS, context)
    assert decision.owner is None
    assert not any("owner" in reason for reason in decision.reasons)


def test_default_owner_given_as_address_is_kept(tmp_path: Path) -> None:
    """A default owner that is an address, not an [owners] name, is used as written."""
    rules = one_rule(tmp_path, 'subject_any = ["nothing-like-this"]')
    context = ClassifyContext(calendar=CALENDAR, owners=OWNERS, default_owner="ops@example.com")
    assert rules.classify(FACTS, context).owner == "ops@example.com"


def test_rule_without_conditions_matches_every_message(tmp_path: Path) -> None:
    """A rule with no conditions matches anything, with the reason saying so."""
    rules = one_rule(tmp_path, "")
    decision = classify(rules, subject="", body="")
    assert decision.category == "hit"
    assert decision.reasons[0] == 'rule "r": matches every message'


# --- keyword conditions --------------------------------------------------------------------------


def test_subject_any_matches_any_keyword_in_the_subject_only(tmp_path: Path) -> None:
    """subject_any holds when the subject has any keyword; the body is not looked at."""
    rules = one_rule(tmp_path, 'subject_any = ["down", "宕机"]')
    assert hits(rules, subject="Site down")
    assert hits(rules, subject="服务器宕机了")
    assert not hits(rules, subject="Question", body="The site is down")


def test_subject_all_needs_every_keyword(tmp_path: Path) -> None:
    """subject_all holds only when the subject has all its keywords, in any order."""
    rules = one_rule(tmp_path, 'subject_all = ["invoice", "wrong"]')
    assert hits(rules, subject="Wrong amount on invoice")
    assert not hits(rules, subject="Invoice request")
    assert not hits(rules, subject="Invoice", body="The invoice is wrong")


def test_body_any_matches_the_body_only(tmp_path: Path) -> None:
    """body_any holds when the body has any keyword; the subject is not looked at."""
    rules = one_rule(tmp_path, 'body_any = ["error 502", "无法访问"]')
    assert hits(rules, body="I get error 502 on login")
    assert hits(rules, body="网站无法访问")
    assert not hits(rules, subject="error 502", body="see subject")


def test_body_all_needs_every_keyword(tmp_path: Path) -> None:
    """body_all holds only when the body has all its keywords."""
    rules = one_rule(tmp_path, 'body_all = ["refund", "order"]')
    assert hits(rules, body="Please refund my order.")
    assert not hits(rules, body="Please refund me.")
    assert not hits(rules, subject="order", body="Please refund me.")


def test_text_any_matches_subject_or_body(tmp_path: Path) -> None:
    """text_any holds when either the subject or the body has a keyword."""
    rules = one_rule(tmp_path, 'text_any = ["故障"]')
    assert hits(rules, subject="系统故障", body="请看")
    assert hits(rules, subject="求助", body="系统故障了")
    assert not hits(rules, subject="求助", body="一切正常")


def test_keyword_conditions_combine_with_and(tmp_path: Path) -> None:
    """All conditions given must hold: a subject keyword alone is not enough with a body one."""
    rules = one_rule(tmp_path, 'subject_any = ["invoice"]\nbody_any = ["wrong"]')
    assert hits(rules, subject="Invoice", body="The amount is wrong")
    assert not hits(rules, subject="Invoice", body="Please send it")
    assert not hits(rules, subject="Hello", body="The amount is wrong")


def test_reason_format_for_a_subject_keyword(tmp_path: Path) -> None:
    """A keyword hit is explained as `rule "outage": subject contains "down"`."""
    rules = compile_rules(
        tmp_path,
        '[[rule]]\nname = "outage"\nsubject_any = ["outage", "down"]\ncategory = "technical"\n',
    )
    decision = classify(rules, subject="Site down since 9am")
    assert decision.reasons[0] == 'rule "outage": subject contains "down"'


def test_reason_format_for_all_and_text_conditions(tmp_path: Path) -> None:
    """`_all` reasons list every keyword; text_any says whether the subject or body held it."""
    rules = compile_rules(
        tmp_path,
        '[[rule]]\nname = "a"\nsubject_all = ["invoice", "wrong"]\n'
        '[[rule]]\nname = "b"\ntext_any = ["refund"]\n',
    )
    decision = classify(rules, subject="Invoice is wrong", body="I want a refund")
    assert decision.reasons[:2] == (
        'rule "a": subject contains "invoice", "wrong"',
        'rule "b": body contains "refund"',
    )


# --- matching: normalisation, case, words, scripts -----------------------------------------------


@pytest.mark.parametrize("subject", ["URGENT", "Urgent", "uRgEnT", "ＵＲＧＥＮＴ", "ｕｒｇｅｎｔ"])
@pytest.mark.parametrize("keyword", ["urgent", "URGENT", "ＵＲＧＥＮＴ", "ｕｒｇｅｎｔ"])
def test_keywords_ignore_case_and_width(tmp_path: Path, keyword: str, subject: str) -> None:
    """Full-width ＵＲＧＥＮＴ, ｕｒｇｅｎｔ and URGENT are the same word, as keyword or as text."""
    rules = one_rule(tmp_path, f'subject_any = ["{keyword}"]')
    assert hits(rules, subject=f"{subject}: please help")


@pytest.mark.parametrize(
    "subject",
    ["【紧急】服务器问题", "[紧急] 服务器问题", "紧急！", "紧急!", "ＲＥ：紧急", "非常紧急的事"],
)
def test_chinese_keyword_in_full_and_half_width_contexts(tmp_path: Path, subject: str) -> None:
    """紧急 matches whatever width the punctuation and letters around it have."""
    rules = one_rule(tmp_path, 'subject_any = ["紧急"]')
    assert hits(rules, subject=subject)


def test_full_width_digits_in_keywords_and_text(tmp_path: Path) -> None:
    """A keyword with digits matches its full-width spelling and the other way round."""
    rules = one_rule(tmp_path, 'body_any = ["error 502"]')
    assert hits(rules, body="出现 ＥＲＲＯＲ　５０２ 错误")
    rules = one_rule(tmp_path / "2", 'body_any = ["ｅｒｒｏｒ　５０２"]')
    assert hits(rules, body="got error 502")


@pytest.mark.parametrize(
    ("keyword", "text", "expected"),
    [
        ("bill", "my bill is wrong", True),
        ("bill", "Bill.", True),
        ("bill", "billion dollars", False),
        ("bill", "a billing question", False),
        ("bill", "rebill", False),
        ("down", "the site is down", True),
        ("down", "down!", True),
        ("down", "(down)", True),
        ("down", "please download the file", False),
        ("down", "a countdown", False),
        ("down", "shutdown", False),
        ("down", "down2", False),
        ("down", "file_down", True),
        ("down", "服务器down了", True),
        ("e5003", "报错E5003请处理", True),
        ("vat", "VAT-number", True),
        ("vat", "private", False),
    ],
)
def test_latin_keywords_match_whole_words_only(
    tmp_path: Path, keyword: str, text: str, expected: bool
) -> None:
    """`bill` is not in `billion` nor `down` in `download`; Chinese neighbours are word breaks."""
    rules = one_rule(tmp_path, f'body_any = ["{keyword}"]')
    assert hits(rules, body=text) is expected


@pytest.mark.parametrize(
    "text", ["系统故障了", "故障", "我们的系统昨天出现故障，请处理", "ABC故障123", "fault故障"]
)
def test_chinese_keywords_match_anywhere(tmp_path: Path, text: str) -> None:
    """A Chinese keyword matches inside a longer run of Chinese, Latin or digits."""
    rules = one_rule(tmp_path, 'body_any = ["故障"]')
    assert hits(rules, body=text)


def test_traditional_and_simplified_are_different_characters(tmp_path: Path) -> None:
    """发票 does not match 發票: a rule must list both, and then matches both."""
    simplified_only = one_rule(tmp_path / "a", 'text_any = ["发票"]')
    assert hits(simplified_only, body="请开发票")
    assert not hits(simplified_only, body="請開發票")
    both = one_rule(tmp_path / "b", 'text_any = ["发票", "發票"]')
    assert hits(both, body="请开发票")
    assert hits(both, body="請開發票")


@pytest.mark.parametrize(
    "body",
    [
        "The site is\ndown",
        "The site is\r\n  down",
        "The site is \t down",
        "the SITE IS\n\nDOWN",
        "The site is\u3000down",
    ],
)
def test_multi_word_keyword_matches_across_line_breaks_and_spacing(
    tmp_path: Path, body: str
) -> None:
    """A keyword of several words matches them in order with any spacing, line breaks included."""
    rules = one_rule(tmp_path, 'body_any = ["site is down"]')
    assert hits(rules, body=body)


def test_multi_word_keyword_needs_its_words_in_order_and_adjacent(tmp_path: Path) -> None:
    """The words of a keyword must come in order, with only spacing between them."""
    rules = one_rule(tmp_path, 'body_any = ["site is down"]')
    assert not hits(rules, body="is the site down?")
    assert not hits(rules, body="the site is not down")


def test_keyword_with_extra_spaces_matches_single_spaced_text(tmp_path: Path) -> None:
    """Spacing inside a keyword as written does not matter either."""
    rules = one_rule(tmp_path, 'body_any = ["error   502"]')
    assert hits(rules, body="error 502")


def test_invisible_characters_inside_words_are_ignored(tmp_path: Path) -> None:
    """Zero-width spaces and soft hyphens from HTML mail do not hide a keyword."""
    rules = one_rule(tmp_path, 'body_any = ["urgent"]')
    assert hits(rules, body="this is ur\u200bgent")
    assert hits(rules, body="this is ur\u00adgent")


# --- regular expressions -------------------------------------------------------------------------


def test_subject_regex_is_searched_and_explained(tmp_path: Path) -> None:
    """subject_regex is searched (not matched at the start), its match shown in the reason."""
    rules = compile_rules(
        tmp_path, "[[rule]]\nname = \"inc\"\nsubject_regex = '(?i)\\bINC-\\d+\\b'\n"
    )
    decision = classify(rules, subject="Re: update on inc-4711 please")
    assert decision.rules == ("inc",)
    assert decision.reasons[0] == 'rule "inc": subject matches /(?i)\\bINC-\\d+\\b/ ("inc-4711")'
    assert classify(rules, subject="INC-x").rules == ()


def test_regex_is_case_sensitive_without_the_i_flag(tmp_path: Path) -> None:
    """Regular expressions keep letter case unless they ask for (?i)."""
    rules = one_rule(tmp_path, "subject_regex = 'INC-\\d+'")
    assert hits(rules, subject="INC-12")
    assert not hits(rules, subject="inc-12")


def test_body_regex_named_capture_is_kept(tmp_path: Path) -> None:
    """A named group of body_regex becomes a captured value for templates."""
    rules = one_rule(tmp_path, "body_regex = '订单号[:：]?\\s*(?P<order_id>\\d+)'")
    decision = classify(rules, body="你好，订单号：20261124001 没有发货")
    assert decision.captures == {"order_id": "20261124001"}


def test_regex_searches_the_normalised_text(tmp_path: Path) -> None:
    """Full-width digits and colons are ASCII for regexes, and line breaks are one space."""
    rules = one_rule(tmp_path, "body_regex = '订单号:\\s?(?P<order_id>\\d+) (?P<rest>\\w+)'")
    decision = classify(rules, body="订单号：１２３４５\n\nThanks")
    assert decision.captures == {"order_id": "12345", "rest": "Thanks"}


def test_body_regex_does_not_look_at_the_subject(tmp_path: Path) -> None:
    """body_regex is searched in the body only."""
    rules = one_rule(tmp_path, "body_regex = 'Order #(?P<order_id>\\d+)'")
    assert not hits(rules, subject="Order #123", body="see subject")


def test_text_regex_searches_subject_then_body(tmp_path: Path) -> None:
    """text_regex is searched in the subject, then the body; the first match gives the captures."""
    rules = one_rule(tmp_path, "text_regex = 'Order #(?P<order_id>\\d+)'")
    assert classify(rules, subject="Order #1", body="x").captures == {"order_id": "1"}
    assert classify(rules, subject="x", body="Order #2").captures == {"order_id": "2"}
    assert classify(rules, subject="Order #1", body="Order #2").captures == {"order_id": "1"}
    assert not hits(rules, subject="Order", body="#3")


def test_captures_first_rule_wins(tmp_path: Path) -> None:
    """When two matching rules capture the same name, the earlier rule's value is kept."""
    rules = compile_rules(
        tmp_path,
        "[[rule]]\nname = \"first\"\nbody_regex = 'A(?P<order_id>\\d+)'\n"
        "[[rule]]\nname = \"second\"\nbody_regex = 'B(?P<order_id>\\d+) (?P<other>\\d+)'\n",
    )
    decision = classify(rules, body="A1 B2 3")
    assert decision.rules == ("first", "second")
    assert decision.captures == {"order_id": "1", "other": "3"}


def test_captures_of_a_rule_that_does_not_match_are_dropped(tmp_path: Path) -> None:
    """A regex that matches in a rule whose other conditions fail captures nothing."""
    rules = compile_rules(
        tmp_path,
        '[[rule]]\nname = "a"\ntext_regex = \'(?P<order_id>\\d{5})\'\nsubject_any = ["order"]\n'
        "[[rule]]\nname = \"b\"\ntext_regex = '(?P<order_id>\\d{5})'\nbody_regex = 'never'\n",
    )
    decision = classify(rules, subject="hello", body="12345")
    assert decision.rules == ()
    assert decision.captures == {}


def test_optional_group_that_did_not_take_part_is_not_captured(tmp_path: Path) -> None:
    """A named group that took no part in the match is not a captured value."""
    rules = one_rule(tmp_path, "body_regex = '(?P<a>x)|(?P<b>y)'")
    assert classify(rules, body="y").captures == {"b": "y"}


# --- people --------------------------------------------------------------------------------------


def test_from_address_matches_the_sender_in_any_case(tmp_path: Path) -> None:
    """from_address compares whole addresses, case-insensitively; a string is one address."""
    rules = one_rule(tmp_path, 'from_address = "VIP@Customer.Example.com"')
    assert hits(rules, from_address="vip@customer.example.com")
    assert hits(rules, from_address="VIP@CUSTOMER.EXAMPLE.COM")
    assert not hits(rules, from_address="other@customer.example.com")
    assert not hits(rules, from_address="xvip@customer.example.com")
    assert not hits(rules, from_address=None)


def test_from_address_reason(tmp_path: Path) -> None:
    """The reason names the sender."""
    rules = compile_rules(tmp_path, '[[rule]]\nname = "vip"\nfrom_address = ["a@b.example"]\n')
    assert classify(rules, from_address="a@b.example").reasons[0] == (
        'rule "vip": sender is a@b.example'
    )


@pytest.mark.parametrize(
    ("sender", "expected"),
    [
        ("a@example.com", True),
        ("a@EXAMPLE.COM", True),
        ("a@mail.example.com", True),
        ("a@deep.mail.example.com", True),
        ("a@evilexample.com", False),
        ("a@example.com.evil.net", False),
        ("a@example.co", False),
        ("a@com", False),
        ("example.com@evil.net", False),
        (None, False),
    ],
)
def test_from_domain_matches_the_domain_and_its_subdomains(
    tmp_path: Path, sender: str | None, expected: bool
) -> None:
    """from_domain holds for the domain and its subdomains, never for look-alike suffixes."""
    rules = one_rule(tmp_path, 'from_domain = ["example.com"]')
    assert hits(rules, from_address=sender) is expected


def test_from_domain_written_with_at_or_capitals(tmp_path: Path) -> None:
    """`@Example.com` in a rule is the domain example.com."""
    rules = one_rule(tmp_path, 'from_domain = ["@Example.COM"]')
    assert hits(rules, from_address="x@sub.example.com")
    assert not hits(rules, from_address="x@notexample.com")


def test_from_domain_reason_names_the_rule_domain(tmp_path: Path) -> None:
    """The reason names the domain of the rule that matched."""
    rules = compile_rules(
        tmp_path, '[[rule]]\nname = "cust"\nfrom_domain = ["other.org", "example.com"]\n'
    )
    decision = classify(rules, from_address="x@mail.example.com")
    assert decision.reasons[0] == 'rule "cust": sender\'s domain is example.com'


def test_to_address_matches_to_cc_and_the_mailbox_itself(tmp_path: Path) -> None:
    """to_address holds for any To/Cc recipient and for the mailbox's own address (Bcc)."""
    rules = one_rule(tmp_path, 'to_address = ["Billing@Example.com"]')
    assert hits(rules, recipients=("billing@example.com",))
    assert hits(rules, recipients=("someone@else.example", "BILLING@example.com"))
    assert hits(rules, recipients=(), mailbox_address="billing@example.com")
    assert hits(rules, recipients=("x@y.example",), mailbox_address="BILLING@EXAMPLE.COM")
    assert not hits(rules, recipients=("support@example.com",))
    assert not hits(rules, recipients=("xbilling@example.com",))


def test_to_address_reason(tmp_path: Path) -> None:
    """The reason names the address the message was sent to."""
    rules = compile_rules(tmp_path, '[[rule]]\nname = "b"\nto_address = ["billing@example.com"]\n')
    decision = classify(rules, recipients=(), mailbox_address="billing@example.com")
    assert decision.reasons[0] == 'rule "b": sent to billing@example.com'


# --- flags ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "expected"), [("zh", True), ("en", True), ("other", False)])
def test_language_condition(tmp_path: Path, language: str, expected: bool) -> None:
    """language holds when the message's language is among those listed."""
    rules = one_rule(tmp_path, 'language = ["zh", "en"]')
    assert hits(rules, language=language) is expected


def test_language_reason(tmp_path: Path) -> None:
    """The reason names the language."""
    rules = compile_rules(tmp_path, '[[rule]]\nname = "zh"\nlanguage = ["zh"]\n')
    assert classify(rules, language="zh").reasons[0] == 'rule "zh": language is zh'


@pytest.mark.parametrize(
    ("key", "field", "yes", "no"),
    [
        ("has_attachment", "has_attachment", "has an attachment", "has no attachment"),
        ("is_reply", "is_reply", "is a reply", "is not a reply"),
        (
            "auto_submitted",
            "auto_submitted",
            "automatic mail (auto-reply or bounce)",
            "not automatic mail",
        ),
    ],
)
def test_boolean_conditions_true_and_false(
    tmp_path: Path, key: str, field: str, yes: str, no: str
) -> None:
    """A flag condition set to true holds only when the flag is set; false only when it is not."""
    wants_true = one_rule(tmp_path / "t", f"{key} = true")
    wants_false = one_rule(tmp_path / "f", f"{key} = false")
    assert hits(wants_true, **{field: True})
    assert not hits(wants_true, **{field: False})
    assert hits(wants_false, **{field: False})
    assert not hits(wants_false, **{field: True})
    assert classify(wants_true, **{field: True}).reasons[0] == f'rule "r": {yes}'
    assert classify(wants_false, **{field: False}).reasons[0] == f'rule "r": {no}'


def test_absent_flag_condition_matches_both_values(tmp_path: Path) -> None:
    """A flag not mentioned in a rule is no condition: the rule matches either way."""
    rules = one_rule(tmp_path, 'subject_any = ["x"]')
    for value in (True, False):
        assert hits(rules, subject="x", has_attachment=value, is_reply=value)
        assert hits(rules, subject="x", auto_submitted=value)


# --- time ----------------------------------------------------------------------------------------


def test_weekdays_condition(tmp_path: Path) -> None:
    """weekdays holds on the listed days of the send time."""
    rules = one_rule(tmp_path, 'weekdays = ["sat", "sun"]')
    assert hits(rules, sent_at=shanghai(2026, 11, 28, 10))  # Saturday
    assert hits(rules, sent_at=shanghai(2026, 11, 29, 23, 59))  # Sunday
    assert not hits(rules, sent_at=shanghai(2026, 11, 30, 0, 0))  # Monday
    assert not hits(rules, sent_at=SENT)  # Tuesday


@pytest.mark.parametrize(
    ("hour", "minute", "expected"),
    [
        (23, 30, True),
        (18, 0, True),
        (0, 0, True),
        (8, 59, True),
        (9, 0, False),
        (12, 0, False),
        (17, 59, False),
    ],
)
def test_hours_window_wrapping_past_midnight(
    tmp_path: Path, hour: int, minute: int, expected: bool
) -> None:
    """hours = "18:00-09:00" holds from 18:00 through the night to 08:59, not at 09:00."""
    rules = one_rule(tmp_path, 'hours = "18:00-09:00"')
    assert hits(rules, sent_at=shanghai(2026, 11, 24, hour, minute)) is expected


def test_hours_window_within_a_day(tmp_path: Path) -> None:
    """A plain window includes its start and excludes its end."""
    rules = one_rule(tmp_path, 'hours = "12:00-13:30"')
    assert hits(rules, sent_at=shanghai(2026, 11, 24, 12, 0))
    assert hits(rules, sent_at=shanghai(2026, 11, 24, 13, 29))
    assert not hits(rules, sent_at=shanghai(2026, 11, 24, 13, 30))
    assert not hits(rules, sent_at=shanghai(2026, 11, 24, 11, 59))


def test_weekdays_and_hours_both_hold(tmp_path: Path) -> None:
    """weekdays and hours together need the right day and the right time."""
    rules = one_rule(tmp_path, 'weekdays = ["sat"]\nhours = "18:00-09:00"')
    assert hits(rules, sent_at=shanghai(2026, 11, 28, 23, 30))
    assert not hits(rules, sent_at=shanghai(2026, 11, 28, 12, 0))
    assert not hits(rules, sent_at=shanghai(2026, 11, 24, 23, 30))


def test_hours_reason_names_day_time_and_window(tmp_path: Path) -> None:
    """A time condition's reason gives the send day, clock time and window."""
    rules = compile_rules(tmp_path, '[[rule]]\nname = "night"\nhours = "18:00-09:00"\n')
    decision = classify(rules, sent_at=shanghai(2026, 11, 26, 2, 30))
    assert decision.reasons[0].startswith('rule "night": sent ')
    assert "Thu" in decision.reasons[0]
    assert "02:30" in decision.reasons[0]
    assert "18:00-09:00" in decision.reasons[0]


def test_time_reason_has_the_readme_format(tmp_path: Path) -> None:
    """A time reason reads like the README: `sent 02:30 Thu, outside business hours`."""
    rules = compile_rules(
        tmp_path, '[[rule]]\nname = "night-outage"\noutside_business_hours = true\n'
    )
    decision = classify(rules, sent_at=shanghai(2026, 11, 26, 2, 30))
    assert decision.reasons[0] == 'rule "night-outage": sent 02:30 Thu, outside business hours'


@pytest.mark.parametrize(
    ("sent", "outside"),
    [
        (shanghai(2026, 11, 24, 10, 30), False),  # Tuesday morning
        (shanghai(2026, 11, 24, 9, 0), False),  # opening time
        (shanghai(2026, 11, 24, 8, 59), True),  # before opening
        (shanghai(2026, 11, 24, 18, 0), True),  # closing time
        (shanghai(2026, 11, 24, 20, 0), True),  # evening
        (shanghai(2026, 11, 28, 10, 30), True),  # Saturday
        (datetime.combine(HOLIDAY, datetime.min.time(), SHANGHAI).replace(hour=10), True),
        (datetime.combine(MAKE_UP_WORKDAY, datetime.min.time(), SHANGHAI).replace(hour=10), False),
        (datetime.combine(MAKE_UP_WORKDAY, datetime.min.time(), SHANGHAI).replace(hour=20), True),
    ],
)
def test_outside_business_hours_uses_the_calendar(
    tmp_path: Path, sent: datetime, outside: bool
) -> None:
    """outside_business_hours follows the calendar: hours, weekends, holidays, make-up workdays."""
    wants_outside = one_rule(tmp_path / "out", "outside_business_hours = true")
    wants_inside = one_rule(tmp_path / "in", "outside_business_hours = false")
    assert hits(wants_outside, sent_at=sent) is outside
    assert hits(wants_inside, sent_at=sent) is not outside


def test_holiday_and_make_up_workday_reasons(tmp_path: Path) -> None:
    """The reason says outside or within business hours, with the send day and time."""
    rules = compile_rules(tmp_path, '[[rule]]\nname = "ooh"\noutside_business_hours = true\n')
    holiday = classify(rules, sent_at=shanghai(2026, 10, 1, 10, 0))
    assert "outside business hours" in holiday.reasons[0]
    assert "10:00" in holiday.reasons[0]
    assert classify(rules, sent_at=shanghai(2026, 9, 27, 10, 0)).rules == ()


def test_time_reason_says_when_the_arrival_time_was_used(tmp_path: Path) -> None:
    """When the send time is the arrival time, the reason says so."""
    rules = compile_rules(tmp_path, '[[rule]]\nname = "night"\nhours = "18:00-09:00"\n')
    decision = classify(
        rules,
        sent_at=shanghai(2026, 11, 24, 23, 30),
        sent_at_source="arrival time (no Date header)",
    )
    assert "arrival time (no Date header)" in decision.reasons[0]


def test_send_time_is_judged_in_the_configured_zone(tmp_path: Path) -> None:
    """An instant given in another zone is judged by the wall clock of the calendar's zone."""
    rules = one_rule(tmp_path, 'hours = "18:00-09:00"\nweekdays = ["tue"]')
    # Tuesday 23:30 in Shanghai is Tuesday 15:30 UTC.
    instant = shanghai(2026, 11, 24, 23, 30)
    assert hits(rules, sent_at=instant)
    assert hits(rules, sent_at=instant.astimezone(UTC))


# --- daylight saving time: wall-clock time in the configured zone --------------------------------

BERLIN_CONTEXT = ClassifyContext(
    calendar=BusinessCalendar(timezone=BERLIN), owners={}, default_owner=None
)


def berlin(utc: datetime) -> datetime:
    """The Berlin wall-clock reading of a UTC instant, as maild.facts hands it to rules."""
    return utc.astimezone(BERLIN)


@pytest.mark.parametrize(
    ("utc", "wall", "expected"),
    [
        # 29 March 2026: 02:00 CET jumps to 03:00 CEST (01:00 UTC).
        (datetime(2026, 3, 29, 0, 29, tzinfo=UTC), "01:29", False),
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "01:30", True),
        (datetime(2026, 3, 29, 0, 59, tzinfo=UTC), "01:59", True),
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "03:00", True),
        (datetime(2026, 3, 29, 1, 29, tzinfo=UTC), "03:29", True),
        (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "03:30", False),
        # 25 October 2026: 03:00 CEST falls back to 02:00 CET (01:00 UTC); 02:xx happens twice.
        (datetime(2026, 10, 24, 23, 29, tzinfo=UTC), "01:29", False),
        (datetime(2026, 10, 24, 23, 30, tzinfo=UTC), "01:30", True),
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "02:30", True),
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "02:30", True),
        (datetime(2026, 10, 25, 2, 29, tzinfo=UTC), "03:29", True),
        (datetime(2026, 10, 25, 2, 30, tzinfo=UTC), "03:30", False),
    ],
)
def test_hours_across_dst_changes_use_the_wall_clock(
    tmp_path: Path, utc: datetime, wall: str, expected: bool
) -> None:
    """hours = "01:30-03:30" in Berlin follows the clock on the wall on both DST change days."""
    rules = compile_rules(tmp_path, '[[rule]]\nname = "r"\nhours = "01:30-03:30"\n')
    sent = berlin(utc)
    assert f"{sent:%H:%M}" == wall
    decision = rules.classify(facts(sent_at=sent), BERLIN_CONTEXT)
    assert ("r" in decision.rules) is expected
    if expected:
        assert f"sent Sun {wall}" in decision.reasons[0] or f"{wall} Sun" in decision.reasons[0]


def test_dst_spring_window_lasts_one_real_hour_and_autumn_three(tmp_path: Path) -> None:
    """Counted in real minutes, the 01:30-03:30 window is 1 hour on 29 March, 3 on 25 October."""
    rules = compile_rules(tmp_path, '[[rule]]\nname = "r"\nhours = "01:30-03:30"\n')

    def minutes_inside(start: datetime) -> int:
        return sum(
            "r"
            in rules.classify(
                facts(sent_at=berlin(start + timedelta(minutes=m))), BERLIN_CONTEXT
            ).rules
            for m in range(6 * 60)
        )

    assert minutes_inside(datetime(2026, 3, 28, 22, 0, tzinfo=UTC)) == 60
    assert minutes_inside(datetime(2026, 10, 24, 22, 0, tzinfo=UTC)) == 180


# --- actions -------------------------------------------------------------------------------------


def test_first_category_wins(tmp_path: Path) -> None:
    """Of several matching rules, the first that sets a category decides it."""
    rules = compile_rules(
        tmp_path,
        '[[rule]]\nname = "tag-only"\ntags = ["t"]\n'
        '[[rule]]\nname = "a"\ncategory = "complaint"\n'
        '[[rule]]\nname = "b"\ncategory = "billing"\n',
    )
    decision = classify(rules)
    assert decision.category == "complaint"
    assert decision.rules == ("tag-only", "a", "b")


def test_highest_priority_wins_whatever_the_order(tmp_path: Path) -> None:
    """The highest priority set by any matching rule wins, earlier or later."""
    for order in (("low", "urgent", "normal"), ("urgent", "low", "high"), ("normal", "high")):
        text = "".join(f'[[rule]]\nname = "p{i}"\npriority = "{p}"\n' for i, p in enumerate(order))
        rules = compile_rules(tmp_path / "-".join(order), text)
        assert classify(rules).priority == max(order, key=PRIORITIES.index)


def test_low_priority_alone_is_low(tmp_path: Path) -> None:
    """A rule setting low gives low: normal is only the default when no rule sets a priority."""
    rules = compile_rules(tmp_path, '[[rule]]\nname = "a"\npriority = "low"\n')
    decision = classify(rules)
    assert decision.priority == "low"
    assert "no rule set a priority: normal" not in decision.reasons


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (None, "high"),
        ("low", "normal"),
        ("normal", "high"),
        ("high", "urgent"),
        ("urgent", "urgent"),
    ],
)
def test_raise_priority_is_one_step_and_capped_at_urgent(
    tmp_path: Path, before: str | None, after: str
) -> None:
    """raise_priority lifts the priority one step (from normal if none), never past urgent."""
    first = f'[[rule]]\nname = "set"\npriority = "{before}"\n' if before else ""
    rules = compile_rules(tmp_path, first + '[[rule]]\nname = "up"\nraise_priority = true\n')
    assert classify(rules).priority == after


def test_raised_priority_stays_raised(tmp_path: Path) -> None:
    """A lower priority set by a later rule does not undo a raise; a higher one still wins."""
    rules = compile_rules(
        tmp_path,
        '[[rule]]\nname = "set"\npriority = "normal"\n'
        '[[rule]]\nname = "up"\nraise_priority = true\n'
        '[[rule]]\nname = "later"\npriority = "low"\n',
    )
    assert classify(rules).priority == "high"
    rules = compile_rules(
        tmp_path / "2",
        '[[rule]]\nname = "up"\nraise_priority = true\n'
        '[[rule]]\nname = "later"\npriority = "urgent"\n',
    )
    assert classify(rules).priority == "urgent"


def test_two_raises_are_two_steps(tmp_path: Path) -> None:
    """Each matching raise_priority rule raises one more step."""
    rules = compile_rules(
        tmp_path,
        '[[rule]]\nname = "set"\npriority = "low"\n'
        '[[rule]]\nname = "up1"\nraise_priority = true\n'
        '[[rule]]\nname = "up2"\nraise_priority = true\n',
    )
    assert classify(rules).priority == "high"


def test_raise_priority_of_a_rule_that_does_not_match_does_nothing(tmp_path: Path) -> None:
    """Only matching rules raise the priority."""
    rules = compile_rules(
        tmp_path, '[[rule]]\nname = "up"\nsubject_any = ["urgent"]\nraise_priority = true\n'
    )
    assert classify(rules, subject="hello").priority == "normal"
    assert classify(rules, subject="URGENT").priority == "high"


def test_first_owner_wins_and_names_resolve(tmp_path: Path) -> None:
    """The first owner set wins, and an [owners] name becomes its "Name <address>"."""
    rules = compile_rules(
        tmp_path,
        '[[rule]]\nname = "a"\nowner = "wei"\n[[rule]]\nname = "b"\nowner = "lina"\n',
    )
    decision = classify(rules)
    assert decision.owner == "Zhang Wei <zhang.wei@example.com>"
    assert not any("default owner" in reason for reason in decision.reasons)


def test_owner_given_as_address_is_kept(tmp_path: Path) -> None:
    """An owner written as an address is used as written."""
    rules = compile_rules(tmp_path, '[[rule]]\nname = "a"\nowner = "oncall@example.com"\n')
    assert classify(rules).owner == "oncall@example.com"


def test_owner_of_a_rule_that_does_not_match_is_not_used(tmp_path: Path) -> None:
    """A non-matching rule's owner is ignored; the default owner is used."""
    rules = compile_rules(tmp_path, '[[rule]]\nname = "a"\nsubject_any = ["vip"]\nowner = "wei"\n')
    assert classify(rules, subject="hello").owner == "Li Na <li.na@example.com>"


def test_tags_accumulate_in_order_without_duplicates(tmp_path: Path) -> None:
    """Tags of every matching rule are collected in rule order, each once."""
    rules = compile_rules(
        tmp_path,
        '[[rule]]\nname = "a"\ntags = ["refund", "vip"]\n'
        '[[rule]]\nname = "b"\nsubject_any = ["nope"]\ntags = ["never"]\n'
        '[[rule]]\nname = "c"\ntags = ["vip", "invoice", "refund"]\n',
    )
    assert classify(rules).tags == ("refund", "vip", "invoice")


def test_stop_ends_evaluation(tmp_path: Path) -> None:
    """After a matching `stop` rule no later rule applies anything, and the reason says so."""
    rules = compile_rules(
        tmp_path,
        '[[rule]]\nname = "auto"\nauto_submitted = true\ncategory = "auto"\npriority = "low"\n'
        'tags = ["auto"]\nstop = true\n'
        '[[rule]]\nname = "later"\ncategory = "billing"\npriority = "urgent"\nowner = "wei"\n'
        'tags = ["later"]\nraise_priority = true\n',
    )
    decision = classify(rules, auto_submitted=True, body="refund urgent")
    assert (decision.category, decision.priority, decision.tags) == ("auto", "low", ("auto",))
    assert decision.owner == "Li Na <li.na@example.com>"
    assert decision.rules == ("auto",)
    assert 'rule "auto" stops evaluation' in decision.reasons
    human = classify(rules, auto_submitted=False)
    assert human.rules == ("later",)
    assert human.category == "billing"


def test_stop_of_a_rule_that_does_not_match_does_not_stop(tmp_path: Path) -> None:
    """Only a matching rule's stop ends evaluation."""
    rules = compile_rules(
        tmp_path,
        '[[rule]]\nname = "a"\nsubject_any = ["x"]\nstop = true\n'
        '[[rule]]\nname = "b"\ncategory = "y"\n',
    )
    assert classify(rules, subject="hello").category == "y"


def test_reasons_are_in_rule_order_with_defaults_last(tmp_path: Path) -> None:
    """Reasons list every matching rule in order, then the defaults that were used."""
    rules = compile_rules(
        tmp_path,
        '[[rule]]\nname = "a"\nsubject_any = ["refund"]\ntags = ["refund"]\n'
        '[[rule]]\nname = "b"\nbody_any = ["order"]\npriority = "high"\n',
    )
    decision = classify(rules, subject="Refund please", body="my order")
    assert decision.reasons == (
        'rule "a": subject contains "refund"',
        'rule "b": body contains "order"',
        "no rule set a category: other",
        "no rule named an owner: the mailbox's default owner",
    )


def test_several_conditions_are_all_in_the_reason(tmp_path: Path) -> None:
    """A rule's reason lists why each of its conditions holds, separated by semicolons."""
    rules = compile_rules(
        tmp_path,
        '[[rule]]\nname = "vip"\nfrom_domain = ["example.com"]\nsubject_any = ["down"]\n',
    )
    decision = classify(rules, from_address="a@example.com", subject="down")
    assert decision.reasons[0] == (
        'rule "vip": sender\'s domain is example.com; subject contains "down"'
    )


# --- compiled rules ------------------------------------------------------------------------------


def test_compiled_rules_are_cached_per_digest(tmp_path: Path) -> None:
    """compiled_rules compiles a rule set once, and again after any edit."""
    folder = write_rules(tmp_path, {"10-a.toml": '[[rule]]\nname = "a"\ncategory = "x"\n'})
    first = compiled_rules(load_rules(folder))
    assert compiled_rules(load_rules(folder)) is first
    write_rules(tmp_path, {"10-a.toml": '[[rule]]\nname = "a"\ncategory = "y"\n'})
    second = compiled_rules(load_rules(folder))
    assert second is not first
    assert second.classify(FACTS, CONTEXT).category == "y"


def test_same_keyword_in_many_rules_and_fields(tmp_path: Path) -> None:
    """One keyword used by several rules and fields is found for each of them."""
    rules = compile_rules(
        tmp_path,
        '[[rule]]\nname = "a"\nsubject_any = ["Refund"]\n'
        '[[rule]]\nname = "b"\nbody_any = ["refund"]\n'
        '[[rule]]\nname = "c"\ntext_any = ["REFUND"]\n'
        '[[rule]]\nname = "d"\nbody_all = ["refund", "order"]\n',
    )
    assert classify(rules, subject="refund", body="x").rules == ("a", "c")
    assert classify(rules, subject="x", body="refund order").rules == ("b", "c", "d")


def test_overlapping_keywords_are_all_found(tmp_path: Path) -> None:
    """Keywords inside other keywords ("site down" and "down") are each found."""
    rules = compile_rules(
        tmp_path,
        '[[rule]]\nname = "long"\nbody_any = ["site down"]\n'
        '[[rule]]\nname = "short"\nbody_any = ["down"]\n'
        '[[rule]]\nname = "zh-long"\nbody_any = ["系统故障"]\n'
        '[[rule]]\nname = "zh-short"\nbody_any = ["系统"]\n',
    )
    assert classify(rules, body="the site down? 系统故障").rules == (
        "long",
        "short",
        "zh-long",
        "zh-short",
    )


# --- facts from parsed messages ------------------------------------------------------------------

ARRIVED = datetime(2026, 11, 24, 2, 40, tzinfo=UTC)  # 10:40 in Shanghai, a Tuesday


def raw_message(subject: str, body: str, *headers: str, date: str | None = None) -> bytes:
    """A small UTF-8 text/plain message from customer@customer.example.com to support@."""
    lines = [
        "From: Customer <customer@customer.example.com>",
        "To: Support <support@example.com>",
        f"Subject: {subject}",
        "Message-ID: <m1@customer.example.com>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
        *([f"Date: {date}"] if date is not None else []),
        *headers,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n" + body.replace("\n", "\r\n")).encode("utf-8")


def parsed_facts(
    subject: str,
    body: str,
    *headers: str,
    date: str | None = "Tue, 24 Nov 2026 02:30:00 +0000",
    arrived: datetime = ARRIVED,
) -> MessageFacts:
    """MessageFacts of a constructed raw message, as the pipeline makes them (Shanghai time)."""
    parsed = parse_message(raw_message(subject, body, *headers, date=date), arrived)
    return message_facts(parsed, "support@example.com", SHANGHAI)


REFUND_RULES = (
    '[[rule]]\nname = "refund"\nbody_any = ["refund", "退款"]\ncategory = "billing"\n'
    '[[rule]]\nname = "refund-anywhere"\ntext_any = ["refund", "退款"]\ntags = ["refund"]\n'
)


@pytest.mark.parametrize(
    "body",
    [
        "Thanks, it works now.\n\n"
        "On Mon, 23 Nov 2026 at 10:00, Support <support@example.com> wrote:\n"
        "> We have issued your refund.\n> Best regards\n",
        "Thanks, it works now.\n\n> We have issued your refund.\n",
        "好的，已经收到了，谢谢。\n\n"
        "在 2026年11月23日 10:00，客服 <support@example.com> 写道：\n"
        "> 您的退款已经处理。\n",
        "好的，已经收到了，谢谢。\n\n-----原始邮件-----\n发件人：客服 <support@example.com>\n"
        "发送时间：2026年11月23日 10:00\n主题：退款\n\n您的退款已经处理。\n",
        "Thanks, it works now.\n\nFrom: Support <support@example.com>\n"
        "Sent: Monday, November 23, 2026 10:00 AM\nTo: Customer <c@customer.example.com>\n"
        "Subject: Re: order\n\nWe have issued your refund.\n",
        "Thanks for the help.\n\n-- \nZhang Wei\nRefund team lead\n",
    ],
)
def test_quoted_text_is_not_searched_by_body_rules(tmp_path: Path, body: str) -> None:
    """A reply quoting our "refund" answer, without the word in its new part, is not billing."""
    rules = compile_rules(tmp_path, REFUND_RULES)
    message = parsed_facts("Re: my order", body, "In-Reply-To: <answer@example.com>")
    assert "refund" not in message.body
    assert "退款" not in message.body
    decision = rules.classify(message, CONTEXT)
    assert decision.category == "other"
    assert decision.rules == ()


def test_new_part_of_a_reply_is_searched(tmp_path: Path) -> None:
    """The same word in the reply's own new text does match."""
    rules = compile_rules(tmp_path, REFUND_RULES)
    body = (
        "I still have not received the refund.\n\n"
        "On Mon, 23 Nov 2026 at 10:00, Support <support@example.com> wrote:\n"
        "> We have issued your refund.\n"
    )
    decision = rules.classify(parsed_facts("Re: my order", body), CONTEXT)
    assert decision.category == "billing"
    assert decision.rules == ("refund", "refund-anywhere")


@pytest.mark.parametrize(
    ("subject", "headers", "is_reply"),
    [
        ("my order", ("In-Reply-To: <answer@example.com>",), True),
        ("my order", ("References: <a@example.com> <b@example.com>",), True),
        ("回复: 我的订单", (), True),
        ("回复：我的订单", (), True),
        ("AW: Bestellung", (), True),
        ("Re: my order", (), True),
        ("my order", (), False),
        ("Fwd: my order", (), False),
        ("转发: 我的订单", (), False),
        ("Regarding my order", (), False),
    ],
)
def test_is_reply_from_headers_or_subject_prefix(
    subject: str, headers: tuple[str, ...], is_reply: bool
) -> None:
    """is_reply comes from In-Reply-To/References or a reply prefix; a forward is not a reply."""
    assert parsed_facts(subject, "Hello.\n", *headers).is_reply is is_reply


def test_facts_carry_sender_recipients_attachments_and_language() -> None:
    """message_facts takes the sender, To and Cc, language and flags from the parsed message."""
    message = parsed_facts(
        "发票问题", "请帮我开一张发票，谢谢。\n", "Cc: Billing <Billing@Example.com>"
    )
    assert message.from_address == "customer@customer.example.com"
    assert "support@example.com" in message.recipients
    assert any(a.lower() == "billing@example.com" for a in message.recipients)
    assert message.mailbox_address == "support@example.com"
    assert message.language == "zh"
    assert message.has_attachment is False
    assert message.auto_submitted is False


def test_auto_submitted_header_sets_the_flag() -> None:
    """An Auto-Submitted: auto-replied message is automatic mail for rules."""
    message = parsed_facts("Out of office", "I am away.\n", "Auto-Submitted: auto-replied")
    assert message.auto_submitted is True


def test_send_time_is_the_date_header_in_the_configured_zone() -> None:
    """With a sane Date header, the send time is that header's instant on the Shanghai clock."""
    message = parsed_facts("x", "y\n", date="Tue, 24 Nov 2026 02:30:00 +0000")
    assert message.sent_at == datetime(2026, 11, 24, 2, 30, tzinfo=UTC)
    assert (message.sent_at.hour, message.sent_at.minute) == (10, 30)
    assert message.sent_at.utcoffset() == timedelta(hours=8)
    assert message.sent_at_source == "Date header"


def test_send_time_falls_back_to_arrival_without_a_date_header(tmp_path: Path) -> None:
    """A message without Date is timed by its arrival, and the reason says so."""
    message = parsed_facts(
        "x", "y\n", date=None, arrived=datetime(2026, 11, 24, 15, 30, tzinfo=UTC)
    )
    assert message.sent_at == datetime(2026, 11, 24, 15, 30, tzinfo=UTC)
    assert (message.sent_at.hour, message.sent_at.minute) == (23, 30)
    assert "arrival" in message.sent_at_source
    assert "no Date header" in message.sent_at_source
    rules = compile_rules(tmp_path, '[[rule]]\nname = "night"\nhours = "18:00-09:00"\n')
    decision = rules.classify(message, CONTEXT)
    assert decision.rules == ("night",)
    assert "no Date header" in decision.reasons[0]


def test_send_time_falls_back_to_arrival_when_date_is_days_ahead(tmp_path: Path) -> None:
    """A Date header more than a day after arrival (a wrong clock) is replaced by the arrival."""
    arrived = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai
    message = parsed_facts("x", "y\n", date="Thu, 26 Nov 2026 04:00:00 +0000", arrived=arrived)
    assert message.sent_at == arrived
    assert "arrival" in message.sent_at_source
    assert "Date header" in message.sent_at_source
    assert "after arrival" in message.sent_at_source
    rules = compile_rules(tmp_path, '[[rule]]\nname = "night"\nhours = "18:00-09:00"\n')
    decision = rules.classify(message, CONTEXT)
    assert decision.rules == ("night",)
    assert "after arrival" in decision.reasons[0]


def test_date_slightly_ahead_or_long_before_arrival_is_kept() -> None:
    """A Date header up to a day ahead, or days before the arrival (queued mail), is trusted."""
    ahead = parsed_facts("x", "y\n", date="Tue, 24 Nov 2026 20:00:00 +0000")
    assert ahead.sent_at_source == "Date header"
    assert ahead.sent_at == datetime(2026, 11, 24, 20, 0, tzinfo=UTC)
    before = parsed_facts("x", "y\n", date="Fri, 20 Nov 2026 20:00:00 +0000")
    assert before.sent_at_source == "Date header"
    assert before.sent_at == datetime(2026, 11, 20, 20, 0, tzinfo=UTC)


def test_unparseable_date_falls_back_to_arrival() -> None:
    """A Date header that cannot be read is treated as missing."""
    message = parsed_facts("x", "y\n", date="not a date at all")
    assert message.sent_at == ARRIVED
    assert "arrival" in message.sent_at_source


def test_dst_send_time_from_a_parsed_message(tmp_path: Path) -> None:
    """A Date header at 01:15 UTC on 29 March is 03:15 in Berlin, inside 01:30-03:30."""
    parsed = parse_message(
        raw_message("x", "y\n", date="Sun, 29 Mar 2026 01:15:00 +0000"),
        datetime(2026, 3, 29, 1, 16, tzinfo=UTC),
    )
    message = message_facts(parsed, "support@example.com", BERLIN)
    assert f"{message.sent_at:%H:%M}" == "03:15"
    rules = compile_rules(tmp_path, '[[rule]]\nname = "r"\nhours = "01:30-03:30"\n')
    assert rules.classify(message, BERLIN_CONTEXT).rules == ("r",)


# --- the packaged rules --------------------------------------------------------------------------

PACKAGED = CompiledRules(load_rules(packaged("rules")))


@pytest.mark.parametrize(
    ("changes", "category", "priority", "tag"),
    [
        (
            {"subject": "Out of office", "auto_submitted": True, "body": "退款 urgent"},
            "auto",
            "low",
            "auto",
        ),
        ({"subject": "服务器宕机了", "body": "请尽快处理"}, "technical", "urgent", "outage"),
        (
            {"subject": "网站打不开", "body": "", "sent_at": shanghai(2026, 11, 24, 23, 30)},
            "technical",
            "urgent",
            "after-hours",
        ),
        ({"subject": "我要投诉", "body": "你们的客服态度太差"}, "complaint", "high", "complaint"),
        ({"subject": "申请退款", "body": "请帮我退款"}, "billing", "normal", "refund"),
        ({"subject": "開發票", "body": "請幫我開發票"}, "billing", "normal", "invoice"),
        ({"subject": "Hello", "body": "Just saying hi."}, "other", "normal", None),
    ],
)
def test_packaged_rules_examples(
    changes: dict[str, Any], category: str, priority: str, tag: str | None
) -> None:
    """A few messages decided by the packaged rules as rules/README.md's table describes."""
    decision = classify(PACKAGED, **changes)
    assert (decision.category, decision.priority) == (category, priority), decision.reasons
    if tag is not None:
        assert tag in decision.tags


def test_packaged_rules_capture_order_numbers() -> None:
    """05-references.toml captures an order number written with a full-width colon."""
    decision = classify(
        PACKAGED, subject="订单问题", body="订单号：ＳＯ２０２６１１２４００１ 还没发货"
    )
    assert decision.captures.get("order_id") == "SO20261124001"


def test_packaged_urgency_raises_one_step() -> None:
    """紧急 raises a refund (normal) to high with the tag marked-urgent."""
    decision = classify(PACKAGED, subject="【紧急】申请退款", body="请帮我退款")
    assert decision.priority == "high"
    assert "marked-urgent" in decision.tags


# --- never raises --------------------------------------------------------------------------------

TEXT = st.text(st.characters(codec="utf-8"), max_size=300)
CONTROL_HEAVY = st.lists(
    st.one_of(
        st.characters(min_codepoint=0, max_codepoint=0x1F),
        st.sampled_from(["\u200b", "\u00ad", "\ufeff", "\u3000", "紧急", "down", "退款", " "]),
        st.characters(codec="utf-8"),
    ),
    max_size=100,
).map("".join)


OTHER_FACTS = st.fixed_dictionaries(
    {
        "from_address": st.one_of(st.none(), st.emails(), TEXT),
        "language": st.sampled_from(["zh", "en", "other"]),
        "has_attachment": st.booleans(),
        "is_reply": st.booleans(),
        "auto_submitted": st.booleans(),
        "sent_at": st.integers(min_value=0, max_value=60 * 24 * 400).map(
            lambda minutes: shanghai(2026, 1, 1, 0) + timedelta(minutes=minutes)
        ),
    }
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    subject=st.one_of(TEXT, CONTROL_HEAVY),
    body=st.one_of(TEXT, CONTROL_HEAVY),
    other=OTHER_FACTS,
)
def test_classification_never_raises_with_the_packaged_rules(
    subject: str, body: str, other: dict[str, Any]
) -> None:
    """Any subject and body text gives a decision with a known priority and a category."""
    decision = PACKAGED.classify(facts(subject=subject, body=body, **other), CONTEXT)
    assert decision.priority in PRIORITIES
    assert decision.category
    assert decision.reasons
    assert len(set(decision.tags)) == len(decision.tags)
    assert all(isinstance(v, str) for v in decision.captures.values())


def test_classification_accepts_lone_surrogates() -> None:
    """Text decoded with surrogateescape (lone surrogates) is classified, not a crash."""
    decision = PACKAGED.classify(facts(subject="\udcff退款", body="urgent \ud800 down"), CONTEXT)
    assert decision.priority in PRIORITIES
